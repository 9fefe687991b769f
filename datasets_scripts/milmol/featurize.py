"""
Parallel, cached featurisation of SMILES with the milmol featurizer.

The cache is one `.npz` file per featurizer setting (its name is a hash of `tokenizer.settings`), holding every
molecule featurised so far with those settings: a second run featurises only the SMILES it has not seen. Nothing is
pickled: strings are numpy unicode arrays, ragged bags are stored flat with their lengths.

    records = featurize_cached(smiles, tokenizer, num_proc=2)   # progress bar; errors are records
"""

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Optional

import numpy as np
from tqdm.auto import tqdm

logger = logging.getLogger("biohf.milmol")


def default_cache_dir() -> Path:
    """$BIOHF_CACHE/milmol, default ~/.cache/biohf/milmol."""
    return Path(os.environ.get("BIOHF_CACHE", Path.home() / ".cache" / "biohf")) / "milmol"


def cache_path(tokenizer, cache_dir=None) -> Path:
    key = hashlib.sha1(json.dumps(tokenizer.settings, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir or default_cache_dir()) / f"features-{key}.npz"


def _load(path: Path) -> dict:
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as stored:
        data = {key: stored[key] for key in stored.files}  # read each array once (NpzFile re-reads on every access)
    smiles, errors, canonical = data["smiles"].tolist(), data["error"].tolist(), data["canonical"].tolist()
    n_conf, n_atoms = data["num_conformers"], data["num_atoms"]
    conf_end, coord_end = np.cumsum(n_conf), np.cumsum(n_conf * n_atoms)
    records = {}
    for i, s in enumerate(smiles):
        record = {"smiles": s, "canonical_smiles": canonical[i] or None, "error": errors[i] or None,
                  "num_conformers": int(n_conf[i]), "x2d": None, "x3d": None}
        if not errors[i]:
            record["x2d"] = data["x2d"][i]
            record["x3d"] = data["x3d"][conf_end[i] - n_conf[i] : conf_end[i]]
            coords = data["coordinates"][coord_end[i] - n_conf[i] * n_atoms[i] : coord_end[i]]
            record["coordinates"] = coords.reshape(int(n_conf[i]), int(n_atoms[i]), 3)
        records[s] = record
    return records


def _save(path: Path, records: dict, n2d: int, n3d: int) -> None:
    items = list(records.values())
    ok = [r for r in items if not r["error"]]
    n_conf = np.array([0 if r["error"] else r["num_conformers"] for r in items], dtype=np.int64)
    n_atoms = np.array([0 if r["error"] else r["coordinates"].shape[1] for r in items], dtype=np.int64)
    x2d = np.full((len(items), n2d), np.nan, dtype=np.float32)
    for i, r in enumerate(items):
        if not r["error"]:
            x2d[i] = r["x2d"]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".tmp-{os.getpid()}.npz")  # per process: two DDP ranks never share one
    np.savez(
        temporary,
        smiles=np.array([r["smiles"] for r in items], dtype=str),
        error=np.array([r["error"] or "" for r in items], dtype=str),
        canonical=np.array([r["canonical_smiles"] or "" for r in items], dtype=str),
        num_conformers=n_conf, num_atoms=n_atoms, x2d=x2d,
        x3d=np.concatenate([r["x3d"] for r in ok]) if ok else np.zeros((0, n3d), np.float32),
        coordinates=np.concatenate([r["coordinates"].reshape(-1, 3) for r in ok]) if ok else np.zeros((0, 3), np.float32),
    )
    os.replace(temporary, path)  # never a half-written cache


def featurize_cached(smiles, tokenizer, cache_dir=None, num_proc: int = 1, use_cache: bool = True,
                     progress: bool = True) -> list:
    """
    Records (see `featurize_molecule`, with "coordinates") for `smiles`, in order, from the cache where present;
    the others are featurised in `num_proc` processes with a progress bar and added to the cache.
    """
    smiles = list(smiles)
    path: Optional[Path] = cache_path(tokenizer, cache_dir) if use_cache else None
    cached = _load(path) if path else {}
    missing = list(dict.fromkeys(s for s in smiles if s not in cached))
    if missing:
        logger.info("featurising %d molecules (%d cached) with %d process(es)", len(missing), len(smiles) - len(missing), num_proc)
        bar = (lambda it, total: tqdm(it, total=total, desc="featurising molecules", unit="mol")) if progress else None
        for record in tokenizer.featurize(missing, num_proc=num_proc, return_coordinates=True, progress=bar):
            cached[record["smiles"]] = record
        if path:
            _save(path, cached, tokenizer.n_features_2d, tokenizer.n_features_3d)
    return [cached[s] for s in smiles]
