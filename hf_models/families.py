"""
The family table: everything the Hub side needs to know about a model family, in one place.

Registration (`hf_models/__init__.py`), export (`export.py`), the model card (`model_cards/render.py`) and the
tests read this table; adding a family means adding one `Family` entry (and its `modeling/<family>/` folder,
presets and card template), not touching those modules.
"""

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.modeling_mirlm import MirLMForTargetPrediction, MirLMModel
from modeling.mirlm.pipeline_mirlm import MirLMPipeline
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer


@dataclass(frozen=True)
class Family:
    """
    name: the family (also its `model_type` and its `modeling/<name>/` folder).
    config_class / tokenizer_class: the family's config and tokenizer (registered with AutoConfig / AutoTokenizer).
    model_classes: Auto class name (as in `transformers`) -> model class, e.g. {"AutoModel": MirLMModel, ...}.
    head_class: the class that is trained, exported and loaded by the pipeline.
    pipeline_task / pipeline_class / pipeline_pt_model: the custom pipeline and the Auto class it loads with.
    card_template: Jinja template under `model_cards/`.
    pipeline_tag / tags / license: model-card metadata (the Hub's task filter, search tags, licence).
    task_name: human name of the task (model-index `task.name`).
    baseline_name: the named baseline the card and model-index report next to the model.
    tokenizer_args: config attributes the tokenizer is built with (`make_tokenizer`).
    metric_names: metrics.json key -> display name, in card order; keys not listed are not reported.
    """

    name: str
    config_class: type
    tokenizer_class: type
    model_classes: dict
    head_class: type
    pipeline_task: str
    pipeline_class: type
    pipeline_pt_model: str
    card_template: str
    pipeline_tag: str
    task_name: str
    metric_names: dict
    tags: tuple = ()
    license: str = "apache-2.0"
    baseline_name: Optional[str] = None
    tokenizer_args: tuple = ()

    @property
    def folder(self) -> Path:
        """`modeling/<family>/`, the folder that ships as remote code."""
        return Path(sys.modules[self.config_class.__module__].__file__).parent


FAMILIES = {
    "mirlm": Family(
        name="mirlm",
        config_class=MirLMConfig,
        tokenizer_class=MirLMTokenizer,
        model_classes={
            "AutoModel": MirLMModel,
            "AutoModelForQuestionAnswering": MirLMForTargetPrediction,
            "AutoModelForSequenceClassification": MirLMForTargetPrediction,
        },
        head_class=MirLMForTargetPrediction,
        pipeline_task="mirna-target-scan",
        pipeline_class=MirLMPipeline,
        pipeline_pt_model="AutoModelForQuestionAnswering",
        card_template="mirlm.md.j2",
        pipeline_tag="text-classification",
        task_name="miRNA target prediction",
        metric_names={
            "auroc": "AUROC",
            "average_precision": "Average precision",
            "accuracy": "Accuracy",
            "span_exact_match": "Site span exact match",
            "span_overlap": "Site span overlap (Jaccard)",
            "pointing_accuracy": "Pointing accuracy (argmax pos_weights in site)",
        },
        tags=("biology", "genomics", "rna", "microrna", "mirna-target-prediction", "multiple-instance-learning",
              "longformer", "biohf"),
        baseline_name="seed-match baseline",
        tokenizer_args=("mrna_max_len", "mirna_max_len"),
    ),
}


def make_tokenizer(family, config):
    """A fresh tokenizer matching `config` (for models built from a preset rather than loaded)."""
    family = get_family(family) if isinstance(family, str) else family
    return family.tokenizer_class(**{name: getattr(config, name) for name in family.tokenizer_args})


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}; known: {', '.join(sorted(FAMILIES))}") from None


def family_of(model_or_config) -> Family:
    """The family of a model or config instance, from its `model_type`."""
    config = getattr(model_or_config, "config", model_or_config)
    return get_family(config.model_type)


def _reference(cls: type) -> str:
    """'module.Class' as remote code names it (the file name inside the repository, without the package path)."""
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def auto_map(family) -> dict:
    """The full `auto_map` of a family: AutoConfig, every Auto model class, AutoTokenizer as [slow, fast=None]."""
    family = get_family(family) if isinstance(family, str) else family
    mapping = {"AutoConfig": _reference(family.config_class)}
    mapping.update({auto_name: _reference(cls) for auto_name, cls in family.model_classes.items()})
    mapping["AutoTokenizer"] = [_reference(family.tokenizer_class), None]
    return mapping


def custom_pipelines(family) -> dict:
    """The `custom_pipelines` entry of config.json, as `Pipeline.save_pretrained` writes it."""
    family = get_family(family) if isinstance(family, str) else family
    return {family.pipeline_task: {"impl": _reference(family.pipeline_class), "pt": [family.pipeline_pt_model]}}
