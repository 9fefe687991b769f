"""
Named model sizes per family: config overrides on top of the config class defaults.

    tiny  tests only: builds and runs in milliseconds
    demo  trains in a few minutes on 2 CPU cores (`make demo`)
    base  the seed design's size
"""

import torch

from .families import get_family

PRESETS = {
    "mirlm": {
        "tiny": dict(hidden_size=32, num_attention_heads=2, num_hidden_layers=1, intermediate_size=64,
                     mirna_num_layers=1, kmer_conv_size=3, pairing_window=3),
        "demo": dict(hidden_size=64, num_attention_heads=4, num_hidden_layers=2, intermediate_size=256,
                     mirna_num_layers=1, kmer_conv_size=7, pairing_window=7),
        # The seed: embed 1024, 8 heads, 4 layers, feed-forward 4096, sliding window 2w = 40.
        "base": dict(hidden_size=1024, num_attention_heads=8, num_hidden_layers=4, intermediate_size=4096,
                     attention_window=40),
    },
}

_COST_NOTES = {
    "tiny": "tests only; random weights are fine, nothing to learn at this size",
    "demo": "3 epochs of the demo data: 8 min on 2 CPU cores (measured, make demo)",
    "base": "the seed's size: a GPU run (not measured here; hours on a CPU)",
}


def preset_config(family: str, preset: str, **overrides):
    """The config of `family` at `preset`, with `overrides` applied last."""
    presets = PRESETS.get(family, {})
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r} for {family}; known: {', '.join(presets) or 'none'}")
    return get_family(family).config_class(**{**presets[preset], **overrides})


def preset_cost(family: str, preset: str) -> dict:
    """{"parameters": count of the trained head model, "fp32_mb": its weight size, "note": what the size costs/is for}."""
    config = preset_config(family, preset)
    with torch.device("meta"):  # no memory, no init cost: only shapes
        model = get_family(family).head_class(config)
    parameters = sum(p.numel() for p in model.parameters())
    return {
        "parameters": parameters,
        "fp32_mb": round(parameters * 4 / 2**20, 2),
        "note": _COST_NOTES.get(preset, preset),
    }
