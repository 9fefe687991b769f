"""
Readers for the real formats mirLM users have. Each returns a column dict with the mirLM columns
(see `builder.FEATURES`) plus `source_family` (an annotated family, or "" — used only for grouping splits).
Every bad value raises `ValueError` (`BadRow`) naming the file, the line and the column.

* miRBench TSV (genomic-benchmarks/miRBench; Sammut et al. 2025): columns `gene` (50-nt target), `noncodingRNA`
  (miRNA), `noncodingRNA_fam`, `label`, optional `noncodingRNA_name`; other columns are ignored. No site
  coordinates: site_start/site_end = -1, site_type "unknown".
* MiRformer-style CSV/TSV (columns `miRNA sequence`, `mRNA sequence`, `label`, optional `seed start`,
  `seed end`, `miRNA ID`, `Transcript ID`; comma or tab separated, detected from the header).
  MiRformer writes `seed end = seed start + seed length`, i.e. an *exclusive* end (Python slice), so
  site_end = `seed end` - 1. Missing or -1 coordinates mean "no site".
* TargetNet TSV (Min et al. 2021; its README: tab separated, a header line that is not interpreted, then
  positional columns miRNA id, miRNA sequence, mRNA id, mRNA sequence, label[, split]). Detected by a tab
  header whose first four fields name a miRNA id/seq and an mRNA id/seq (e.g. mirna_id, mirna_seq, mrna_id,
  mrna_seq). The label is required here; the split column (train/val) is ignored: mirLM re-splits by
  miRNA family. TargetNet's evaluation sets hold whole 3'UTRs, which are usually too long (see below).
* 3'UTR FASTA: `read_fasta` streams (id, sequence) records for scanning with the mirLM pipeline.

Rows with a site span get the site type of that span from `sites_mirlm.classify_span` (a canonical type
or "non-canonical"); rows without one get "unknown". An mRNA longer than one model window (519 nt) is an
error, never a silent cut: scan long transcripts through FASTA + the pipeline.
Sequences may be RNA or DNA, any case; they are normalised with `MirLMTokenizer.normalize`.

The miRNA length limit is the model's `mirna_max_len` (`max_mirna_nt`, default 30: miRNAs and isomiRs are
15-30 nt). A row that cannot be used raises `BadRow`, a `ValueError` naming file, line, column and reason.
Given a list as `skipped`, the readers append each `BadRow` to it instead and go on (`--skip_bad_rows`), so
that the caller reports every skipped row; a bad header is always an error. Every row read carries its
`line` in the file.
"""

import csv
import gzip
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional, Tuple

from modeling.mirlm.sites_mirlm import classify_span
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer

MAX_MRNA_NT = 519  # MirLMConfig.mrna_max_len (520) minus the [MRNA_CLS] token
MAX_MIRNA_NT = 30  # the default MirLMConfig.mirna_max_len
MIN_MIRNA_NT = 8  # a seed needs nucleotides 2-8
COLUMNS = ("mrna", "mirna", "mirna_name", "mirna_family", "label", "site_start", "site_end", "site_type",
           "transcript_id", "source_family", "line")


def _open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8", newline="")


class Where(NamedTuple):
    path: object
    line: int
    column: Optional[str] = None

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}" + (f", column {self.column!r}" if self.column is not None else "")


_where = Where


class BadRow(ValueError):
    """A row that cannot be used; `where` (file, line, column) and `reason` are kept for the skip report."""

    def __init__(self, where: Where, reason: str):
        self.where, self.reason = where, reason
        super().__init__(f"{where}: {reason}")


def _skip(bad: BadRow, skipped: Optional[List[BadRow]]) -> None:
    """Collect `bad` when the caller asked to skip bad rows; raise it otherwise."""
    if skipped is None:
        raise bad
    skipped.append(bad)


def _sequence(value, where: Where, kind: str, max_mirna_nt: int = MAX_MIRNA_NT) -> str:
    try:
        seq = MirLMTokenizer.normalize((value or "").strip(), kind)
    except ValueError as error:
        raise BadRow(where, str(error)) from None
    if kind == "mRNA" and not seq:
        raise BadRow(where, "empty mRNA sequence")
    if kind == "mRNA" and len(seq) > MAX_MRNA_NT:
        raise BadRow(
            where, f"mRNA has {len(seq)} nt, more than the {MAX_MRNA_NT} nt of one mirLM window. Nothing is cut "
            "silently: put long transcripts in a FASTA file and scan them with read_fasta() and the "
            "'mirna-target-scan' pipeline, which slides windows over the transcript."
        )
    if kind == "miRNA" and not MIN_MIRNA_NT <= len(seq) <= max_mirna_nt:
        raise BadRow(where, f"miRNA has {len(seq)} nt; this mirLM takes {MIN_MIRNA_NT}-{max_mirna_nt} nt (its mirna_max_len)")
    return seq


def _label(value, where: str) -> int:
    try:
        number = float(str(value).strip())
    except ValueError:
        number = None
    if number not in (0.0, 1.0):
        raise BadRow(where, f"label must be 0 or 1, got {value!r}")
    return int(number)


def _coordinate(value, where: str) -> int:
    text = "" if value is None else str(value).strip()
    if text in ("", "nan", "NA", "None"):
        return -1
    try:
        number = float(text)
    except ValueError:
        raise BadRow(where, f"expected an integer position, got {value!r}") from None
    if number != int(number):
        raise BadRow(where, f"expected an integer position, got {value!r}")
    return int(number)


def _new_columns() -> dict:
    return {name: [] for name in COLUMNS}


def _append(columns: dict, *, mrna, mirna, name, label, start, end, transcript_id, line, source_family=""):
    columns["mrna"].append(mrna)
    columns["mirna"].append(mirna)
    columns["mirna_name"].append(name)
    columns["mirna_family"].append(mirna[1:8])
    columns["label"].append(label)
    columns["site_start"].append(start)
    columns["site_end"].append(end)
    columns["site_type"].append(classify_span(mrna, mirna, start, end) if start >= 0 else "unknown")
    columns["transcript_id"].append(transcript_id)
    columns["source_family"].append(source_family)
    columns["line"].append(line)


def _header_rows(path: Path, delimiter: str, required: Tuple[str, ...]):
    """Yield (line number, row dict) of a delimited file, after checking `required` columns exist."""
    with _open_text(path) as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{_where(path, 1)}: missing column(s) {missing}; header is {reader.fieldnames}")
        for row in reader:
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue  # blank line
            yield reader.line_num, row


def sniff_delimiter(header_line: str) -> str:
    return "\t" if "\t" in header_line else ","


def read_mirbench_tsv(path, *, max_mirna_nt: int = MAX_MIRNA_NT, skipped: Optional[List[BadRow]] = None) -> dict:
    """miRBench TSV -> column dict (no site coordinates); the family column is optional, other columns are ignored."""
    path, columns = Path(path), _new_columns()
    for line, row in _header_rows(path, "\t", ("gene", "noncodingRNA", "label")):
        try:
            mrna = _sequence(row["gene"], _where(path, line, "gene"), "mRNA")
            mirna = _sequence(row["noncodingRNA"], _where(path, line, "noncodingRNA"), "miRNA", max_mirna_nt)
            label = _label(row["label"], _where(path, line, "label"))
        except BadRow as bad:
            _skip(bad, skipped)
            continue
        family = (row.get("noncodingRNA_fam") or "").strip()
        name = (row.get("noncodingRNA_name") or "").strip() or family
        _append(columns, mrna=mrna, mirna=mirna, name=name, label=label, start=-1, end=-1,
                transcript_id=(row.get("id") or "").strip() or f"{path.name}:{line}", line=line, source_family=family)
    return columns


def read_mirformer_csv(path, *, max_mirna_nt: int = MAX_MIRNA_NT, skipped: Optional[List[BadRow]] = None) -> dict:
    """MiRformer-style CSV/TSV -> column dict; `seed end` is exclusive and becomes an inclusive site_end."""
    path, columns = Path(path), _new_columns()
    with _open_text(path) as handle:
        delimiter = sniff_delimiter(handle.readline())
    for line, row in _header_rows(path, delimiter, ("miRNA sequence", "mRNA sequence", "label")):
        try:
            mrna = _sequence(row["mRNA sequence"], _where(path, line, "mRNA sequence"), "mRNA")
            mirna = _sequence(row["miRNA sequence"], _where(path, line, "miRNA sequence"), "miRNA", max_mirna_nt)
            label = _label(row["label"], _where(path, line, "label"))
            start = _coordinate(row.get("seed start"), _where(path, line, "seed start"))
            stop = _coordinate(row.get("seed end"), _where(path, line, "seed end"))
            if start >= 0 or stop >= 0:
                if label == 0:
                    raise BadRow(_where(path, line, "seed start"), "a negative (label 0) row has a seed site")
                if not 0 <= start < stop <= len(mrna):
                    raise BadRow(_where(path, line, "seed end"), f"seed [{start}, {stop}) (end exclusive) is not "
                                                                  f"inside the {len(mrna)}-nt mRNA")
                start, end = start, stop - 1
            else:
                start, end = -1, -1
        except BadRow as bad:
            _skip(bad, skipped)
            continue
        _append(columns, mrna=mrna, mirna=mirna, name=(row.get("miRNA ID") or "").strip(), label=label,
                start=start, end=end, transcript_id=(row.get("Transcript ID") or "").strip() or f"{path.name}:{line}",
                line=line)
    return columns


def read_targetnet_tsv(path, *, max_mirna_nt: int = MAX_MIRNA_NT, skipped: Optional[List[BadRow]] = None) -> dict:
    """TargetNet TSV (positional: mirna_id, mirna_seq, mrna_id, mrna_seq, label[, split]) -> column dict."""
    path, columns = Path(path), _new_columns()
    names = ("mirna_id", "mirna_seq", "mrna_id", "mrna_seq", "label")
    with _open_text(path) as handle:
        reader = csv.reader(handle, delimiter="\t")
        next(reader, None)  # header line, not interpreted (as in TargetNet)
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            try:
                if len(fields) < len(names):
                    raise BadRow(_where(path, line), f"expected at least {len(names)} tab-separated columns "
                                                     f"({', '.join(names)}), got {len(fields)}")
                mirna = _sequence(fields[1], _where(path, line, "mirna_seq"), "miRNA", max_mirna_nt)
                mrna = _sequence(fields[3], _where(path, line, "mrna_seq"), "mRNA")
                label = _label(fields[4], _where(path, line, "label"))
            except BadRow as bad:
                _skip(bad, skipped)
                continue
            _append(columns, mrna=mrna, mirna=mirna, name=fields[0].strip(), label=label, start=-1, end=-1,
                    transcript_id=fields[2].strip() or f"{path.name}:{line}", line=line)
    return columns


def read_fasta(path) -> Iterator[Tuple[str, str]]:
    """Stream (id, normalised sequence) records of a (gzipped) FASTA file; any length."""
    path = Path(path)
    with _open_text(path) as handle:
        record, chunks, first_line = None, [], 0
        for line_number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                if record is not None:
                    yield record, MirLMTokenizer.normalize("".join(chunks), f"{path}, record {record!r} (line {first_line})")
                record, chunks, first_line = line[1:].split()[0] if line[1:].strip() else "", [], line_number
                if not record:
                    raise ValueError(f"{_where(path, line_number)}: FASTA header without an id")
            elif record is None:
                raise ValueError(f"{_where(path, line_number)}: sequence data before the first '>' header")
            else:
                chunks.append(line)
        if record is not None:
            yield record, MirLMTokenizer.normalize("".join(chunks), f"{path}, record {record!r} (line {first_line})")


FORMATS = {
    "mirbench": (("gene", "noncodingRNA", "label"), read_mirbench_tsv),
    "mirformer": (("miRNA sequence", "mRNA sequence", "label"), read_mirformer_csv),
    "targetnet": (None, read_targetnet_tsv),
}
FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fas")


def _looks_like_targetnet(fields: list) -> bool:
    """TargetNet reads its header positionally; accept any 'miRNA id, miRNA seq, mRNA id, mRNA seq' header."""
    low = [f.lower() for f in fields[:4]]
    return len(fields) >= 5 and "mirna" in low[0] and "seq" in low[1] and "mrna" in low[2] and "seq" in low[3]


def detect_format(path) -> str:
    """'mirbench' | 'mirformer' | 'targetnet' | 'fasta', from the extension and the header line."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in FASTA_SUFFIXES:
        return "fasta"
    with _open_text(path) as handle:
        header = handle.readline().rstrip("\r\n")
    if header.startswith(">"):
        return "fasta"
    fields = [f.strip() for f in header.split(sniff_delimiter(header))]
    for name, (required, _) in FORMATS.items():
        if required is not None and all(c in fields for c in required):
            return name
    if "\t" in header and _looks_like_targetnet(fields):
        return "targetnet"
    raise ValueError(
        f"{_where(path, 1)}: unrecognised header {fields}. Expected a miRBench TSV (gene, noncodingRNA, label, ...), "
        "a MiRformer CSV (miRNA sequence, mRNA sequence, label[, seed start, seed end]) or a TargetNet TSV "
        "(mirna_id, mirna_seq, mrna_id, mrna_seq, label)."
    )


def read_table(path, *, max_mirna_nt: int = MAX_MIRNA_NT, skipped: Optional[List[BadRow]] = None) -> dict:
    """Read any supported labelled file into a column dict (FASTA is for scanning, not training); see the module docstring."""
    kind = detect_format(path)
    if kind == "fasta":
        raise ValueError(f"{path}: a FASTA file has no miRNAs or labels, so it cannot become a training set; "
                         "scan it with read_fasta() and the 'mirna-target-scan' pipeline instead")
    return FORMATS[kind][1](path, max_mirna_nt=max_mirna_nt, skipped=skipped)
