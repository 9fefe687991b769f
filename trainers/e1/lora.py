"""LoRA through PEFT for E1: wrap, save adapters + heads, merge into a plain E1ForContrastiveBinding for export."""

from pathlib import Path

from trainers.e1.trainer import save_heads, unwrap

DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "w1", "w2", "w3")


def apply_lora(model, r: int, alpha: float, dropout: float, target_modules=DEFAULT_TARGETS):
    """A PEFT LoRA model over the attention and SwiGLU projections (the prototypes stay frozen buffers)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules), bias="none")
    return get_peft_model(model, config)


def is_peft(model) -> bool:
    return hasattr(model, "peft_config")


def save_adapters_and_heads(model, folder) -> Path:
    """`<folder>/adapter` (PEFT adapter_config.json + adapter_model.safetensors) and `<folder>/e1_heads.safetensors`."""
    folder = Path(folder)
    if is_peft(model):
        model.save_pretrained(folder / "adapter")
    else:
        unwrap(model).save_pretrained(folder / "model")
    save_heads(model, folder)
    return folder


def merged(model):
    """The trained E1ForContrastiveBinding with LoRA weights merged in (a copy of the plain model otherwise)."""
    if is_peft(model):
        return model.merge_and_unload()
    return unwrap(model)
