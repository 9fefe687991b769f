"""The README's code runs: its Python blocks execute against an exported repository, its commands parse."""
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from hf_models import FAMILIES
from trainers.cli import build_parser
from trainers.cli import main as biohf

README = (Path(__file__).parent.parent / "README.md").read_text()


def _blocks(language: str) -> list:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # The README loads `outputs/demo/<family>`, which `make demo` writes; an untrained export has the same structure.
    for family in FAMILIES:
        biohf(["export", family, "--preset", "tiny", "--output-dir", f"outputs/demo/{family}"])
    blocks = _blocks("python")
    assert blocks, "the README has Python examples"
    namespace = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)


@pytest.mark.parametrize("line", [line for block in _blocks("bash") for line in block.splitlines() if line.startswith("biohf ")])
def test_readme_biohf_commands_parse(line):
    command = shlex.split(line.split("#")[0])[1:]
    args, extra = build_parser().parse_known_args(command)
    assert args.command in {"list", "train", "evaluate", "predict", "export", "push", "demo", "diagnose"}
    if args.command not in ("train", "predict", "demo", "diagnose"):
        assert not extra, f"{line!r}: unknown arguments {extra}"


def test_readme_make_targets_exist():
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    for target in set(re.findall(r"^make (\w[\w-]*)", "\n".join(_blocks("bash")), flags=re.M)) | set(re.findall(r"`make (\w[\w-]*)", README)):
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"README mentions `make {target}` but the Makefile has no such target"


def test_readme_python_modules_exist():
    modules = set(re.findall(r"python -m ([\w.]+)", README))
    assert "datasets_scripts.tissuebert.writers" in modules
    for module in modules - {"pip", "venv", "pytest"}:
        assert importlib.util.find_spec(module) is not None, f"README runs `python -m {module}`, which does not exist"
