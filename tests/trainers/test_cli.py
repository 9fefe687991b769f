"""The `biohf` verbs that need no training: list, export, push errors, argument errors."""
import json

import pytest

from hf_models.push import PushError
from trainers.cli import main as biohf


def test_list_shows_every_preset_with_its_cost(capsys):
    biohf(["list"])
    out = capsys.readouterr().out
    for preset in ("tiny", "demo", "base"):
        assert f"mirlm         {preset}" in out
    base_row = next(line for line in out.splitlines() if " base " in line)
    assert int(base_row.split()[2].replace(",", "")) > 50_000_000  # the seed size: embed 1024, 4 layers, ff 4096


def test_export_writes_an_untrained_repository(tmp_path, capsys):
    biohf(["export", "mirlm", "--preset", "tiny", "--output_dir", str(tmp_path / "repo")])
    config = json.loads((tmp_path / "repo" / "config.json").read_text())
    assert config["hidden_size"] == 32 and "AutoModel" in config["auto_map"]
    assert "untrained" in capsys.readouterr().out


def test_push_without_network_says_what_to_do(tmp_path):
    biohf(["export", "mirlm", "--preset", "tiny", "--output_dir", str(tmp_path / "repo")])
    with pytest.raises(PushError, match="(?i)offline|token"):
        biohf(["push", str(tmp_path / "repo"), "--repo-id", "someone/mirlm-test"])


def test_unknown_family_and_stray_arguments_are_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        biohf(["export", "nope", "--output_dir", str(tmp_path)])
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        biohf(["list", "--bogus"])


def test_train_refuses_a_folder_holding_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="already holds other files"):
        biohf(["train", "mirlm", "--preset", "tiny", "--output_dir", str(tmp_path)])
    assert (tmp_path / "notes.txt").read_text() == "mine" and not (tmp_path / "checkpoints").exists()


def test_demo_goes_on_after_a_failing_family_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    import types

    import trainers.cli as cli

    def broken(argv):
        raise RuntimeError("disk full")

    def working(argv):
        return {"headline_metrics": ["accuracy"], "model": {"accuracy": 0.9}, "baseline": {"accuracy": 0.5}}

    scripts = {"mirlm": types.SimpleNamespace(main=broken), "tissuebert": types.SimpleNamespace(main=working)}
    monkeypatch.setattr(cli, "_script", scripts.__getitem__)
    with pytest.raises(SystemExit, match="1 family failed: mirlm"):
        biohf(["demo", "--output_dir", str(tmp_path), "--families", "mirlm", "tissuebert"])
    captured = capsys.readouterr()
    assert "RuntimeError: disk full" in captured.err
    assert "tissuebert" in captured.out and "0.900" in captured.out and "0.500" in captured.out
