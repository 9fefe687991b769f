"""
Cached, resumable featurisation of SMILES with the milmol featurizer.

The cache is one folder per featurizer setting (`features-<hash of tokenizer.settings>`) of shard files, each
holding up to `shard_size` molecules keyed by their RDKit canonical SMILES (the input string where it does not
parse). A run featurises only the molecules no shard holds, writing a shard as soon as `shard_size` of them are
done, so a second run reads everything and an interrupted run resumes at its last shard. Nothing is pickled:
strings are numpy unicode arrays, ragged bags are stored flat with their lengths. Shards are written aside and
renamed, so a reader (or a second DDP rank) never sees half a shard.

    records = featurize_cached(smiles, tokenizer, num_proc=2)   # progress bar with rate and ETA; errors are records
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
SHARD_SIZE = 500


def default_cache_dir() -> Path:
    """$BIOHF_CACHE/milmol, default ~/.cache/biohf/milmol."""
    return Path(os.environ.get("BIOHF_CACHE", Path.home() / ".cache" / "biohf")) / "milmol"


def cache_path(tokenizer, cache_dir=None) -> Path:
    """The cache folder of `tokenizer`'s feature settings."""
    key = hashlib.sha1(json.dumps(tokenizer.settings, sort_keys=True).encode()).hexdigest()[:16]
    return Path(cache_dir or default_cache_dir()) / f"features-{key}"


def _read_shard(path: Path, wanted: set) -> dict:
    """The records of one shard whose key is in `wanted`."""
    with np.load(path, allow_pickle=False) as stored:
        data = {key: stored[key] for key in stored.files}  # read each array once (NpzFile re-reads on every access)
    keys, smiles, errors, notes = (data[k].tolist() for k in ("key", "smiles", "error", "note"))
    canonical = data["canonical"].tolist()
    n_conf, n_atoms = data["num_conformers"], data["num_atoms"]
    conf_end, coord_end = np.cumsum(n_conf), np.cumsum(n_conf * n_atoms)
    records = {}
    for i, key in enumerate(keys):
        if key not in wanted:
            continue
        record = {"smiles": smiles[i], "canonical_smiles": canonical[i] or None, "error": errors[i] or None,
                  "note": notes[i] or None, "num_conformers": int(n_conf[i]), "x2d": None, "x3d": None}
        if not errors[i]:
            record["x2d"] = data["x2d"][i]
            record["x3d"] = data["x3d"][conf_end[i] - n_conf[i] : conf_end[i]]
            coords = data["coordinates"][coord_end[i] - n_conf[i] * n_atoms[i] : coord_end[i]]
            record["coordinates"] = coords.reshape(int(n_conf[i]), int(n_atoms[i]), 3)
        records[key] = record
    return records


def _write_shard(folder: Path, items: list, n2d: int, n3d: int) -> Path:
    """items: (key, record) pairs -> the next shard file of `folder`."""
    ok = [r for _, r in items if not r["error"]]
    n_conf = np.array([0 if r["error"] else r["num_conformers"] for _, r in items], dtype=np.int64)
    n_atoms = np.array([0 if r["error"] else r["coordinates"].shape[1] for _, r in items], dtype=np.int64)
    x2d = np.full((len(items), n2d), np.nan, dtype=np.float32)
    for i, (_, r) in enumerate(items):
        if not r["error"]:
            x2d[i] = r["x2d"]
    folder.mkdir(parents=True, exist_ok=True)
    name = f"shard-{os.getpid()}-{len(list(folder.glob('shard-*.npz'))):05d}-{hashlib.sha1(items[0][0].encode()).hexdigest()[:8]}.npz"
    temporary = folder / f".{name}.tmp.npz"  # per process: two DDP ranks never share one
    np.savez(
        temporary,
        key=np.array([k for k, _ in items], dtype=str), smiles=np.array([r["smiles"] for _, r in items], dtype=str),
        error=np.array([r["error"] or "" for _, r in items], dtype=str),
        note=np.array([r.get("note") or "" for _, r in items], dtype=str),
        canonical=np.array([r["canonical_smiles"] or "" for _, r in items], dtype=str),
        num_conformers=n_conf, num_atoms=n_atoms, x2d=x2d,
        x3d=np.concatenate([r["x3d"] for r in ok]) if ok else np.zeros((0, n3d), np.float32),
        coordinates=np.concatenate([r["coordinates"].reshape(-1, 3) for r in ok]) if ok else np.zeros((0, 3), np.float32),
    )
    os.replace(temporary, folder / name)  # never a half-written shard
    return folder / name


def cache_keys(smiles) -> list:
    """The cache key of each SMILES: its RDKit canonical SMILES, or the string itself where RDKit cannot read it."""
    from modeling.milmol.tokenization_milmol import canonical_smiles

    return [canonical_smiles(s) or f"unreadable:{s}" for s in smiles]


def featurize_cached(smiles, tokenizer, cache_dir=None, num_proc: int = 1, use_cache: bool = True,
                     progress: bool = True, threads: Optional[int] = None, shard_size: int = SHARD_SIZE) -> list:
    """
    Records (see `featurize_molecule`, with "coordinates") for `smiles`, in order, from the cache where present;
    the others are featurised (`num_proc` processes, `threads` RDKit threads per molecule) with a progress bar
    and written to the cache every `shard_size` molecules. A record served from the cache keeps the cached
    molecule's input SMILES under "smiles" only if it is the same string; otherwise "smiles" is the input.
    """
    smiles = list(smiles)
    keys = cache_keys(smiles)
    folder: Optional[Path] = cache_path(tokenizer, cache_dir) if use_cache else None
    wanted, found = set(keys), {}
    for shard in sorted(folder.glob("shard-*.npz")) if folder and folder.is_dir() else []:
        found.update(_read_shard(shard, wanted - set(found)))
    missing = list(dict.fromkeys(k for k in keys if k not in found))
    if missing:
        first_input = {}
        for key, s in zip(keys, smiles):
            first_input.setdefault(key, s)
        logger.info("featurising %d molecules (%d of %d from the cache %s) with %d process(es)", len(missing),
                    len(wanted) - len(missing), len(wanted), folder, num_proc)
        records = tokenizer.iter_featurize([first_input[k] for k in missing], num_proc=num_proc, return_coordinates=True, threads=threads)
        pending = []
        for key, record in tqdm(zip(missing, records), total=len(missing), desc="featurising molecules", unit="mol",
                                disable=not progress, smoothing=0.05):
            found[key] = record
            pending.append((key, record))
            if folder and len(pending) >= shard_size:
                _write_shard(folder, pending, tokenizer.n_features_2d, tokenizer.n_features_3d)
                pending = []
        if folder and pending:
            _write_shard(folder, pending, tokenizer.n_features_2d, tokenizer.n_features_3d)
    return [found[k] if found[k]["smiles"] == s else {**found[k], "smiles": s} for k, s in zip(keys, smiles)]
