"""mutation2text training: model building around a real LLM, embedding cache, the two stage trainers, baselines,
metrics, evaluation, plots, predict."""

from .baseline import NearestNeighbourRetrieval
from .build import adapter_state, build_model, freeze_for_stage, load_language_model, smollm2_gguf
from .embeddings import cache_embeddings
from .metrics import extract_facts, fact_scores, mutation2text_metrics, text_scores
from .trainer import Mutation2TextSFTTrainer, Mutation2TextStage1Trainer, sft_config

__all__ = [
    "Mutation2TextSFTTrainer", "Mutation2TextStage1Trainer", "NearestNeighbourRetrieval", "adapter_state",
    "build_model", "cache_embeddings", "extract_facts", "fact_scores", "freeze_for_stage", "load_language_model",
    "mutation2text_metrics", "sft_config", "smollm2_gguf", "text_scores",
]
