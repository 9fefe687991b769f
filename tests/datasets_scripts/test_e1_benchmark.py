"""Published-benchmark inputs of e1: per-ion files, carved validation, token-budget batches, truncation, retrieval.

Fixtures are written here by hand in the LMetalSite layout (>id / sequence / 0-1 labels), never copied from real files.
"""

import logging

import numpy as np
import pytest

from datasets_scripts.e1.batching import TokenBudgetBatchSampler, row_tokens, token_budget_batches
from datasets_scripts.e1.builder import build_e1_benchmark, build_e1_dataset, carve_validation, truncate_proteins
from datasets_scripts.e1.readers import ion_of_file, parse_ion_files, read_label_fasta
from modeling.e1.tokenization_e1 import read_a3m


def random_protein(rng, length):
    return "".join(rng.choice(list("ACDEFGHIKLMNPQRSTVWY"), size=length))


def write_three_line(path, records):
    path.write_text("".join(f">{name}\n{seq}\n{''.join(map(str, labels))}\n" for name, seq, labels in records))
    return path


@pytest.fixture()
def benchmark(tmp_path):
    """ZN and an ion the code has never heard of (FE), train and test files, 24 + 6 proteins."""
    rng = np.random.default_rng(0)
    files = {}
    for ion in ("ZN", "FE"):
        for split, count in (("Train", 24), ("Test", 6)):
            records = []
            for k in range(count):
                seq = random_protein(rng, int(rng.integers(30, 60)))
                labels = [int(aa == ("C" if ion == "ZN" else "H")) for aa in seq]
                records.append((f"{ion.lower()}{split}{k}_A", seq, labels))
            files[ion, split] = write_three_line(tmp_path / f"{ion}_{split}_{count}.fa", records)
    return files


def test_ion_comes_from_the_file_name_or_is_named(tmp_path, benchmark):
    assert ion_of_file("data/ZN_Train_1647.fa") == "ZN" and ion_of_file("fe_test.fa") == "FE"
    with pytest.raises(ValueError, match="cannot tell the ion"):
        ion_of_file("train.fa")
    zn, fe = benchmark["ZN", "Train"], benchmark["FE", "Train"]
    assert parse_ion_files(f"{zn},cu={fe}") == {"ZN": str(zn), "CU": str(fe)}
    with pytest.raises(ValueError, match="ion ZN is given twice"):
        parse_ion_files(f"{zn},ZN={fe}")
    with pytest.raises(FileNotFoundError, match="missing.fa"):
        parse_ion_files("ZN=missing.fa")


def test_a_file_without_label_lines_is_an_error_naming_file_and_line(tmp_path):
    plain = tmp_path / "ZN_plain.fa"
    plain.write_text(">p1\nMKCAC\n>p2\nMHHAC\n>p3\nMCCAA\n")
    with pytest.raises(ValueError, match=r"ZN_plain.fa:1: record p1 has no ZN label line"):
        read_label_fasta(plain, "ZN")
    bad = write_three_line(tmp_path / "ZN_bad.fa", [("p1", "MKC", [0, 0, 1]), ("p2", "MKC", [0, 2, 1])])
    with pytest.raises(ValueError, match=r"ZN_bad.fa:6: the label line of p2 must be 0/1"):
        read_label_fasta(bad, "ZN")


def test_benchmark_splits_keep_the_test_files_whole_and_carve_validation_by_group(benchmark):
    train = f"{benchmark['ZN', 'Train']},{benchmark['FE', 'Train']}"
    test = f"{benchmark['ZN', 'Test']},{benchmark['FE', 'Test']}"
    splits = build_e1_benchmark(train, test, validation_fraction=0.25)
    assert "labels_fe" in splits["train"].column_names  # an unseen ion: a label column like any other
    assert len(splits["test"]) == 12 and set(splits["test"]["id"]) == {f"{i}Test{k}_A" for i in ("zn", "fe") for k in range(6)}
    assert len(splits["train"]) + len(splits["validation"]) == 48
    assert not set(splits["train"]["id"]) & set(splits["validation"]["id"])
    zn_test = splits["test"].filter(lambda r: r["id"].startswith("zn"))
    assert all(set(r) == {-100} for r in zn_test["labels_fe"])  # a ZN test protein is not annotated for FE
    with pytest.raises(ValueError, match="no training file for that ion"):
        build_e1_benchmark(str(benchmark["ZN", "Train"]), test)


def test_carved_validation_never_splits_a_homology_group():
    groups = ["a"] * 5 + ["b"] * 3 + [str(i) for i in range(12)]
    train, validation = carve_validation(groups, 0.3, seed=1)
    assert sorted(train + validation) == list(range(len(groups)))
    for group in ("a", "b"):
        members = {i for i, g in enumerate(groups) if g == group}
        assert members <= set(train) or members <= set(validation)
    assert 3 <= len(validation) <= 9


def test_embedded_splits_are_unchanged_by_the_benchmark_path():
    splits = build_e1_dataset(None, size="tiny", seed=0)
    again = build_e1_dataset(None, size="tiny", seed=0)
    assert splits["test"]["id"] == again["test"]["id"] and len(splits["train"]) > len(splits["test"])


def test_a_saved_dataset_without_the_label_columns_is_an_error_naming_them(tmp_path):
    from datasets import Dataset, DatasetDict

    rows = {"id": ["p"], "sequence": ["MKC"], "homologs": [[]], "labels_zn": [[0, 0, 1]]}
    DatasetDict({s: Dataset.from_dict(rows) for s in ("train", "validation", "test")}).save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['labels_ca'"):
        build_e1_dataset(str(tmp_path / "saved"), ions=["ZN", "CA"])


def test_token_budget_batches_respect_the_budget_and_never_cut(caplog):
    lengths = [50, 400, 60, 1200, 55, 300, 310, 45]
    batches = token_budget_batches(lengths, 1000, views=2, names=[f"p{i}" for i in range(8)])
    assert sorted(i for b in batches for i in b) == list(range(8))
    for batch in batches:
        if len(batch) > 1:
            assert len(batch) * max(lengths[i] for i in batch) * 2 <= 1000
    assert [3] in batches and "p3" in caplog.text and "not truncated" in caplog.text
    sampler = TokenBudgetBatchSampler(lengths, 1000, views=2, seed=0)
    first, second = list(sampler), list(sampler)
    assert len(first) == len(second) == len(sampler) and sorted(map(tuple, first)) == sorted(map(tuple, second))
    assert row_tokens("MKC", ["AAAA", "AAAAAAAA", "A"], num_context=2) == 7 + 12 + 8


def test_truncation_only_on_request_and_named(benchmark, caplog):
    splits = build_e1_benchmark(str(benchmark["ZN", "Train"]), str(benchmark["ZN", "Test"]), validation_fraction=0.25)
    longest = max(splits["train"], key=lambda r: len(r["sequence"]))
    with caplog.at_level(logging.WARNING, logger="biohf.e1"):
        cut = truncate_proteins(splits, 40)
    assert max(len(s) for s in cut["train"]["sequence"]) == 40
    assert all(len(r["labels_zn"]) == len(r["sequence"]) for r in cut["train"])
    assert longest["id"] in caplog.text and "truncated to --max_residues 40" in caplog.text


def test_phmmer_retrieval_writes_a3m_without_the_query_or_test_proteins(tmp_path):
    pytest.importorskip("pyhmmer")
    from datasets_scripts.e1.retrieval import retrieve

    rng = np.random.default_rng(3)
    family = random_protein(rng, 120)

    def mutant(seq, rate):
        return "".join(random_protein(rng, 1) if rng.random() < rate else aa for aa in seq)

    database = {"query": family, "close": mutant(family, 0.1), "far": mutant(family, 0.3), "unrelated": random_protein(rng, 120),
                "leak": mutant(family, 0.05), "copy_of_test": "M" + family[1:]}
    test = {"leak": database["leak"], "test_protein": database["copy_of_test"]}
    counts = retrieve({"query": family}, database, tmp_path, exclude=test, max_homologs=5)
    text = (tmp_path / "query.a3m").read_text()
    names = [line[1:].split()[0] for line in text.splitlines() if line.startswith(">")]
    assert names[0] == "query" and set(names[1:]) == {"close", "far"} and counts == {"query": 2}
    rows = text.splitlines()
    assert all(len(row.replace("a", "").translate(str.maketrans("", "", "abcdefghiklmnpqrstvwyx"))) == len(family)
               for row in rows[1::2])  # a3m: match columns (upper case or '-') span the query
    homologs = read_a3m(tmp_path / "query.a3m", family)
    assert homologs[0] in database["close"]  # gaps dropped: the aligned part of the hit
