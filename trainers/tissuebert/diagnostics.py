"""
`biohf diagnose tissuebert --data PATH --output DIR`: the design notes' checks as one report (Markdown + plots + JSON).

    1. label consistency   metadata tissue names vs its tissue_index column vs the label stored in the data files
                           vs the tissue in the file name (`file_042_Liver.npz`)
    2. separability        between/within-tissue variance ratio of the region means (notes: 3.83), a PCA map,
                           subtypes per tissue and how separable they are
    3. leakage             augmentation groups split across train/validation/test by a random split vs the
                           group-aware split used for training
    4. overfit check       can the sample-level model reach 100% training accuracy on 10 samples?
    5. baseline            logistic regression on region means: test accuracy on the group-aware split (and on a
                           leaky random split, for comparison)
"""

import argparse
import json
import re
from pathlib import Path
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from datasets_scripts.tissuebert import leaked_groups, load_samples, random_split, split_table  # noqa: E402
from hf_models.presets import preset_config  # noqa: E402
from modeling.tissuebert.modeling_tissuebert import TissueBERTForSequenceClassification  # noqa: E402
from trainers.tissuebert.evaluation import fit_baseline  # noqa: E402
from trainers.tissuebert.metrics import tissue_metrics  # noqa: E402

FILENAME_TISSUE = re.compile(r"^file_\d+_(.+?)(\.[A-Za-z0-9]+)?$")


def label_consistency(table) -> dict:
    """Mismatches between the label sources the data have; `consistent` is True when none disagree."""
    checks, examples = {}, {}
    names = [table.tissues[i] for i in table.tissue_index]
    if table.metadata_index is not None and (table.metadata_index >= 0).any():
        given = table.metadata_index
        mapping = {}
        for name, index in zip(names, given):
            mapping.setdefault(name, set()).add(int(index))
        clash = {name: sorted(ids) for name, ids in mapping.items() if len(ids) > 1}
        checks["tissue names with more than one tissue_index in the metadata"] = len(clash)
        examples["tissue_index clashes"] = dict(list(clash.items())[:5])
        if table.file_labels is not None and (table.file_labels >= 0).any():
            known = table.file_labels >= 0
            bad = np.flatnonzero(known & (table.file_labels != given))
            checks["samples whose file label differs from the metadata tissue_index"] = int(bad.size)
            examples["file vs metadata"] = [(table.filenames[i], int(given[i]), int(table.file_labels[i])) for i in bad[:5]]
    parsed = [FILENAME_TISSUE.match(Path(f).name) for f in table.filenames]
    named = [(i, m.group(1)) for i, m in enumerate(parsed) if m]
    if named:
        bad = [(table.filenames[i], names[i], tissue) for i, tissue in named if tissue != names[i]]
        checks["samples whose file name names another tissue"] = len(bad)
        examples["file name vs metadata"] = bad[:5]
    return {"checks": checks, "examples": {k: v for k, v in examples.items() if v},
            "consistent": all(v == 0 for v in checks.values())}


def imputed(means: np.ndarray) -> np.ndarray:
    """Region means with a missing value replaced by the region's mean over samples (0.5 if never observed)."""
    fill = np.nan_to_num(np.nanmean(np.where(np.isnan(means).all(0), 0.5, means), axis=0), nan=0.5)
    return np.where(np.isnan(means), fill, means)


def variance_ratio(means: np.ndarray, labels: np.ndarray) -> tuple:
    """(overall between/within-tissue variance ratio, per-region ratios): sum of between SS / sum of within SS."""
    x = imputed(means)
    grand = x.mean(axis=0)
    between, within = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    for label in np.unique(labels):
        rows = x[labels == label]
        between += len(rows) * (rows.mean(axis=0) - grand) ** 2
        within += ((rows - rows.mean(axis=0)) ** 2).sum(axis=0)
    return float(between.sum() / max(within.sum(), 1e-12)), between / np.maximum(within, 1e-12)


def subtype_separability(table) -> dict:
    """Per tissue with >= 2 subtypes: subtypes, samples, leave-one-out nearest-centroid accuracy among its subtypes."""
    if not table.subtypes:
        return {}
    x = imputed(table.means)
    out = {}
    for t, tissue in enumerate(table.tissues):
        rows = np.flatnonzero(table.tissue_index == t)
        subtypes = np.array([table.subtypes[i] for i in rows])
        kinds = sorted(set(subtypes))
        if len(kinds) < 2:
            continue
        hits, scored = 0, 0
        for k, i in enumerate(rows):
            others = np.arange(len(rows)) != k
            if not (others & (subtypes == subtypes[k])).any():
                continue  # the only sample of its subtype: nothing to compare it with
            centroids = {s: x[rows[others & (subtypes == s)]].mean(0) for s in kinds if (others & (subtypes == s)).any()}
            guess = min(centroids, key=lambda s: ((x[i] - centroids[s]) ** 2).sum())
            hits, scored = hits + (guess == subtypes[k]), scored + 1
        out[tissue] = {"subtypes": len(kinds), "samples": len(rows),
                       "separability": round(hits / scored, 3) if scored else None}
    return out


def overfit_check(table, steps: int = 300, seed: int = 0) -> dict:
    """Train the sample-level model (demo size, no dropout) on 10 samples; report the step it first fits them all."""
    torch.manual_seed(seed)
    rows = np.random.default_rng(seed).choice(table.num_samples, size=min(10, table.num_samples), replace=False)
    config = preset_config("tissuebert", "demo", model_kind="sample", num_regions=table.num_regions, mlp_dropout=0.0,
                           region_dropout=0.0, label_smoothing=0.0, id2label=dict(enumerate(table.tissues)))
    model = TissueBERTForSequenceClassification(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    means = torch.as_tensor(table.means[rows])
    labels = torch.as_tensor(table.tissue_index[rows])
    history, solved = [], None
    for step in range(1, steps + 1):
        out = model(region_means=means, labels=labels)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        accuracy = float((out.logits.argmax(-1) == labels).float().mean())
        history.append((step, float(out.loss.detach()), accuracy))
        if accuracy == 1.0 and solved is None:
            solved = step
        if solved and step >= max(solved + 20, 50):  # a few more steps let BatchNorm statistics settle
            break
    model.eval()
    with torch.no_grad():
        final = float((model(region_means=means).logits.argmax(-1) == labels).float().mean())
    return {"samples": len(rows), "first_step_at_100pct": solved, "final_train_accuracy_eval_mode": final,
            "steps_run": len(history), "history": history}


def baseline_check(table, seed: int = 0) -> dict:
    out = {}
    for name, splits in (("group-aware split", split_table(table, seed)), ("random split (leaky)", random_split(table.num_samples, seed=seed))):
        test = splits["test"]
        probabilities = fit_baseline(table, splits, seed).predict_proba(table.means[test])
        out[name] = tissue_metrics(table.tissue_index[test], probabilities, len(table.tissues))
    return out


def _plots(table, ratios: np.ndarray, overfit: dict, folder: Path) -> dict:
    paths = {}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].hist(np.log10(np.maximum(ratios, 1e-4)), bins=60, color="tab:blue")
    axes[0].set(xlabel="log10 between/within-tissue variance ratio", ylabel="regions", title="per-region tissue signal")
    x = imputed(table.means)
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    pcs = x @ vt[:2].T
    cmap = plt.get_cmap("tab20", len(table.tissues))
    for t, tissue in enumerate(table.tissues):
        rows = table.tissue_index == t
        axes[1].scatter(pcs[rows, 0], pcs[rows, 1], s=8, color=cmap(t), label=tissue)
    axes[1].set(xlabel="PC1", ylabel="PC2", title="samples (region means), PCA")
    axes[1].legend(fontsize=5, ncol=2, markerscale=1.5, loc="best")
    fig.tight_layout()
    paths["separability"] = folder / "separability.png"
    fig.savefig(paths["separability"], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5, 3.3))
    steps, losses, accuracy = zip(*overfit["history"])
    ax.plot(steps, losses, label="training loss")
    ax2 = ax.twinx()
    ax2.plot(steps, accuracy, color="tab:green", label="training accuracy")
    ax.set(xlabel="step", ylabel="loss", title="overfit 10 samples")
    ax2.set(ylabel="accuracy", ylim=(0, 1.05))
    fig.tight_layout()
    paths["overfit"] = folder / "overfit_10_samples.png"
    fig.savefig(paths["overfit"], dpi=120)
    plt.close(fig)
    return paths


def run_diagnostics(table, folder, seed: int = 0, overfit_steps: int = 300) -> dict:
    """All checks on `table`; writes report.md, diagnostics.json and plots into `folder`. Returns the results."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ratio, per_region = variance_ratio(table.means, table.tissue_index)
    groups = {}
    for g in table.groups:
        groups[g] = groups.get(g, 0) + 1
    results = {
        "data": table.source, "samples": table.num_samples, "regions": table.num_regions, "tissues": len(table.tissues),
        "missing_region_fraction": float(np.isnan(table.means).mean()),
        "labels": label_consistency(table),
        "variance_ratio": ratio,
        "regions_with_ratio_above_1": int((per_region > 1).sum()),
        "subtypes": subtype_separability(table),
        "leakage": {"augmentation_groups": sum(1 for n in groups.values() if n > 1),
                    "augmented_samples": sum(n - 1 for n in groups.values() if n > 1),
                    "groups_across_splits_random_split": len(leaked_groups(table.groups, random_split(table.num_samples, seed=seed))),
                    "groups_across_splits_group_split": len(leaked_groups(table.groups, split_table(table, seed)))},
        "overfit": overfit_check(table, overfit_steps, seed),
        "baseline": baseline_check(table, seed),
    }
    plots = _plots(table, per_region, results["overfit"], folder)
    (folder / "diagnostics.json").write_text(json.dumps({**results, "overfit": {k: v for k, v in results["overfit"].items() if k != "history"}}, indent=2))
    (folder / "report.md").write_text(render_report(results, plots))
    return results


def render_report(r: dict, plots: dict) -> str:
    ok = lambda good: "OK" if good else "PROBLEM"  # noqa: E731
    lines = ["# TissueBERT data diagnostics", "", f"Data: {r['data']}: {r['samples']} samples, {r['regions']} regions, "
             f"{r['tissues']} tissues; {r['missing_region_fraction']:.1%} of (sample, region) pairs have no call.", "",
             f"## 1. Label consistency: {ok(r['labels']['consistent'])}", ""]
    lines += [f"- {name}: {count}" for name, count in r["labels"]["checks"].items()] or ["- only one label source: nothing to compare"]
    for name, values in r["labels"]["examples"].items():
        lines.append(f"- e.g. {name}: {values}")
    lines += ["", "## 2. Separability", "",
              f"Between/within-tissue variance ratio of the region means: **{r['variance_ratio']:.2f}** (the notes found 3.83 "
              f"on their data; > 1 means tissues differ more than samples of a tissue). {r['regions_with_ratio_above_1']} of "
              f"{r['regions']} regions have a ratio above 1: most regions carry no tissue signal on their own.", ""]
    if r["subtypes"]:
        lines += ["Tissues made of subtypes (leave-one-out nearest-centroid accuracy among the subtypes, over samples "
                  "whose subtype has another sample; chance is about 1 / subtypes):", "",
                  "| tissue | subtypes | samples | separability |", "|---|---|---|---|"]
        lines += [f"| {t} | {v['subtypes']} | {v['samples']} | "
                  f"{'n/a (one sample per subtype)' if v['separability'] is None else format(v['separability'], '.2f')} |"
                  for t, v in r["subtypes"].items()]
        lines.append("")
    lines += [f"![separability]({plots['separability'].name})", "",
              f"## 3. Augmentation leakage: {ok(r['leakage']['groups_across_splits_group_split'] == 0)}", "",
              f"{r['leakage']['augmentation_groups']} samples have {r['leakage']['augmented_samples']} augmented copies. "
              f"A random split puts {r['leakage']['groups_across_splits_random_split']} of these groups in more than one "
              f"split (the notes found 14); the group-aware split used for training: "
              f"{r['leakage']['groups_across_splits_group_split']}.", "",
              f"## 4. Overfit 10 samples: {ok(r['overfit']['first_step_at_100pct'] is not None)}", "",
              f"The sample-level model reached 100% training accuracy on {r['overfit']['samples']} samples at step "
              f"{r['overfit']['first_step_at_100pct']} (of {r['overfit']['steps_run']} run; eval-mode accuracy "
              f"{r['overfit']['final_train_accuracy_eval_mode']:.2f}): the model and its gradients work.", "",
              f"![overfit]({plots['overfit'].name})", "",
              "## 5. Logistic-regression baseline on region means", "",
              "| split | test samples | accuracy | macro-F1 | top-3 accuracy |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {m['top3_accuracy']:.3f} |" for name, m in r["baseline"].items()]
    lines += ["", "A high baseline accuracy proves the data learnable from per-sample region means: a model that does "
              "much worse has a setup problem (in the notes: region-level examples with sample-level labels).", ""]
    return "\n".join(lines)


def main(data: Optional[str], output: Optional[str], argv=()) -> Path:
    parser = argparse.ArgumentParser(prog="biohf diagnose tissuebert")
    parser.add_argument("--metadata")
    parser.add_argument("--regions_bed")
    parser.add_argument("--data_size", default="demo")
    parser.add_argument("--dataset_seed", type=int, default=0)
    parser.add_argument("--atlas_regions", type=int, default=None, help="embedded atlas: regions instead of the size's")
    parser.add_argument("--overfit_steps", type=int, default=300)
    args = parser.parse_args(list(argv))
    table = load_samples(data, size=args.data_size, seed=args.dataset_seed, metadata=args.metadata, regions_bed=args.regions_bed,
                         num_regions=args.atlas_regions)
    folder = Path(output or "outputs/tissuebert-diagnostics")
    results = run_diagnostics(table, folder, args.dataset_seed, args.overfit_steps)
    print(f"diagnostics of {table.source}: report {folder / 'report.md'}")
    print(f"  labels consistent: {results['labels']['consistent']}; variance ratio {results['variance_ratio']:.2f}; "
          f"leaking groups (random / group split): {results['leakage']['groups_across_splits_random_split']} / "
          f"{results['leakage']['groups_across_splits_group_split']}; overfit-10 solved at step "
          f"{results['overfit']['first_step_at_100pct']}; baseline test accuracy "
          f"{results['baseline']['group-aware split']['accuracy']:.3f}")
    return folder / "report.md"
