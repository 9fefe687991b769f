"""
Export a model as a self-contained Hub repository, and check it.

A repository holds: config.json (with the family's FULL auto_map and its custom_pipelines), model.safetensors,
the tokenizer files (tokenizer_config.json with its own auto_map: `AutoTokenizer` reads only that one), the
family's remote-code files (`modeling/<family>/*.py` reached from its config, models, tokenizer and pipeline
through `from .x import`, flattened exactly as transformers' `custom_object_save` does), README.md (model card),
metrics.json and plots/*.png.
"""

import ast
import json
import shutil
import sys
from pathlib import Path
from typing import Optional

import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoConfig, AutoTokenizer
from transformers.dynamic_module_utils import get_relative_import_files

from model_cards import render_model_card

from .families import Family, auto_map, custom_pipelines, family_of, get_family, make_tokenizer
from .presets import preset_config, preset_cost

WEIGHTS_NAME = "model.safetensors"
PICKLE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.pkl", "*.ckpt")


def remote_code_files(family: Family) -> list:
    """The .py files of `modeling/<family>/` that the family's classes need, transitively (sorted paths)."""
    roots = {family.config_class, family.tokenizer_class, family.pipeline_class, *family.model_classes.values()}
    files = set()
    for cls in roots:
        path = Path(sys.modules[cls.__module__].__file__)
        if path.parent != family.folder:
            raise ValueError(f"{cls.__name__} is defined in {path}, outside {family.folder}: it would not ship")
        files.add(path)
        files.update(Path(f) for f in get_relative_import_files(path))
    missing = sorted(str(f) for f in files if not f.is_file())
    if missing:
        raise FileNotFoundError(f"relative imports of the {family.name} family point at missing files: {missing}")
    return sorted(files)


def _update_json(path: Path, **entries) -> None:
    data = json.loads(path.read_text())
    data.update(entries)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


TRAINING_STATE = "checkpoints"  # Trainer checkpoints kept inside a trained repository folder; never pushed


def _prepare(output_dir: Path, overwrite: bool) -> None:
    """Make `output_dir` ready for an export; an earlier export is replaced, training state is kept."""
    entries = [p for p in output_dir.iterdir() if p.name != TRAINING_STATE] if output_dir.exists() else []
    if entries:
        if not overwrite:
            raise FileExistsError(f"{output_dir} is not empty; pass overwrite=True to replace a previous export there")
        if not (output_dir / "config.json").is_file():
            raise FileExistsError(f"{output_dir} is not empty and holds no previous export (config.json); not touching it")
        for entry in entries:
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)


def export_repository(
    model,
    tokenizer,
    output_dir,
    *,
    metrics: Optional[dict] = None,
    plots: Optional[dict] = None,
    dataset: Optional[str],
    base_model: Optional[str] = None,
    training_summary: Optional[dict] = None,
    repo_id: Optional[str] = None,
    overwrite: bool = False,
) -> Path:
    """
    Write a Hub-ready repository for `model` (a family head model) and `tokenizer` into `output_dir`, then
    `verify_repository` it. `metrics` goes into metrics.json and the card's model-index:
    {"split": "test", "model": {...}, "baseline": {...}}, each a held-out metrics dict of the family.
    `plots` maps a title to a PNG, copied to plots/. `repo_id` names the repository in the card (default: the
    folder name). `overwrite` replaces a previous export in `output_dir`. Returns the folder.
    """
    if metrics is not None and not isinstance(metrics.get("model"), dict):
        raise ValueError('metrics must look like {"split": "test", "model": {...}, "baseline": {...}}')
    card = {"metrics": metrics, "dataset": dataset, "base_model": base_model, "training_summary": training_summary}
    return _export(model, tokenizer, Path(output_dir), card, metrics=metrics, plots=plots, repo_id=repo_id,
                   overwrite=overwrite)


def export_untrained(family: str, preset: str, output_dir, *, seed: int = 0, repo_id: Optional[str] = None,
                     overwrite: bool = False) -> Path:
    """`biohf export`: a randomly initialised `preset` model of `family`; its card says so and has no results."""
    config = preset_config(family, preset)
    torch.manual_seed(seed)
    model = get_family(family).head_class(config).eval()
    card = {"untrained": True, "preset": preset,
            "training_summary": {"preset": preset, "size": "{parameters:,} parameters; {note}".format(**preset_cost(family, preset)), "training": "none"}}
    return _export(model, make_tokenizer(family, config), Path(output_dir), card, repo_id=repo_id, overwrite=overwrite)


def _export(model, tokenizer, output_dir: Path, card: dict, *, metrics=None, plots=None, repo_id=None,
            overwrite=False) -> Path:
    family = family_of(model)
    if type(model).__name__ != family.head_class.__name__:
        raise ValueError(f"export the {family.head_class.__name__} model (all heads), not a {type(model).__name__}")
    _prepare(output_dir, overwrite)

    model.save_pretrained(output_dir)  # model.safetensors: transformers 5 writes no pickle
    tokenizer.save_pretrained(output_dir)
    for source in remote_code_files(family):
        shutil.copyfile(source, output_dir / source.name)
    _update_json(output_dir / "config.json", auto_map=auto_map(family), custom_pipelines=custom_pipelines(family))
    _update_json(output_dir / "tokenizer_config.json", auto_map={"AutoTokenizer": auto_map(family)["AutoTokenizer"]})

    plot_paths = {}
    for title, source in (plots or {}).items():
        source = Path(source)
        if source.suffix.lower() != ".png":
            raise ValueError(f"plot {title!r} must be a PNG, got {source}")
        destination = output_dir / "plots" / source.name
        destination.parent.mkdir(exist_ok=True)
        if source.resolve() != destination.resolve():
            shutil.copyfile(source, destination)
        plot_paths[title] = f"plots/{source.name}"
    if metrics:
        (output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    context = {
        **card,
        "model_id": repo_id or output_dir.resolve().name,
        "plots": plot_paths,
        "config": model.config.to_dict(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab": sorted(tokenizer.get_vocab().items(), key=lambda item: item[1]),
    }
    render_model_card(family, context).save(output_dir / "README.md")
    verify_repository(output_dir, model, tokenizer)
    return output_dir


def _quietly_load(auto_class, folder: Path, expect_unused: bool):
    """from_pretrained; a base model loaded from a head checkpoint skips the head weights: don't report that."""
    if not expect_unused:
        return auto_class.from_pretrained(folder)
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        return auto_class.from_pretrained(folder)
    finally:
        transformers.logging.set_verbosity(verbosity)


def _defined_classes(path: Path) -> set:
    return {node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef)}


def verify_repository(folder, model=None, tokenizer=None) -> dict:
    """
    Check an exported repository in-process (with the package's registered classes): every auto_map /
    custom_pipelines reference names a class defined in a file of the folder, the weights file is safetensors
    only, every Auto class of the family reloads it with weights equal to the file (and to `model` when given;
    the head class with exactly the file's tensors), and AutoTokenizer reloads the family's tokenizer (with
    the vocabulary and special-token ids of `tokenizer` when given). Raises `ValueError` on the first
    mismatch; returns a short report.
    """
    folder = Path(folder)
    config_json = json.loads((folder / "config.json").read_text())
    family = get_family(config_json["model_type"])
    expected = auto_map(family)
    if config_json.get("auto_map") != expected:
        raise ValueError(f"config.json auto_map is {config_json.get('auto_map')}, expected {expected}")
    references = [r for r in expected.values() if isinstance(r, str)] + [expected["AutoTokenizer"][0]]
    references += [task["impl"] for task in config_json.get("custom_pipelines", {}).values()]
    for reference in references:
        module, name = reference.split(".")
        if not (folder / f"{module}.py").is_file() or name not in _defined_classes(folder / f"{module}.py"):
            raise ValueError(f"{reference} is referenced by config.json but not defined in {folder}")
    tokenizer_map = json.loads((folder / "tokenizer_config.json").read_text()).get("auto_map", {})
    if tokenizer_map.get("AutoTokenizer") != expected["AutoTokenizer"]:
        raise ValueError("tokenizer_config.json lacks the AutoTokenizer auto_map (AutoTokenizer reads only that file)")
    pickles = [p.name for pattern in PICKLE_PATTERNS for p in folder.glob(pattern)]
    if pickles or not (folder / WEIGHTS_NAME).is_file():
        raise ValueError(f"{folder} must hold {WEIGHTS_NAME} and no pickled weights (found {pickles})")

    saved = load_file(folder / WEIGHTS_NAME)
    reference_state = model.state_dict() if model is not None else None
    AutoConfig.from_pretrained(folder)
    for auto_name, model_class in family.model_classes.items():
        loaded = _quietly_load(getattr(transformers, auto_name), folder, expect_unused=model_class is not family.head_class)
        state = loaded.state_dict()
        # a base model's keys lack the head's prefix; another head class (e.g. a masked-LM head) shares the head's names
        prefix = "" if model_class is family.head_class or set(state) <= set(saved) else loaded.base_model_prefix + "."
        if model_class is family.head_class and set(state) != set(saved):
            raise ValueError(f"{auto_name}: parameters {sorted(set(state) ^ set(saved))} differ from {WEIGHTS_NAME}")
        for key, tensor in state.items():
            if prefix + key not in saved or not torch.equal(tensor, saved[prefix + key]):
                raise ValueError(f"{auto_name}: weight {key} differs from {WEIGHTS_NAME}")
            if reference_state is not None and not torch.equal(tensor, reference_state[prefix + key].cpu()):
                raise ValueError(f"{auto_name}: weight {key} differs from the exported model")

    loaded_tokenizer = AutoTokenizer.from_pretrained(folder)
    if not isinstance(loaded_tokenizer, family.tokenizer_class):
        raise ValueError(f"AutoTokenizer loaded {type(loaded_tokenizer).__name__}, expected {family.tokenizer_class.__name__}")
    if tokenizer is not None and (loaded_tokenizer.get_vocab() != tokenizer.get_vocab()
                                  or loaded_tokenizer.all_special_ids != tokenizer.all_special_ids):
        raise ValueError("the reloaded tokenizer's vocabulary or special-token ids differ from the exported tokenizer")
    return {"folder": str(folder), "family": family.name, "tensors": len(saved),
            "auto_classes": sorted(expected), "files": sorted(p.name for p in folder.iterdir())}
