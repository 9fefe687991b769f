"""`biohf train/evaluate/predict e1` end to end at the tiny preset: Hub repository, CV outputs, LoRA, resume."""

import csv
import json

import numpy as np
import pytest
import torch
import yaml
from huggingface_hub import ModelCard
from safetensors.torch import load_file

from trainers.cli import main as biohf


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    output = tmp_path_factory.mktemp("e1") / "repo"
    biohf(["train", "e1", "--preset", "tiny", "--output_dir", str(output)])
    return output


@pytest.fixture(scope="module")
def cross_validated(tmp_path_factory):
    output = tmp_path_factory.mktemp("e1cv") / "repo"
    biohf(["train", "e1", "--preset", "tiny", "--output_dir", str(output), "--cv", "2", "--max_steps", "3",
           "--lora_r", "4", "--early_stopping_patience", "2"])
    return output


def test_training_output_is_a_hub_repository(trained):
    config = json.loads((trained / "config.json").read_text())
    assert config["model_type"] == "e1"
    assert {"AutoConfig", "AutoModel", "AutoModelForMaskedLM", "AutoModelForTokenClassification"} <= set(config["auto_map"])
    assert "metal-binding-residues" in config["custom_pipelines"]
    assert set(config["decision_thresholds"]) == {"ZN", "CA", "MG"}
    weights = load_file(trained / "model.safetensors")
    assert bool(weights["prototypes_initialized"]) and torch.allclose(weights["prototypes"].norm(dim=-1), torch.ones(3))
    for name in ("configuration_e1.py", "modeling_e1.py", "attention_e1.py", "losses_e1.py", "tokenization_e1.py",
                 "pipeline_e1.py", "vocab.json", "metrics.json", "README.md"):
        assert (trained / name).is_file(), name
    assert (trained / "checkpoints" / "best" / "e1_heads.safetensors").is_file()


def test_metrics_and_card(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    for side in ("model", "single_sequence", "baseline"):
        assert {"auprc", "hra", "hra_normalized", "f1", "mcc", "per_ion"} <= set(metrics[side]), side
    assert metrics["baseline"]["auprc"] != metrics["model"]["auprc"]
    card = ModelCard((trained / "README.md").read_text())
    values = [r.metric_value for r in card.data.eval_results]
    assert metrics["model"]["auprc"] in values and metrics["baseline"]["auprc"] in values
    for plot in ("training_curves.png", "loss_components.png", "pr_curves.png"):
        assert (trained / "plots" / plot).stat().st_size > 1000


def test_diagnostics_are_logged_every_logging_step(trained):
    state = json.loads(next(trained.glob("checkpoints/checkpoint-*/trainer_state.json")).read_text())
    logged = [e for e in state["log_history"] if "loss" in e]
    assert len(logged) >= 3
    for entry in logged:
        assert {"loss_contrastive", "loss_prototype", "loss_bce", "loss_mlm", "pull_mask_ratio", "sim_pos", "sim_neg"} <= set(entry)


def test_resume_continues_and_keeps_the_prototypes(trained):
    (checkpoint,) = trained.glob("checkpoints/checkpoint-*")  # the best one is kept (save_total_limit 1)
    before = load_file(checkpoint / "e1_heads.safetensors")["prototypes"]
    biohf(["train", "e1", "--preset", "tiny", "--output_dir", str(trained), "--max_steps", "9", "--save_total_limit", "5"])
    state = json.loads((trained / "checkpoints" / "checkpoint-9" / "trainer_state.json").read_text())
    assert state["global_step"] == 9
    steps = [e["step"] for e in state["log_history"] if "loss" in e]
    assert steps == sorted(set(steps)) and steps[-1] == 9  # continued from the checkpoint, not restarted
    assert torch.equal(load_file(trained / "checkpoints" / "checkpoint-9" / "e1_heads.safetensors")["prototypes"], before)


def test_predict_writes_lmetalsite_csv_and_evaluate(trained, tmp_path):
    fasta = tmp_path / "proteins.fa"
    fasta.write_text(">zf\nMAFKCPECGKSFSQSSNLQKHQRTHTG\n>ef\nMEELKDKDGDGTIDFEEFLKMM\n")
    msa = tmp_path / "msa"
    msa.mkdir()
    (msa / "zf.a3m").write_text(">zf\nMAFKCPECGKSFSQSSNLQKHQRTHTG\n>h\nMAYKCPECGRSFSRSDNLKRHQRIHTG\n")
    biohf(["predict", "e1", "--model", str(trained), "--input", str(fasta), "--output", str(tmp_path / "out.csv"),
           "--msa_dir", str(msa)])
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert [r["ID"] for r in rows] == ["zf", "ef"]
    assert set(rows[0]) == {"ID", "Sequence"} | {f"{ion}_{kind}" for ion in ("ZN", "CA", "MG") for kind in ("prob", "pred")}
    assert len(rows[1]["CA_prob"].split(",")) == len(rows[1]["Sequence"]) == len(rows[1]["CA_pred"])
    report = json.loads(json.dumps(biohf.__globals__["_script"]("e1").evaluate(trained, None, str(tmp_path / "m.json"))))
    assert report["model"]["n"] == json.loads((trained / "metrics.json").read_text())["model"]["n"]


def test_cross_validation_writes_oof_predictions_thresholds_and_fold_checkpoints(cross_validated):
    oof = np.load(cross_validated / "oof_preds.npz")
    assert set(oof["fold"].tolist()) == {1, 2}
    assert oof["probabilities"].shape == oof["labels"].shape and oof["lengths"].sum() == len(oof["probabilities"])
    thresholds = yaml.safe_load((cross_validated / "global_thresholds.yaml").read_text())["thresholds"]
    config = json.loads((cross_validated / "config.json").read_text())
    assert config["decision_thresholds"] == pytest.approx(thresholds)
    for k in (1, 2):
        fold = cross_validated / "checkpoints" / f"fold_{k}"
        assert (fold / "best" / "adapter" / "adapter_config.json").is_file()  # LoRA adapters + heads per fold
        assert (fold / "best" / "e1_heads.safetensors").is_file() and (fold / "pr_curves.png").is_file()
    metrics = json.loads((cross_validated / "metrics.json").read_text())
    assert len(metrics["cross_validation"]["folds"]) == 2 and "auprc" in metrics["cross_validation"]
    # the export is the merged model: no LoRA weights, loads as a plain E1ForContrastiveBinding
    assert not any("lora" in key for key in load_file(cross_validated / "model.safetensors"))
