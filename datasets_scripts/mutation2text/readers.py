"""
Real formats -> the columns of the embedded data (protein_id, wild_type, mutation, mutant, question, answer, effect,
motif; effect/motif are "" when unknown). Every row is validated (sequences, the mutation against the wild type)
and an error names the file, the line and what is wrong.

    JSONL (the Mutation2Text notes): one object per line with `wild_type_seq`, `mutation_seq` (the mutant, may be
        "None" or missing when a `mutation` field such as "K45A" is given) and either `text_description` (the
        answer; a `<delta_P>` in it is dropped, the processor puts the placeholder in the prompt) or LLaVA-style
        `conversations` [{"from": "human", "value": "<delta_P>\\n question"}, {"from": "gpt", "value": answer}].
        With `mutation_seq` "None" and no `mutation` field, the first substitution written in the question or
        answer (e.g. "K45A", "p.Lys45Ala") is used. Optional `protein_id` / `uniprot_id` group rows by protein.
    MutaDescribe CSV (MutaPLM's release, as published): leading unnamed index columns ("", "Unnamed: 0", ...,
        written by pandas) are ignored; `entry` = "ACCESSION-A123V" (UniProt accession - substitution), checked
        against `protein1` (wild type) and `protein2` (mutant); the text from `text_column` (default
        `uniprot_description`, UniProt's short wording; `GPT_description` the long one, `all_description` both, as
        MutaPLM trains on); with `with_function`, the first sentence of `function` (the wild type's UniProt function)
        goes into the prompt's question. The accession groups rows by protein. Other columns (rank, protein_name, ...)
        are not read. Proteins are never cut: the processor refuses one longer than `protein_max_length`.
"""

import csv
import json
import logging
import re
from pathlib import Path
from typing import Optional

from modeling.mutation2text.processing_mutation2text import DEFAULT_QUESTION
from modeling.mutation2text.mutations_mutation2text import (
    check_sequence, diff_mutations, format_mutations, parse_mutations, validate_mutations,
)

logger = logging.getLogger("biohf.mutation2text")
COLUMNS = ("protein_id", "wild_type", "mutation", "mutant", "question", "answer", "effect", "motif")
TEXT_COLUMN = "uniprot_description"
TEXT_COLUMNS = ("uniprot_description", "GPT_description", "all_description")
_INDEX_COLUMN = re.compile(r"^(|Unnamed: \d+(\.\d+)?)$")  # what pandas writes for an index: "", "Unnamed: 0", "Unnamed: 0.1"
_ENTRY_MUTATION = re.compile(r"^[ACDEFGHIKLMNPQRSTVWY]\d+[ACDEFGHIKLMNPQRSTVWY]$")
_FIRST_SENTENCE = re.compile(r".+?[.;](?=\s|$)", re.DOTALL)
_WRITTEN_SUBSTITUTION = re.compile(r"\b(?:p\.)?(?:[A-Z][a-z]{2}|[ACDEFGHIKLMNPQRSTVWY])\d+(?:[A-Z][a-z]{2}|[ACDEFGHIKLMNPQRSTVWY])\b")
NONE_VALUES = {"", "none", "null", "nan"}


def _row(where: str, protein_id: str, wild_type: str, mutation, mutant, question: str, answer: str) -> dict:
    try:
        wild_type = check_sequence(wild_type, "wild type")
        if mutant is not None and str(mutant).strip().lower() not in NONE_VALUES:
            mutant = check_sequence(mutant, "mutant")
            substitutions = diff_mutations(wild_type, mutant)
            if mutation is not None and parse_mutations(mutation) != substitutions:
                raise ValueError(f"mutation {mutation!r} does not match the mutant sequence (which differs from the "
                                 f"wild type by {format_mutations(substitutions) or 'nothing'})")
        elif mutation is not None:
            substitutions = validate_mutations(wild_type, parse_mutations(mutation))
        else:
            raise ValueError("no mutant sequence and no mutation string")
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if not answer or not answer.strip():
        raise ValueError(f"{where}: empty description")
    residues = list(wild_type)
    for s in substitutions:
        residues[s.position - 1] = s.mutant
    return {"protein_id": protein_id or wild_type, "wild_type": wild_type, "mutation": format_mutations(substitutions),
            "mutant": "".join(residues), "question": question or DEFAULT_QUESTION, "answer": answer.strip(),
            "effect": "", "motif": ""}


def _columns(rows: list) -> dict:
    return {name: [row[name] for row in rows] for name in COLUMNS}


def read_jsonl(path) -> dict:
    path, rows = Path(path), []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{where}: not JSON ({error.msg})") from None
            if "wild_type_seq" not in record:
                raise ValueError(f"{where}: no 'wild_type_seq' field")
            question = None
            if "conversations" in record:
                turns = record["conversations"]
                human = [t["value"] for t in turns if t.get("from") in ("human", "user")]
                answers = [t["value"] for t in turns if t.get("from") in ("gpt", "assistant")]
                if not human or not answers:
                    raise ValueError(f"{where}: 'conversations' needs a human and a gpt turn")
                question, answer = human[0].replace("<delta_P>", "").strip(), answers[0]
            elif "text_description" in record:
                answer = record["text_description"].replace("<delta_P>", "").strip()
            else:
                raise ValueError(f"{where}: needs 'text_description' or 'conversations'")
            mutation = record.get("mutation")
            mutant = record.get("mutation_seq")
            if mutation is None and (mutant is None or str(mutant).strip().lower() in NONE_VALUES):
                written = _WRITTEN_SUBSTITUTION.search(f"{question or ''} {answer}")
                if written is None:
                    raise ValueError(f"{where}: mutation_seq is None and no substitution (e.g. K45A) is written in the text")
                mutation = written.group(0)
            protein_id = str(record.get("protein_id") or record.get("uniprot_id") or "")
            rows.append(_row(where, protein_id, record["wild_type_seq"], mutation, mutant, question, answer))
    if not rows:
        raise ValueError(f"{path}: no records")
    return _columns(rows)


def _index_column(name: str) -> bool:
    return name is not None and _INDEX_COLUMN.match(name) is not None


def _function_question(function: str) -> str:
    """The prompt question with the wild type's function (its first sentence) in front."""
    first = _FIRST_SENTENCE.match(function.strip())
    return f"Function of the protein: {first.group(0).strip() if first else function.strip()}\n{DEFAULT_QUESTION}"


def iter_mutadescribe_csv(path, text_column: Optional[str] = TEXT_COLUMN, with_function: bool = False,
                          skip_empty_text: bool = False, skipped: Optional[list] = None):
    """
    Stream a MutaDescribe CSV as (line number, row) pairs, each row with the columns of `COLUMNS` plus `entry`.
    `text_column=None` reads no text (prediction): `answer` is "". A row whose text is empty is an error naming its
    line and entry, or with `skip_empty_text` skipped and its line appended to `skipped`.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty file (no header)")
        named = [name for name in header if not _index_column(name)]
        needed = ["entry", "protein1", "protein2"] + ([text_column] if text_column else []) \
            + (["function"] if with_function else [])
        missing = [name for name in needed if name not in header]
        if missing:
            hint = (f"; --text_column may name one of {[c for c in TEXT_COLUMNS if c in header]}"
                    if text_column in missing and any(c in header for c in TEXT_COLUMNS) else "")
            raise ValueError(f"{path}: not a MutaDescribe CSV: column(s) {missing} missing; it has {named}{hint}")
        at = {name: header.index(name) for name in needed}
        for values in reader:
            number = reader.line_num  # the file line where the record ends (a quoted field may span lines)
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise ValueError(f"{path}:{number}: {len(values)} fields, the header has {len(header)}")
            record = {name: values[i] for name, i in at.items()}
            entry = record["entry"].strip()
            where = f"{path}:{number} (entry {entry!r})"
            accession, _, mutation = entry.rpartition("-")
            if not accession or not _ENTRY_MUTATION.match(mutation):
                raise ValueError(f"{path}:{number}: entry {entry!r} is not ACCESSION-A123V (e.g. P12345-A123V)")
            answer = record[text_column].strip() if text_column else ""
            if text_column and not answer:
                if not skip_empty_text:
                    raise ValueError(f"{where}: no text in column {text_column!r} (choose another --text_column, "
                                     "or --skip_empty_text to skip such rows, counted)")
                if skipped is not None:
                    skipped.append(number)
                continue
            if not record["protein2"].strip():
                raise ValueError(f"{where}: no mutant sequence in protein2")
            try:  # the entry's substitution against the wild type first, then against the mutant (in _row)
                validate_mutations(check_sequence(record["protein1"], "wild type (protein1)"), parse_mutations(mutation))
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
            question = _function_question(record["function"]) if with_function and record["function"].strip() else None
            row = _row(where, accession, record["protein1"], mutation, record["protein2"], question, answer or "-")
            row["answer"] = answer
            yield number, {**row, "entry": entry}


def read_mutadescribe_csv(path, text_column: str = TEXT_COLUMN, with_function: bool = False,
                          skip_empty_text: bool = False) -> dict:
    """Columns of a MutaDescribe CSV (see `iter_mutadescribe_csv`); skipped rows are counted in a warning."""
    skipped = []
    rows = [row for _, row in iter_mutadescribe_csv(path, text_column, with_function, skip_empty_text, skipped)]
    if skipped:
        logger.warning("%s: skipped %d row(s) without text in %r (lines %s)", path, len(skipped), text_column,
                       ", ".join(map(str, skipped[:20])) + (" ..." if len(skipped) > 20 else ""))
    if not rows:
        raise ValueError(f"{path}: no rows" + (f" with text in {text_column!r}" if skipped else ""))
    return {**_columns(rows), "entry": [row["entry"] for row in rows], "skipped_lines": skipped}


def read_table(path, **csv_options) -> dict:
    """Read a JSONL (.jsonl / .json) or MutaDescribe CSV (.csv, with `read_mutadescribe_csv`'s options) file."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        return read_jsonl(path)
    if path.suffix.lower() == ".csv":
        columns = read_mutadescribe_csv(path, **csv_options)
        return {name: columns[name] for name in (*COLUMNS, "skipped_lines")}
    raise ValueError(f"{path}: unknown format; expected .jsonl/.json (Mutation2Text notes) or .csv (MutaDescribe)")
