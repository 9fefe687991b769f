"""
Named presets per family, one file each: `trainers/configs/<family>_<preset>.yaml`. The one source of truth for
`biohf list`, `biohf train --preset`, `biohf export --preset`, the scripts and the benchmarks.

A preset file holds

    cost: what the preset costs, as measured (or that it was not)
    model: config overrides on top of the config class defaults; `from_preset: NAME` among them starts
           from that preset's model instead (e.g. the same model as another kind)
    <anything else>: training arguments (the family's arguments + TrainingArguments), read by the run script

The usual names: `tiny` (tests only: builds and runs in milliseconds), `demo` (trains in minutes on 2 CPU cores,
`make demo`), `base` (the seed design's size, a GPU run).
"""

from pathlib import Path

import torch
import yaml

from .families import FAMILIES, get_family

PRESET_DIR = Path(__file__).resolve().parent.parent / "trainers" / "configs"
RESERVED = ("cost", "model")  # the keys of a preset file that are not training arguments


def preset_path(family: str, preset: str) -> Path:
    """The file of `family`'s `preset`; a ValueError naming the known presets if there is none."""
    path = PRESET_DIR / f"{family}_{preset}.yaml"
    if not path.is_file():
        known = preset_names(family)
        raise ValueError(f"unknown preset {preset!r} for {family}; known presets: {', '.join(known) or 'none'} (files in {PRESET_DIR})")
    return path


def preset_names(family: str) -> list:
    """The presets of `family`, sorted."""
    return sorted(p.stem.split("_", 1)[1] for p in PRESET_DIR.glob(f"{family}_*.yaml"))


def read_preset(family: str, preset: str) -> dict:
    """The whole preset file as a mapping, checked: a `cost` string and a `model` mapping."""
    path = preset_path(family, preset)
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path}: expected a mapping of argument names to values")
    if not isinstance(values.get("cost"), str):
        raise ValueError(f"{path}: expected `cost:` with a sentence on what the preset costs")
    if not isinstance(values.get("model"), dict):
        raise ValueError(f"{path}: expected `model:` with a mapping of config overrides")
    return values


def training_arguments(family: str, preset: str) -> dict:
    """The training arguments of a preset: its file without `cost` and `model`."""
    return {key: value for key, value in read_preset(family, preset).items() if key not in RESERVED}


def model_overrides(family: str, preset: str, _seen=()) -> dict:
    """The config overrides of a preset, on top of its `from_preset`'s if it names one."""
    model = dict(read_preset(family, preset)["model"])
    base = model.pop("from_preset", None)
    if base is None:
        return model
    if base in _seen + (preset,):
        raise ValueError(f"{family} presets start from each other's model in a cycle: {' -> '.join(_seen + (preset, base))}")
    return {**model_overrides(family, base, _seen + (preset,)), **model}


# {family: {preset: config overrides}}, read once from the preset files.
PRESETS = {family: {preset: model_overrides(family, preset) for preset in preset_names(family)} for family in FAMILIES}


def preset_config(family: str, preset: str, **overrides):
    """The config of `family` at `preset`, with `overrides` applied last."""
    return get_family(family).config_class(**{**model_overrides(family, preset), **overrides})


def preset_cost(family: str, preset: str) -> dict:
    """{"parameters": count of the trained head model, "fp32_mb": its weight size, "note": the preset's `cost`}."""
    config = preset_config(family, preset)
    with torch.device("meta"):  # no memory, no init cost: only shapes
        model = get_family(family).head_class(config)
    parameters = sum(p.numel() for p in model.parameters())
    return {"parameters": parameters, "fp32_mb": round(parameters * 4 / 2**20, 2), "note": read_preset(family, preset)["cost"]}
