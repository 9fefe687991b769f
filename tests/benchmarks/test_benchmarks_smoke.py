"""The benchmark scripts run end to end at toy size and write valid JSON with the expected keys (no timing checks)."""
import json
import math

import pytest
import torch

from benchmarks import mirlm_attention, mirlm_throughput, mirlm_tokenizer
from benchmarks import tissuebert_epoch, tissuebert_loading
from benchmarks import e1_context, e1_views
from benchmarks import mutation2text_speed
from benchmarks import milmol_featurize, milmol_training
from hf_models.presets import PRESETS


def run_quick(module, tmp_path, capsys) -> tuple:
    output = tmp_path / f"{module.__name__.rsplit('.', 1)[-1]}.json"
    threads = torch.get_num_threads()
    returned = module.main(["--quick", "--output", str(output)])
    assert torch.get_num_threads() == threads  # a benchmark leaves the process as it found it
    written = json.loads(output.read_text())
    assert written == json.loads(json.dumps(returned))
    stdout = capsys.readouterr().out
    assert stdout.startswith("| ") and "|---|" in stdout  # the markdown table
    for key in ("benchmark", "what", "setup", "method", "environment", "results"):
        assert key in written, key
    environment = written["environment"]
    assert environment["torch"] == torch.__version__ and environment["torch_threads"] >= 1
    assert set(environment["load_average_1min"]) == {"start", "end"}
    assert written["results"]
    return written, stdout


def positive(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_attention_benchmark(tmp_path, capsys):
    written, stdout = run_quick(mirlm_attention, tmp_path, capsys)
    assert written["benchmark"] == "mirlm_attention"
    (row,) = written["results"]
    assert row["length"] == 1000 and row["longformer_padded_length"] == 1008  # padded to a multiple of the window
    for key in ("ours_ms", "longformer_ms", "time_ratio", "ours_cpu_ms", "longformer_cpu_ms", "cpu_time_ratio",
                "memory_ratio"):
        assert positive(row[key]), key
    assert row["time_ratio"] == pytest.approx(row["longformer_ms"] / row["ours_ms"])
    # One step at this size holds megabytes: the fresh-process measurement must see them.
    for key in ("ours_peak_mib", "longformer_peak_mib"):
        assert row[key] > 0.5, key
    assert row["memory_ratio"] == pytest.approx(row["longformer_peak_mib"] / row["ours_peak_mib"])
    assert row["max_abs_diff"] < 1e-5  # the two implementations computed the same thing
    assert "| 1000 | 1008 |" in stdout


def test_tokenizer_benchmark(tmp_path, capsys):
    written, _ = run_quick(mirlm_tokenizer, tmp_path, capsys)
    (row,) = written["results"]
    assert row["pairs"] == 200
    for key in ("encode_pairs_ms", "encode_pairs_np_ms", "python_loop_ms", "tokenizer_loop_ms",
                "speedup_vs_python_loop", "speedup_vs_tokenizer_loop", "speedup_np_vs_python_loop",
                "speedup_np_vs_tokenizer_loop", "encode_pairs_pairs_per_s"):
        assert positive(row[key]), key
    assert row["speedup_vs_python_loop"] == pytest.approx(row["python_loop_ms"] / row["encode_pairs_ms"])


def test_tokenizer_baselines_give_the_same_tensors():
    tok = mirlm_tokenizer.MirLMTokenizer()
    mrnas, mirnas = ["acgun", "GGRY", "T"], ["UAGC", "ACGUACGU", "G"]
    expected = tok.encode_pairs(mrnas, mirnas, padding="longest")
    for got in (mirlm_tokenizer.python_loop(mrnas, mirnas, tok.mrna_cls_token_id, tok.pad_token_id),
                mirlm_tokenizer.tokenizer_loop(tok, mrnas, mirnas)):
        assert got.keys() == expected.keys()
        assert all(torch.equal(got[k], expected[k]) for k in got)
    with pytest.raises(ValueError, match="position 2"):
        mirlm_tokenizer.python_loop(["ACX"], ["ACG"], 7, 4)


def test_throughput_benchmark(tmp_path, capsys):
    written, _ = run_quick(mirlm_throughput, tmp_path, capsys)
    (row,) = written["results"]
    assert row["config"] == "tiny" and row["batch"] == "4 x 60 nt" and row["padded_length"] == 64
    for key in ("parameters_m", "train_step_ms", "train_tokens_per_s", "train_pairs_per_s", "inference_ms",
                "inference_tokens_per_s", "inference_pairs_per_s", "train_step_cpu_ms", "inference_cpu_ms"):
        assert positive(row[key]), key
    assert row["train_tokens_per_s"] == pytest.approx(4 * 61 / (row["train_step_ms"] / 1e3))


def test_benchmark_configs_are_the_documented_ones():
    assert mirlm_throughput.CONFIGS["demo"] is PRESETS["mirlm"]["demo"]  # what `make demo` trains
    assert mirlm_throughput.BATCH_SIZES["demo"] == 32
    args = mirlm_attention.parse_args([])
    assert (args.lengths, args.hidden, args.heads, args.window, args.batch_size) == ([520, 2048, 8192], 256, 8, 40, 1)


def test_benchmark_flags_are_spelled_with_underscores_and_accept_the_dash_alias():
    import re
    from pathlib import Path

    for path in sorted(Path(mirlm_attention.__file__).parent.glob("*.py")):
        assert not re.findall(r'"--[a-z0-9]+-[a-z0-9-]+"', path.read_text()), path.name  # one style: --batch_size
    assert mirlm_attention.parse_args(["--batch_size", "3"]).batch_size == 3
    assert mirlm_attention.parse_args(["--batch-size", "3", "--lengths=64"]).batch_size == 3


def test_tissuebert_epoch_benchmark(tmp_path, capsys):
    written, _ = run_quick(tissuebert_epoch, tmp_path, capsys)
    (row,) = written["results"]
    assert row["setup"] == "tiny" and row["regions"] == 16 and row["sample_steps_per_epoch"] == 5
    assert row["region_steps_per_epoch"] == 5  # ceil(40 samples x 16 regions / 128)
    for key in ("sample_step_ms", "region_step_ms", "sample_epoch_s", "region_epoch_s", "epoch_time_ratio"):
        assert positive(row[key]), key
    assert row["epoch_time_ratio"] == pytest.approx(row["region_epoch_s"] / row["sample_epoch_s"])


def test_tissuebert_loading_benchmark(tmp_path, capsys):
    written, _ = run_quick(tissuebert_loading, tmp_path, capsys)
    (row,) = written["results"]
    assert row["atlas"] == "tiny" and row["samples"] > 22
    for key in ("npz_samples_per_s", "hdf5_samples_per_s", "cached_samples_per_s", "hdf5_vs_npz", "cached_vs_npz"):
        assert positive(row[key]), key
    assert row["cached_vs_npz"] == pytest.approx(row["npz_s"] / row["cached_s"])


def test_mutation2text_speed_benchmark(tmp_path, capsys):
    written, _ = run_quick(mutation2text_speed, tmp_path, capsys)
    training, generation = written["results"]
    assert training["measure"] == "stage-1 step" and generation["measure"] == "generation"
    for key in ("cached_ms", "recompute_ms", "speedup", "cached_cpu_ms", "recompute_cpu_ms"):
        assert positive(training[key]), key
    assert training["speedup"] == pytest.approx(training["recompute_ms"] / training["cached_ms"])
    for key in ("kv_cache_tokens_per_s", "no_cache_tokens_per_s", "speedup"):
        assert positive(generation[key]), key
    assert generation["new_tokens"] == 4 and generation["batch"] == 2


def test_e1_views_benchmark(tmp_path, capsys):
    written, _ = run_quick(e1_views, tmp_path, capsys)
    (row,) = written["results"]
    assert row["preset"] == "tiny" and row["views"] == 2 and row["proteins"] == 2
    for mode in ("shared_context", "one_forward", "per_view_loop"):
        assert positive(row[f"{mode}_ms"]), mode
        assert isinstance(row[f"{mode}_peak_mib"], float) and row[f"{mode}_peak_mib"] >= 0
    for mode in ("shared_context", "one_forward"):
        assert row[f"{mode}_speedup"] == pytest.approx(row["per_view_loop_ms"] / row[f"{mode}_ms"])
        assert positive(row[f"{mode}_cpu_speedup"])
    assert row["max_loss_abs_diff"] < 1e-4  # all three modes computed the same loss


def test_e1_context_benchmark(tmp_path, capsys):
    written, _ = run_quick(e1_context, tmp_path, capsys)
    assert [row["homologs"] for row in written["results"]] == [1, 4]
    first, second = written["results"]
    assert second["tokens"] == first["tokens"] + 3 * 24  # 3 more homologs of 20 residues + 4 tokens each
    for row in written["results"]:
        for key in ("inference_ms", "train_step_ms", "train_ms_per_token"):
            assert positive(row[key]), key
        # at the smoke size a step can fit in heap pages the process already holds: no new peak, but never less
        assert isinstance(row["peak_mib"], float) and row["peak_mib"] >= 0


def test_milmol_featurize_benchmark(tmp_path, capsys):
    written, _ = run_quick(milmol_featurize, tmp_path, capsys)
    (row,) = written["results"]
    assert row["molecules"] == 6 and row["conformers_per_molecule"] == PRESETS["milmol"]["euos25"]["num_conformers"]
    for key in ("1_thread_mol_per_s", "rdkit_2_threads_mol_per_s", "2_processes_mol_per_s", "cached_mol_per_s",
                "speedup_2_processes_vs_1", "speedup_cached_vs_1", "1_thread_cpu_ms_per_mol"):
        assert positive(row[key]), key
    assert [c["setting"] for c in written["settings_cost"]] == ["2D only", "2 conformers"]
    assert written["projection"]["hours_from_cpu_time_on_2_idle_cores"] > 0


def test_milmol_training_benchmark(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BIOHF_CACHE", str(tmp_path / "cache"))
    written, _ = run_quick(milmol_training, tmp_path, capsys)
    (row,) = written["results"]
    assert row["config"] == "tiny" and positive(row["train_mol_per_s"]) and positive(row["inference_mol_per_s"])
    trial = written["search_trial"]
    assert trial["folds"] == 2 and positive(trial["trial_s"])
