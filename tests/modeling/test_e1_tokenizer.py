"""E1Tokenizer: the public 34-token vocabulary, row layout with homolog context, context forms, errors."""

import numpy as np
import pytest
import torch

from modeling.e1.tokenization_e1 import E1Tokenizer, parse_context, read_a3m

EXPECTED = ["<pad>", "<bos>", "<eos>", "<bos_glm>", "<eos_span>", "?", "1", "2"] + [chr(c) for c in range(65, 91)]


@pytest.fixture(scope="module")
def tokenizer():
    return E1Tokenizer()


def test_vocabulary_is_the_public_one(tokenizer):
    assert tokenizer.get_vocab() == {t: i for i, t in enumerate(EXPECTED)}
    assert len(tokenizer) == 34
    assert (tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.mask_token_id) == (0, 1, 2, 5)


def test_single_sequence_layout(tokenizer):
    batch = tokenizer.encode_proteins("ACZ")
    assert batch["input_ids"].tolist() == [[1, 6, 8, 10, 33, 7, 2]]
    assert batch["sequence_ids"].tolist() == [[0] * 7]
    assert batch["within_seq_position_ids"].tolist() == [list(range(7))]
    assert batch["global_position_ids"].tolist() == [list(range(7))]
    assert batch["attention_mask"].tolist() == [[1] * 7]


def test_context_first_query_last_and_padding(tokenizer):
    letters = lambda s: [8 + ord(c) - 65 for c in s]  # noqa: E731
    batch = tokenizer.encode_proteins(["MK", "W"], context=[["AC", "D"], None])
    assert batch["input_ids"].shape == (2, 17)
    assert batch["sequence_ids"][0].tolist() == [0] * 6 + [1] * 5 + [2] * 6
    assert batch["within_seq_position_ids"][0].tolist() == list(range(6)) + list(range(5)) + list(range(6))
    assert batch["input_ids"][1].tolist() == [1, 6, *letters("W"), 7, 2] + [0] * 12
    assert batch["attention_mask"][1].tolist() == [1] * 5 + [0] * 12
    assert batch["global_position_ids"][1, :5].tolist() == list(range(5))


def test_query_mask_marks_exactly_the_query_residues(tokenizer):
    batch = tokenizer.encode_proteins(["MKV", "WY"], context=[["AC", "D"], ["EEEE"]])
    query = tokenizer.query_residue_mask(batch["sequence_ids"], batch["within_seq_position_ids"], batch["attention_mask"])
    # row 0: AC (6 tokens) D (5 tokens) then <bos> 1 M K V 2 <eos>: residues at 13, 14, 15
    assert query[0].nonzero().flatten().tolist() == [13, 14, 15]
    assert query[1].nonzero().flatten().tolist() == [10, 11]
    ids = batch["input_ids"][query].tolist()
    assert tokenizer.convert_ids_to_tokens(ids) == list("MKVWY")


def test_exact_row_layout_with_context(tokenizer):
    row = tokenizer.encode_row("MK", ["AC", "D"])
    letters = lambda s: [8 + ord(c) - 65 for c in s]  # noqa: E731
    assert row["input_ids"].tolist() == [1, 6, *letters("AC"), 7, 2, 1, 6, *letters("D"), 7, 2, 1, 6, *letters("MK"), 7, 2]
    assert row["global_position_ids"].tolist() == list(range(17))


def test_characters_outside_the_alphabet_become_x_and_case_folds(tokenizer):
    assert tokenizer.residue_ids("ac*-1é").tolist() == [8, 10, 31, 31, 31, 31]
    assert tokenizer.tokenize("mk*") == ["M", "K", "X"]


def test_question_mark_is_the_mask_token(tokenizer):
    assert tokenizer.residue_ids("A?c").tolist() == [8, tokenizer.mask_token_id, 10]
    assert tokenizer.mask_token_id == 5


def test_context_forms_are_equivalent(tokenizer, tmp_path):
    a3m = tmp_path / "q.a3m"
    a3m.write_text(">query\nMKVL\n>h1\nMK-Lqq\n>h2\nM.KVL\n")
    assert read_a3m(a3m, "MKVL") == ["MKLQQ", "MKVL"]
    assert parse_context("MKLQQ, MKVL") == ["MKLQQ", "MKVL"]
    from_list = tokenizer.encode_proteins("MKVL", context=["MKLQQ", "MKVL"])
    from_string = tokenizer.encode_proteins("MKVL", context="MKLQQ,MKVL")
    from_file = tokenizer.encode_proteins("MKVL", context=str(a3m))
    for key in from_list:
        assert torch.equal(from_list[key], from_string[key]) and torch.equal(from_list[key], from_file[key])


def test_errors_name_the_problem(tokenizer, tmp_path):
    with pytest.raises(ValueError, match="query #1 is empty"):
        tokenizer.encode_proteins(["MK", ""])
    with pytest.raises(ValueError, match="context sequence #1 is empty"):
        tokenizer.encode_proteins("MK", context=["AC", "  "])
    with pytest.raises(ValueError, match="more than the 512 sequences"):
        tokenizer.encode_proteins("MK", context=["A"] * 512)
    assert tokenizer.encode_proteins("MK", context=["A"] * 511)["sequence_ids"].max() == 511
    with pytest.raises(ValueError, match="context file not found"):
        tokenizer.encode_proteins("MK", context=str(tmp_path / "missing.a3m"))
    with pytest.raises(ValueError, match="a list of 2 contexts"):
        tokenizer.encode_proteins(["MK", "AC"], context=["AC"])


def test_save_and_reload(tokenizer, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    again = E1Tokenizer.from_pretrained(tmp_path)
    assert again.get_vocab() == tokenizer.get_vocab() and again.all_special_ids == tokenizer.all_special_ids
    assert np.array_equal(again.encode_proteins("MKV")["input_ids"].numpy(), tokenizer.encode_proteins("MKV")["input_ids"].numpy())
