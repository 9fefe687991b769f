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


# -- real-format files: train on one fixture, score another whole, next to its predictors ---------------------------
FIXTURES = Path(__file__).parents[1] / "fixtures" / "mirlm"


@pytest.fixture(scope="module")
def trained_on_files(tmp_path_factory):
    output = tmp_path_factory.mktemp("mirlm-files") / "repo"
    biohf(["train", "mirlm", "--preset", "tiny", "--output_dir", str(output), "--max_steps", "2",
           "--train_file", str(FIXTURES / "mirbench_train.tsv"), "--test_file", str(FIXTURES / "mirbench_test.tsv")])
    return output


def test_a_given_test_file_is_scored_whole_next_to_its_predictors(trained_on_files):
    metrics = json.loads((trained_on_files / "metrics.json").read_text())
    assert metrics["num_examples"] == 16 and metrics["test_file"].endswith("mirbench_test.tsv")
    table = {row["predictor"]: row for row in metrics["comparison"]["table"]}
    assert set(table) == {"mirLM", "seed-match baseline", "ToolA_2020", "SeedRule"}
    assert table["mirLM"]["average_precision"] == pytest.approx(metrics["model"]["average_precision"])
    assert table["seed-match baseline"]["auroc"] == pytest.approx(metrics["baseline"]["auroc"])
    card = (trained_on_files / "README.md").read_text()
    assert "Next to the published predictors" in card and "| ToolA_2020 |" in card
    # the rows the carving left out of train and validation are listed with their reason
    with open(trained_on_files / "skipped_rows.tsv") as handle:
        skipped = list(csv.DictReader(handle, delimiter="\t"))
    assert skipped and all(row["reason"].startswith("left out of the split") for row in skipped)


def test_evaluate_scores_every_row_of_a_file_and_writes_predictions(trained_on_files, tmp_path):
    from sklearn.metrics import average_precision_score

    test_file = FIXTURES / "mirbench_test.tsv"
    biohf(["evaluate", "mirlm", "--model", str(trained_on_files), "--data", str(test_file), "--output", str(tmp_path / "ext")])
    report = json.loads((tmp_path / "ext" / "metrics.json").read_text())
    assert report["num_examples"] == 16
    with open(test_file) as handle:
        source = list(csv.DictReader(handle, delimiter="\t"))
    labels, tool = [int(r["label"]) for r in source], [float(r["ToolA_2020"]) for r in source]
    table = {row["predictor"]: row for row in report["comparison"]["table"]}
    assert table["ToolA_2020"]["average_precision"] == pytest.approx(average_precision_score(labels, tool))
    with open(tmp_path / "ext" / "predictions.tsv") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert [r["gene"] for r in rows] == [r["gene"] for r in source]
    assert {"ToolA_2020", "binding_probability", "site_start", "site_end", "site_type"} <= set(rows[0])
    assert table["mirLM"]["average_precision"] == pytest.approx(
        average_precision_score(labels, [float(r["binding_probability"]) for r in rows]))
    assert (tmp_path / "ext" / "pr_curves.png").stat().st_size > 1000
    assert report["canonical_pointing"]["n"] == 8  # every fixture positive holds an 8mer


def test_evaluate_compares_only_the_named_columns_and_names_a_missing_one(trained_on_files, tmp_path):
    test_file = str(FIXTURES / "mirbench_test.tsv")
    biohf(["evaluate", "mirlm", "--model", str(trained_on_files), "--data", test_file, "--output", str(tmp_path / "r.json"),
           "--compare_columns", "SeedRule"])
    report = json.loads((tmp_path / "r.json").read_text())
    assert [row["predictor"] for row in report["comparison"]["table"]].count("SeedRule") == 1
    assert "ToolA_2020" not in {row["predictor"] for row in report["comparison"]["table"]}
    assert (tmp_path / "r.predictions.tsv").is_file()
    with pytest.raises(SystemExit, match=r"--compare_columns \['Nope'\] not in the header"):
        biohf(["evaluate", "mirlm", "--model", str(trained_on_files), "--data", test_file, "--compare_columns", "Nope",
               "--output", str(tmp_path / "x")])


def test_bad_rows_stop_training_unless_skipped_and_listed(tmp_path):
    bad = str(FIXTURES / "mirbench_bad_rows.tsv")
    common = ["train", "mirlm", "--preset", "tiny", "--max_steps", "1", "--test_file", str(FIXTURES / "mirbench_test.tsv"),
              "--validation_file", str(FIXTURES / "mirbench_test.tsv"), "--train_file", bad]
    with pytest.raises(SystemExit, match=r"line 4, column 'gene'.*--skip_bad_rows"):
        biohf(common + ["--output_dir", str(tmp_path / "a")])
    biohf(common + ["--output_dir", str(tmp_path / "b"), "--skip_bad_rows", "true"])
    with open(tmp_path / "b" / "skipped_rows.tsv") as handle:
        skipped = list(csv.DictReader(handle, delimiter="\t"))
    assert [(r["line"], r["column"]) for r in skipped] == [("4", "gene"), ("6", "noncodingRNA")]
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["rows_not_used"] == 2
