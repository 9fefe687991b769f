"""
Readers for methylation samples in the formats people have, all into one `SampleTable` (region means per sample).

    npz folder      one `.npz` per sample (`file_042_Liver.npz`: `methylation` (regions, 150) states 0/1/2,
                    `dna_tokens` (regions, 150), optional `tissue_label`) + `metadata.csv`
    HDF5            `dna_tokens` (N, 150), `methylation` (S, N, 150), `tissue_labels` (S,), `filenames` (S,)
                    (+ `metadata.csv` beside it, or the file's `tissues` attribute for the label names)
    .beta folder    wgbstools `.beta` files + `regions.bed` (chr start end startCpG endCpG) + `metadata.csv`
    beta table      region x sample TSV: `chr start end [startCpG endCpG ...]` then one column of beta values per
                    sample (NA = missing), the layout of `wgbstools beta_to_table`; samples named in `metadata.csv`

`metadata.csv` has the columns `filename`, `tissue` and optionally `tissue_index`, `group` (augmentation group:
every copy of a sample shares it; default: the file's own stem) and `subtype`.
"""

import csv
import re
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from tqdm.auto import tqdm

from modeling.tissuebert.configuration_tissuebert import TISSUES
from modeling.tissuebert.formats_tissuebert import check_states, aggregate_beta, load_npz_sample, read_beta, read_region_bed
from modeling.tissuebert.tokenization_tissuebert import region_means

from .textfiles import beta_value, text_lines

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters other than tab


@dataclass
class SampleTable:
    """Samples as region means. `methylation(i)` / `dna_tokens` exist only for formats that keep per-position states."""

    filenames: list
    tissues: tuple                  # label names, in label-id order
    tissue_index: np.ndarray        # (S,) label ids from the tissue names
    groups: list                    # augmentation group per sample
    means: np.ndarray               # (S, N) float32, NaN = region without a call
    coverage: np.ndarray            # (S, N) calls (or reads) per region
    region_names: list
    source: str
    region_cpg_ranges: Optional[np.ndarray] = None
    subtypes: Optional[list] = None
    metadata_index: Optional[np.ndarray] = None   # tissue_index column of the metadata, as written (-1 = absent)
    file_labels: Optional[np.ndarray] = None      # label stored inside the data file(s) (-1 = none)
    dna_tokens: Optional[np.ndarray] = None       # (N, L) 3-mer ids, shared by every sample
    methylation: Optional[Callable] = field(default=None, repr=False)  # i -> (N, L) uint8 states
    proportions: Optional[np.ndarray] = None      # (S, tissues) mixture composition (simulated samples)
    depth: Optional[np.ndarray] = None            # (S,) mean reads per CpG of a simulated sample (inf = array-like)

    @property
    def num_samples(self) -> int:
        return len(self.filenames)

    @property
    def num_regions(self) -> int:
        return self.means.shape[1]


def label_names(tissues: list) -> tuple:
    """The label order: the default 22 tissues' order when all names are among them, else sorted names."""
    names = set(tissues)
    return TISSUES if names <= set(TISSUES) else tuple(sorted(names))


def read_metadata(path) -> dict:
    """
    `metadata.csv` -> {"filename", "tissue", "group", "subtype", "tissue_index"} lists. Every row must have the
    header's columns (a row cut short or with extra fields is an error naming the line), and no field may hold a
    control character (a quoted field swallowing line breaks, a binary file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no metadata file {path}: it needs the columns filename, tissue (optionally tissue_index, group, subtype)")
    try:
        with closing(text_lines(path)) as lines:
            table = list(csv.reader(lines))
    except csv.Error as error:
        raise ValueError(f"{path}: not a readable CSV file ({error})") from None
    header = [h.strip() for h in table[0]] if table else []
    missing = {"filename", "tissue"} - set(header)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}; found {header}")
    if len(set(header)) != len(header):
        raise ValueError(f"{path}: a column named twice in the header {header}")
    rows = [(number, row) for number, row in enumerate(table[1:], 2) if any(field.strip() for field in row)]
    if not rows:
        raise ValueError(f"{path}: no samples")
    columns = {"filename": [], "tissue": [], "group": [], "subtype": [], "tissue_index": []}
    for number, fields in rows:
        if len(fields) != len(header):
            raise ValueError(f"{path}:{number}: {len(fields)} field(s), the header has {len(header)} ({', '.join(header)}); "
                             "a row cut short or with extra commas")
        if any(_CONTROL.search(field) for field in fields):
            raise ValueError(f"{path}:{number}: a field holds a control character or line break (an unterminated quote?)")
        row = dict(zip(header, (field.strip() for field in fields)))
        if not row["filename"] or not row["tissue"]:
            raise ValueError(f"{path}:{number}: empty filename or tissue")
        columns["filename"].append(row["filename"])
        columns["tissue"].append(row["tissue"])
        columns["group"].append(row.get("group") or Path(row["filename"]).stem)
        columns["subtype"].append(row.get("subtype") or row["tissue"])
        index = row.get("tissue_index", "")
        if index and not re.fullmatch(r"[0-9]{1,9}", index):
            raise ValueError(f"{path}:{number}: tissue_index {index!r} is not a non-negative integer")
        columns["tissue_index"].append(int(index) if index else -1)
    duplicated = {f for f, n in Counter(columns["filename"]).items() if n > 1}
    if duplicated:
        raise ValueError(f"{path}: filename(s) listed twice: {sorted(duplicated)[:5]}")
    return columns


def _table(meta: dict, means, coverage, region_names, source, **extra) -> SampleTable:
    tissues = label_names(meta["tissue"])
    return SampleTable(
        filenames=list(meta["filename"]), tissues=tissues,
        tissue_index=np.array([tissues.index(t) for t in meta["tissue"]], dtype=np.int64),
        groups=list(meta["group"]), subtypes=list(meta["subtype"]), means=np.asarray(means, dtype=np.float32),
        coverage=np.asarray(coverage, dtype=np.float32), region_names=list(region_names), source=source,
        metadata_index=np.asarray(meta["tissue_index"], dtype=np.int64), **extra)


def read_npz_folder(folder, metadata=None, progress: bool = True) -> SampleTable:
    """A folder of per-sample `.npz` files listed in `metadata.csv` (default: the folder's own)."""
    folder = Path(folder)
    meta = read_metadata(metadata or folder / "metadata.csv")
    means, coverage, labels, dna_tokens = [], [], [], None
    for name in tqdm(meta["filename"], desc=f"reading {folder.name}", disable=not progress, leave=False):
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: listed in the metadata but not in {folder}")
        sample = load_npz_sample(path)
        if dna_tokens is None:
            dna_tokens = sample["dna_tokens"]
        if means and sample["methylation"].shape[0] != len(means[0]):
            raise ValueError(f"{path}: {sample['methylation'].shape[0]} regions, the first file has {len(means[0])}")
        m, c = region_means(sample["methylation"])
        means.append(m)
        coverage.append(c)
        labels.append(-1 if sample["tissue_label"] is None else sample["tissue_label"])
    bed = folder / "regions.bed"
    region_names, ranges = read_region_bed(bed) if bed.is_file() else ([f"region_{r}" for r in range(len(means[0]))], None)
    files = [folder / name for name in meta["filename"]]
    return _table(meta, means, coverage, region_names, f"npz folder {folder}", file_labels=np.array(labels),
                  dna_tokens=dna_tokens, region_cpg_ranges=ranges,
                  methylation=lambda i: load_npz_sample(files[i])["methylation"])


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("reading HDF5 needs h5py: pip install 'biohf[methylation]' (or pip install h5py)") from None
    return h5py


def _read_hdf5_arrays(h5py, path: Path, progress: bool) -> tuple:
    with h5py.File(path, "r") as handle:
        missing = {"methylation", "tissue_labels"} - set(handle)
        if missing:
            raise ValueError(f"{path}: missing dataset(s) {sorted(missing)}; found {sorted(handle)}")
        methylation = handle["methylation"]
        if methylation.ndim != 3:
            raise ValueError(f"{path}: 'methylation' must be (samples, regions, positions), got {methylation.shape}")
        labels = handle["tissue_labels"][:]
        if labels.ndim != 1 or labels.shape[0] != methylation.shape[0] or labels.dtype.kind not in "iu":
            raise ValueError(f"{path}: 'tissue_labels' must be {methylation.shape[0]} integers (one per sample), got "
                             f"{labels.dtype} of shape {labels.shape}")
        labels = labels.astype(np.int64)
        filenames = [f.decode() if isinstance(f, bytes) else str(f) for f in handle["filenames"][:]] \
            if "filenames" in handle else [f"sample_{i:04d}" for i in range(len(labels))]
        names = [str(t) for t in handle.attrs.get("tissues", [])]
        region_names = [r.decode() if isinstance(r, bytes) else str(r) for r in handle["regions"][:]] \
            if "regions" in handle else [f"region_{r}" for r in range(methylation.shape[1])]
        dna_tokens = handle["dna_tokens"][:] if "dna_tokens" in handle else None
        means, coverage = np.empty(methylation.shape[:2], np.float32), np.empty(methylation.shape[:2], np.float32)
        for i in tqdm(range(methylation.shape[0]), desc=f"reading {path.name}", disable=not progress, leave=False):
            means[i], coverage[i] = region_means(check_states(methylation[i], f"{path}: sample {i}"))
        if len(filenames) != len(labels) or len(region_names) != methylation.shape[1]:
            raise ValueError(f"{path}: {len(filenames)} filenames and {len(region_names)} regions for 'methylation' of shape "
                             f"{methylation.shape}")
    return labels, filenames, names, region_names, dna_tokens, means, coverage


def read_hdf5(path, metadata=None, progress: bool = True) -> SampleTable:
    """The notes' HDF5 layout (see the module docstring); labels from `metadata.csv` beside it if there is one."""
    h5py = _h5py()
    path = Path(path)
    try:
        contents = _read_hdf5_arrays(h5py, path, progress)
    except (OSError, UnicodeDecodeError) as error:  # h5py: a truncated or foreign file, a damaged dataset, bad names
        raise ValueError(f"{path}: not a readable HDF5 file ({type(error).__name__}: {error})") from None
    labels, filenames, names, region_names, dna_tokens, means, coverage = contents
    sidecar = Path(metadata) if metadata else path.with_name("metadata.csv")
    if sidecar.is_file():
        meta = read_metadata(sidecar)
        if meta["filename"] != filenames:
            raise ValueError(f"{sidecar}: filenames differ from {path}'s 'filenames' (order matters)")
    else:
        if not names:
            raise ValueError(f"{path}: no metadata.csv beside it and no 'tissues' attribute to name the labels")
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise ValueError(f"{path}: tissue_labels range {labels.min()}..{labels.max()} but the 'tissues' attribute "
                             f"names {len(names)} tissues")
        meta = {"filename": filenames, "tissue": [names[i] for i in labels], "group": [Path(f).stem for f in filenames],
                "subtype": [names[i] for i in labels], "tissue_index": list(labels)}

    def load(i):
        with h5py.File(path, "r") as handle:
            return handle["methylation"][i]

    return _table(meta, means, coverage, region_names, f"HDF5 {path}", file_labels=labels, dna_tokens=dna_tokens,
                  methylation=load)


def read_beta_folder(folder, regions_bed=None, metadata=None, progress: bool = True) -> SampleTable:
    """wgbstools `.beta` files listed in `metadata.csv`, aggregated over `regions.bed` (defaults: in the folder)."""
    folder = Path(folder)
    meta = read_metadata(metadata or folder / "metadata.csv")
    region_names, ranges = read_region_bed(regions_bed or folder / "regions.bed")
    means, coverage = [], []
    for name in tqdm(meta["filename"], desc=f"reading {folder.name}", disable=not progress, leave=False):
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: listed in the metadata but not in {folder}")
        m, c = aggregate_beta(*read_beta(path), ranges, what=str(path))
        means.append(m)
        coverage.append(c)
    return _table(meta, means, coverage, region_names, f".beta folder {folder}", region_cpg_ranges=ranges)


ANNOTATION_COLUMNS = {"chr", "start", "end", "startcpg", "endcpg", "target", "name", "direction", "region", "gene"}


def parse_beta_table(path) -> tuple:
    """
    A region x sample TSV -> (sample names, region names, (samples, regions) float32 means with NaN for NA,
    [startCpG, endCpG) ranges or None). Sample columns are those not named like annotations (`ANNOTATION_COLUMNS`).
    """
    path = Path(path)
    with closing(text_lines(path)) as lines:
        header = [h.strip() for h in next(lines, "").rstrip("\r\n").split("\t")]
        lower = [h.lower() for h in header]
        if lower[:3] != ["chr", "start", "end"]:
            raise ValueError(f"{path}: the first columns must be chr, start, end (tab-separated); got {header[:3]}")
        columns = [i for i, name in enumerate(lower) if name not in ANNOTATION_COLUMNS]
        if len(set(header)) != len(header):
            raise ValueError(f"{path}: a column named twice in the header {header}")
        cpg = "startcpg" in lower and "endcpg" in lower
        names, values, ranges = [], [], []
        for number, line in enumerate(lines, 2):
            if _CONTROL.search(line.rstrip("\r\n")):
                raise ValueError(f"{path}:{number}: a control character (a binary file?); a beta table is tab-separated text")
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != len(header):
                raise ValueError(f"{path}:{number}: {len(fields)} columns, the header has {len(header)}")
            positions = [fields[1], fields[2]] + ([fields[lower.index("startcpg")], fields[lower.index("endcpg")]] if cpg else [])
            if not all(re.fullmatch(r"[0-9]{1,15}", f.strip()) for f in positions):
                raise ValueError(f"{path}:{number}: start, end{', startCpG, endCpG' if cpg else ''} must be non-negative "
                                 f"integers, got {positions}")
            names.append(f"{fields[0]}:{fields[1].strip()}-{fields[2].strip()}")
            values.append([beta_value(fields[c], f"{path}:{number}: column {c + 1} ({header[c]!r})") for c in columns])
            if cpg:
                ranges.append((int(positions[2]), int(positions[3])))
    means = np.asarray(values, dtype=np.float32).reshape(len(names), len(columns)).T
    return [header[c] for c in columns], names, means, (np.asarray(ranges, dtype=np.int64) if cpg else None)


def read_beta_table(path, metadata=None) -> SampleTable:
    """A region x sample TSV of beta values (see the module docstring); `metadata.csv` beside it names the samples."""
    path = Path(path)
    meta = read_metadata(metadata or path.with_name("metadata.csv"))
    samples, names, means, ranges = parse_beta_table(path)
    missing = [f for f in meta["filename"] if f not in samples]
    if missing:
        raise ValueError(f"{path}: sample column(s) {missing[:5]} of the metadata are not in the table header; its sample "
                         f"columns are {samples[:20]}")
    unlabelled = [s for s in samples if s not in meta["filename"]]
    if unlabelled:
        raise ValueError(f"{path}: sample column(s) {unlabelled[:5]} have no row in the metadata (filename, tissue); "
                         "add them or remove them from the table")
    means = means[[samples.index(f) for f in meta["filename"]]]
    return _table(meta, means, (~np.isnan(means)).astype(np.float32), names, f"beta table {path}", region_cpg_ranges=ranges)


def detect_format(path) -> str:
    """'npz', 'hdf5', 'beta' or 'table' for a path, from its kind and extension."""
    path = Path(path)
    if path.is_dir():
        if any(path.glob("*.npz")):
            return "npz"
        if any(path.glob("*.beta")):
            return "beta"
        raise ValueError(f"{path}: a folder without .npz or .beta files")
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {path}")
    suffixes = "".join(path.suffixes).lower()
    if suffixes.endswith((".h5", ".hdf5")):
        return "hdf5"
    if suffixes.endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz")):
        return "table"
    raise ValueError(f"{path}: unknown format; give a folder of .npz or .beta files, an .h5/.hdf5 file or a .tsv table")


def read_samples(path, metadata=None, regions_bed=None, progress: bool = True) -> SampleTable:
    """Any supported format (`detect_format`)."""
    kind = detect_format(path)
    if kind == "npz":
        return read_npz_folder(path, metadata, progress)
    if kind == "hdf5":
        return read_hdf5(path, metadata, progress)
    if kind == "beta":
        return read_beta_folder(path, regions_bed, metadata, progress)
    return read_beta_table(path, metadata)
