"""No cycles: the run script imports the library modules (arguments, pretraining, ...), never the reverse."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = sorted((ROOT / "trainers" / "mutation2text").glob("*.py"))


def _imported_modules(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_library_module_imports_a_run_script():
    offenders = {path.name: sorted(m for m in _imported_modules(path) if m.startswith("trainers.run_"))
                 for path in LIBRARY}
    assert LIBRARY and not {name: mods for name, mods in offenders.items() if mods}


@pytest.mark.slow  # a fresh interpreter importing torch / transformers / datasets: ~30 s on 2 loaded cores
def test_pretraining_as_a_module_loads_its_classes_once():
    # `python -m trainers.mutation2text.pretraining` used to import the run script, which imported the module back
    # under its package name: two copies of every class. Its --help now runs without the script being loaded.
    code = ("import runpy, sys\n"
            "sys.argv = ['pretraining', '--help']\n"
            "try:\n    runpy.run_module('trainers.mutation2text.pretraining', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('trainers.run_mutation2text' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"
