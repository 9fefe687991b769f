"""
The installable package: `pip install .` gives a working `biohf`. The wheel is built from a copy of the source tree
and checked against it (every package folder with all its modules, every data file the code opens), then installed
into a fresh virtual environment and run from outside the source tree: `biohf export` and a tiny `biohf train`.
The fresh environment has no pip and gets the wheel alone (`--no-deps`); its dependencies are this interpreter's,
through a `.pth` file naming its site-packages (which adds the folder only: no editable install of this tree in it
is activated, and the test checks that the modules run are the installed ones).
"""

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP_PACKAGES = ("hf_models", "modeling", "datasets_scripts", "trainers", "model_cards", "benchmarks")
# In the package folders but not opened by the code: documentation, and the benchmarks' results (written by them).
NOT_SHIPPED = ("*.md", "benchmarks/results/*")
BUILD_LEFTOVERS = shutil.ignore_patterns(".git", ".venv", "outputs", "build", "dist", "*.egg-info", "__pycache__", "*.pyc")


def _source_files() -> list:
    """Paths (relative to the root, '/'-separated) of every file in the package folders."""
    files = []
    for top in TOP_PACKAGES:
        files += [p.relative_to(ROOT).as_posix() for p in (ROOT / top).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return sorted(files)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` builds, from a copy of the tree (the build leaves build/ and *.egg-info behind)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=BUILD_LEFTOVERS)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "--disable-pip-version-check", "-w", str(work / "dist"), str(source)], check=True, cwd=work)
    (built,) = (work / "dist").glob("biohf-*.whl")
    return built


def test_every_folder_of_modules_is_a_package():
    folders = sorted({str(Path(f).parent) for f in _source_files() if f.endswith(".py")})
    assert folders and [f for f in folders if not (ROOT / f / "__init__.py").is_file()] == []


def test_the_wheel_holds_every_module_and_data_file_and_nothing_else(wheel):
    import fnmatch

    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if ".dist-info/" not in name}
    expected = {f for f in _source_files() if not any(fnmatch.fnmatch(f, pattern) for pattern in NOT_SHIPPED)}
    assert sorted(expected - shipped) == []  # a module or data file that `pip install .` leaves out
    assert sorted(shipped - expected) == []  # something shipped that is not in the package folders


def _installed(wheel: Path, folder: Path) -> dict:
    """A fresh virtual environment with the wheel installed; returns the environment its commands run in."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    Path(purelib, "biohf_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
                    "--disable-pip-version-check", str(wheel)], check=True)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PATH=f"{folder / 'bin'}{os.pathsep}{env.get('PATH', '')}", OMP_NUM_THREADS="1", PYTHONNOUSERSITE="1")
    return {"env": env, "purelib": purelib}


def test_biohf_runs_from_the_installed_wheel(wheel, tmp_path, hf_env):
    installed = _installed(wheel, tmp_path / "venv")
    env = {**installed["env"], **hf_env, "BIOHF_CACHE": str(tmp_path / "cache")}  # milmol featurises afresh
    run = tmp_path / "elsewhere"  # not the source tree, not its parent
    run.mkdir()

    def biohf(*args):
        result = subprocess.run([str(tmp_path / "venv" / "bin" / "biohf"), *args], cwd=run, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        return result.stdout

    where = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-c",  # found, not imported: no torch to load
                            "import importlib.util as u; print(u.find_spec('hf_models').origin); "
                            "print(u.find_spec('trainers.milmol').origin)"],
                           cwd=run, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert all(path.startswith(installed["purelib"]) for path in where), where  # the installed modules, not this tree

    biohf("export", "mirlm", "--preset", "tiny", "--output_dir", "untrained")
    assert (run / "untrained" / "config.json").is_file() and (run / "untrained" / "README.md").is_file()
    # milmol: the family whose trainers and molecules a built install used to lack
    biohf("train", "milmol", "--preset", "tiny", "--output_dir", "milmol", "--max_steps", "2")
    assert (run / "milmol" / "model.safetensors").is_file() and (run / "milmol" / "metrics.json").is_file()
