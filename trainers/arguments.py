"""Argument parsing shared by the families' training scripts: preset YAML < --config YAML < command line."""

import argparse
import json
import os
from pathlib import Path

import yaml
from transformers import HfArgumentParser


def underscore_flags(argv) -> list:
    """`--output-dir` -> `--output_dir` (values and single-dash flags untouched): the dash spelling is an alias."""
    def spelled(arg):
        if not arg.startswith("--") or arg == "--":
            return arg
        name, eq, value = arg[2:].partition("=")
        return "--" + name.replace("-", "_") + eq + value
    return [spelled(arg) for arg in argv]


def preset_defaults(family: str, preset: str) -> dict:
    """The training arguments of `trainers/configs/<family>_<preset>.yaml` (`hf_models.presets`); errors exit cleanly."""
    from hf_models.presets import training_arguments

    try:
        return training_arguments(family, preset)
    except ValueError as error:
        raise SystemExit(str(error))


def read_yaml(path) -> dict:
    try:
        values = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise SystemExit(f"config file not found: {path}")
    if not isinstance(values, dict):
        raise SystemExit(f"{path}: expected a mapping of argument names to values")
    return values


def parse_training_arguments(family: str, dataclass_types: tuple, argv=None, default_preset: str = "demo"):
    """
    Parse `dataclass_types` (the family's arguments + TrainingArguments) from the command line, with defaults
    from the training arguments of `trainers/configs/<family>_<preset>.yaml` (`hf_models.presets`) and then from
    `--config FILE.yaml|.json`. The first dataclass must have a `preset` field. Unknown keys in a YAML file are an error naming the file.
    """
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--preset", default=default_preset)
    pre.add_argument("--config", default=None)
    known, rest = pre.parse_known_args(argv)
    defaults = preset_defaults(family, known.preset)
    if known.config:
        defaults.update(read_yaml(known.config))
        if "model" in defaults:
            raise SystemExit(f"{known.config}: `model:` belongs in a preset file (trainers/configs/); change the model "
                             "with --config_overrides 'key=value,...'")
        defaults.pop("cost", None)
    defaults["preset"] = known.preset
    defaults.setdefault("output_dir", f"outputs/{family}-{known.preset}")

    parser = HfArgumentParser(dataclass_types)
    fields = {action.dest for action in parser._actions}
    unknown = sorted(set(defaults) - fields)
    if unknown:
        source = known.config or f"trainers/configs/{family}_{known.preset}.yaml"
        raise SystemExit(f"unknown argument(s) in {source}: {', '.join(unknown)}")
    parser.set_defaults(**defaults)
    parser.add_argument("--config", help="YAML/JSON file of argument values; the command line wins over it")
    parsed = parser.parse_args_into_dataclasses(args=rest, look_for_args_file=False)
    parsed = tuple(p for p in parsed if not isinstance(p, argparse.Namespace))
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > 1 and any(getattr(p, "world_size", launched) == 1 for p in parsed):
        # No GPU and no --use_cpu: accelerate records one process per rank, and each would train alone on all the data.
        raise SystemExit(f"launched as {launched} processes but the Trainer sees one: without a GPU add --use_cpu true "
                         "(DDP over gloo; with --deepspeed, DeepSpeed over gloo)")
    return parsed


def parse_config_overrides(text, config_class) -> dict:
    """
    `--config_overrides 'a=1,b=0.5,c=true'` -> {'a': 1, 'b': 0.5, 'c': True} (values parsed as JSON where they
    can be, else kept as strings); a field `config_class` does not have is an error naming it.
    """
    overrides = {}
    for item in filter(None, (text or "").split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"config_overrides: expected key=value, got {item!r}")
        try:
            overrides[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key.strip()] = value
    unknown = sorted(set(overrides) - set(config_class().to_dict()))
    if unknown:
        raise SystemExit(f"config_overrides: unknown {config_class.__name__} field(s): {', '.join(unknown)}")
    return overrides


def family_config(family: str, preset: str, overrides_text=None, **extra):
    """The family's model config at `preset` with `--config_overrides` and then `extra` applied; errors exit cleanly."""
    from hf_models.families import get_family
    from hf_models.presets import preset_config

    overrides = parse_config_overrides(overrides_text, get_family(family).config_class)
    try:
        return preset_config(family, preset, **{**overrides, **extra})
    except ValueError as error:
        raise SystemExit(str(error))


def repository_folder(training_args) -> Path:
    """
    `--output_dir` becomes the Hub repository; the Trainer's state goes to its `checkpoints/` folder (kept for
    resuming, never pushed), and `training_args.output_dir` is pointed there. Refuses, before any training, a
    folder that holds something other than a repository of ours.
    """
    from hf_models.export import TRAINING_STATE

    output_dir = Path(training_args.output_dir)
    foreign = [p.name for p in output_dir.iterdir() if p.name != TRAINING_STATE] if output_dir.is_dir() else []
    if foreign and not (output_dir / "config.json").is_file():
        raise SystemExit(f"{output_dir} already holds other files ({', '.join(sorted(foreign)[:5])}); choose an empty or new --output_dir")
    training_args.output_dir = str(output_dir / TRAINING_STATE)
    return output_dir
