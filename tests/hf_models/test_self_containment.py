"""
Every `modeling/<family>/` folder must ship as remote code (shared/DESIGN.md, "The self-containment rule").

transformers copies a model's defining file plus the files reached by `from .x import` (a regex on each line),
flattened into one folder, and refuses to load when a file imports a missing package anywhere outside a
`try:` block (`check_imports` walks function bodies too). So, for every file of every family folder:
  - absolute imports outside `try:` are the standard library, torch, transformers or numpy only;
  - the package itself (modeling, hf_models, ...) is never imported, not even guarded;
  - relative imports are exactly `from .x_family import Y`, with x_family.py a sibling file;
    no `from ..`, no `from . import x`, no `from .x.y import`; no `import *`.
"""

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELING = REPO / "modeling"
ALLOWED_THIRD_PARTY = {"torch", "transformers", "numpy"}
PACKAGE_MODULES = {"modeling", "hf_models", "trainers", "datasets_scripts", "model_cards", "benchmarks"}


def family_folders() -> list:
    return sorted(p for p in MODELING.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def violations(source: str, siblings: set, name: str = "<source>") -> list:
    """Every breach of the rule in `source` (a file whose folder holds the modules `siblings`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [f"{name}: does not parse ({error})"]
    in_try = {id(sub) for node in ast.walk(tree) if isinstance(node, ast.Try) for sub in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.ImportFrom):
            if any(alias.name == "*" for alias in node.names):
                found.append(f"{where}: import *")
            if node.level > 1:
                found.append(f"{where}: parent-relative import (from {'.' * node.level}{node.module or ''})")
            elif node.level == 1 and not node.module:
                found.append(f"{where}: 'from . import x' is not copied with the model; write 'from .x import y'")
            elif node.level == 1 and ("." in node.module or node.module not in siblings):
                found.append(f"{where}: from .{node.module} import ...: no sibling file {node.module}.py")
            elif node.level == 0:
                found += _absolute(node.module, where, id(node) in in_try)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found += _absolute(alias.name, where, id(node) in in_try)
    return found


def _absolute(module: str, where: str, guarded: bool) -> list:
    top = module.split(".")[0]
    if top in PACKAGE_MODULES:
        return [f"{where}: imports the package ({module}); remote code has only its own folder"]
    if guarded or top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names:
        return []
    return [f"{where}: import of {module} outside try: (only stdlib, torch, transformers, numpy)"]


@pytest.mark.parametrize("folder", family_folders(), ids=lambda p: p.name)
def test_family_folder_is_self_contained(folder):
    files = sorted(folder.glob("*.py"))
    assert files, f"{folder} holds no Python files"
    siblings = {f.stem for f in files}
    problems = [v for f in files for v in violations(f.read_text(), siblings, f"{folder.name}/{f.name}")]
    assert not problems, "\n".join(problems)


def test_every_family_in_the_table_has_a_folder():
    from hf_models import FAMILIES

    assert {family.folder for family in FAMILIES.values()} <= set(family_folders())


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from ..common import x", "parent-relative"),
        ("from . import sites_x", "from . import x"),
        ("from .helpers_x import y", "no sibling file helpers_x.py"),
        ("from .sites_x.sub import y", "no sibling file"),
        ("import scipy", "import of scipy outside try"),
        ("def f():\n    import sklearn.metrics", "import of sklearn.metrics outside try"),
        ("try:\n    from modeling.x import y\nexcept ImportError:\n    y = None", "imports the package"),
        ("from torch.nn import *", "import *"),
    ],
)
def test_checker_catches(source, expected):
    problems = violations(source, {"sites_x", "modeling_x"})
    assert any(expected in p for p in problems), problems


def test_checker_accepts_the_allowed_forms():
    source = (
        "import math\nimport torch.nn.functional as F\nfrom transformers import PreTrainedModel\nimport numpy as np\n"
        "from .sites_x import find_sites\n"
        "try:\n    import flash_attn\nexcept ImportError:\n    flash_attn = None\n"
    )
    assert violations(source, {"sites_x"}) == []
