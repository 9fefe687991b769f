"""Preset YAML < --config YAML < command line, and clear errors for unknown names."""
import pytest
from transformers import TrainingArguments

from modeling.mirlm.configuration_mirlm import MirLMConfig
from trainers.arguments import parse_config_overrides, parse_training_arguments
from trainers.run_mirlm import MirLMArguments, build_config

TYPES = (MirLMArguments, TrainingArguments)


def test_preset_then_config_file_then_command_line(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("learning_rate: 0.01\nmax_steps: 3\ndata_size: tiny\n")
    args, training = parse_training_arguments("mirlm", TYPES, ["--preset", "tiny", "--config", str(config), "--max_steps", "5"])
    assert args.preset == "tiny" and args.data_size == "tiny"
    assert training.learning_rate == 0.01  # from the config file, over the preset's 1e-3
    assert training.max_steps == 5  # the command line wins
    assert training.output_dir == "outputs/mirlm-tiny"


def test_dashed_flags_are_accepted():
    _, training = parse_training_arguments("mirlm", TYPES, ["--preset", "tiny", "--output_dir", "x", "--learning-rate", "0.5"])
    assert training.output_dir == "x" and training.learning_rate == 0.5


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(SystemExit, match="known presets: base, demo, mirbench, tiny"):
        parse_training_arguments("mirlm", TYPES, ["--preset", "huge"])


def test_unknown_key_in_config_file_names_the_file(tmp_path):
    config = tmp_path / "typo.yaml"
    config.write_text("learning_rat: 0.1\n")
    with pytest.raises(SystemExit, match=r"typo.yaml: learning_rat|learning_rat"):
        parse_training_arguments("mirlm", TYPES, ["--config", str(config)])


def test_config_overrides_are_parsed_and_checked():
    assert parse_config_overrides("hidden_size=64,predict_span=false,kmer_conv_size=5", MirLMConfig) == {"hidden_size": 64, "predict_span": False, "kmer_conv_size": 5}
    config = build_config(MirLMArguments(preset="tiny", config_overrides="num_hidden_layers=3"))
    assert config.num_hidden_layers == 3 and config.hidden_size == 32
    with pytest.raises(SystemExit, match="unknown MirLMConfig field"):
        build_config(MirLMArguments(preset="tiny", config_overrides="hiden_size=3"))
    with pytest.raises(SystemExit, match="key=value"):
        parse_config_overrides("hidden_size", MirLMConfig)


def test_repository_folder_moves_the_trainer_state_and_refuses_foreign_folders(tmp_path):
    from types import SimpleNamespace

    from trainers.arguments import repository_folder

    args = SimpleNamespace(output_dir=str(tmp_path / "repo"))
    assert repository_folder(args) == tmp_path / "repo" and args.output_dir == str(tmp_path / "repo" / "checkpoints")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("...")
    with pytest.raises(SystemExit, match="already holds other files \\(thesis.tex\\)"):
        repository_folder(SimpleNamespace(output_dir=str(tmp_path / "mine")))
    (tmp_path / "mine" / "config.json").write_text("{}")  # a repository of ours: training again replaces it
    assert repository_folder(SimpleNamespace(output_dir=str(tmp_path / "mine"))) == tmp_path / "mine"
