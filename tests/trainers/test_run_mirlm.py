"""`biohf train/evaluate/predict mirlm` end to end at the tiny preset: the output is a complete Hub repository."""
import csv
import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from safetensors.torch import load_file

from trainers.cli import main as biohf


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    output = tmp_path_factory.mktemp("mirlm") / "repo"
    biohf(["train", "mirlm", "--preset", "tiny", "--output_dir", str(output), "--max_steps", "4"])
    return output


def test_training_output_is_a_hub_repository(trained):
    config = json.loads((trained / "config.json").read_text())
    assert config["model_type"] == "mirlm"
    assert {"AutoConfig", "AutoModel", "AutoModelForQuestionAnswering", "AutoModelForSequenceClassification", "AutoTokenizer"} <= set(config["auto_map"])
    assert "mirna-target-scan" in config["custom_pipelines"]
    assert config["mil_temperature"] == pytest.approx(0.05)  # the annealed value is what inference uses
    assert 0.0 <= config["decision_threshold"] <= 1.0
    weights = load_file(trained / "model.safetensors")
    assert "seed_scorer.weight" in weights
    assert not list(trained.glob("*.bin")) and not list(trained.glob("*.pt"))
    for name in ("configuration_mirlm.py", "modeling_mirlm.py", "tokenization_mirlm.py", "pipeline_mirlm.py", "sites_mirlm.py",
                 "vocab.json", "tokenizer_config.json", "metrics.json", "README.md"):
        assert (trained / name).is_file(), name


def test_metrics_and_card_report_model_and_baseline(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    for side in ("model", "baseline"):
        assert {"auroc", "average_precision", "accuracy", "span_exact_match", "per_site_type"} <= set(metrics[side])
    assert metrics["split"] == "test" and metrics["num_examples"] > 0
    card = ModelCard((trained / "README.md").read_text())
    results = {(r.metric_type, r.metric_name): r.metric_value for r in card.data.eval_results}
    assert any(value == pytest.approx(metrics["model"]["average_precision"]) for value in results.values())
    assert any(value == pytest.approx(metrics["baseline"]["average_precision"]) for value in results.values())
    assert "custom_code" in card.data.tags
    for plot in ("training_curves.png", "pr_curves.png", "position_weights.png"):
        assert (trained / "plots" / plot).stat().st_size > 1000
        assert f"plots/{plot}" in card.text


def test_training_resumes_from_the_last_checkpoint(trained, tmp_path):
    state = json.loads(next(trained.glob("checkpoints/checkpoint-*/trainer_state.json")).read_text())
    assert state["global_step"] == 4
    biohf(["train", "mirlm", "--preset", "tiny", "--output_dir", str(trained), "--max_steps", "6"])
    state = json.loads((trained / "checkpoints" / "checkpoint-6" / "trainer_state.json").read_text())
    assert state["global_step"] == 6
    assert any(entry.get("step") == 6 for entry in state["log_history"])
    assert not any(entry.get("step", 99) <= 4 and "loss" in entry and entry.get("epoch", 0) == 0 for entry in state["log_history"][2:])


def test_evaluate_reports_held_out_metrics(trained, tmp_path):
    output = tmp_path / "eval.json"
    biohf(["evaluate", "mirlm", "--model", str(trained), "--output", str(output)])
    report = json.loads(output.read_text())
    assert report["split"] == "test" and "average_precision" in report["model"] and "average_precision" in report["baseline"]


def _fasta(path: Path, records) -> Path:
    path.write_text("".join(f">{name}\n{seq[i:i + 60]}\n" if i == 0 else f"{seq[i:i + 60]}\n"
                            for name, seq in records for i in range(0, len(seq), 60)))
    return path


def test_predict_scans_long_transcripts_and_writes_ism(trained, tmp_path):
    utr = "AUUUAUGCAGCAUGAUCGAUCGUACGAUCGAUCG" * 40  # 1360 nt: several windows
    transcripts = _fasta(tmp_path / "utrs.fa", [("tx1", utr), ("tx2", "ACGUACGUACGCUACCUCAGAUUA")])
    mirnas = _fasta(tmp_path / "mirnas.fa", [("hsa-let-7a-5p", "UGAGGUAGUAGGUUGUAUAGUU"), ("hsa-miR-21-5p", "UAGCUUAUCAGACUGAUGUUGA")])
    output = tmp_path / "hits.tsv"
    biohf(["predict", "mirlm", "--model", str(trained), "--input", str(transcripts), "--output", str(output),
           "--mirnas", str(mirnas), "--ism"])
    with open(tmp_path / "hits.summary.tsv") as handle:
        summary = list(csv.DictReader(handle, delimiter="\t"))
    assert [(r["transcript_id"], r["mirna_id"]) for r in summary] == [
        ("tx1", "hsa-let-7a-5p"), ("tx1", "hsa-miR-21-5p"), ("tx2", "hsa-let-7a-5p"), ("tx2", "hsa-miR-21-5p")]
    assert summary[0]["length"] == str(len(utr))
    assert all(0.0 <= float(r["binding_probability"]) <= 1.0 for r in summary)
    with open(output) as handle:
        assert next(csv.reader(handle, delimiter="\t"))[:4] == ["transcript_id", "mirna_id", "start", "end"]
    ism = sorted((tmp_path / "hits.ism").glob("*.tsv"))
    assert len(ism) == 4 and len(list((tmp_path / "hits.ism").glob("*.png"))) == 4
    rows = ism[-1].read_text().splitlines()
    assert rows[0].split("\t") == ["position", "A", "C", "G", "T"] and len(rows) == 1 + 24  # tx2 is 24 nt


def test_predict_rejects_a_bad_sequence_naming_it(trained, tmp_path):
    transcripts = _fasta(tmp_path / "bad.fa", [("good", "ACGU"), ("broken", "ACGJUU")])
    with pytest.raises(ValueError, match="J"):
        biohf(["predict", "mirlm", "--model", str(trained), "--input", str(transcripts), "--output", str(tmp_path / "o.tsv"),
               "--mirna", "UGAGGUAGUAGGUUGUAUAGUU"])
