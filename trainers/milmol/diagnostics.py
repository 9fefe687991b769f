"""
Does milmol's conformer attention pick a conformer, and does it matter? Three measurements on a trained repository
and the embedded data (which know the responsible conformers):

- attention sharpness: mean normalised entropy of the attention maps (1 = uniform) and the mean weight on a
  responsible conformer vs the others, over the labels that rest on a contact in a mixed bag;
- uniform-attention ablation: held-out AP with every member's attention replaced by uniform weights over the real
  conformers (if it hardly changes, the model pools by the mean and the attention is decoration);
- linear probe: can the encoder's conformer states tell the responsible conformers apart? A logistic regression on
  bag-centred conformer states, fitted on the training split's mixed bags, scored on the test split's (ROC AUC, and
  how often its top conformer is a responsible one), next to the same probe on the raw descriptors standardised
  within each bag.

    python -m trainers.milmol.diagnostics --model outputs/milmol-demo [--output diagnostics.json]
"""

import argparse
import contextlib
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from datasets_scripts.milmol import MILMolDataCollator, build_milmol_dataset
from trainers.milmol.metrics import task_metrics
from trainers.running import write_report


def attention_sharpness(attention: np.ndarray, mask: np.ndarray, responsible: np.ndarray, dependent_tasks: np.ndarray,
                        mixed: np.ndarray) -> dict:
    """attention (M, T, N), mask / responsible (M, N), dependent_tasks (M, T), mixed (M,) bool."""
    valid = mask.astype(bool)
    counts = valid.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(attention > 0, attention * np.log(np.where(attention > 0, attention, 1.0)), 0.0)
    several = counts > 1
    entropy = -plogp.sum(axis=-1)[several] / np.log(counts[several])[:, None]
    on, off = [], []
    for i in np.flatnonzero(mixed):
        for t in np.flatnonzero(dependent_tasks[i]):
            on.extend(attention[i, t][valid[i] & (responsible[i] == 1)])
            off.extend(attention[i, t][valid[i] & (responsible[i] == 0)])
    return {"normalised_entropy": float(entropy.mean()) if entropy.size else None,
            "weight_on_responsible": float(np.mean(on)) if on else None,
            "weight_on_others": float(np.mean(off)) if off else None,
            "uniform_weight": float(np.mean(1.0 / counts[several])) if several.any() else None}


@contextlib.contextmanager
def uniform_attention(model):
    """Every member's TaskAttentionPool pools with uniform weights over the real conformers (inputs / normed_inputs pools)."""
    pools = [member.pool for member in model.milmol.members]
    originals = [pool.forward for pool in pools]

    def make(pool):
        def forward(x, mask):
            if pool.pool_source == "attn_out":
                raise ValueError("the uniform-attention ablation needs pool_source 'inputs' or 'normed_inputs'")
            values = pool.values(x if pool.pool_source == "inputs" else pool.norm(x))
            weights = mask[:, None, :].to(x.dtype).expand(-1, pool.queries.shape[1], -1)
            weights = weights / weights.sum(dim=-1, keepdim=True)
            return weights @ values, weights
        return forward

    for pool in pools:
        pool.forward = make(pool)
    try:
        yield model
    finally:
        for pool, original in zip(pools, originals):
            pool.forward = original


@torch.no_grad()
def conformer_states(model, batch) -> np.ndarray:
    """(M, N, members * inst_hidden): each member's encoder state of every conformer (after the encoder's LayerNorm)."""
    inputs = model.milmol.conformer_inputs(batch["x3d"], batch["conformer_mask"].bool())
    states = [member.inst_norm(member.inst_enc(inputs)) for member in model.milmol.members]
    return torch.cat(states, dim=-1).numpy()


def _mixed_rows(split, states: np.ndarray, x3d: np.ndarray, mask: np.ndarray) -> tuple:
    """Bag-centred states, bag-standardised raw descriptors, responsible flags and molecule index of mixed-bag conformers."""
    responsible = np.asarray(split["responsible_mask"])[:, : mask.shape[1]]
    mixed = np.asarray(split["conformer_dependent"], dtype=bool)
    rows = ([], [], [], [])
    for i in np.flatnonzero(mixed):
        valid = mask[i].astype(bool)
        s, r = states[i][valid], x3d[i][valid]
        rows[0].append(s - s.mean(axis=0))
        rows[1].append((r - r.mean(axis=0)) / (r.std(axis=0) + 1e-6))
        rows[2].append(responsible[i][valid])
        rows[3].append(np.full(valid.sum(), i))
    return tuple(np.concatenate(part) for part in rows)


def probe(train_rows: tuple, test_rows: tuple, column: int) -> dict:
    features, labels, groups = test_rows[column], test_rows[2], test_rows[3]
    classifier = LogisticRegression(C=0.1, max_iter=5000).fit(train_rows[column], train_rows[2])
    scores = classifier.decision_function(features)
    tops = [labels[groups == g][np.argmax(scores[groups == g])] for g in np.unique(groups)]
    return {"roc_auc": float(roc_auc_score(labels, scores)), "top_is_responsible": float(np.mean(tops)),
            "chance": float(np.mean([labels[groups == g].mean() for g in np.unique(groups)]))}


def diagnose(model, splits) -> dict:
    task_names = model.config.task_names
    model.eval()
    collator = MILMolDataCollator(with_targets=False)
    report, rows = {}, {}
    for name in ("train", "test"):
        split = splits[name]
        batch = collator(list(split))
        mask = batch["conformer_mask"].numpy()
        rows[name] = _mixed_rows(split, conformer_states(model, batch), batch["x3d"].numpy(), mask)
        if name != "test":
            continue
        labels = np.asarray(split["labels"], dtype=np.float64)
        with torch.no_grad():
            out = model(**batch)
            with uniform_attention(model):
                uniform = torch.sigmoid(model(**batch).logits).numpy()
        learned = torch.sigmoid(out.logits).numpy()
        ours, flat = task_metrics(labels, learned, task_names), task_metrics(labels, uniform, task_names)
        report["attention"] = attention_sharpness(out.conformer_attention.numpy(), mask,
                                                  np.asarray(split["responsible_mask"])[:, : mask.shape[1]],
                                                  np.asarray(split["dependent_tasks"], dtype=bool),
                                                  np.asarray(split["conformer_dependent"], dtype=bool))
        report["uniform_attention_ablation"] = {
            "macro_ap": ours["macro_ap"], "macro_ap_uniform": flat["macro_ap"],
            "min_ap": ours["min_ap"], "min_ap_uniform": flat["min_ap"],
            "max_probability_change": float(np.abs(learned - uniform).max())}
    report["probe_encoder_states"] = probe(rows["train"], rows["test"], 0)
    report["probe_raw_descriptors_bag_standardised"] = probe(rows["train"], rows["test"], 1)
    return report


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a trained milmol repository (embedded data)")
    parser.add_argument("--output", default=None, help="write the report as JSON here")
    args = parser.parse_args(argv)
    import hf_models  # noqa: F401  registers milmol with the Auto classes
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(args.model)
    trained_on = json.loads((Path(args.model) / "metrics.json").read_text())
    splits = build_milmol_dataset(None, AutoTokenizer.from_pretrained(args.model), size=trained_on.get("data_size", "demo"),
                                  seed=trained_on.get("dataset_seed", 0), split=trained_on.get("split_kind", "scaffold"))
    report = diagnose(model, splits)
    return write_report(report, args.output)


if __name__ == "__main__":
    main()
