"""
`biohf predict mutation2text`: describe the mutations of a file with a trained repository, streaming.

    biohf predict mutation2text --model DIR --input test_easy.csv --output described.jsonl [--batch_size 8]
        [--max_new_tokens 48] [--with_function]

Input, by extension:
    .jsonl   one object per line with `wild_type` and `mutation` ("K45A", "p.Lys45Ala;R50G") or `mutant` (the mutant
             sequence), optionally `question` and any ids (kept).
    .csv     MutaDescribe as published (`datasets_scripts.mutation2text.readers.iter_mutadescribe_csv`): `entry`
             checked against `protein1` / `protein2`, no text column needed; `--with_function` puts the function's
             first sentence in the prompt, as the model was trained.
Output: one line per input, written as generated: the input's ids (JSONL: the whole input object; CSV: `entry`,
`protein_id` and the file `line`) plus `generated_text` and the validated `mutation`. A bad row is an error naming its
line; the rows before it are already written.
"""

import argparse
import csv
import json
from pathlib import Path

from tqdm.auto import tqdm


def _jsonl_records(path: Path):
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None


def _csv_records(path: Path, with_function: bool):
    from datasets_scripts.mutation2text.readers import iter_mutadescribe_csv

    for number, row in iter_mutadescribe_csv(path, text_column=None, with_function=with_function):
        record = {"entry": row["entry"], "protein_id": row["protein_id"], "line": number,
                  "wild_type": row["wild_type"], "mutation": row["mutation"]}
        if row["question"]:
            record["question"] = row["question"]
        yield number, record


def _count(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as handle:
        if path.suffix.lower() == ".csv":
            return max(sum(1 for values in csv.reader(handle) if any(v.strip() for v in values)) - 1, 0)
        return sum(1 for line in handle if line.strip())


def predict(model_dir, input_path, output_path, argv=()) -> int:
    import hf_models  # noqa: F401  registers the family (the pipeline task) in this process
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modeling.mutation2text.pipeline_mutation2text import FIELDS, Mutation2TextPipeline

    parser = argparse.ArgumentParser(prog="biohf predict mutation2text")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--max_new_tokens", type=int, default=48)
    parser.add_argument("--with_function", action="store_true", help="CSV: the function's first sentence in the prompt")
    options = parser.parse_args(list(argv))
    input_path, output_path = Path(input_path), Path(output_path)
    if input_path.suffix.lower() == ".csv":
        records = _csv_records(input_path, options.with_function)
    elif input_path.suffix.lower() in (".jsonl", ".json"):
        records = _jsonl_records(input_path)
    else:
        raise ValueError(f"{input_path}: expected .jsonl (wild_type + mutation / mutant) or .csv (MutaDescribe)")
    pipe = Mutation2TextPipeline(model=AutoModelForCausalLM.from_pretrained(model_dir).eval(),
                                 tokenizer=AutoTokenizer.from_pretrained(model_dir))
    written = 0
    with output_path.open("w", encoding="utf-8") as out, tqdm(total=_count(input_path), desc="describing") as bar:
        batch = []

        def flush():
            nonlocal written
            examples = [{k: v for k, v in record.items() if k in FIELDS} for _, record in batch]
            try:
                results = pipe(examples, max_new_tokens=options.max_new_tokens)
            except ValueError:
                for number, record in batch:  # find the bad line
                    try:
                        pipe({k: v for k, v in record.items() if k in FIELDS}, max_new_tokens=1)
                    except ValueError as error:
                        raise ValueError(f"{input_path}:{number}: {error}") from None
                raise
            for (_, record), result in zip(batch, results):
                kept = {k: v for k, v in record.items() if k not in ("wild_type", "question")} \
                    if input_path.suffix.lower() == ".csv" else record
                out.write(json.dumps({**kept, **result}) + "\n")
            out.flush()
            written += len(batch)
            bar.update(len(batch))
            batch.clear()

        for number, record in records:
            batch.append((number, record))
            if len(batch) == options.batch_size:
                flush()
        if batch:
            flush()
    return written
