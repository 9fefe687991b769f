import pytest
import torch

from datasets_scripts.mirlm import FEATURES, MirLMDataCollator, build_mirlm_dataset
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer


@pytest.fixture(scope="module")
def tiny():
    return build_mirlm_dataset(size="tiny", seed=0)


def test_generated_dataset_has_the_contract_columns(tiny):
    assert list(tiny) == ["train", "validation", "test"]
    for split in tiny.values():
        assert split.features == FEATURES
    assert tiny["train"].num_rows == 400
    test_families = set(tiny["test"]["mirna_family"])
    assert not test_families & set(tiny["train"]["mirna_family"])


def test_save_to_disk_round_trip(tiny, tmp_path):
    tiny.save_to_disk(str(tmp_path / "ds"))
    loaded = build_mirlm_dataset(str(tmp_path / "ds"))
    assert loaded["test"]["mrna"] == tiny["test"]["mrna"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a DatasetDict"):
        build_mirlm_dataset(str(tmp_path / "empty"))


def test_real_file_is_split_by_family(tmp_path):
    mirnas = ["UGAGGUAGUAGGUUGUAUAGUU", "UAGCUUAUCAGACUGAUGUUGA", "UGGAAUGUAAAGAAGUAUGUAU", "UGGAGUGUGACAAUGGUGUUUG",
              "UAGCAGCACGUAAAUAUUGGCG", "UUAAUGCUAAUCGUGAUAGGGGU", "UAAGGCACGCGGUGAAUGCC", "UAUUGCACUUGUCCCGGCCUGU",
              "UCGUACCGUGAGUAAUAAUGCG", "UGGCAGUGUCUUAGCUGGUUGU"]
    lines = ["miRNA sequence,mRNA sequence,seed start,seed end,label"]
    for i in range(60):
        lines.append(f"{mirnas[i % 10]},{'ACGUUAGC' * 6},{-1 if i % 2 else 3},{-1 if i % 2 else 11},{1 - i % 2}")
    path = tmp_path / "pairs.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = build_mirlm_dataset(str(path), seed=1)
    assert sum(split.num_rows for split in ds.values()) == 60
    families = {name: set(split["mirna_family"]) for name, split in ds.items()}
    assert all(families.values())
    assert not families["train"] & families["test"] and not families["validation"] & families["test"]
    assert set(ds["train"]["site_type"]) <= {"non-canonical", "unknown"} | {"8mer", "7mer-m8", "7mer-A1", "6mer", "offset-6mer"}


def test_fasta_and_missing_paths(tmp_path):
    fasta = tmp_path / "utr.fa"
    fasta.write_text(">a\nACGT\n")
    with pytest.raises(ValueError, match="read_fasta"):
        build_mirlm_dataset(str(fasta))
    with pytest.raises(FileNotFoundError):
        build_mirlm_dataset(str(tmp_path / "nope.tsv"))


def test_collator_tokenises_rows(tiny):
    tokenizer = MirLMTokenizer()
    rows = [tiny["train"][i] for i in range(6)]
    batch = MirLMDataCollator(tokenizer)(rows)
    longest = max(len(r["mrna"]) for r in rows) + 1
    assert batch["input_ids"].shape[1] == -(-longest // 8) * 8
    assert (batch["input_ids"][:, 0] == tokenizer.mrna_cls_token_id).all()
    assert batch["labels"].dtype == torch.float32
    assert batch["labels"].tolist() == [float(r["label"]) for r in rows]
    expected = [r["site_start"] + 1 if r["site_start"] >= 0 else -100 for r in rows]
    assert batch["start_positions"].tolist() == expected
    assert batch["mirna_input_ids"].shape[0] == 6
    plain = MirLMDataCollator(tokenizer, padding="max_length")([{"mrna": "ACGT", "mirna": "TGAGGTAGTAGG"}])
    assert plain["input_ids"].shape == (1, 520) and "labels" not in plain and "start_positions" not in plain
