"""End to end with the tiny preset: train, export, baselines, attention Parquet, resume, HPO (stored, resumed), predict."""

import json
import subprocess
import sys

import optuna
import pandas as pd
import pytest

from trainers import run_milmol
from trainers.cli import main as cli_main


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("milmol-cache"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cache):
    output = tmp_path_factory.mktemp("milmol") / "repo"
    metrics = run_milmol.main(["--preset", "tiny", "--output_dir", str(output), "--cache_dir", cache])
    return output, metrics


def test_tiny_run_writes_a_repository_with_baselines(trained):
    output, metrics = trained
    for name in ("config.json", "model.safetensors", "tokenizer_config.json", "README.md", "metrics.json",
                 "leaderboard_attention.parquet", "plots/pr_curves.png", "plots/training_curves.png"):
        assert (output / name).is_file(), name
    saved = json.loads((output / "metrics.json").read_text())
    assert saved["model"]["macro_ap"] == metrics["model"]["macro_ap"]
    assert {"model", "baseline", "single_instance", "headline_metrics"} <= set(saved)
    # the tiny preset is a 2-member ensemble: two networks trained one after the other, exported as one model
    assert saved["ensemble_size"] == 2 and len(saved["member_validation_macro_ap"]) == 2
    from safetensors.torch import load_file
    weights = load_file(output / "model.safetensors")
    assert weights["task_weight"].shape[0] == 2 and not weights["task_weight"][0].equal(weights["task_weight"][1])
    assert "2D logistic regression" in (output / "README.md").read_text()
    config = json.loads((output / "config.json").read_text())
    assert len(config["pos_weight"]) == 4 and config["aux_abs_std"] != [1.0, 1.0]  # fitted on the training split
    attention = pd.read_parquet(output / "leaderboard_attention.parquet")
    assert {"id", "task", "conformer", "attention", "is_top", "responsible"} <= set(attention.columns)
    sums = attention.groupby(["id", "task"])["attention"].sum()
    assert sums.between(0.999, 1.001).all() and attention.groupby(["id", "task"])["is_top"].sum().eq(1).all()


def test_resume_and_refusal(trained, tmp_path, cache):
    output, _ = trained
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(SystemExit, match="already holds other files"):
        run_milmol.main(["--preset", "tiny", "--output_dir", str(tmp_path), "--cache_dir", cache])
    with pytest.raises(SystemExit, match="unknown MILMolConfig field"):
        run_milmol.main(["--preset", "tiny", "--output_dir", str(tmp_path / "new"), "--config_overrides", "hidden=3"])


def test_predict_streams_smiles_to_csv(trained, tmp_path):
    output, _ = trained
    (tmp_path / "in.smi").write_text("CCO ethanol\nnot_a_smiles broken\nc1ccc2ccccc2c1 naphthalene\n")
    cli_main(["predict", "milmol", "--model", str(output), "--input", str(tmp_path / "in.smi"), "--output", str(tmp_path / "out.csv")])
    table = pd.read_csv(tmp_path / "out.csv")
    assert table["id"].tolist() == ["ethanol", "broken", "naphthalene"]
    assert table["error"].isna().tolist() == [True, False, True] and table.columns[:5].tolist() == ["id", "smiles", "canonical_smiles", "error", "note"] and pd.isna(table.loc[1, "P(Transmittance_340)"])
    assert table.loc[2, "P(Transmittance_340)"] > 0 and "wl_pred_nm@Fluorescence_340_450" in table.columns


def test_evaluate_reports_model_and_baseline(trained):
    output, _ = trained
    report = run_milmol.evaluate(output)
    assert {"model", "baseline"} <= set(report) and "macro_ap" in report["model"]


@pytest.mark.slow
def test_hpo_is_stored_and_resumes(tmp_path, cache):
    output = tmp_path / "hpo-run"
    argv = ["--preset", "tiny", "--output_dir", str(output), "--cache_dir", cache, "--hpo", "2", "--hpo_folds", "2",
            "--baselines", "false", "--max_steps", "2"]
    run_milmol.main(argv)
    storage = f"sqlite:///{output / 'checkpoints' / 'hpo' / 'study.sqlite3'}"
    assert len(optuna.load_study(study_name="milmol-hpo", storage=storage).trials) == 2
    run_milmol.main(argv)  # the same command again: resumes the study, adds 2 trials
    study = optuna.load_study(study_name="milmol-hpo", storage=storage)
    assert len(study.trials) == 4 and json.loads((output / "checkpoints" / "hpo" / "best.json").read_text())["folds"] == 2


def test_cli_parses_the_documented_commands():
    from trainers.cli import build_parser

    args, extra = build_parser().parse_known_args(["train", "milmol", "--preset", "demo", "--hpo", "20"])
    assert args.family == "milmol" and extra == ["--hpo", "20"]
    assert subprocess.run([sys.executable, "-c", "import trainers.run_milmol"], capture_output=True).returncode == 0


def test_repeated_train_file_flags_are_gathered():
    assert run_milmol.gather_repeated(["--train_file", "a.csv", "--preset", "x", "--train_file", "b.csv", "--train_file=c.csv"]) == \
        ["--preset", "x", "--train_file", "a.csv", "b.csv", "c.csv"]


def test_diagnose_is_wired_to_the_attention_diagnostics(monkeypatch, tmp_path):
    import trainers.milmol.diagnostics as diagnostics

    seen = {}
    monkeypatch.setattr(diagnostics, "main", lambda argv: seen.setdefault("argv", argv))
    cli_main(["diagnose", "milmol", "--output", str(tmp_path / "d.json"), "--model", "some/repo"])
    assert seen["argv"] == ["--model", "some/repo", "--output", str(tmp_path / "d.json")]


@pytest.mark.slow
def test_euos25_challenge_files_train_and_predict_a_submission(tmp_path, cache):
    """The challenge's layouts end to end: four per-task files, a submission for the test layout, the reports."""
    from tests.datasets_scripts.test_milmol_readers import write_task_files

    smiles = ["CCO", "c1ccccc1O", "CCN", "c1ccc2ccccc2c1", "CC(=O)O", "c1ccncc1", "CCCCO", "c1ccc(N)cc1", "OCC(O)CO", "c1ccoc1",
              "CCOC(=O)C", "c1ccc(Cl)cc1", "CC(C)O", "c1ccc(C)cc1", "NCCO", "c1ccsc1", "CCCN", "Oc1ccc(O)cc1", "CC#N", "c1cc[nH]c1"]
    data = tmp_path / "euos25"
    data.mkdir()
    paths = write_task_files(data, smiles=smiles)  # the fixture's labels, repeated
    output = tmp_path / "repo"
    argv = ["--preset", "tiny", "--output_dir", str(output), "--cache_dir", cache, "--split", "random", "--ablation_2d", "true", "--sample", "18"]
    for path in paths:
        argv += ["--train_file", str(path)]
    metrics = run_milmol.main(argv)
    assert metrics["featurisation"]["source"] == "euos25_tasks" and len(metrics["featurisation"]["tasks_found"]) == 4
    assert {"without_conformers", "thresholds", "imbalance", "reweighted"} <= set(metrics) and "min_roc_auc" in metrics["model"]
    assert metrics["featurisation"]["sampling"]["molecules"] == 18 and metrics["model"]["n"] + 0 <= 18
    assert (output / "featurisation_report.csv").is_file()
    test_file = tmp_path / "euos25_challenge_test.csv"
    pd.DataFrame({"ID": ["t2", "t1", "t3"], "SMILES": ["c1ccccc1", "CCO", "C1CC"]}).to_csv(test_file, index=False)
    cli_main(["predict", "milmol", "--model", str(output), "--input", str(test_file), "--output", str(tmp_path / "submission.csv")])
    submission = pd.read_csv(tmp_path / "submission.csv")
    assert list(submission.columns) == ["Transmittance(340)", "Transmittance(450)", "Fluorescence(340/450)", "Fluorescence(>480)"]
    assert len(submission) == 3 and submission.iloc[:2].notna().all().all() and submission.iloc[2].isna().all()
    ethanol = pd.read_csv(tmp_path / "submission.csv").iloc[1]
    assert ((ethanol >= 0) & (ethanol <= 1)).all()
    report = pd.read_csv(tmp_path / "submission.csv.report.csv")
    assert report["id"].tolist() == ["t3"] and report["outcome"].tolist() == ["excluded"]
