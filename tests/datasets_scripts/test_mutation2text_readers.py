"""Real formats: the notes' JSONL (text_description / conversations / mutation_seq None) and MutaDescribe CSV."""

import json

import pytest

from datasets_scripts.mutation2text.builder import build_mutation2text_dataset, preprocess, split
from datasets_scripts.mutation2text.readers import read_jsonl, read_mutadescribe_csv, read_table

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


def test_mutadescribe_csv(tmp_path):
    path = tmp_path / "muta.csv"
    path.write_text("entry,protein1,protein2,description\n"
                    f"P12345-K2A,{WT},MATAYIAKQRQISFVKSHFSRQ,Loss of a lysine.\n"
                    f"Q99999-R10G,{WT},MKTAYIAKQGQISFVKSHFSRQ,Less positive.\n")
    columns = read_table(path)
    assert columns["protein_id"] == ["P12345", "Q99999"] and columns["mutation"] == ["K2A", "R10G"]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"entry,protein1,protein2,description\nP1-K3A,{WT},MATAYIAKQRQISFVKSHFSRQ,x\n")
    with pytest.raises(ValueError, match="bad.csv:2: .*does not match the mutant"):
        read_mutadescribe_csv(bad)
    (tmp_path / "nodesc.csv").write_text("entry,protein1,protein2\n")
    with pytest.raises(ValueError, match="not a MutaDescribe CSV"):
        read_mutadescribe_csv(tmp_path / "nodesc.csv")


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
