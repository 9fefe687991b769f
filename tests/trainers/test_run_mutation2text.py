"""The two-stage training script on the tiny preset: repository, adapters, metrics, resume, --stage 2."""

import json

import pytest
import torch
from safetensors.torch import load_file

import hf_models  # noqa: F401
from datasets_scripts.mutation2text import build_mutation2text_dataset
from trainers import cli
from trainers.run_mutation2text import evaluate, main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("m2t") / "repo"
    metrics = main(["--preset", "tiny", "--output_dir", str(folder)])
    return folder, metrics


def test_repository_and_metrics(trained):
    folder, metrics = trained
    assert (folder / "model.safetensors").is_file() and (folder / "processing_mutation2text.py").is_file()
    assert json.loads((folder / "metrics.json").read_text())["model"]["n"] == 4
    for system in ("model", "baseline", "retrieval"):
        assert {"fact_accuracy", "effect_accuracy", "bleu_2", "bleu_4", "meteor", "rouge_1", "rouge_2", "rouge_l"} <= set(metrics[system])
    assert metrics["headline_metrics"][:2] == ["bleu_2", "bleu_4"] and metrics["stage"] == "both"
    rows = [json.loads(line) for line in (folder / "eval_predictions.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and {"model", "baseline", "retrieval", "answer"} <= set(rows[0])
    # the retrieval baseline returns training descriptions verbatim
    assert all(row["retrieval"].endswith(".") for row in rows)
    assert sorted(p.name for p in (folder / "plots").iterdir()) == [
        "fact_accuracy.png", "training_curves_adapter_0.png", "training_curves_stage_1.png", "training_curves_stage_2.png",
        "training_curves_text-only_3.png"]
    # the adapter pre-training ran (tiny preset) and its probe was read out before and after stage 1
    probe = metrics["adapter_pretraining"]
    assert probe["n_train"] > len(build_mutation2text_dataset(size="tiny")["train"])  # + the extra generated set
    assert {"validation", "test", "validation_after_stage1"} <= set(probe) and probe["validation"]["n"] == 8


def test_adapters_are_saved_and_the_export_is_merged(trained):
    folder, _ = trained
    adapters = load_file(folder / "adapters" / "stage1_adapters.safetensors")
    merged = load_file(folder / "model.safetensors")
    assert adapters and all(k.startswith(("model.gated_cross_attention", "model.site_context", "model.resampler",
                                          "model.projector")) for k in adapters)
    for key, tensor in adapters.items():  # stage 2 froze them: the merged model holds the stage-1 values
        assert torch.equal(merged[key], tensor)
    lora = folder / "adapters" / "lora"
    assert (lora / "adapter_model.safetensors").is_file()
    config = json.loads((lora / "adapter_config.json").read_text())
    assert config["r"] == 4 and "model\\.layers" in config["target_modules"]
    assert not any("lora" in k for k in merged)  # merged into the weights
    # LoRA changed the language model: the merged weights differ from the stage-1 model's
    stage1 = load_file(folder / "checkpoints" / "stage1-model" / "model.safetensors")
    key = next(k for k in merged if k.endswith("layers.0.self_attn.q_proj.weight"))
    assert not torch.equal(stage1[key], merged[key])


def test_stage2_alone_resumes_from_the_stage1_model(trained, tmp_path):
    folder, _ = trained
    metrics = main(["--preset", "tiny", "--stage", "2", "--stage1_model", str(folder / "checkpoints" / "stage1-model"),
                    "--text_only_baseline", "false", "--output_dir", str(tmp_path / "stage2")])
    assert metrics["stage"] == "2" and metrics["baseline"] is None
    assert not (tmp_path / "stage2" / "checkpoints" / "stage1").exists()
    # stage 2 read the stage-1 modules from the folder and kept them frozen: the export holds exactly those values
    stage1 = load_file(folder / "checkpoints" / "stage1-model" / "model.safetensors")
    exported = load_file(tmp_path / "stage2" / "model.safetensors")
    adapters = load_file(tmp_path / "stage2" / "adapters" / "stage1_adapters.safetensors")
    assert adapters and all(torch.equal(stage1[k], v) and torch.equal(exported[k], v) for k, v in adapters.items())
    with pytest.raises(SystemExit, match="needs a stage-1 model"):
        main(["--preset", "tiny", "--stage", "2", "--output_dir", str(tmp_path / "empty")])


def test_evaluate_and_predict(trained, tmp_path):
    folder, _ = trained
    report = evaluate(folder, output=str(tmp_path / "eval.json"))
    assert report["model"]["n"] == 4 and json.loads((tmp_path / "eval.json").read_text())["retrieval"]["n"] == 4
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "wild_type": "MKTAYIAKQRQISFVK", "mutation": "p.Lys2Ala"}) + "\n"
                      + json.dumps({"id": "b", "wild_type": "MKTAYIAKQRQISFVK", "mutant": "MKTAYIAKQGQISFVK"}) + "\n")
    cli.main(["predict", "mutation2text", "--model", str(folder), "--input", str(source), "--output",
              str(tmp_path / "out.jsonl"), "--max_new_tokens", "4"])
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"] and [r["mutation"] for r in rows] == ["K2A", "R10G"]
    assert all("generated_text" in r for r in rows)
    # streamed: with one line per batch, the good first line is written before the bad second line stops the run
    source.write_text(json.dumps({"wild_type": "MKTAYIAK", "mutation": "K2A"}) + "\n"
                      + json.dumps({"wild_type": "MKTAYIAK", "mutation": "A2K"}) + "\n")
    with pytest.raises(ValueError, match="in.jsonl:2: .*has K at position 2"):
        cli.main(["predict", "mutation2text", "--model", str(folder), "--input", str(source), "--output",
                  str(tmp_path / "bad.jsonl"), "--batch_size", "1", "--max_new_tokens", "2"])
    assert [json.loads(line)["mutation"] for line in (tmp_path / "bad.jsonl").read_text().splitlines()] == ["K2A"]


# MutaDescribe as published (hand-written rows in its header order: index columns, mutant before wild type)
HEADER = ",Unnamed: 0,entry,protein2,uniprot_description,rank,protein1,protein_name,function,GPT_description,all_description\n"


def _mutadescribe(path, n: int, offset: int = 0, without_text=(), long_protein=None):
    lines = [HEADER]
    for i in range(offset, offset + n):
        wild_type = "MKTAYIAKQRQISFVKSHFSRQ" + "ACDEFGHIKLMNPQRSTVWY"[i % 20] * (3 + i % 5)
        mutant = wild_type[0] + "A" + wild_type[2:]
        text = "" if i in without_text else f"Reduces activity {i}-fold."
        lines.append(f"{i},{i},P{i:05d}-K2A,{mutant},{text},,{wild_type},Kinase,Phosphorylates Y. Binds ATP.,,x\n")
    if long_protein:
        lines.append(f"99,99,Q00001-K2A,M{'A' * (long_protein - 1)},t,,MK{'A' * (long_protein - 2)},n,f,,t\n")
    path.write_text("".join(lines))
    return path


def test_published_split_files_train_evaluate_and_predict(trained, tmp_path):
    train, test = _mutadescribe(tmp_path / "train.csv", 12), _mutadescribe(tmp_path / "test_easy.csv", 6, 20, without_text={21})
    common = ["--preset", "tiny", "--train_file", str(train), "--validation_file", str(train), "--test_file", str(test),
              "--with_function", "true", "--text_only_baseline", "false", "--pretrain_epochs", "0"]
    with pytest.raises(ValueError, match=r"test_easy.csv:3 \(entry 'P00021-K2A'\): no text in column 'uniprot_description'"):
        main(common + ["--output_dir", str(tmp_path / "fails")])
    metrics = main(common + ["--skip_empty_text", "true", "--max_train_examples", "8", "--output_dir", str(tmp_path / "repo")])
    assert metrics["num_train_examples"] == 8 and metrics["num_test_examples"] == 4  # tiny: max_eval_examples 4
    assert metrics["skipped_rows"] == {"train": 0, "test": 1, "validation": 0}
    assert metrics["text_column"] == "uniprot_description" and metrics["with_function"] is True
    assert {"bleu_2", "bleu_4", "meteor", "rouge_1", "rouge_2", "rouge_l"} <= set(metrics["retrieval"])
    card = (tmp_path / "repo" / "README.md").read_text()
    assert "| BLEU-4 |" in card and "nearest-neighbour retrieval" in card and "test 1" in card

    report = evaluate(tmp_path / "repo", data=str(test), argv=["--train_file", str(train), "--skip_empty_text",
                                                               "--max_new_tokens", "2"])
    assert report["model"]["n"] == 5 and report["skipped_rows"]["test"] == 1  # the test file scored whole

    out = tmp_path / "described.jsonl"
    cli.main(["predict", "mutation2text", "--model", str(trained[0]), "--input", str(test), "--output", str(out),
              "--max_new_tokens", "2"])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["entry"] for r in rows] == [f"P{i:05d}-K2A" for i in range(20, 26)]  # every row, no text needed
    assert all(r["mutation"] == "K2A" and "generated_text" in r and r["line"] >= 2 for r in rows)


def test_proteins_longer_than_the_limit_are_refused_by_name(tmp_path):
    train = _mutadescribe(tmp_path / "train.csv", 6)
    test = _mutadescribe(tmp_path / "test.csv", 3, 10, long_protein=257)  # tiny preset: protein_max_length 256
    with pytest.raises(ValueError, match=r"test split: protein Q00001 \(K2A\) has 257 residues, more than "
                                         r"protein_max_length=256; proteins are never cut"):
        main(["--preset", "tiny", "--train_file", str(train), "--test_file", str(test), "--output_dir", str(tmp_path / "o")])
    with pytest.raises(ValueError, match="--train_file and --test_file go together"):
        main(["--preset", "tiny", "--train_file", str(train), "--output_dir", str(tmp_path / "o")])
