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
    MutaDescribe CSV: `entry` like "P12345-A123V" (UniProt accession - substitution), `protein1` (wild type),
        `protein2` (mutant), and a description column (`description`, `text`, `mutation_description` or
        `effect_description`, the first present).
"""

import csv
import json
import re
from pathlib import Path

from modeling.mutation2text.processing_mutation2text import DEFAULT_QUESTION
from modeling.mutation2text.mutations_mutation2text import (
    check_sequence, diff_mutations, format_mutations, parse_mutations, validate_mutations,
)

COLUMNS = ("protein_id", "wild_type", "mutation", "mutant", "question", "answer", "effect", "motif")
DESCRIPTION_COLUMNS = ("description", "text", "mutation_description", "effect_description")
_WRITTEN_SUBSTITUTION = re.compile(r"\b(?:p\.)?(?:[A-Z][a-z]{2}|[ACDEFGHIKLMNPQRSTVWY])\d+(?:[A-Z][a-z]{2}|[ACDEFGHIKLMNPQRSTVWY])\b")
NONE_VALUES = {"", "none", "null", "nan"}


def _row(where: str, protein_id: str, wild_type: str, mutation, mutant, question: str, answer: str) -> dict:
    try:
        wild_type = check_sequence(wild_type, "wild type")
        if mutant is not None and str(mutant).strip().lower() not in NONE_VALUES:
            mutant = check_sequence(mutant, "mutant")
            substitutions = diff_mutations(wild_type, mutant)
            if mutation is not None and parse_mutations(mutation) != substitutions:
                raise ValueError(f"mutation {mutation!r} does not match the mutant sequence ({format_mutations(substitutions)})")
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


def read_mutadescribe_csv(path) -> dict:
    path, rows = Path(path), []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in ("entry", "protein1", "protein2") if c not in header]
        description = next((c for c in DESCRIPTION_COLUMNS if c in header), None)
        if missing or description is None:
            raise ValueError(f"{path}: not a MutaDescribe CSV: needs entry, protein1, protein2 and one of "
                             f"{DESCRIPTION_COLUMNS}; header is {header}")
        for number, record in enumerate(reader, 2):
            where = f"{path}:{number}"
            accession, _, mutation = (record["entry"] or "").strip().rpartition("-")
            if not accession or not mutation:
                raise ValueError(f"{where}: entry {record['entry']!r} is not ACCESSION-MUTATION (e.g. P12345-A123V)")
            rows.append(_row(where, accession, record["protein1"], mutation, record["protein2"], None, record[description]))
    if not rows:
        raise ValueError(f"{path}: no rows")
    return _columns(rows)


def read_table(path) -> dict:
    """Read a JSONL (.jsonl / .json) or MutaDescribe CSV (.csv) file."""
    path = Path(path)
    if path.suffix.lower() in (".jsonl", ".json"):
        return read_jsonl(path)
    if path.suffix.lower() == ".csv":
        return read_mutadescribe_csv(path)
    raise ValueError(f"{path}: unknown format; expected .jsonl/.json (Mutation2Text notes) or .csv (MutaDescribe)")
