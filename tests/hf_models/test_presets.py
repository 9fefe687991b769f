"""
The presets: one file per family and preset (`trainers/configs/<family>_<preset>.yaml`), read by `hf_models.presets`.
Every listed preset builds, every preset file is listed, and `biohf train --preset X` accepts each one (argument
parsing and the model config, no training).
"""

import dataclasses
import importlib

import pytest
from transformers import TrainingArguments

from hf_models import FAMILIES, PRESETS, preset_config, preset_cost
from hf_models.presets import PRESET_DIR, model_overrides, preset_names, read_preset, training_arguments
from trainers.arguments import family_config, parse_config_overrides, parse_training_arguments
from trainers.cli import FAMILY_SCRIPTS, main as biohf

PRESET_FILES = sorted(tuple(path.stem.split("_", 1)) for path in PRESET_DIR.glob("*.yaml"))


def test_every_preset_file_belongs_to_a_family_and_is_in_presets():
    assert PRESET_FILES, PRESET_DIR
    assert {family for family, _ in PRESET_FILES} == set(FAMILIES) == set(PRESETS) == set(FAMILY_SCRIPTS)
    assert sorted((family, preset) for family in PRESETS for preset in PRESETS[family]) == PRESET_FILES


@pytest.mark.parametrize("family, preset", PRESET_FILES)
def test_every_preset_builds_its_config_and_counts_its_cost(family, preset):
    config = preset_config(family, preset)
    assert isinstance(config, FAMILIES[family].config_class)
    for key, value in PRESETS[family][preset].items():
        assert getattr(config, key) == value or isinstance(value, dict), (family, preset, key)  # sub-configs become objects
    cost = preset_cost(family, preset)
    assert cost["parameters"] > 0 and cost["note"] == read_preset(family, preset)["cost"]


def test_biohf_list_shows_exactly_the_preset_files(capsys):
    biohf(["list"])
    rows = capsys.readouterr().out.splitlines()[1:]
    assert sorted(tuple(row.split()[:2]) for row in rows) == PRESET_FILES


def _arguments_class(family):
    """The family's argument dataclass: the one in its training script with a `preset` field."""
    script = importlib.import_module(FAMILY_SCRIPTS[family])
    found = {value for value in vars(script).values() if dataclasses.is_dataclass(value) and isinstance(value, type)
             and "preset" in {f.name for f in dataclasses.fields(value)}}
    assert len(found) == 1, (family, found)
    return found.pop()


@pytest.mark.parametrize("family, preset", PRESET_FILES)
def test_biohf_train_accepts_every_preset(family, preset, tmp_path):
    arguments_class = _arguments_class(family)
    argv = ["--preset", preset, "--output_dir", str(tmp_path)]
    if training_arguments(family, preset).get("bf16"):  # the GPU presets: TrainingArguments refuses bf16 on a CPU
        argv += ["--use_cpu", "true"]                   # box unless told to use it
    args, training = parse_training_arguments(family, (arguments_class, TrainingArguments), argv)
    assert args.preset == preset
    own = {f.name for f in dataclasses.fields(arguments_class)}
    for key, value in training_arguments(family, preset).items():  # every argument of the file arrived
        if key in own:
            assert getattr(args, key) == value, key
        elif key in ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size"):
            assert getattr(training, key) == value, key
    extra = {"model_kind": args.model_kind} if family == "tissuebert" else {}
    config = family_config(family, getattr(args, "model_preset", None) or args.preset, args.config_overrides, **extra)
    changes = parse_config_overrides(args.config_overrides, FAMILIES[family].config_class)
    assert config.to_dict() == preset_config(family, preset, **changes, **extra).to_dict()


def test_from_preset_starts_from_another_presets_model():
    assert model_overrides("tissuebert", "demo-attention") == {**PRESETS["tissuebert"]["demo"], "model_kind": "region_attention",
                                                               "region_dropout": 0.3}
    assert preset_config("tissuebert", "demo-region").model_kind == "region"


def test_an_unknown_preset_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown preset 'huge' for mirlm; known presets: " + ", ".join(preset_names("mirlm"))):
        preset_config("mirlm", "huge")


def test_a_preset_file_without_cost_or_model_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr("hf_models.presets.PRESET_DIR", tmp_path)
    (tmp_path / "mirlm_nocost.yaml").write_text("model: {hidden_size: 32}\nmax_steps: 2\n")
    (tmp_path / "mirlm_nomodel.yaml").write_text("cost: tests\nmax_steps: 2\n")
    with pytest.raises(ValueError, match="mirlm_nocost.yaml: expected `cost:`"):
        read_preset("mirlm", "nocost")
    with pytest.raises(ValueError, match="mirlm_nomodel.yaml: expected `model:`"):
        read_preset("mirlm", "nomodel")
