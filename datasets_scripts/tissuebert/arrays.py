"""
Readers for the layouts methylation arrays (Illumina 450K / EPIC) are shipped in, into one `BetaMatrix`:

    beta matrix     CSV or TSV (optionally gzipped): a header, then one row per probe; the first column is the probe
                    id (`cg08169020`), every other column one sample or cell type; `NA` / empty = missing. The
                    layout of the Moss et al. 2018 reference atlas (`reference_atlas.csv`) and of most supplements.
    series matrix   a GEO `*_series_matrix.txt(.gz)`: `!Series_...` / `!Sample_...` header lines, then the table
                    between `!series_matrix_table_begin` and `!series_matrix_table_end` (`"ID_REF"` then one
                    column per GSM sample, values quoted or not, `null` / empty = missing).

Probe ids become a model's regions; `BetaMatrix.aligned` puts the samples in the order of a model trained on other
probes (missing where absent, an error when too few are shared). Nothing is skipped silently: a malformed row, a
value that is not a beta value, a duplicate sample is an error naming the file, line and column. A probe listed
twice with the same values (the Moss atlas lists a probe once per cell type it marks: 7,890 rows, 6,105 probes) is
kept once and counted (`BetaMatrix.repeated_rows`, reported); listed twice with different values, it is an error.
"""

import csv
import re
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from modeling.tissuebert.formats_tissuebert import align_probes

from .textfiles import beta_value, first_line, text_lines
TABLE_BEGIN, TABLE_END = "!series_matrix_table_begin", "!series_matrix_table_end"


@dataclass
class BetaMatrix:
    """Beta values of `samples` at `probes`: `values` (probes, samples) float32, NaN = missing."""

    probes: list
    samples: list
    values: np.ndarray
    source: str
    sample_info: dict = field(default_factory=dict)  # series matrix: {"!Sample_title": [...], ...} per sample
    repeated_rows: int = 0                            # rows that repeated an earlier probe's values (kept once)

    def column(self, name: str) -> np.ndarray:
        if name not in self.samples:
            raise ValueError(f"{self.source}: no column {name!r}; it has {self.samples}")
        return self.values[:, self.samples.index(name)]

    def select(self, names) -> "BetaMatrix":
        """The columns `names`, in that order (an absent name is an error listing the columns there are)."""
        missing = [n for n in names if n not in self.samples]
        if missing:
            raise ValueError(f"{self.source}: column(s) {missing} not found; it has {self.samples}")
        index = [self.samples.index(n) for n in names]
        return BetaMatrix(list(self.probes), list(names), self.values[:, index], self.source,
                          {k: [v[i] for i in index] for k, v in self.sample_info.items()}, self.repeated_rows)

    def aligned(self, regions, min_overlap: float) -> np.ndarray:
        """(samples, len(regions)) values in the order of `regions`, NaN where a probe is absent (`align_probes`)."""
        return align_probes(self.probes, self.values.T, regions, min_overlap, what=self.source)


def _parse_rows(rows, path: Path, header: list, first_line: int) -> tuple:
    """
    (probes, (probes, samples) float32, repeated rows) from rows of [probe id, value, ...]; errors name
    file:line:column. A repeated probe with the same values is kept once and counted; with other values, an error.
    """
    probes, values, seen, repeated = [], [], {}, 0
    width = len(header)
    for number, row in enumerate(rows, first_line):
        if not row or (len(row) == 1 and not row[0].strip()):
            raise ValueError(f"{path}:{number}: empty line inside the table")
        if len(row) != width:
            raise ValueError(f"{path}:{number}: {len(row)} columns, the header has {width}")
        probe = row[0].strip()
        if not probe or not probe.isprintable():
            raise ValueError(f"{path}:{number}: probe id {probe!r} is empty or holds a control character")
        parsed = [beta_value(text, f"{path}:{number}: column {column + 1} ({header[column]!r})")
                  for column, text in enumerate(row[1:], 1)]
        if probe in seen:
            earlier_line, earlier = seen[probe]
            if not np.array_equal(np.asarray(earlier), np.asarray(parsed), equal_nan=True):
                raise ValueError(f"{path}:{number}: probe {probe!r} is listed again with other values than on line {earlier_line}")
            repeated += 1
            continue
        seen[probe] = (number, parsed)
        probes.append(probe)
        values.append(parsed)
    if not probes:
        raise ValueError(f"{path}: no probe rows after the header")
    return probes, np.asarray(values, dtype=np.float32).reshape(len(probes), width - 1), repeated


def _check_header(header: list, path: Path) -> list:
    samples = [h.strip() for h in header[1:]]
    if not samples:
        raise ValueError(f"{path}: the header has no sample columns after the probe id column ({header})")
    if any(not s or not s.isprintable() for s in samples):
        raise ValueError(f"{path}: a sample column without a name, or with a control character, in the header ({header})")
    duplicated = sorted({s for s in samples if samples.count(s) > 1})
    if duplicated:
        raise ValueError(f"{path}: sample column(s) named twice: {duplicated}")
    return samples


def read_beta_matrix(path) -> BetaMatrix:
    """A probe x sample CSV / TSV (optionally .gz) of beta values (see the module docstring)."""
    path = Path(path)
    try:
        return _read_beta_matrix(path)
    except csv.Error as error:  # e.g. an unterminated quote that swallows the rest of the file
        raise ValueError(f"{path}: not a readable CSV / TSV table ({error}; an unterminated quote?)") from None


def _read_beta_matrix(path: Path) -> BetaMatrix:
    with closing(text_lines(path)) as handle:
        first = next(handle, "")
        if not first.strip():
            raise ValueError(f"{path}: empty file (or an empty first line); expected a header: probe id, then one column per sample")
        delimiter = "\t" if "\t" in first else ","
        header = next(csv.reader([first], delimiter=delimiter))
        if len(header) < 2:
            raise ValueError(f"{path}: one column in the header ({header!r}); expected a probe id column and one column "
                             "per sample, comma- or tab-separated")
        samples = _check_header(header, path)
        probes, values, repeated = _parse_rows(csv.reader(handle, delimiter=delimiter), path, header, 2)
    return BetaMatrix(probes, samples, values, f"beta matrix {path}", repeated_rows=repeated)


def read_series_matrix(path) -> BetaMatrix:
    """A GEO series-matrix file (see the module docstring); `!Sample_*` lines go to `sample_info`."""
    path = Path(path)
    try:
        return _read_series_matrix(path)
    except csv.Error as error:
        raise ValueError(f"{path}: not a readable series matrix ({error}; an unterminated quote?)") from None


def _read_series_matrix(path: Path) -> BetaMatrix:
    info = {}
    with closing(text_lines(path)) as handle:
        number = 0
        for number, line in enumerate(handle, 1):
            if line.startswith(TABLE_BEGIN):
                break
            if line.startswith("!Sample_"):
                key, *values = next(csv.reader([line.rstrip("\r\n")], delimiter="\t"))
                info.setdefault(key, []).append(values)
        else:
            raise ValueError(f"{path}: no {TABLE_BEGIN} line in {number} lines (not a GEO series matrix?)")
        reader = csv.reader(handle, delimiter="\t")
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{path}: nothing after {TABLE_BEGIN}") from None
        if not header or header[0].strip().upper() != "ID_REF":
            raise ValueError(f"{path}:{number + 1}: the table header must start with ID_REF, got {header[:1]!r}")
        samples = _check_header(header, path)
        rows, ended = [], False
        for row in reader:
            if row and row[0].startswith(TABLE_END):
                ended = True
                break
            rows.append(row)
        if not ended:
            raise ValueError(f"{path}: no {TABLE_END} line (a truncated download?)")
        for _ in handle:  # read to the end: a .gz file's checksum is verified there (a cut trailer is an error)
            pass
        probes, values, repeated = _parse_rows(rows, path, header, number + 2)
    sample_info = {}
    for key, lines in info.items():
        for k, entries in enumerate(lines):
            if len(entries) != len(samples):
                raise ValueError(f"{path}: {key} has {len(entries)} values for {len(samples)} samples")
            sample_info[key if len(lines) == 1 else f"{key}[{k}]"] = entries
    return BetaMatrix(probes, samples, values, f"series matrix {path}", sample_info, repeated)


def is_series_matrix(path) -> bool:
    path = Path(path)
    if "series_matrix" in path.name.lower():
        return True
    return first_line(path).startswith("!")


def read_array_matrix(path) -> BetaMatrix:
    """A beta matrix or a GEO series matrix, told apart by the name or the first line (`!`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    return read_series_matrix(path) if is_series_matrix(path) else read_beta_matrix(path)


def is_array_matrix(path) -> bool:
    """Whether `path` is a file in one of this module's layouts (by extension: .csv, .tsv, .txt, optionally .gz)."""
    name = Path(path).name.lower()
    return Path(path).is_file() and name.endswith((".csv", ".csv.gz", ".tsv", ".tsv.gz", ".txt", ".txt.gz"))


_COMPONENT = re.compile(r"([A-Za-z][A-Za-z_\-]*?)_?(\d+(?:\.\d+)?)(?=_|[A-Z]|$)")


def composition_from_name(name: str, tissues) -> dict:
    """
    The true composition a mixture's column name gives, e.g. `Adipo60Kidney30Prost10` -> {Adipocytes: 0.6,
    Kidney: 0.3, Prostate: 0.1} (the meth_atlas `examples.csv` convention). Each abbreviation must name exactly one
    of `tissues`: the one it starts, or the one with it as an `_`-separated word; the shares must sum to 100.
    """
    parts = _COMPONENT.findall(name)
    if not parts or "".join(f"{a}{b}" for a, b in parts).replace("_", "") != name.replace("_", ""):
        raise ValueError(f"mixture column {name!r}: expected tissue abbreviations with percentages, e.g. Monocytes90_Breast10")
    composition = {}
    for short, share in parts:
        key = short.strip("_").lower()
        matches = [t for t in tissues if t.lower().startswith(key)] or \
                  [t for t in tissues if key in re.split(r"[_\-]", t.lower())]
        if len(matches) != 1:
            raise ValueError(f"mixture column {name!r}: {short!r} names {'no' if not matches else 'several'} tissue(s) "
                             f"{matches or ''} of {list(tissues)}")
        composition[matches[0]] = composition.get(matches[0], 0.0) + float(share) / 100
    if abs(sum(composition.values()) - 1) > 1e-6:
        raise ValueError(f"mixture column {name!r}: the shares sum to {100 * sum(composition.values()):g}%, not 100%")
    return composition
