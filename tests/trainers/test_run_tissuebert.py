"""`biohf train / evaluate / predict / diagnose tissuebert` end to end at the tiny preset."""
import csv
import json
import logging

import numpy as np
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


# 12 cell types: more than 10, so label ids "10", "11" sort before "2" as JSON keys (a bug this catches).
ATLAS_TISSUES = ["BloodA", "BloodB", "Liver", "Lung", "Kidney", "Colon", "Heart", "Brain", "Skin", "Bone", "Gut", "Thyroid"]


def write_atlas(folder, probes: int = 120):
    """A hand-made reference atlas (probe x cell type, meth_atlas layout) and two mixtures named by composition."""
    rng = np.random.default_rng(0)
    values = np.clip(rng.normal(0.85, 0.05, (probes, len(ATLAS_TISSUES))), 0, 1)
    for t in range(len(ATLAS_TISSUES)):
        values[10 * t : 10 * t + 10, t] = rng.uniform(0.02, 0.1, 10)
    probe_ids = [f"cg{i:08d}" for i in range(probes)]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "atlas.csv", "w") as handle:
        handle.write("CpGs," + ",".join(ATLAS_TISSUES) + "\n")
        handle.writelines(f"{p}," + ",".join(f"{v:.4f}" for v in row) + "\n" for p, row in zip(probe_ids, values))
    mixtures = {"BloodA90Liver10": [0.9, 0, 0.1] + [0] * 9, "Lung60Thyroid40": [0, 0, 0, 0.6] + [0] * 7 + [0.4]}
    rounded = np.round(values, 4)
    with open(folder / "mixtures.csv", "w") as handle:  # the probes in another order, one left out
        handle.write("CpGs," + ",".join(mixtures) + "\n")
        for r in range(probes - 1, 0, -1):
            handle.write(probe_ids[r] + "," + ",".join(f"{rounded[r] @ np.array(w):.6f}" for w in mixtures.values()) + "\n")
    return folder / "atlas.csv", folder / "mixtures.csv"


SIMULATION = "blood_columns=BloodA;BloodB,mixture_fraction=0.8,cfdna_fraction=0.5"


def test_train_on_an_atlas_classifier_with_depth_curve(tmp_path):
    atlas, _ = write_atlas(tmp_path / "data")
    metrics = main(["--preset", "tiny", "--train_file", str(atlas), "--simulate", "60", "--simulation", SIMULATION,
                    "--eval_depths", "5,1,array", "--eval_samples", "10", "--output_dir", str(tmp_path / "repo")])
    assert [p["depth"] for p in metrics["depth_curve"]] == ["5x", "1x", "array"]
    assert all(p["model"]["n"] == p["baseline"]["n"] == 10 for p in metrics["depth_curve"])
    config = json.loads((tmp_path / "repo" / "config.json").read_text())
    assert config["regions"][0] == "cg00000000" and config["simulation"]["blood_columns"] == ["BloodA", "BloodB"]
    assert config["simulation"]["samples"] == 60 and config["id2label"]["2"] == "Liver"
    card = (tmp_path / "repo" / "README.md").read_text()
    assert "profile_noise" in card and "simulated" in card


def test_train_mixture_model_and_predict_proportions(tmp_path):
    atlas, mixtures = write_atlas(tmp_path / "data")
    folder = tmp_path / "repo"
    metrics = main(["--preset", "tiny", "--model_kind", "mixture", "--train_file", str(atlas), "--simulate", "60",
                    "--simulation", SIMULATION, "--eval_depths", "2,array", "--eval_samples", "10",
                    "--mixtures_file", str(mixtures), "--output_dir", str(folder)])
    assert {"model", "nnls", "curves", "real_mixtures"} <= metrics.keys() and metrics["headline_metrics"][0] == "mae"
    assert [p["depth"] for p in metrics["curves"]["cfdna"]] == ["2x", "array"]
    real = metrics["real_mixtures"]
    assert real["probes_used"] == 119 and real["nnls"]["mae"] < 1e-3  # exact mixtures of the atlas, one probe absent
    assert real["model"]["mae"] < 1e-3  # the fit recovers an exact mixture whatever the prior says
    assert [p["depth"] for p in real["at_depth"]] == ["2x"] and real["at_depth"][0]["nnls"]["n"] == 2 * 40
    card = (folder / "README.md").read_text()
    assert "| cfDNA-like (≥ 80% blood), 2x | 10 |" in card and "| BloodA90Liver10 | BloodA 0.900, Liver 0.100 |" in card
    assert "| 2x |" in card.split("read at simulated depths")[1] and "/work/" not in card.split("## Training data")[1][:300]
    report = evaluate(folder, str(mixtures), argv=["--eval_depths", "3", "--draws", "4", "--classification", "24",
                                                    "--eval_samples", "12", "--simulation", "profile_noise=0.1"])
    assert report["simulation"]["profile_noise"] == 0.1 and report["simulation"]["blood_columns"] == ["BloodA", "BloodB"]
    assert report["real_mixtures"]["model"]["mae"] < 1e-3 and report["real_mixtures"]["at_depth"][0]["model"]["n"] == 8
    point = report["classification_curve"][0]  # the model's largest share as a tissue call, next to LR and NNLS
    assert point["depth"] == "3x" and point["model"]["n"] == point["baseline"]["n"] == point["nnls"]["n"] == 12
    biohf(["predict", "tissuebert", "--model", str(folder), "--input", str(mixtures), "--output", str(tmp_path / "p.csv"),
           "--truth_from_names"])
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert [r["sample"] for r in rows] == ["BloodA90Liver10", "Lung60Thyroid40"]
    assert rows[0]["dominant_tissue"] == "BloodA" and rows[0]["proportions"].startswith("BloodA:0.9")
    assert "Liver:0.1" in rows[0]["proportions"] and float(rows[1]["mae"]) < 1e-3
    deconvolve = pipeline(model=str(folder), trust_remote_code=True)
    probes = [f"cg{i:08d}" for i in range(120)]
    result = deconvolve({"probes": probes, "betas": np.full(120, 0.5)}, top_k=12)
    assert abs(sum(p["share"] for p in result["proportions"]) - 1) < 1e-5 and len(result["proportions"]) == 12
    with pytest.raises(ValueError, match="only 2 of the model's 120 regions"):
        deconvolve({"probes": probes[:2], "betas": [0.5, 0.5]})


def test_train_file_refusals(tmp_path):
    atlas, _ = write_atlas(tmp_path / "data")
    with pytest.raises(SystemExit, match="are not labelled: give --metadata"):
        main(["--preset", "tiny", "--train_file", str(atlas), "--output_dir", str(tmp_path / "a")])
    with pytest.raises(SystemExit, match="mixture model deconvolves against a reference atlas"):
        main(["--preset", "tiny", "--model_kind", "mixture", "--output_dir", str(tmp_path / "b")])
    with pytest.raises(SystemExit, match=r"\['Spleen'\] not found; it has \['BloodA'"):
        main(["--preset", "tiny", "--train_file", str(atlas), "--simulate", "10", "--tissue_columns", "Liver,Spleen",
              "--output_dir", str(tmp_path / "c")])
