"""
Sample file formats read by the TissueBERT pipeline (and by biohf's data builders): the design notes' per-sample
`.npz`, and wgbstools `.beta` files aggregated over regions given as CpG-index ranges.

wgbstools `.beta`: a flat binary file of uint8 pairs, one pair per CpG of the reference genome in CpG-index order:
(number of methylated calls, coverage). A region BED for it has the columns `chr start end startCpG endCpG`
(0-based CpG indices, end exclusive; the output of `wgbstools convert`); the region mean is
sum(methylated) / sum(coverage) over its CpGs, missing (NaN) where the coverage is 0.

Illumina arrays (a probe x sample beta matrix, a GEO series matrix) name their CpGs by probe id (`cg08169020`):
`align_probes` puts such values in the order of a model's regions, missing where a probe is absent.
"""

import re
from pathlib import Path

import numpy as np


def check_states(states: np.ndarray, where: str) -> np.ndarray:
    """Methylation states must be numbers in {0, 1, 2} (0 unmethylated, 1 methylated, 2 no call)."""
    if states.dtype.kind not in "iuf" or not np.isin(states, (0, 1, 2)).all():
        bad = "a non-numeric array" if states.dtype.kind not in "iuf" else \
            f"{states[~np.isin(states, (0, 1, 2))].flat[0]!r} at {tuple(int(i) for i in np.argwhere(~np.isin(states, (0, 1, 2)))[0])}"
        raise ValueError(f"{where}: methylation states must be 0, 1 or 2 (no call), got {bad}")
    return states


def load_npz_sample(path) -> dict:
    """`{"methylation": (regions, 150) uint8, "dna_tokens": ... or None, "tissue_label": int or None}` of one sample file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in ("methylation", "dna_tokens", "tissue_label") if name in data.files}
            files = data.files
    except Exception as error:  # a truncated or foreign file: BadZipFile, zlib.error, EOFError, OSError, ValueError ...
        raise ValueError(f"{path}: not a readable .npz file ({type(error).__name__}: {error})") from None
    if "methylation" not in arrays:
        raise ValueError(f"{path}: no 'methylation' array (found {files}); expected the per-sample layout "
                         "with 'methylation' (regions, 150) and 'dna_tokens' (regions, 150)")
    label = arrays.get("tissue_label")
    if label is not None and (label.size != 1 or label.dtype.kind not in "iu"):
        raise ValueError(f"{path}: 'tissue_label' must be one integer, got {label.dtype} of shape {label.shape}")
    sample = {"methylation": arrays["methylation"], "dna_tokens": arrays.get("dna_tokens"),
              "tissue_label": None if label is None else int(label.reshape(()))}
    if sample["methylation"].ndim != 2:
        raise ValueError(f"{path}: 'methylation' must be (regions, positions), got shape {sample['methylation'].shape}")
    check_states(sample["methylation"], str(path))
    if sample["dna_tokens"] is not None and sample["dna_tokens"].shape != sample["methylation"].shape:
        raise ValueError(f"{path}: 'dna_tokens' {sample['dna_tokens'].shape} and 'methylation' "
                         f"{sample['methylation'].shape} differ in shape")
    return sample


def load_npy_sample(path) -> np.ndarray:
    """One sample's array from a `.npy` file (region means, or states): a truncated or pickled file is an error."""
    try:
        return np.load(path, allow_pickle=False)
    except Exception as error:  # EOFError, ValueError (pickled objects, a bad header), OSError ...
        raise ValueError(f"{path}: not a readable .npy array ({type(error).__name__}: {error})") from None


def read_beta(path) -> tuple:
    """(methylated calls, coverage) per CpG, two uint8 arrays, from a wgbstools `.beta` file."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % 2:
        raise ValueError(f"{path}: {raw.size} bytes is odd; a .beta file holds uint8 (methylated, coverage) pairs")
    pairs = raw.reshape(-1, 2)
    bad = pairs[:, 0] > pairs[:, 1]
    if bad.any():
        cpg = int(np.argmax(bad))
        raise ValueError(f"{path}: CpG {cpg} has {pairs[cpg, 0]} methylated calls but coverage {pairs[cpg, 1]}")
    return pairs[:, 0], pairs[:, 1]


_INTEGER = re.compile(r"[0-9]{1,15}")  # ASCII digits only: no sign, no '1_000', no other scripts' digits
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # control characters other than tab


def read_region_bed(path) -> tuple:
    """
    (names "chr:start-end", (regions, 2) int64 [startCpG, endCpG)) from a region BED with CpG-index columns 4-5.
    Only a first line whose columns 2-5 are all names (`start end startCpG endCpG`) is a header; any other line
    that is not five tab-separated fields with integers in columns 2-5 is an error naming the file and line.
    """
    path = Path(path)
    names, ranges = [], []
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as error:
        raise ValueError(f"{path}: cannot read the region BED ({error})") from None
    for number, raw in enumerate(lines, 1):
        try:
            line = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise ValueError(f"{path}:{number}: not UTF-8 text (a binary or UTF-16 file?); a region BED is tab-separated "
                             "text: chr start end startCpG endCpG") from None
        if _CONTROL.search(line):
            raise ValueError(f"{path}:{number}: a control character or NUL byte (a binary or UTF-16 file?); a region BED "
                             "is tab-separated text: chr start end startCpG endCpG")
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        fields = line.split("\t")
        if len(fields) < 5:
            raise ValueError(f"{path}:{number}: expected chr, start, end, startCpG, endCpG (tab-separated), got {len(fields)} column(s)")
        numbers = [f.strip() for f in fields[1:5]]
        if not all(_INTEGER.fullmatch(f) for f in numbers):
            if not names and not any(c.isdigit() for f in numbers for c in f) and numbers[0].lower() in ("start", "chromstart"):
                continue  # the header line
            raise ValueError(f"{path}:{number}: start, end, startCpG, endCpG must be non-negative integers, got {numbers}")
        start, end, first, last = (int(f) for f in numbers)
        if not fields[0].strip() or end <= start or last < first:
            raise ValueError(f"{path}:{number}: bad region {fields[:5]} (need a chromosome, start < end, startCpG <= endCpG)")
        names.append(f"{fields[0]}:{start}-{end}")
        ranges.append((first, last))
    if not ranges:
        raise ValueError(f"{path}: no regions")
    return names, np.asarray(ranges, dtype=np.int64)


def aggregate_beta(methylated: np.ndarray, coverage: np.ndarray, ranges, what: str = ".beta sample") -> tuple:
    """Region means (NaN where no coverage) and summed coverage over `[startCpG, endCpG)` ranges."""
    ranges = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
    if ranges.size and ranges[:, 1].max() > methylated.shape[0]:
        raise ValueError(f"{what}: regions reach CpG {int(ranges[:, 1].max())} but the .beta file has {methylated.shape[0]} CpGs "
                         "(a different reference genome?)")
    cum_methylated = np.concatenate([[0], np.cumsum(methylated, dtype=np.int64)])
    cum_coverage = np.concatenate([[0], np.cumsum(coverage, dtype=np.int64)])
    total = (cum_coverage[ranges[:, 1]] - cum_coverage[ranges[:, 0]]).astype(np.float32)
    hits = (cum_methylated[ranges[:, 1]] - cum_methylated[ranges[:, 0]]).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(total > 0, hits / np.maximum(total, 1), np.nan).astype(np.float32)
    return means, total


def align_probes(probes, values, regions, min_overlap: float, what: str = "sample") -> np.ndarray:
    """
    `values` (..., len(probes)) reordered to `regions` (the model's probe ids): (..., len(regions)) float32, NaN
    where a region's probe is absent (missing, never 0). Fewer than `min_overlap` of the regions present is an
    error that says how many are.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.shape[-1] != len(probes):
        raise ValueError(f"{what}: {values.shape[-1]} values for {len(probes)} probes")
    index = {probe: i for i, probe in enumerate(probes)}
    columns = np.array([index.get(region, -1) for region in regions], dtype=np.int64)
    found = int((columns >= 0).sum())
    if found < min_overlap * len(regions):
        raise ValueError(f"{what}: only {found:,} of the model's {len(regions):,} regions ({found / len(regions):.1%}) are "
                         f"among its {len(probes):,} probes; at least {min_overlap:.0%} are needed (a different array "
                         "or probe naming?)")
    aligned = np.full(values.shape[:-1] + (len(regions),), np.nan, dtype=np.float32)
    aligned[..., columns >= 0] = values[..., columns[columns >= 0]]
    return aligned
