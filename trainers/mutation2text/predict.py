"""
`biohf predict mutation2text`: describe the mutations of a JSONL file with a trained repository, streaming.

    biohf predict mutation2text --model DIR --input mutations.jsonl --output described.jsonl [--batch_size 8]
        [--max_new_tokens 96]

Input: one object per line with `wild_type` and `mutation` ("K45A", "p.Lys45Ala;R50G") or `mutant` (the mutant
sequence), optionally `question` and an `id`. Output: the input object plus `generated_text` and the validated
`mutation`, one line per input, written as they are generated. A bad line is an error naming the line.
"""

import argparse
import json
from pathlib import Path

from tqdm.auto import tqdm


def _lines(path: Path):
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON ({error.msg})") from None


def predict(model_dir, input_path, output_path, argv=()) -> int:
    import hf_models  # noqa: F401  registers the family (the pipeline task) in this process
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from modeling.mutation2text.pipeline_mutation2text import FIELDS, Mutation2TextPipeline

    parser = argparse.ArgumentParser(prog="biohf predict mutation2text")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--max_new_tokens", type=int, default=96)
    options = parser.parse_args(list(argv))
    pipe = Mutation2TextPipeline(model=AutoModelForCausalLM.from_pretrained(model_dir).eval(),
                                 tokenizer=AutoTokenizer.from_pretrained(model_dir))
    input_path, output_path = Path(input_path), Path(output_path)
    total = sum(1 for line in input_path.open(encoding="utf-8") if line.strip())
    written = 0
    with output_path.open("w", encoding="utf-8") as out, tqdm(total=total, desc="describing") as bar:
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
                out.write(json.dumps({**record, **result}) + "\n")
            out.flush()
            written += len(batch)
            bar.update(len(batch))
            batch.clear()

        for number, record in _lines(input_path):
            batch.append((number, record))
            if len(batch) == options.batch_size:
                flush()
        if batch:
            flush()
    return written
