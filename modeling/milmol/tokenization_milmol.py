"""
The milmol "tokenizer": a molecule featurizer saved with the model (tokenizer_config.json holds every setting),
so a loaded model featurises exactly as at training.

    SMILES -> RDKit-sanitised molecule -> 2D vector (`DESCRIPTORS_2D` + Morgan bits, features_milmol.py)
           -> explicit hydrogens -> `num_conformers` ETKDGv3 conformers (seeded; optional MMFF relaxation)
           -> per-conformer 3D vector (`DESCRIPTORS_3D`)

RDKit is needed only to featurise SMILES: it is imported under a guard, so the model, precomputed features and
`pad` work without it, and featurising without it raises an ImportError saying what to install. A SMILES that
does not parse or sanitise, or a molecule RDKit cannot embed in 3D, gives a per-molecule error record, never an
exception for the whole batch (`encode_molecules` raises, naming them, because a model batch cannot hold them).

It is a `PreTrainedTokenizer` (with only [PAD] / [UNK] in its vocabulary) so that `AutoTokenizer` loads it from
the repository like every biohf family's preprocessor.
"""

from typing import Optional, Sequence

import numpy as np
import torch
from transformers import BatchFeature, PreTrainedTokenizer

from .features_milmol import DESCRIPTORS_2D, DESCRIPTORS_3D, descriptor_length, signed_log1p
from .features_milmol import feature_names_2d as names_2d
from .features_milmol import feature_names_3d as names_3d

try:
    from rdkit import Chem, RDLogger
    from rdkit.Chem import AllChem, Descriptors, rdFingerprintGenerator, rdMolDescriptors
except ImportError:
    Chem = None

RDKIT_MISSING = ("featurising SMILES needs RDKit, which is not installed: `pip install rdkit` (the model itself and "
                 "precomputed feature inputs work without it)")
VOCAB = {"[PAD]": 0, "[UNK]": 1}


def canonical_smiles(smiles: str) -> Optional[str]:
    """RDKit's canonical (isomeric) SMILES of `smiles`, or None when it does not parse or sanitise."""
    if Chem is None:
        raise ImportError(RDKIT_MISSING)
    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles.strip()) if isinstance(smiles, str) and smiles.strip() else None
    return Chem.MolToSmiles(mol) if mol is not None else None


def featurize_molecule(smiles: str, settings: dict, return_coordinates: bool = False, threads: int = 1) -> dict:
    """
    One molecule -> {"smiles", "canonical_smiles", "x2d" (F2,), "x3d" (n, F3), "num_conformers", "error", "note"}
    (arrays float32). Policy for molecules RDKit cannot use:
      - no parse / no sanitisation: "error" says which, the arrays are None (the molecule is excluded);
      - no 3D (more heavy atoms than `max_atoms_3d`, or ETKDG embeds no conformer within `embed_timeout_s`, also
        from random coordinates): a 2D-only record, "x3d" (0, F3), "num_conformers" 0 and "note" saying why;
      - fewer conformers than asked (the time limit was hit): the conformers embedded, and "note" saying so.
    With `return_coordinates`, also "coordinates" (n, heavy atoms, 3) in the atom order of `canonical_smiles`'s
    molecule as parsed. `threads`: RDKit's own threads for the conformer embedding (the same conformers).
    """
    if Chem is None:
        raise ImportError(RDKIT_MISSING)
    try:
        return _featurize(smiles, settings, return_coordinates, threads)
    except Exception as error:  # any RDKit failure on one molecule is that molecule's error record
        return {"smiles": smiles, "canonical_smiles": None, "x2d": None, "x3d": None, "num_conformers": 0, "note": None,
                "error": f"featurisation failed: {type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"}


def _embed(with_h, settings: dict, threads: int) -> tuple:
    """ETKDGv3 conformers within the time limit (then from random coordinates in what is left) -> (ids, note)."""
    import time  # imported where used, like RDKit: the remote-code import check allows only guarded extras

    wanted, limit = int(settings["num_conformers"]), float(settings["embed_timeout_s"])
    start = time.perf_counter()
    params = AllChem.ETKDGv3()
    params.randomSeed = int(settings["conformer_seed"])
    params.numThreads = int(threads)
    params.timeout = max(1, int(round(limit)))  # RDKit's limit for the whole call, in whole seconds
    AllChem.EmbedMultipleConfs(with_h, wanted, params)
    if not with_h.GetNumConformers() and time.perf_counter() - start < limit:
        params.useRandomCoords = True  # the documented fallback for molecules ETKDG cannot start from a distance matrix
        params.timeout = max(1, int(round(limit - (time.perf_counter() - start))))
        AllChem.EmbedMultipleConfs(with_h, wanted, params)
    elapsed = time.perf_counter() - start
    ids = [conformer.GetId() for conformer in with_h.GetConformers()]
    timed_out = elapsed >= 0.95 * params.timeout
    if not ids:
        return ids, (f"2D only: no 3D conformer within the {limit:g} s time limit" if timed_out else
                     "2D only: 3D embedding failed (ETKDGv3, also from random coordinates)")
    if len(ids) < wanted:
        return ids, (f"{len(ids)} of {wanted} conformers: the {limit:g} s time limit was hit" if timed_out else
                     f"{len(ids)} of {wanted} conformers: ETKDG embedded no more")
    return ids, None


def _featurize(smiles: str, settings: dict, return_coordinates: bool, threads: int = 1) -> dict:
    RDLogger.DisableLog("rdApp.*")
    record = {"smiles": smiles, "canonical_smiles": None, "x2d": None, "x3d": None, "num_conformers": 0, "error": None, "note": None}
    if not isinstance(smiles, str) or not smiles.strip():
        record["error"] = "empty SMILES"
        return record
    mol = Chem.MolFromSmiles(smiles.strip(), sanitize=False)
    if mol is None:
        record["error"] = "SMILES does not parse"
        return record
    try:
        Chem.SanitizeMol(mol)
    except Exception as error:  # RDKit raises several sanitisation exception types
        record["error"] = f"sanitisation failed: {error}"
        return record
    mol = Chem.MolFromSmiles(Chem.MolToSmiles(mol))  # canonical atom order: the same molecule featurises the same
    record["canonical_smiles"] = Chem.MolToSmiles(mol)

    values = [float(getattr(Descriptors, name)(mol)) for name in settings["descriptors_2d"]]
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=settings["fingerprint_radius"], fpSize=settings["fingerprint_bits"])
    bits = generator.GetFingerprintAsNumPy(mol).astype(np.float32)
    record["x2d"] = np.concatenate([np.array([signed_log1p(v) for v in values], dtype=np.float32), bits * np.float32(np.log1p(1.0))])
    n3d = sum(descriptor_length(name) for name in settings["descriptors_3d"])
    record["x3d"] = np.zeros((0, n3d), dtype=np.float32)
    heavy = mol.GetNumAtoms()  # AddHs appends hydrogens after the heavy atoms
    if return_coordinates:
        record["coordinates"] = np.zeros((0, heavy, 3), dtype=np.float32)
    if heavy > int(settings["max_atoms_3d"]):
        record["note"] = f"2D only: {heavy} heavy atoms, more than max_atoms_3d={settings['max_atoms_3d']}"
        return record

    with_h = Chem.AddHs(mol)
    conformer_ids, record["note"] = _embed(with_h, settings, threads)
    if not conformer_ids:
        return record
    if settings["mmff_relax"] and AllChem.MMFFHasAllMoleculeParams(with_h):
        AllChem.MMFFOptimizeMoleculeConfs(with_h, numThreads=int(threads), maxIters=int(settings.get("mmff_max_iters", 200)))
    rows = []
    for conf_id in conformer_ids:
        row = []
        for name in settings["descriptors_3d"]:
            value = getattr(rdMolDescriptors, f"Calc{name}")(with_h, confId=conf_id)
            row += [signed_log1p(float(v)) for v in value] if isinstance(value, (list, tuple)) else [signed_log1p(float(value))]
        rows.append(row)
    record["x3d"] = np.asarray(rows, dtype=np.float32).reshape(len(rows), n3d)
    record["num_conformers"] = len(conformer_ids)
    if return_coordinates:
        record["coordinates"] = np.stack([with_h.GetConformer(c).GetPositions()[:heavy] for c in conformer_ids]).astype(np.float32)
    return record


def _featurize_job(job):
    return featurize_molecule(*job)


class MILMolTokenizer(PreTrainedTokenizer):
    """
    Featurizer of milmol (see the module docstring). Settings, all saved in tokenizer_config.json:
        fingerprint_bits / fingerprint_radius: the Morgan fingerprint of the 2D vector.
        descriptors_2d / descriptors_3d: descriptor names, in vector order (default: features_milmol.py).
        num_conformers / conformer_seed / mmff_relax: the conformer bag (ETKDGv3 seed; MMFF94 relaxation).
        embed_timeout_s: time limit (seconds) of a molecule's conformer embedding, RDKit's own `timeout`; a molecule
            that gets no conformer in time is 2D only, one that gets some keeps them (the record's "note" says so).
        max_atoms_3d: molecules with more heavy atoms are 2D only without trying (ETKDG's distance bounds grow with
            the cube of the atom count, outside RDKit's time limit: 500 carbons take minutes).
        embed_threads: RDKit threads for the conformers of one molecule (`numThreads`; the same conformers for any
            value, so not part of `settings`). Not saved as a feature setting.
        feature_source: "rdkit" (featurise SMILES as above) or "precomputed" (a model trained on a user's feature
            tables, e.g. EUOS25 CSVs: it takes padded features only; `feature_names_2d/3d` record their columns).
    """

    vocab_files_names = {}
    model_input_names = ["x2d", "x3d", "conformer_mask"]

    def __init__(self, fingerprint_bits: int = 1024, fingerprint_radius: int = 2, num_conformers: int = 10,
                 conformer_seed: int = 42, mmff_relax: bool = False, embed_timeout_s: float = 10.0,
                 max_atoms_3d: int = 120, embed_threads: int = 1,
                 descriptors_2d: Optional[Sequence[str]] = None,
                 descriptors_3d: Optional[Sequence[str]] = None, feature_source: str = "rdkit",
                 feature_names_2d: Optional[Sequence[str]] = None, feature_names_3d: Optional[Sequence[str]] = None, **kwargs):
        if feature_source not in ("rdkit", "precomputed"):
            raise ValueError(f"feature_source must be 'rdkit' or 'precomputed', got {feature_source!r}")
        self.vocab = dict(VOCAB)
        self.fingerprint_bits, self.fingerprint_radius = int(fingerprint_bits), int(fingerprint_radius)
        self.num_conformers, self.conformer_seed, self.mmff_relax = int(num_conformers), int(conformer_seed), bool(mmff_relax)
        self.embed_timeout_s, self.max_atoms_3d, self.embed_threads = float(embed_timeout_s), int(max_atoms_3d), int(embed_threads)
        self.descriptors_2d = list(DESCRIPTORS_2D if descriptors_2d is None else descriptors_2d)
        self.descriptors_3d = list(DESCRIPTORS_3D if descriptors_3d is None else descriptors_3d)
        self.feature_source = feature_source
        if feature_source == "rdkit":
            feature_names_2d = feature_names_2d or names_2d(self.descriptors_2d, self.fingerprint_bits)
            feature_names_3d = feature_names_3d or names_3d(self.descriptors_3d)
        elif not feature_names_2d or not feature_names_3d:
            raise ValueError("feature_source='precomputed' needs feature_names_2d and feature_names_3d (the table columns)")
        self.feature_names_2d, self.feature_names_3d = list(feature_names_2d), list(feature_names_3d)
        kwargs.setdefault("pad_token", "[PAD]")
        kwargs.setdefault("unk_token", "[UNK]")
        super().__init__(
            fingerprint_bits=self.fingerprint_bits, fingerprint_radius=self.fingerprint_radius,
            num_conformers=self.num_conformers, conformer_seed=self.conformer_seed, mmff_relax=self.mmff_relax,
            embed_timeout_s=self.embed_timeout_s, max_atoms_3d=self.max_atoms_3d, descriptors_2d=self.descriptors_2d, descriptors_3d=self.descriptors_3d,
            feature_source=feature_source,
            feature_names_2d=self.feature_names_2d, feature_names_3d=self.feature_names_3d, **kwargs,
        )

    # -- the (trivial) vocabulary PreTrainedTokenizer requires ---------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict:
        return dict(self.vocab)

    def _tokenize(self, text: str, **kwargs) -> list:
        raise NotImplementedError("milmol featurises molecules: use encode_molecules / featurize, not text tokenisation")

    def _convert_token_to_id(self, token: str) -> int:
        return self.vocab.get(token, self.vocab["[UNK]"])

    def _convert_id_to_token(self, index: int) -> str:
        return {i: t for t, i in self.vocab.items()}.get(index, "[UNK]")

    def save_vocabulary(self, save_directory: str, filename_prefix: Optional[str] = None):
        return ()  # nothing beyond tokenizer_config.json

    # -- featurisation ------------------------------------------------------------------------------------------
    @property
    def settings(self) -> dict:
        """Everything that determines the features (also the cache key of the dataset featurisation)."""
        return {"fingerprint_bits": self.fingerprint_bits, "fingerprint_radius": self.fingerprint_radius,
                "num_conformers": self.num_conformers, "conformer_seed": self.conformer_seed,
                "mmff_relax": self.mmff_relax, "embed_timeout_s": self.embed_timeout_s, "max_atoms_3d": self.max_atoms_3d,
                "descriptors_2d": self.descriptors_2d, "descriptors_3d": self.descriptors_3d}

    # Plain properties, alike in shape to code elsewhere (not shared logic).
    @property
    def n_features_2d(self) -> int:
        return len(self.feature_names_2d)

    @property
    def n_features_3d(self) -> int:
        return len(self.feature_names_3d)

    def iter_featurize(self, smiles, num_proc: int = 1, return_coordinates: bool = False, threads: Optional[int] = None):
        """
        SMILES (str or iterable) -> one record per molecule, in order, as they are done (see `featurize_molecule`;
        errors are records). `num_proc` > 1 featurises in forked worker processes (molecules in parallel);
        `threads` (default `embed_threads`) parallelises one molecule's conformers with RDKit's own threads.
        """
        if self.feature_source != "rdkit":
            raise ValueError("this model was trained on precomputed feature tables (feature_source='precomputed'); "
                             "featurise new molecules with the same tool and pass the features to `pad`")
        if Chem is None:
            raise ImportError(RDKIT_MISSING)
        smiles = [smiles] if isinstance(smiles, str) else smiles
        threads = self.embed_threads if threads is None else int(threads)
        jobs = ((s, self.settings, return_coordinates, threads) for s in smiles)
        if num_proc > 1:
            import multiprocessing  # only for parallel featurisation

            with multiprocessing.get_context("fork").Pool(num_proc) as pool:
                yield from pool.imap(_featurize_job, jobs, chunksize=4)
        else:
            yield from map(_featurize_job, jobs)

    def featurize(self, smiles, num_proc: int = 1, return_coordinates: bool = False, progress=None, threads: Optional[int] = None) -> list:
        """`iter_featurize` as a list; `progress` wraps the iterator (e.g. a tqdm taking `total`)."""
        smiles = [smiles] if isinstance(smiles, str) else list(smiles)
        records = self.iter_featurize(smiles, num_proc=num_proc, return_coordinates=return_coordinates, threads=threads)
        return list(progress(records, total=len(smiles)) if progress else records)

    def pad(self, records: Sequence[dict], return_tensors: str = "pt", max_conformers: Optional[int] = None) -> BatchFeature:
        """
        Records (dicts with "x2d" (F2,) and "x3d" (n, F3)) -> {"x2d" (B, F2), "x3d" (B, N, F3), "conformer_mask"
        (B, N)}, N = the largest bag (or `max_conformers`; a larger bag is an error, never cut). A 2D-only record
        (no conformer) has an all-zero mask row: the model gives it its learned "no conformer" 3D embedding.
        """
        bad = [(i, r.get("smiles"), r.get("error")) for i, r in enumerate(records) if r.get("error") or r.get("x2d") is None]
        if bad:
            raise ValueError("molecules without features (index, SMILES, error): " + "; ".join(map(str, bad)))
        sizes = [len(r["x3d"]) for r in records]
        width = max(1, max(sizes, default=1)) if max_conformers is None else int(max_conformers)
        if any(s > width for s in sizes):
            raise ValueError(f"conformer bags must hold at most {width} conformers; got sizes {sizes}")
        x2d = np.stack([np.asarray(r["x2d"], dtype=np.float32) for r in records])
        if x2d.shape[1] != self.n_features_2d:
            raise ValueError(f"2D features have {x2d.shape[1]} columns, this featurizer {self.n_features_2d}")
        x3d = np.zeros((len(records), width, self.n_features_3d), dtype=np.float32)
        mask = np.zeros((len(records), width), dtype=np.int64)
        for i, r in enumerate(records):
            bag = np.asarray(r["x3d"], dtype=np.float32)
            if bag.ndim != 2 or bag.shape[1] != self.n_features_3d:
                raise ValueError(f"record {i}: 3D features must be (conformers, {self.n_features_3d}), got {bag.shape}")
            x3d[i, : len(bag)] = bag
            mask[i, : len(bag)] = 1
        data = {"x2d": x2d, "x3d": x3d, "conformer_mask": mask}
        if return_tensors == "pt":
            data = {k: torch.from_numpy(v) for k, v in data.items()}
        elif return_tensors != "np":
            raise ValueError(f"return_tensors must be 'pt' or 'np', got {return_tensors!r}")
        return BatchFeature(data)

    def encode_molecules(self, smiles, return_tensors: str = "pt", num_proc: int = 1) -> BatchFeature:
        """SMILES -> a model batch. Raises ValueError naming every molecule that could not be featurised."""
        return self.pad(self.featurize(smiles, num_proc=num_proc), return_tensors=return_tensors)

