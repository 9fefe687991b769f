"""Real formats: the notes' JSONL (text_description / conversations / mutation_seq None) and MutaDescribe CSV as published."""

import json

import pytest

from datasets_scripts.mutation2text.builder import build_mutation2text_dataset, build_split_files, preprocess, split
from datasets_scripts.mutation2text.readers import read_jsonl, read_mutadescribe_csv, read_table
from modeling.mutation2text.processing_mutation2text import DEFAULT_QUESTION

WT = "MKTAYIAKQRQISFVKSHFSRQ"


def _jsonl(path, records):
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_jsonl_forms(tmp_path):
    path = _jsonl(tmp_path / "data.jsonl", [
        {"wild_type_seq": WT, "mutation_seq": "MATAYIAKQRQISFVKSHFSRQ", "text_description": "<delta_P> K2A removes a charge."},
        {"wild_type_seq": WT, "mutation_seq": "None", "conversations": [
            {"from": "human", "value": "<delta_P>\nWhat does p.Arg10Gly do?"}, {"from": "gpt", "value": "It removes a charge."}]},
        {"wild_type_seq": WT, "mutation": "Y5W", "text_description": "Bulkier.", "uniprot_id": "P1"},
    ])
    columns = read_jsonl(path)
    assert columns["mutation"] == ["K2A", "R10G", "Y5W"]
    assert columns["answer"][0] == "K2A removes a charge."  # the placeholder is the processor's job
    assert columns["question"][1] == "What does p.Arg10Gly do?"
    assert columns["mutant"][1][9] == "G" and columns["protein_id"][2] == "P1"


@pytest.mark.parametrize("record, message", [
    ({"wild_type_seq": WT, "mutation_seq": "None", "text_description": "no mutation named"}, "no substitution"),
    ({"wild_type_seq": WT, "mutation": "A2K", "text_description": "x"}, "has K at position 2, not A"),
    ({"wild_type_seq": WT, "mutation_seq": WT[:-1], "text_description": "x"}, "differ in length"),
    ({"wild_type_seq": "MK1T", "mutation": "K2A", "text_description": "x"}, "'1' at position 3"),
    ({"mutation_seq": WT, "text_description": "x"}, "no 'wild_type_seq'"),
    ({"wild_type_seq": WT, "mutation": "K2A"}, "needs 'text_description' or 'conversations'"),
    ({"wild_type_seq": WT, "mutation": "K2A", "mutation_seq": "MATAYIAKQRQISFVKSHFSRG", "text_description": "x"},
     "does not match the mutant"),
])
def test_jsonl_errors_name_the_line(tmp_path, record, message):
    path = _jsonl(tmp_path / "bad.jsonl", [{"wild_type_seq": WT, "mutation": "K2A", "text_description": "ok"}, record])
    with pytest.raises(ValueError, match=f"bad.jsonl:2: .*{message}"):
        read_jsonl(path)


# MutaDescribe as MutaPLM publishes it (hand-written rows, same header): two leading index columns written by pandas,
# the mutant before the wild type, a quoted field that spans two lines, a row without UniProt text.
MUTADESCRIBE_HEADER = (",Unnamed: 0,entry,protein2,uniprot_description,rank,protein1,protein_name,function,"
                       "GPT_description,all_description\n")
K2A, R10G = "MATAYIAKQRQISFVKSHFSRQ", "MKTAYIAKQGQISFVKSHFSRQ"


def _mutadescribe(path, rows):
    path.write_text(MUTADESCRIBE_HEADER + "".join(rows))
    return path


def _good_rows():
    return [
        f'0,0,P12345-K2A,{K2A},Loss of activity.,,{WT},Kinase X,"Kinase that phosphorylates Y. Binds ATP.",'
        f'"The lysine is needed\nfor ATP binding.","Loss of activity. The lysine is needed\nfor ATP binding."\n',
        f"1,1,Q99999-R10G,{R10G},Reduces DNA binding 3-fold.,,{WT},Kinase X,Kinase that phosphorylates Y.,,"
        f"Reduces DNA binding 3-fold.\n",
        f"2,2,Q99999-G10R,{WT},,-1.0,{R10G},Kinase X,Kinase that phosphorylates Y.,Increases DNA binding.,"
        f"Increases DNA binding.\n",
    ]


def test_mutadescribe_as_published(tmp_path):
    path = _mutadescribe(tmp_path / "train.csv", _good_rows()[:2])
    columns = read_mutadescribe_csv(path)
    assert columns["protein_id"] == ["P12345", "Q99999"] and columns["mutation"] == ["K2A", "R10G"]
    assert columns["entry"] == ["P12345-K2A", "Q99999-R10G"]
    assert columns["wild_type"] == [WT, WT] and columns["mutant"] == [K2A, R10G]
    assert columns["answer"] == ["Loss of activity.", "Reduces DNA binding 3-fold."]
    assert columns["question"] == [DEFAULT_QUESTION] * 2  # no function unless asked
    gpt = read_mutadescribe_csv(path, text_column="GPT_description", skip_empty_text=True)
    assert gpt["answer"] == ["The lysine is needed\nfor ATP binding."] and gpt["skipped_lines"] == [5]  # the file line: the first row spans lines 2-4
    with_function = read_mutadescribe_csv(path, with_function=True)
    assert with_function["question"][0] == f"Function of the protein: Kinase that phosphorylates Y.\n{DEFAULT_QUESTION}"
    assert read_table(path)["answer"][1] == "Reduces DNA binding 3-fold."


def test_mutadescribe_empty_text_is_an_error_or_a_counted_skip(tmp_path):
    path = _mutadescribe(tmp_path / "test.csv", _good_rows())
    with pytest.raises(ValueError, match=r"test.csv:6 \(entry 'Q99999-G10R'\): no text in column 'uniprot_description'"):
        read_mutadescribe_csv(path)
    columns = read_mutadescribe_csv(path, skip_empty_text=True)
    assert columns["entry"] == ["P12345-K2A", "Q99999-R10G"] and columns["skipped_lines"] == [6]
    assert read_mutadescribe_csv(path, text_column="all_description")["answer"][2] == "Increases DNA binding."


@pytest.mark.parametrize("row, message", [
    (f"9,9,P1-K3A,{K2A},x,,{WT},n,f,,x\n", r"bad.csv:3 \(entry 'P1-K3A'\): mutation K3A: the wild type has T at position 3, not K"),
    (f"9,9,P1-K2G,{K2A},x,,{WT},n,f,,x\n", r"P1-K2G'\): mutation 'K2G' does not match the mutant sequence .* by K2A"),
    (f"9,9,P1-K2A,{WT},x,,{WT},n,f,,x\n", r"P1-K2A'\): the mutant sequence equals the wild type"),
    (f"9,9,P1-K2A,,x,,{WT},n,f,,x\n", r"no mutant sequence in protein2"),
    (f"9,9,P1_K2A,{K2A},x,,{WT},n,f,,x\n", r"bad.csv:3: entry 'P1_K2A' is not ACCESSION-A123V"),
    (f"9,9,P1-K2A,{K2A},x,,{WT},n\n", r"bad.csv:3: 8 fields, the header has 11"),
])
def test_mutadescribe_inconsistent_rows_are_named(tmp_path, row, message):
    path = _mutadescribe(tmp_path / "bad.csv", [_good_rows()[1], row])
    with pytest.raises(ValueError, match=message):
        read_mutadescribe_csv(path)


def test_mutadescribe_missing_columns_name_the_columns_it_has(tmp_path):
    path = _mutadescribe(tmp_path / "train.csv", _good_rows()[:1])
    with pytest.raises(ValueError, match=r"column\(s\) \['description'\] missing; it has \['entry', 'protein2', "
                                         r"'uniprot_description', .*'all_description'\]; --text_column may name one of"):
        read_mutadescribe_csv(path, text_column="description")
    (tmp_path / "old.csv").write_text("entry,protein1,protein2,description\n")  # a layout MutaDescribe does not have
    with pytest.raises(ValueError, match=r"\['uniprot_description'\] missing; it has \['entry', 'protein1', 'protein2', 'description'\]"):
        read_mutadescribe_csv(tmp_path / "old.csv")
    with pytest.raises(ValueError, match=r"\['function'\] missing"):
        read_table(tmp_path / "old.csv", text_column="description", with_function=True)


def test_published_split_files(tmp_path):
    wild_types = [WT[:-2] + "ACDEFGHIKLMNPQRSTVWY"[i] + "W" for i in range(12)]
    rows = [f"{i},{i},P{i:05d}-K2A,{wt[0]}A{wt[2:]},Text {i}.,,{wt},n,f,,Text {i}.\n" for i, wt in enumerate(wild_types)]
    train = _mutadescribe(tmp_path / "train.csv", rows)
    test = _mutadescribe(tmp_path / "test.csv", _good_rows())
    skipped = {}
    splits = build_split_files(train, test, train, skip_empty_text=True, skipped=skipped)
    assert [len(splits[name]) for name in ("train", "validation", "test")] == [12, 12, 2]
    assert skipped == {"train": [], "test": [6], "validation": []}
    small = build_split_files(train, test, train, max_train_examples=4, skip_empty_text=True)
    larger = build_split_files(train, test, train, max_train_examples=8, skip_empty_text=True)
    assert set(small["train"]["answer"]) < set(larger["train"]["answer"])  # nested subsets: learning curves
    held_out = build_split_files(train, test, skip_empty_text=True)  # no validation file: 10 % of the proteins
    assert not set(held_out["train"]["protein_id"]) & set(held_out["validation"]["protein_id"])
    assert len(held_out["train"]) + len(held_out["validation"]) == 12
    with pytest.raises(ValueError, match="max_train_examples=13: the training file has 12 rows"):
        build_split_files(train, test, train, max_train_examples=13, skip_empty_text=True)


def test_preprocess_split_and_build(tmp_path):
    records = []
    for p in range(10):
        wt = WT[:-2] + "ACDEFGHIKL"[p] + "W"
        for mutation in ("K2A", "R10G"):
            records.append({"wild_type_seq": wt, "mutation": mutation, "text_description": f"{mutation} in {p}"})
    raw = _jsonl(tmp_path / "raw.jsonl", records)
    assert preprocess(raw, tmp_path / "clean.jsonl") == 20
    counts = split(tmp_path / "clean.jsonl", tmp_path / "train.jsonl", tmp_path / "val.jsonl",
                   tmp_path / "test.jsonl", val_size=0.2)
    assert sum(counts.values()) == 20 and counts["validation"] >= 2 and counts["test"] >= 2
    proteins = {name: {json.loads(line)["wild_type"] for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()}
                for name in ("train", "val", "test")}
    assert not proteins["train"] & proteins["val"] and not proteins["train"] & proteins["test"]
    dataset = build_mutation2text_dataset(str(tmp_path / "clean.jsonl"))
    assert sum(dataset[s].num_rows for s in dataset) == 20
    assert not set(dataset["train"]["wild_type"]) & set(dataset["test"]["wild_type"])
