"""
Model cards: a family's Jinja template (`model_cards/<family>.md.j2`) rendered with `huggingface_hub.ModelCard`.

The YAML header is a `ModelCardData`: licence, tags (the family's biology tags + `custom_code`), pipeline tag,
datasets, base model, and a model-index with the held-out metrics of the model AND of the family's named
baseline (`EvalResult`s named "<metric> (<model>)" and "<metric> (<baseline>)", the baseline's also carrying
`metric_config: baseline`), so the numbers on the Hub page never mix the two up.

`context` keys (all optional except `model_id` and `config`):
    model_id          the repository name (model-index name, load snippets), e.g. "org/mirlm-demo"
    config            the model config as a dict (`config.to_dict()`)
    metrics           metrics.json: {"split": "test", "model": {...}, "baseline": {...}}, each a metrics dict of
                      the family (top-level metric keys + optional "n" and "per_site_type": {type: {...}})
    plots             {title: relative path inside the repository}
    dataset           Hub id of the dataset the metrics were computed on, or a description (then it is not
                      listed under `datasets:`, only named in the model-index and the text)
    base_model        Hub id of the model this one was fine-tuned from, if any
    training_summary  {name: value} shown as a list (epochs, steps, wall time, hardware, ...)
    parameters        number of parameters
    vocab             [(token, id), ...] in id order
    untrained         True for random weights (`biohf export`): the card says so and reports no results
"""

import re
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

TEMPLATE_DIR = Path(__file__).parent
BASELINE_CONFIG = "baseline"
DEFAULTS = {"metrics": None, "plots": {}, "dataset": None, "base_model": None, "training_summary": None,
            "parameters": None, "vocab": [], "untrained": False, "preset": None}


def is_hub_id(name) -> bool:
    """'owner/name' (or 'name') as the Hub spells repository ids, as opposed to a free-text description."""
    return bool(name) and re.fullmatch(r"[\w.-]+(/[\w.-]+)?", name) is not None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-")


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def eval_results(family, metrics: dict, dataset: str, model_label: str) -> list:
    """EvalResults for the model's and the baseline's held-out metrics (keys of `family.metric_names`)."""
    split = metrics.get("split", "test")
    results = []
    for who, label, config in (("model", model_label, None), ("baseline", family.baseline_name, BASELINE_CONFIG)):
        values = metrics.get(who) or {}
        for key, display in family.metric_names.items():
            if values.get(key) is None:
                continue
            results.append(EvalResult(
                task_type=family.pipeline_tag, task_name=family.task_name,
                dataset_type=dataset if is_hub_id(dataset) else _slug(dataset), dataset_name=dataset, dataset_split=split,
                metric_type=key, metric_value=float(values[key]),
                metric_name=f"{display} ({label})", metric_config=config,
            ))
    return results


def _tables(family, metrics: dict) -> tuple:
    """Rows of the overall table (metric, model, baseline) and of the per-type table."""
    model, baseline = metrics.get("model") or {}, metrics.get("baseline") or {}
    overall = [
        {"metric": display, "model": _fmt(model.get(key)), "baseline": _fmt(baseline.get(key))}
        for key, display in family.metric_names.items() if key in model or key in baseline
    ]
    per_type = []
    baseline_types = baseline.get("per_site_type", {})
    for name, values in (model.get("per_site_type") or {}).items():
        other = baseline_types.get(name, {})
        row = {"name": name, "n": values.get("n", "—")}
        row.update({key: {"model": _fmt(values.get(key)), "baseline": _fmt(other.get(key))} for key in family.metric_names})
        per_type.append(row)
    return overall, per_type


def render_model_card(family, context: dict) -> ModelCard:
    """Render the card of `family` (an `hf_models.families.Family`) with `context` (see the module docstring)."""
    missing = {"model_id", "config"} - context.keys()
    if missing:
        raise KeyError(f"the model card context needs {sorted(missing)}")
    context = {**DEFAULTS, **context}
    model_id = context["model_id"]
    metrics = {} if context["untrained"] else (context["metrics"] or {})
    dataset = context["dataset"]
    results = eval_results(family, metrics, dataset, model_id.rsplit("/", 1)[-1]) if metrics and dataset else None
    card_data = ModelCardData(
        license=family.license,
        library_name="transformers",
        pipeline_tag=family.pipeline_tag,
        tags=[*family.tags, "custom_code"],
        datasets=[dataset] if is_hub_id(dataset) else None,  # a free-text description is not a Hub link
        base_model=context["base_model"],
        model_name=model_id if results else None,
        eval_results=results,
    )
    overall, per_type = _tables(family, metrics)
    template = TEMPLATE_DIR / family.card_template
    return ModelCard.from_template(
        card_data,
        template_path=str(template),
        **{**context, "metrics": metrics, "family": family, "overall_rows": overall, "per_type_rows": per_type,
           "split": metrics.get("split", "test"), "baseline_name": family.baseline_name},
    )
