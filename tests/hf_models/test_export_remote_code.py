"""
Export a tiny random model of every family, then load it the way a Hub user does: in a fresh Python process
where this package cannot be imported (cwd elsewhere, PYTHONPATH cleared, the editable-install finder
removed), offline, with its own HF_HOME, through AutoConfig / every Auto model class of the auto_map /
AutoTokenizer / pipeline with trust_remote_code=True. Outputs must equal the in-process ones bit for bit.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from safetensors.torch import load_file

import hf_models
from hf_models import FAMILIES, auto_map, export_repository, make_tokenizer, preset_config, remote_code_files

# Per family: how to encode a small batch (tokenizer method, args, kwargs) and what to feed the pipeline.
MIRNA = "UGAGGUAGUAGGUUGUAUAGUU"  # let-7a
EXAMPLES = {
    "mirlm": {
        "encode": ("encode_pairs", [["ACGUACCUCAUUUACGGAUC" * 3, "GGCUACCUCAA", "ACGTN" * 12], MIRNA], {"padding": "longest"}),
        "pipeline": [{"mirna": MIRNA, "mrna": "AAGCUACCUCAUU" * 5}, {"mirna": MIRNA, "mrna": "ACGU" * 200}],
    },
    "e1": {
        "encode": ("encode_proteins", [["MKTAYIAKQRQISFVK", "mskcpecgksf"]], {"context": [["MKSAYIAKQRQ", "MKTAYLAKQ"], None]}),
        "pipeline": ["MKTAYIAKQRQISF", {"sequence": "MSKCPECGKSFSQ", "context": "MAKCPECGRSF,MSKCPQCGKSW"}],
    },
    "milmol": {
        "encode": ("encode_molecules", [["CCO", "c1ccc(cc1)/C=C/c1ccccc1", "CN(C)c1ccc(/N=N/c2ccccc2)cc1"]], {}),
        "pipeline": ["CC(=O)Oc1ccccc1C(=O)O", "not a smiles", "O=C1c2ccccc2C(=O)c2ccccc12"],
    },
    "tissuebert": {  # 16 regions (tiny preset): per-region mean methylation, None = a region without data
        "encode": ("encode_samples", [[[0.05, 0.47, 0.89, 0.35, 0.77, 0.23, 0.65, 0.11, 0.53, 0.95, 0.41, 0.83, 0.29, 0.71, 0.17, 0.59], [None, 0.47, 0.89, 0.35, 0.77, 0.23, 0.65, 0.11, 0.53, 0.95, 0.41, 0.83, 0.29, 0.71, 0.17, 0.59]]], {}),
        "pipeline": [[0.59, 0.17, 0.71, 0.29, 0.83, 0.41, 0.95, 0.53, 0.11, 0.65, 0.23, 0.77, 0.35, 0.89, 0.47, 0.05], [0.05, 0.47, 0.89, 0.35, 0.77, 0.23, 0.65, 0.11, None, None, None, None, None, None, None, None]],
    },
    "mutation2text": {  # a mutation string or a mutant sequence per example, validated against the wild type
        "encode": ("encode_mutations", [["MKTAYIAKQRQISFVK", "MSKCPECGKSF"]],
                   {"mutation": ["K2A;p.Arg10Gly", None], "mutant": [None, "MSKCPQCGKSF"], "question": [None, "Disruptive?"]}),
        "pipeline": [{"wild_type": "MKTAYIAKQRQISFVK", "mutation": "p.Lys2Ala", "question": "Effect?"},
                     {"wild_type": "MSKCPECGKSF", "mutant": "MSKCPQCGKSF"}],
    },
}

# Runs in the fresh process. argv: repository folder, JSON example, output folder.
LOADER = r"""
import importlib.util, json, sys
from pathlib import Path

# The package must not be importable: drop path entries and meta-path finders (editable installs) that find it.
def finds_package(finder):
    try:
        return finder.find_spec("hf_models", None) is not None
    except Exception:
        return False
sys.path = [p for p in sys.path if not (Path(p or ".") / "hf_models").is_dir()]
sys.meta_path = [f for f in sys.meta_path if not finds_package(f)]
for name in ("hf_models", "modeling"):
    assert importlib.util.find_spec(name) is None, f"{name} is importable in the remote-code process"
try:
    import hf_models
except ModuleNotFoundError:
    pass
else:
    raise AssertionError("import hf_models worked")

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoConfig, AutoTokenizer, pipeline

torch.set_num_threads(1)
folder, example, out = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
remote = lambda obj: type(obj).__module__.startswith("transformers_modules")

config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
assert remote(config), type(config)
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
assert remote(tokenizer), type(tokenizer)
method, args, kwargs = example["encode"]
batch = getattr(tokenizer, method)(*args, **kwargs)
tensors = {f"batch.{k}": v for k, v in batch.items()}
report = {"vocab": tokenizer.get_vocab(), "special_ids": tokenizer.all_special_ids,
          "special_tokens": tokenizer.all_special_tokens, "classes": {}}

for auto_name in config.auto_map:
    if auto_name in ("AutoConfig", "AutoTokenizer"):
        continue
    model = getattr(transformers, auto_name).from_pretrained(folder, trust_remote_code=True).eval()
    assert remote(model), type(model)
    report["classes"][auto_name] = type(model).__name__
    with torch.no_grad():
        output = model(**batch)
    tensors.update({f"{auto_name}.{k}": v for k, v in output.items() if isinstance(v, torch.Tensor)})
    # save / reload in this process keeps the weights and the full auto_map
    resaved = out / f"resaved-{auto_name}"
    model.save_pretrained(resaved)
    again = getattr(transformers, auto_name).from_pretrained(resaved, trust_remote_code=True)
    before, after = model.state_dict(), again.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before), auto_name
    assert json.loads((resaved / "config.json").read_text())["auto_map"] == config.auto_map

scan = pipeline(model=folder, trust_remote_code=True)
assert remote(scan) and remote(scan.model), (type(scan), type(scan.model))
results = scan(example["pipeline"])
for i, result in enumerate(results):
    for key, value in list(result.items()):
        if isinstance(value, np.ndarray):
            tensors[f"pipeline.{i}.{key}"] = torch.from_numpy(np.ascontiguousarray(value))
            del result[key]
report["pipeline"] = results
save_file({k: v.contiguous() for k, v in tensors.items()}, str(out / "tensors.safetensors"))
(out / "report.json").write_text(json.dumps(report))
"""


def _in_process(folder: Path, family, example: dict, model) -> tuple:
    """
    The same computations with the package's own (registered) classes, loaded from the same folder. (Loaded
    weights are memory-mapped and not 64-byte aligned, so a small matmul may round differently from the
    in-memory original in the last bit: the original is compared with a float tolerance, the two loaded
    copies bit for bit.)
    """
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    assert type(tokenizer) is family.tokenizer_class
    method, args, kwargs = example["encode"]
    batch = getattr(tokenizer, method)(*args, **kwargs)
    tensors, loaded = {f"batch.{k}": v for k, v in batch.items()}, {}
    for auto_name in family.model_classes:
        loaded[auto_name] = getattr(transformers, auto_name).from_pretrained(folder).eval()
        assert type(loaded[auto_name]) is family.model_classes[auto_name]
        with torch.no_grad():
            output = loaded[auto_name](**batch)
        tensors.update({f"{auto_name}.{k}": v for k, v in output.items() if isinstance(v, torch.Tensor)})
    head = next(name for name, cls in family.model_classes.items() if cls is family.head_class)
    with torch.no_grad():
        original = model(**batch)
    for key, value in original.items():
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(value, tensors[f"{head}.{key}"], msg=f"reloaded {key} differs from the exported model")
    scan = transformers.pipeline(family.pipeline_task, model=loaded[family.pipeline_pt_model], tokenizer=tokenizer)
    assert type(scan) is family.pipeline_class
    return tensors, tokenizer, scan(example["pipeline"])


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def exported(request, tmp_path_factory):
    name = request.param
    assert name in EXAMPLES, f"add an example for the {name} family to EXAMPLES"
    family = FAMILIES[name]
    torch.manual_seed(0)
    config = preset_config(name, "tiny")
    model = family.head_class(config).eval()
    folder = export_repository(model, make_tokenizer(family, config), tmp_path_factory.mktemp(name) / "repo",
                               dataset="unit-test", repo_id=f"biohf/{name}-tiny")
    return family, model, folder


def test_repository_files(exported):
    family, _, folder = exported
    config = json.loads((folder / "config.json").read_text())
    assert config["auto_map"] == auto_map(family)
    assert set(config["auto_map"]) >= {"AutoConfig", "AutoModel", "AutoTokenizer"}
    assert config["custom_pipelines"][family.pipeline_task]["pt"] == [family.pipeline_pt_model]
    assert family.pipeline_pt_model in config["auto_map"]
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    assert tokenizer_config["auto_map"]["AutoTokenizer"] == auto_map(family)["AutoTokenizer"]
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.bin"))
    assert (folder / "README.md").is_file()
    # every shipped .py of the family folder is reached from its classes, and nothing else ships
    shipped = {p.name for p in folder.glob("*.py")}
    folder_files = {p.name for p in family.folder.glob("*.py")} - {"__init__.py"}
    assert shipped == {p.name for p in remote_code_files(family)} == folder_files


def test_remote_code_loads_bit_for_bit_without_the_package(exported, tmp_path, hf_env):
    family, model, folder = exported
    example = EXAMPLES[family.name]
    home = tmp_path / "hf_home"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(hf_env, HF_HOME=str(home), HF_MODULES_CACHE=str(home / "modules"), HF_HUB_OFFLINE="1")
    run = subprocess.run(
        [sys.executable, "-c", LOADER, str(folder), json.dumps(example), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    remote_tensors = load_file(tmp_path / "tensors.safetensors")
    report = json.loads((tmp_path / "report.json").read_text())

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local_tensors, tokenizer, local_results = _in_process(folder, family, example, model)
    finally:
        torch.set_num_threads(threads)

    assert set(report["classes"]) == set(family.model_classes)
    assert report["vocab"] == tokenizer.get_vocab()
    assert report["special_ids"] == tokenizer.all_special_ids
    assert report["special_tokens"] == tokenizer.all_special_tokens
    for key, value in local_tensors.items():
        assert key in remote_tensors, f"the remote-code process produced no {key}"
        assert torch.equal(value, remote_tensors[key]), f"{key} differs between remote code and the package"
    for i, (remote, local) in enumerate(zip(report["pipeline"], local_results, strict=True)):
        arrays = {k: v for k, v in local.items() if isinstance(v, np.ndarray)}
        for key, value in arrays.items():
            assert np.array_equal(value, remote_tensors[f"pipeline.{i}.{key}"].numpy()), key
        assert remote == json.loads(json.dumps({k: v for k, v in local.items() if k not in arrays}))
    assert (home / "modules").is_dir(), "remote code was not loaded through the private HF_HOME"


def test_verify_repository_catches_changed_weights(exported, tmp_path):
    family, model, folder = exported
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in folder.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    assert hf_models.verify_repository(copy, model)["family"] == family.name
    changed = {k: v.clone() for k, v in model.state_dict().items()}
    first = next(iter(changed))
    changed[first] += 1
    model_copy = family.head_class(model.config).eval()
    model_copy.load_state_dict(changed)
    with pytest.raises(ValueError, match="differs from the exported model"):
        hf_models.verify_repository(copy, model_copy)


def test_export_refuses_to_clobber(exported, tmp_path):
    family, model, _ = exported
    (tmp_path / "notes.txt").write_text("keep me")
    tokenizer = make_tokenizer(family, model.config)
    with pytest.raises(FileExistsError):
        export_repository(model, tokenizer, tmp_path, dataset="unit-test")
    with pytest.raises(FileExistsError, match="no previous export"):
        export_repository(model, tokenizer, tmp_path, dataset="unit-test", overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_export_untrained(tmp_path):
    from huggingface_hub import ModelCard

    for name in FAMILIES:
        folder = hf_models.export_untrained(name, "tiny", tmp_path / name, repo_id=f"biohf/{name}-untrained")
        card = ModelCard.load(folder / "README.md")
        assert "Untrained" in card.text and card.data.eval_results is None
        assert not (folder / "metrics.json").exists()
        assert "custom_code" in card.data.tags
