"""The README's and docs' code runs: Python blocks execute against exported repositories, commands parse."""
import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from hf_models import FAMILIES
from trainers.cli import build_parser
from trainers.cli import main as biohf

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README = "\n".join(page.read_text() for page in PAGES)


def _blocks(language: str, text: str = README) -> list:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_docs_link_only_inside_the_repository():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#]+)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # The README loads `outputs/demo/<family>`, which `make demo` writes; an untrained export has the same structure.
    for family in FAMILIES:
        biohf(["export", family, "--preset", "tiny", "--output_dir", f"outputs/demo/{family}"])
    assert _blocks("python", PAGES[0].read_text()), "the README has Python examples"
    for page in PAGES:
        namespace = {}
        for block in _blocks("python", page.read_text()):
            exec(compile(block, page.name, "exec"), namespace)


@pytest.mark.parametrize("line", [line for block in _blocks("bash") for line in block.splitlines() if line.startswith("biohf ")])
def test_readme_biohf_commands_parse(line):
    command = shlex.split(line.split("#")[0])[1:]
    args, extra = build_parser().parse_known_args(command)
    assert args.command in {"list", "train", "evaluate", "predict", "export", "push", "demo", "diagnose"}
    if args.command not in ("train", "evaluate", "predict", "demo", "diagnose"):  # as trainers/cli.py: family options
        assert not extra, f"{line!r}: unknown arguments {extra}"


def test_readme_make_targets_exist():
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"^make (\w[\w-]*)", "\n".join(_blocks("bash")), flags=re.M)) | set(re.findall(r"`make (\w[\w-]*)", README)):
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"README mentions `make {target}` but the Makefile has no such target"


def test_readme_python_modules_exist():
    modules = set(re.findall(r"python -m ([\w.]+)", README))
    assert "datasets_scripts.tissuebert.writers" in modules
    for module in modules - {"pip", "venv", "pytest"}:
        assert importlib.util.find_spec(module) is not None, f"README runs `python -m {module}`, which does not exist"
