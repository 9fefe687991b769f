"""
Homolog retrieval for real proteins with HMMER (`pyhmmer`: phmmer, or jackhmmer with `iterations > 1`), written as
one `<id>.a3m` per query (query first, then hits by E-value) for `--msa_dir` / `attach_a3m`.

The database is a FASTA the user gives (UniRef50, ...) or, by default, the training proteins. Never retrieved: the
query itself (same id or same sequence) and any protein of `exclude` (the test proteins: by id and by sequence), so
a test protein's labels can never reach the model as a homolog.

    python -m datasets_scripts.e1.retrieval --train_file ZN_Train.fa,CA_Train.fa --test_file ZN_Test.fa,CA_Test.fa \
        --output_dir msas/ [--database uniref50.fa] [--max_homologs 16] [--evalue 1e-3] [--iterations 1]
"""

import argparse
from pathlib import Path
from typing import Optional

from tqdm.auto import tqdm

from .readers import parse_ion_files, read_label_fasta


def _require_pyhmmer():
    try:
        import pyhmmer
    except ImportError as error:  # an optional extra
        raise ImportError("homolog retrieval needs pyhmmer: pip install 'biohf[retrieval]' (or pip install pyhmmer)") from error
    return pyhmmer


def a3m_row(alignment, query_length: int) -> str:
    """One a3m row from a pyhmmer domain alignment: match columns upper case or '-', insertions lower case."""
    columns = "".join(t.lower() if h == "." else t.upper() for h, t in zip(alignment.hmm_sequence, alignment.target_sequence))
    return "-" * (alignment.hmm_from - 1) + columns + "-" * (query_length - alignment.hmm_to)


def read_database(path) -> dict:
    """{id: sequence} of a FASTA database (multi-line records joined)."""
    from trainers.e1.predict import read_fasta

    return {name: sequence.upper() for name, sequence in read_fasta(path)}


def retrieve(queries: dict, database: dict, output_dir, *, exclude: Optional[dict] = None, max_homologs: int = 16,
             evalue: float = 1e-3, iterations: int = 1, cpus: int = 1, overwrite: bool = False) -> dict:
    """
    Search every query {id: sequence} against `database` {id: sequence}; write `<output_dir>/<id>.a3m` (an existing
    file is kept unless `overwrite`). Returns {id: number of homologs written}.
    """
    pyhmmer = _require_pyhmmer()
    from pyhmmer.easel import Alphabet, DigitalSequenceBlock, TextSequence

    exclude = exclude or {}
    banned_ids, banned_sequences = set(exclude), set(exclude.values())
    alphabet = Alphabet.amino()
    targets = {name: seq for name, seq in database.items() if name not in banned_ids and seq not in banned_sequences}
    if not targets:
        raise ValueError("the homolog database is empty once the excluded (test) proteins are removed")
    block = DigitalSequenceBlock(alphabet, [TextSequence(name=name.encode(), sequence=_clean(seq)).digitize(alphabet)
                                            for name, seq in targets.items()])
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    todo = {name: seq for name, seq in queries.items() if overwrite or not (output_dir / f"{name}.a3m").is_file()}
    counts = {name: None for name in queries}
    digital = [TextSequence(name=name.encode(), sequence=_clean(seq)).digitize(alphabet) for name, seq in todo.items()]
    if iterations > 1:
        searches = (result.hits for result in pyhmmer.hmmer.jackhmmer(digital, block, cpus=cpus, E=evalue, max_iterations=iterations))
    else:
        searches = pyhmmer.hmmer.phmmer(digital, block, cpus=cpus, E=evalue)
    for (name, sequence), hits in tqdm(zip(todo.items(), searches), total=len(todo), desc="homolog search"):
        rows = []
        for hit in hits:
            target = hit.name.decode() if isinstance(hit.name, bytes) else hit.name
            if not hit.included or target == name or targets[target] == sequence:
                continue  # never the query itself
            rows.append((target, hit.evalue, a3m_row(hit.best_domain.alignment, len(sequence))))
            if len(rows) == max_homologs:
                break
        lines = [f">{name}", sequence] + [line for t, e, row in rows for line in (f">{t} E={e:.2g}", row)]
        (output_dir / f"{name}.a3m").write_text("\n".join(lines) + "\n")
        counts[name] = len(rows)
    return counts


def _clean(sequence: str) -> str:
    """HMMER's amino alphabet reads the 20 residues and B, Z, X, U, O, J; anything else is searched as X."""
    allowed = set("ACDEFGHIKLMNPQRSTVWYBZXUOJ")
    return "".join(c if c in allowed else "X" for c in sequence.upper())


def proteins_of(files: str) -> dict:
    """{id: sequence} of the per-ion three-line FASTA files ('ZN_Train.fa,CA_Train.fa' or 'ZN=a.fa,...')."""
    out = {}
    for ion, path in parse_ion_files(files).items():
        for name, (sequence, _) in read_label_fasta(path, ion).items():
            out[name] = sequence
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_file", required=True, help="per-ion training files (the default database; queries too)")
    parser.add_argument("--test_file", default=None, help="per-ion test files: queries, never retrieved")
    parser.add_argument("--database", default=None, help="FASTA to search (default: the training proteins)")
    parser.add_argument("--output_dir", default=None, help="folder of <id>.a3m files (default: msas/ next to the training data)")
    parser.add_argument("--max_homologs", type=int, default=16)
    parser.add_argument("--evalue", type=float, default=1e-3, help="reporting E-value threshold")
    parser.add_argument("--iterations", type=int, default=1, help="1 = phmmer; more = jackhmmer iterations")
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--overwrite", action="store_true", help="search again where an .a3m exists")
    args = parser.parse_args(argv)
    train = proteins_of(args.train_file)
    test = proteins_of(args.test_file) if args.test_file else {}
    database = read_database(args.database) if args.database else train
    output_dir = args.output_dir or Path(next(iter(parse_ion_files(args.train_file).values()))).parent / "msas"
    counts = retrieve({**train, **test}, database, output_dir, exclude=test, max_homologs=args.max_homologs,
                      evalue=args.evalue, iterations=args.iterations, cpus=args.cpus, overwrite=args.overwrite)
    searched = [n for n in counts.values() if n is not None]
    with_hits = sum(1 for n in searched if n)
    print(f"{len(searched)} proteins searched ({len(counts) - len(searched)} kept from {output_dir}); "
          f"{with_hits} with at least one homolog; a3m files in {output_dir}")
    return counts


if __name__ == "__main__":
    main()
