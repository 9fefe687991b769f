"""`biohf train / evaluate / predict / diagnose tissuebert` end to end at the tiny preset."""
import csv
import json
import logging

import pytest
from transformers import pipeline


from datasets_scripts.tissuebert import generate_atlas, write_beta_table, write_npz_folder
from trainers.cli import main as biohf
from trainers.run_tissuebert import evaluate, main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tissuebert") / "repo"
    metrics = main(["--preset", "tiny", "--model_kind", "region_attention", "--output_dir", str(folder)])
    return folder, metrics


def test_training_writes_a_repository_with_model_and_baseline(trained):
    folder, metrics = trained
    assert {"model", "baseline", "headline_metrics"} <= metrics.keys()
    for who in ("model", "baseline"):
        assert 0 <= metrics[who]["accuracy"] <= 1 and "accuracy_missing30" in metrics[who]
    assert metrics["model"]["n"] == metrics["split_sizes"]["test"]
    assert json.loads((folder / "metrics.json").read_text())["model_kind"] == "region_attention"
    assert {p.name for p in (folder / "plots").iterdir()} >= {"confusion_matrices.png", "missing_regions.png", "region_attention.png"}
    config = json.loads((folder / "config.json").read_text())
    assert config["model_kind"] == "region_attention" and len(config["regions"]) == config["num_regions"] == 64
    assert "logistic regression" in (folder / "README.md").read_text()


def test_evaluate_and_predict(trained, tmp_path):
    folder, metrics = trained
    report = evaluate(folder)
    assert report["model"]["accuracy"] == pytest.approx(metrics["model"]["accuracy"])
    samples = write_npz_folder(generate_atlas("tiny", seed=0), tmp_path / "samples", progress=False)
    biohf(["predict", "tissuebert", "--model", str(folder), "--input", str(samples), "--output", str(tmp_path / "preds.csv"), "--top_k", "2"])
    rows = list(csv.DictReader(open(tmp_path / "preds.csv")))
    assert len(rows) == len(list(samples.glob("*.npz")))
    assert rows[0]["true_tissue"] and len(rows[0]["top_k"].split(";")) == 2 and rows[0]["informative_regions"]
    table = write_beta_table(generate_atlas("tiny", seed=0), tmp_path / "table" / "atlas.tsv")
    biohf(["predict", "tissuebert", "--model", str(folder), "--input", str(table), "--output", str(tmp_path / "t.csv")])
    from_table = list(csv.DictReader(open(tmp_path / "t.csv")))
    assert [r["sample"] for r in from_table] == [r["sample"][:-4] for r in rows]  # same samples, same order


@pytest.mark.parametrize("kind", ["sample", "region"])
def test_other_kinds_train(kind, tmp_path):
    metrics = main(["--preset", "tiny", "--model_kind", kind, "--output_dir", str(tmp_path / kind)])
    if kind == "region":
        assert "sample_vote_accuracy" in metrics["model"] and "accuracy_missing30" not in metrics["model"]
    else:
        assert "accuracy_missing30" in metrics["model"]


def test_resume_and_refusals(tmp_path):
    (tmp_path / "other.txt").write_text("x")
    with pytest.raises(SystemExit, match="other files"):
        main(["--preset", "tiny", "--output_dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="model_kind"):
        main(["--preset", "tiny", "--model_kind", "nope", "--output_dir", str(tmp_path / "a")])


def test_diagnose_cli(tmp_path, capsys):
    samples = write_npz_folder(generate_atlas("tiny", seed=0), tmp_path / "samples", progress=False)
    biohf(["diagnose", "tissuebert", "--data", str(samples), "--output", str(tmp_path / "report"), "--overfit_steps", "60"])
    report = (tmp_path / "report" / "report.md").read_text()
    assert "Label consistency: OK" in report and "Overfit 10 samples: OK" in report
    results = json.loads((tmp_path / "report" / "diagnostics.json").read_text())
    assert results["leakage"]["groups_across_splits_group_split"] == 0 < results["leakage"]["groups_across_splits_random_split"]
    assert (tmp_path / "report" / "separability.png").is_file()
    with pytest.raises(SystemExit, match="no data diagnostics"):
        biohf(["diagnose", "mirlm"])


def test_training_from_beta_files_and_resuming(tmp_path, caplog):
    from datasets_scripts.tissuebert import write_beta_folder

    atlas = generate_atlas("tiny", seed=4, num_regions=40)
    samples = write_beta_folder(atlas, tmp_path / "beta", progress=False)
    folder = tmp_path / "repo"
    first = main(["--preset", "tiny", "--data", str(samples), "--output_dir", str(folder)])
    config = json.loads((folder / "config.json").read_text())
    assert config["num_regions"] == 40 and config["region_cpg_ranges"][0] == atlas.region_cpg_ranges[0].tolist()
    assert first["global_step"] == 6
    caplog.set_level(logging.INFO, logger="biohf.tissuebert")
    again = main(["--preset", "tiny", "--data", str(samples), "--output_dir", str(folder), "--max_steps", "9"])
    assert "resuming from" in caplog.text and "checkpoint-6" in caplog.text
    assert again["global_step"] == 9  # continued from the step-6 checkpoint, not from scratch
    classify = pipeline(model=str(folder), trust_remote_code=True)  # a .beta file, regions from the config
    assert classify(str(samples / atlas.filenames[0].replace(".npz", ".beta")))["label"] in atlas.tissues
