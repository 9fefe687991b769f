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

from modeling.e1.configuration_e1 import E1Config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding, E1ForMaskedLM, E1Model
from modeling.e1.pipeline_e1 import E1BindingPipeline
from modeling.e1.tokenization_e1 import E1Tokenizer
from modeling.milmol.configuration_milmol import TASK_NAMES as MILMOL_TASKS
from modeling.milmol.configuration_milmol import MILMolConfig
from modeling.milmol.modeling_milmol import MILMolForPropertyPrediction, MILMolModel
from modeling.milmol.pipeline_milmol import MILMolPipeline
from modeling.milmol.tokenization_milmol import MILMolTokenizer
from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.modeling_mirlm import MirLMForTargetPrediction, MirLMModel
from modeling.mirlm.pipeline_mirlm import MirLMPipeline
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer
from modeling.mutation2text.configuration_mutation2text import Mutation2TextConfig
from modeling.mutation2text.modeling_mutation2text import Mutation2TextForConditionalGeneration, Mutation2TextModel
from modeling.mutation2text.pipeline_mutation2text import Mutation2TextPipeline
from modeling.mutation2text.processing_mutation2text import Mutation2TextProcessor
from modeling.tissuebert.configuration_tissuebert import TissueBERTConfig
from modeling.tissuebert.modeling_tissuebert import TissueBERTForSequenceClassification
from modeling.tissuebert.pipeline_tissuebert import TissueBERTPipeline
from modeling.tissuebert.tokenization_tissuebert import TissueBERTTokenizer


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


# One record per family: a table, so its entries share their shape (`duplicates` lists them as a shape pair).
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
    "e1": Family(
        name="e1",
        config_class=E1Config,
        tokenizer_class=E1Tokenizer,
        model_classes={
            "AutoModel": E1Model,
            "AutoModelForMaskedLM": E1ForMaskedLM,
            "AutoModelForTokenClassification": E1ForContrastiveBinding,
        },
        head_class=E1ForContrastiveBinding,
        pipeline_task="metal-binding-residues",
        pipeline_class=E1BindingPipeline,
        pipeline_pt_model="AutoModelForTokenClassification",
        card_template="e1.md.j2",
        pipeline_tag="token-classification",
        task_name="per-residue metal-ion binding",
        metric_names={
            "auprc": "AUPRC (mean over ions)",
            "auprc_zn": "AUPRC Zn",
            "auprc_ca": "AUPRC Ca",
            "auprc_mg": "AUPRC Mg",
            "hra": "HRA (PR area at recall >= 0.7, mean)",
            "hra_normalized": "HRA / 0.3 (mean)",
            "f1": "F1 at the out-of-fold threshold (mean)",
            "mcc": "MCC at the out-of-fold threshold (mean)",
        },
        tags=("biology", "proteins", "protein-language-model", "metal-binding", "binding-site-prediction",
              "contrastive-learning", "msa", "biohf"),
        baseline_name="motif-regex baseline",
    ),
    "tissuebert": Family(
        name="tissuebert",
        config_class=TissueBERTConfig,
        tokenizer_class=TissueBERTTokenizer,
        # One repository class for the three models: config.model_kind picks sample / region_attention / region.
        model_classes={
            "AutoModel": TissueBERTForSequenceClassification,
            "AutoModelForSequenceClassification": TissueBERTForSequenceClassification,
        },
        head_class=TissueBERTForSequenceClassification,
        pipeline_task="tissue-of-origin",
        pipeline_class=TissueBERTPipeline,
        pipeline_pt_model="AutoModelForSequenceClassification",
        card_template="tissuebert.md.j2",
        pipeline_tag="tabular-classification",
        task_name="tissue of origin from DNA methylation",
        metric_names={
            "accuracy": "Accuracy",
            "macro_f1": "Macro-F1",
            "top3_accuracy": "Top-3 accuracy",
            "accuracy_missing30": "Accuracy, 30% of regions missing",
            "macro_f1_missing30": "Macro-F1, 30% of regions missing",
            "mae": "Mean absolute error of the proportions",  # the mixture model (baseline: NNLS, in the card)
            "minor_recall": "Minor tissues found",
        },
        tags=("biology", "genomics", "dna-methylation", "epigenomics", "tissue-of-origin", "wgbs", "biohf"),
        baseline_name="logistic regression on region means",
        tokenizer_args=("region_length", "num_regions"),
    ),
    "milmol": Family(
        name="milmol",
        config_class=MILMolConfig,
        tokenizer_class=MILMolTokenizer,
        model_classes={
            "AutoModel": MILMolModel,
            "AutoModelForSequenceClassification": MILMolForPropertyPrediction,
        },
        head_class=MILMolForPropertyPrediction,
        pipeline_task="molecule-optical-properties",
        pipeline_class=MILMolPipeline,
        pipeline_pt_model="AutoModelForSequenceClassification",
        card_template="milmol.md.j2",
        pipeline_tag="tabular-classification",
        task_name="molecular optical-property prediction (multi-task)",
        metric_names={
            "macro_ap": "Macro average precision",
            "min_ap": "Worst-task average precision",
            "macro_roc_auc": "Macro ROC AUC",
            "min_roc_auc": "Worst-task ROC AUC",
            **{f"ap_{task}": f"AP {task}" for task in MILMOL_TASKS},
            **{f"roc_auc_{task}": f"ROC AUC {task}" for task in MILMOL_TASKS},
            "top_conformer_hit_rate": "Top-attended conformer is the responsible one",
            "top_conformer_chance": "Chance level of the top-conformer hit (responsible share of those bags)",
        },
        tags=("biology", "chemistry", "cheminformatics", "molecular-property-prediction", "conformers",
              "multiple-instance-learning", "attention-pooling", "rdkit", "biohf"),
        baseline_name="2D logistic regression",
        tokenizer_args=("fingerprint_bits", "fingerprint_radius", "num_conformers"),
    ),
    "mutation2text": Family(
        name="mutation2text",
        config_class=Mutation2TextConfig,
        tokenizer_class=Mutation2TextProcessor,  # a tokenizer subclass: loads with AutoTokenizer and AutoProcessor
        model_classes={
            "AutoModel": Mutation2TextModel,
            "AutoModelForCausalLM": Mutation2TextForConditionalGeneration,
        },
        head_class=Mutation2TextForConditionalGeneration,
        pipeline_task="mutation-to-text",
        pipeline_class=Mutation2TextPipeline,
        pipeline_pt_model="AutoModelForCausalLM",
        card_template="mutation2text.md.j2",
        pipeline_tag="text-generation",
        task_name="protein mutation description",
        metric_names={
            "bleu_2": "BLEU-2",
            "bleu_4": "BLEU-4",
            "meteor": "METEOR",
            "rouge_1": "ROUGE-1 F1",
            "rouge_2": "ROUGE-2 F1",
            "rouge_l": "ROUGE-L F1",
            "fact_accuracy": "Mutation-fact accuracy (all four facts)",
            "effect_accuracy": "Effect class named correctly",
            "wild_type_accuracy": "Wild-type residue named",
            "position_accuracy": "Position named",
            "mutant_accuracy": "Mutant residue named",
        },
        tags=("biology", "proteins", "protein-mutation", "variant-effect", "multimodal", "llava", "esm", "biohf"),
        baseline_name="text-only LLM (no protein input)",
        tokenizer_args=("num_media_tokens", "protein_max_length", "delta_token"),
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
