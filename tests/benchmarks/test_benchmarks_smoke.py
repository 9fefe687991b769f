"""The benchmark scripts run end to end at toy size and write valid JSON with the expected keys (no timing checks)."""
import json
import math

import pytest
import torch

from benchmarks import mirlm_attention, mirlm_throughput, mirlm_tokenizer
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
    assert (args.lengths, args.hidden, args.heads, args.window, args.batch) == ([520, 2048, 8192], 256, 8, 40, 1)
