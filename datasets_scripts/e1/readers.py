"""
Readers for real metal-binding data -> rows of `sequence`, `homologs`, `labels_<ion>` (-100 = not annotated), `id`, `family`.

    LMetalSite / GPSite three-line FASTA, one file per ion:  >id / SEQUENCE / 0010...   (`read_label_fasta`)
    .a3m homolog files, one per protein id in a folder       (`attach_a3m`)
    BioLiP-style annotation tables (tab-separated)           (`read_biolip`): ligand id in column 5, binding
        residues renumbered from 1 in column 9 ("C12 C15 H28 ..."), receptor sequence in the last column.
"""

import re
from pathlib import Path

from modeling.e1.tokenization_e1 import read_a3m

ION_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9]*)_")


def _unknown(length: int) -> list:
    return [-100] * length


def ion_of_file(path) -> str:
    """The ion a per-ion file is for, from its name's prefix: `ZN_Train_1647.fa` -> ZN, `fe_test.fa` -> FE."""
    match = ION_PREFIX.match(Path(path).name)
    if not match:
        raise ValueError(f"{path}: cannot tell the ion from the file name (expected a prefix such as 'ZN_'); "
                         "name it explicitly as ION=path")
    return match.group(1).upper()


def parse_ion_files(text: str) -> dict:
    """{ION: path} from 'ZN_Train.fa,CA_Train.fa' (ion from the prefix) or 'ZN=zn.fa,CA=ca.fa' (or a mix)."""
    out = {}
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        ion, sep, path = item.partition("=")
        ion, path = (ion.strip().upper(), path.strip()) if sep else (ion_of_file(item), item)
        if not ion or not ion.replace("_", "").isalnum():
            raise ValueError(f"{item!r}: the ion name must be letters/digits (e.g. ZN=zn.fa)")
        if not Path(path).is_file():
            raise FileNotFoundError(f"no such label FASTA: {path} (ion {ion})")
        if ion in out:
            raise ValueError(f"ion {ion} is given twice: {out[ion]} and {path}")
        out[ion] = path
    if not out:
        raise ValueError(f"no files in {text!r}")
    return out


def read_label_fasta(path, ion: str) -> dict:
    """{id: (sequence, labels)} of a three-line FASTA (`>id`, sequence, 0/1 string of the same length)."""
    numbered = [(n, line.strip()) for n, line in enumerate(Path(path).read_text().splitlines(), 1) if line.strip()]
    if not numbered:
        raise ValueError(f"{path}: empty file; expected a three-line FASTA (>id, sequence, 0/1 {ion} labels per record)")
    records = {}
    for k in range(0, len(numbered), 3):
        record = numbered[k: k + 3]
        (number, header), where = record[0], f"{path}:{record[0][0]}"
        if not header.startswith(">"):
            raise ValueError(f"{where}: expected a '>id' header, got {header[:30]!r}")
        name = header[1:].split()[0] if header[1:].split() else ""
        if not name:
            raise ValueError(f"{where}: empty '>' header")
        if len(record) < 3 or record[1][1].startswith(">") or record[2][1].startswith(">"):
            raise ValueError(f"{where}: record {name} has no {ion} label line; a three-line FASTA has >id, sequence and "
                             "a 0/1 label string per record (is this a plain FASTA?)")
        (_, sequence), (label_line, labels) = record[1], record[2]
        if set(labels) - {"0", "1"}:
            raise ValueError(f"{path}:{label_line}: the label line of {name} must be 0/1 only (a three-line FASTA: "
                             f">id, sequence, 0/1 labels; got {labels[:30]!r})")
        if not sequence.isalpha():
            raise ValueError(f"{path}:{record[1][0]}: the sequence of {name} has characters other than letters")
        if len(labels) != len(sequence):
            raise ValueError(f"{path}:{label_line}: {name} has {len(sequence)} residues but {len(labels)} labels")
        if name in records and records[name][0] != sequence.upper():
            raise ValueError(f"{where}: {name} appears twice with different sequences")
        records[name] = (sequence.upper(), [int(c) for c in labels])
    return records


def read_label_fastas(paths_by_ion: dict, ions=None) -> list:
    """
    Merge per-ion three-line FASTA files into rows; an ion without a file entry for a protein is unknown (-100).
    `ions`: the label columns to make (default: the files' ions, in order); a file for another ion is an error.
    """
    ions = [ion.upper() for ion in (ions or paths_by_ion)]
    merged = {}
    for ion, path in paths_by_ion.items():
        ion = ion.upper()
        if ion not in ions:
            raise ValueError(f"{path}: ion {ion} is not one of the model's ions {ions}")
        for name, (sequence, labels) in read_label_fasta(path, ion).items():
            row = merged.setdefault(name, {"id": name, "family": name, "sequence": sequence, "homologs": [],
                                           **{f"labels_{i.lower()}": _unknown(len(sequence)) for i in ions}})
            if row["sequence"] != sequence:
                raise ValueError(f"{path}: {name} has a different sequence than in another ion's file")
            row[f"labels_{ion.lower()}"] = labels
    return list(merged.values())


def attach_a3m(rows: list, folder, max_homologs=None) -> int:
    """Set `homologs` of each row from `<folder>/<id>.a3m` where it exists; returns how many rows got some."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"MSA folder not found: {folder}")
    found = 0
    for row in rows:
        path = folder / f"{row['id']}.a3m"
        if path.is_file():
            row["homologs"] = read_a3m(path, row["sequence"])[:max_homologs]
            found += bool(row["homologs"])
    return found


def read_biolip(path, ions) -> list:
    """
    Rows from a BioLiP-style table: one row per (receptor, ligand) binding site; rows of the same PDB id and chain
    form one protein. Ions of `ions` not listed for a chain are negatives (BioLiP lists every ligand of a chain).
    """
    ions = [ion.upper() for ion in ions]
    proteins = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        columns = line.rstrip("\n").split("\t")
        where = f"{path}:{number}"
        if len(columns) < 10:
            raise ValueError(f"{where}: expected a tab-separated BioLiP row (>= 10 columns), got {len(columns)}")
        pdb, chain, ligand, residues, sequence = columns[0], columns[1], columns[4].upper(), columns[8], columns[-1].strip().upper()
        if not sequence.isalpha():
            raise ValueError(f"{where}: the last column must be the receptor sequence")
        key = f"{pdb}_{chain}"
        row = proteins.setdefault(key, {"id": key, "family": key, "sequence": sequence, "homologs": [],
                                        **{f"labels_{i.lower()}": [0] * len(sequence) for i in ions}})
        if row["sequence"] != sequence:
            raise ValueError(f"{where}: {key} appears with two different receptor sequences")
        if ligand not in ions:
            continue
        for item in residues.split():
            aa, number_text = item[0].upper(), item[1:]
            if not number_text.isdigit():
                raise ValueError(f"{where}: binding residue {item!r} is not like 'C12' (renumbered from 1)")
            position = int(number_text) - 1
            if not 0 <= position < len(sequence):
                raise ValueError(f"{where}: residue {item} lies outside the {len(sequence)}-residue sequence of {key}")
            if sequence[position] != aa:
                raise ValueError(f"{where}: residue {item} but the sequence has {sequence[position]} at {position + 1}")
            row[f"labels_{ligand.lower()}"][position] = 1
    if not proteins:
        raise ValueError(f"{path}: no rows")
    return list(proteins.values())
