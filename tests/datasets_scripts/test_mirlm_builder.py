import pytest
import torch

from datasets_scripts.mirlm import FEATURES, MirLMDataCollator, build_mirlm_dataset, read_table
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
    for i in range(60):  # one target window per row (rows sharing a window would stay in one split)
        window = "ACGUUAGC" * 5 + "".join("ACGU"[(i >> (2 * k)) & 3] for k in range(4))
        lines.append(f"{mirnas[i % 10]},{window},{-1 if i % 2 else 3},{-1 if i % 2 else 11},{1 - i % 2}")
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


# -- real-format files: --data, --train_file / --validation_file / --test_file ---------------------------------------
FIXTURES = __import__("pathlib").Path(__file__).parents[1] / "fixtures" / "mirlm"
TRAIN, TEST, BAD = (str(FIXTURES / f"mirbench_{name}.tsv") for name in ("train", "test", "bad_rows"))


def test_a_given_test_file_is_used_whole_and_validation_is_carved_disjoint():
    excluded = []
    splits = build_mirlm_dataset(train_file=TRAIN, test_file=TEST, excluded=excluded)
    assert splits["test"]["mrna"] == read_table(TEST)["mrna"]
    assert splits["test"].num_rows == 16
    train, validation = splits["train"], splits["validation"]
    assert validation.num_rows > 0
    assert not set(train["mirna_family"]) & set(validation["mirna_family"])
    assert not set(train["mrna"]) & set(validation["mrna"])  # target windows stay in one split
    # every row of the train file is in a split or reported as left out
    assert train.num_rows + validation.num_rows + len(excluded) == 20
    assert all("left out of the split" in bad.reason for bad in excluded)


def test_all_three_files_are_used_as_given():
    splits = build_mirlm_dataset(train_file=TRAIN, validation_file=TEST, test_file=TEST)
    assert (splits["train"].num_rows, splits["validation"].num_rows, splits["test"].num_rows) == (20, 16, 16)


def test_one_data_file_is_split_three_ways_by_family_and_window():
    excluded = []
    splits = build_mirlm_dataset(TRAIN, excluded=excluded)
    families = [set(splits[name]["mirna_family"]) for name in ("train", "validation", "test")]
    windows = [set(splits[name]["mrna"]) for name in ("train", "validation", "test")]
    for a in range(3):
        for b in range(a + 1, 3):
            assert not families[a] & families[b] and not windows[a] & windows[b]
    assert sum(splits[name].num_rows for name in splits) + len(excluded) == 20


def test_bad_rows_stop_the_build_unless_skipped_and_reported():
    with pytest.raises(ValueError, match="line 4, column 'gene'"):
        build_mirlm_dataset(train_file=BAD, test_file=TEST)
    with pytest.raises(ValueError, match="needs an `excluded` list"):
        build_mirlm_dataset(train_file=BAD, test_file=TEST, skip_bad_rows=True)
    excluded = []
    splits = build_mirlm_dataset(train_file=BAD, validation_file=TEST, test_file=TEST, skip_bad_rows=True, excluded=excluded)
    assert splits["train"].num_rows == 4 and [bad.where.line for bad in excluded] == [4, 6]


def test_conflicting_data_arguments_are_errors():
    with pytest.raises(ValueError, match="not both"):
        build_mirlm_dataset(TRAIN, train_file=TRAIN)
    with pytest.raises(ValueError, match="need --train_file"):
        build_mirlm_dataset(test_file=TEST)
