"""MirLMTokenizer: vocabulary, normalisation, errors, (mRNA, miRNA) batch encoding, save/load round trip."""
import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from modeling.mirlm.configuration_mirlm import MirLMConfig
from modeling.mirlm.tokenization_mirlm import MirLMTokenizer

EXPECTED_VOCAB = {
    "[CLS]": 0, "[SEP]": 1, "[BOS]": 2, "[MASK]": 3, "[PAD]": 4, "[RESERVED]": 5, "[UNK]": 6, "[MRNA_CLS]": 7,
    "A": 8, "T": 9, "C": 10, "G": 11, "N": 12,
}
IUPAC = "RYSWKMBDHV"
# Every character the tokenizer accepts: bases, U, N and the IUPAC ambiguity codes, in both cases.
ACCEPTED = "ACGTUN" + IUPAC
ACCEPTED = ACCEPTED + ACCEPTED.lower()


@pytest.fixture(scope="module")
def tok():
    return MirLMTokenizer()


def per_character_ids(tok, seq: str, width: int, with_cls: bool) -> list:
    """The reference: the tokenizer's per-character path, padded with [PAD] to `width`."""
    ids = tok.convert_tokens_to_ids(tok.tokenize(seq))
    if with_cls:
        ids = [tok.mrna_cls_token_id] + ids
    return ids + [tok.pad_token_id] * (width - len(ids))


# -- vocabulary --------------------------------------------------------------------------------------------
def test_vocabulary_is_the_documented_one(tok):
    assert tok.get_vocab() == EXPECTED_VOCAB
    assert tok.vocab_size == len(tok) == 13
    assert tok.convert_ids_to_tokens(list(range(13))) == list(EXPECTED_VOCAB)


def test_special_token_ids(tok):
    # [MRNA_CLS] is 7 (the seed also says 12 in one place; 7 is the chosen one, as in the config).
    assert tok.mrna_cls_token_id == 7
    assert (tok.cls_token_id, tok.sep_token_id, tok.bos_token_id, tok.mask_token_id, tok.pad_token_id,
            tok.unk_token_id) == (0, 1, 2, 3, 4, 6)
    assert tok.convert_tokens_to_ids(["[RESERVED]", "[MRNA_CLS]"]) == [5, 7]
    assert sorted(tok.all_special_ids) == list(range(8))


def test_config_agrees_with_tokenizer(tok):
    config = MirLMConfig()
    assert config.vocab_size == tok.vocab_size
    assert config.pad_token_id == tok.pad_token_id
    assert config.mrna_cls_token_id == tok.mrna_cls_token_id
    assert (config.mrna_max_len, config.mirna_max_len) == (tok.mrna_max_len, tok.mirna_max_len) == (520, 30)


def test_single_sequence_call_prepends_mrna_cls(tok):
    assert tok("ACGU")["input_ids"] == [7, 8, 10, 11, 9]
    with pytest.raises(ValueError, match="encode_pairs"):
        tok("ACGT", "ACGT")


# -- normalisation -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ACGT", "ACGT"),
        ("ACGU", "ACGT"),
        ("acgun", "ACGTN"),
        ("uUtT", "TTTT"),
        (IUPAC, "N" * len(IUPAC)),
        (IUPAC.lower(), "N" * len(IUPAC)),
        ("aRyN", "ANNN"),
    ],
)
def test_normalize(raw, expected):
    assert MirLMTokenizer.normalize(raw) == expected
    assert MirLMTokenizer.normalize(expected) == expected  # idempotent


def test_encode_pairs_normalises_like_normalize(tok):
    enc = tok.encode_pairs(["acgu", "RYSW"], "uagc", padding="longest")
    assert enc["input_ids"].tolist() == [[7, 8, 10, 11, 9], [7, 12, 12, 12, 12]]
    assert enc["mirna_input_ids"].tolist() == [[9, 8, 11, 10]] * 2


@pytest.mark.parametrize("bad", ["X", "E", "I", "Z", "-", ".", "*", " ", "\n", "0", "é", "ü", "Ω", "🧬"])
def test_invalid_character_names_sequence_and_position(tok, bad):
    with pytest.raises(ValueError, match=r"mRNA #2: invalid character .* at position 5"):
        tok.encode_pairs(["ACGT", "ACGTAC", "ACGTA" + bad + "CC"], "ACGU")
    with pytest.raises(ValueError, match=r"miRNA #1: invalid character .* at position 0"):
        tok.encode_pairs(["ACGT", "ACGT"], ["ACGU", bad + "CGU"])
    with pytest.raises(ValueError) as info:
        MirLMTokenizer.normalize("AC" + bad, "my transcript")
    message = str(info.value)
    assert "my transcript" in message and "position 2" in message and repr(bad) in message


def test_non_ascii_before_invalid_ascii_reports_the_first_bad_sequence(tok):
    # The vectorised path falls back to the per-character check when the batch is not ASCII.
    with pytest.raises(ValueError, match=r"mRNA #1: invalid character 'é' at position 3"):
        tok.encode_pairs(["ACGT", "ACGéX", "AXXX"], "ACGU")


@pytest.mark.parametrize("value", ["", None, 5])
def test_empty_or_non_string_sequences_are_errors(tok, value):
    with pytest.raises(ValueError, match="mRNA #1 is empty or not a string"):
        tok.encode_pairs(["ACGT", value], "ACGU")
    with pytest.raises(ValueError, match="miRNA #0 is empty or not a string"):
        tok.encode_pairs(["ACGT"], [value])


def test_argument_errors(tok):
    with pytest.raises(ValueError, match="2 mRNAs but 3 miRNAs"):
        tok.encode_pairs(["ACGT", "ACGT"], ["ACG"] * 3)
    with pytest.raises(ValueError, match="at least one"):
        tok.encode_pairs([], [])
    with pytest.raises(ValueError, match="padding must be"):
        tok.encode_pairs("ACGT", "ACG", padding="do_not_pad")


# -- length limits -----------------------------------------------------------------------------------------
def test_longest_accepted_lengths(tok):
    enc = tok.encode_pairs("A" * 519, "C" * 30)
    assert enc["input_ids"].shape == (1, 520) and bool(enc["attention_mask"].all())
    assert enc["mirna_input_ids"].shape == (1, 30) and bool(enc["mirna_attention_mask"].all())


def test_too_long_mrna_is_an_error_not_a_cut(tok):
    with pytest.raises(ValueError, match=r"mRNA #1 has 520 nt, more than the 519 .*windows"):
        tok.encode_pairs(["ACGT", "A" * 520], "ACGU")


def test_too_long_mirna_is_an_error_not_a_cut(tok):
    with pytest.raises(ValueError, match=r"miRNA #0 has 31 nt, more than the 30"):
        tok.encode_pairs("ACGT", "A" * 31)


def test_limits_follow_the_tokenizer_arguments():
    small = MirLMTokenizer(mrna_max_len=11, mirna_max_len=5)
    assert small.encode_pairs("A" * 10, "C" * 5)["input_ids"].shape == (1, 11)
    with pytest.raises(ValueError, match="11 nt, more than the 10"):
        small.encode_pairs("A" * 11, "C" * 5)
    with pytest.raises(ValueError, match="6 nt, more than the 5"):
        small.encode_pairs("A" * 10, "C" * 6)


# -- sites -------------------------------------------------------------------------------------------------
def test_site_positions_shift_by_one_and_missing_is_minus_100(tok):
    mrnas = ["AAAACCCCGGGG", "TTTTTTTT", "GATTACA"]
    enc = tok.encode_pairs(mrnas, "ACGU", site_start=[4, -1, 0], site_end=[7, -1, 6], padding="longest")
    assert enc["start_positions"].tolist() == [5, -100, 1]
    assert enc["end_positions"].tolist() == [8, -100, 7]
    # The shifted positions point at the site's nucleotides in input_ids.
    assert enc["input_ids"][0, 5:9].tolist() == tok.convert_tokens_to_ids(list("CCCC"))
    assert enc["input_ids"][2, 1:8].tolist() == tok.convert_tokens_to_ids(list("GATTACA"))


def test_sites_accept_numpy_and_scalars(tok):
    enc = tok.encode_pairs("ACGTACGT", "ACGU", site_start=np.int64(2), site_end=3, return_tensors="np")
    assert enc["start_positions"].tolist() == [3] and enc["end_positions"].tolist() == [4]


@pytest.mark.parametrize(
    "start, end, message",
    [
        ([0, 5], [3, 4], "pair #1 .* not inside"),  # end before start
        ([0, 3], [3, 4], "pair #1 .* not inside its 4-nt"),  # end past the mRNA
        ([0], [3], "one entry per pair"),
        ([0, 0], None, "both site_start and site_end"),
    ],
)
def test_bad_sites_are_errors(tok, start, end, message):
    with pytest.raises(ValueError, match=message):
        tok.encode_pairs(["ACGTACGT", "ACGT"], "ACGU", site_start=start, site_end=end)


# -- padding -----------------------------------------------------------------------------------------------
def test_padding_max_length(tok):
    enc = tok.encode_pairs(["ACG", "ACGTACGTAC"], ["ACGU", "ACGUACGUACGUACGUACGUAC"])
    assert enc["input_ids"].shape == (2, 520) and enc["mirna_input_ids"].shape == (2, 30)
    assert enc["attention_mask"].sum(1).tolist() == [4, 11]
    assert enc["mirna_attention_mask"].sum(1).tolist() == [4, 22]
    assert (enc["input_ids"][0, 4:] == tok.pad_token_id).all()
    assert (enc["mirna_input_ids"][1, 22:] == tok.pad_token_id).all()
    assert enc["global_attention_mask"][:, 0].tolist() == [1, 1] and int(enc["global_attention_mask"].sum()) == 2
    assert all(isinstance(v, torch.Tensor) and v.dtype == torch.int64 for v in enc.values())


def test_padding_longest(tok):
    enc = tok.encode_pairs(["ACG", "ACGTACGTAC"], ["ACGU", "ACGUAC"], padding="longest")
    assert enc["input_ids"].tolist() == [[7, 8, 10, 11] + [4] * 7, [7] + tok.convert_tokens_to_ids(list("ACGTACGTAC"))]
    assert enc["attention_mask"].tolist() == [[1] * 4 + [0] * 7, [1] * 11]
    assert enc["global_attention_mask"].tolist() == [[1] + [0] * 10] * 2
    assert enc["mirna_attention_mask"].tolist() == [[1] * 4 + [0] * 2, [1] * 6]


@pytest.mark.parametrize("multiple, mrna_width, mirna_width", [(8, 16, 8), (5, 15, 10), (1, 11, 6), (64, 64, 30)])
def test_pad_to_multiple_of(tok, multiple, mrna_width, mirna_width):
    # longest mRNA 10 nt -> 11 tokens with [MRNA_CLS]; longest miRNA 6 nt; widths never exceed the maxima.
    enc = tok.encode_pairs(["ACG", "ACGTACGTAC"], ["ACGU", "ACGUAC"], padding="longest", pad_to_multiple_of=multiple)
    assert enc["input_ids"].shape[1] == mrna_width and enc["mirna_input_ids"].shape[1] == mirna_width
    assert enc["attention_mask"].sum(1).tolist() == [4, 11]


def test_pad_to_multiple_of_is_capped_at_the_maximum(tok):
    enc = tok.encode_pairs("A" * 515, "C" * 22, padding="longest", pad_to_multiple_of=64)
    assert enc["input_ids"].shape == (1, 520) and enc["mirna_input_ids"].shape == (1, 30)


def test_numpy_and_torch_outputs_agree(tok):
    args = (["ACGTN", "GG"], "UAGCUUAUCAGACUGAUGUUGA")
    as_np = tok.encode_pairs(*args, padding="longest", return_tensors="np")
    as_pt = tok.encode_pairs(*args, padding="longest", return_tensors="pt")
    assert set(as_np) == set(as_pt)
    for key in as_np:
        assert isinstance(as_np[key], np.ndarray)
        np.testing.assert_array_equal(as_np[key], as_pt[key].numpy())


# -- save / load -------------------------------------------------------------------------------------------
def test_save_pretrained_round_trip(tok, tmp_path):
    tok.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "vocab.json").read_text()) == EXPECTED_VOCAB
    loaded = MirLMTokenizer.from_pretrained(tmp_path)
    assert loaded.get_vocab() == EXPECTED_VOCAB
    assert loaded.mrna_cls_token_id == 7 and loaded.pad_token_id == 4 and loaded.padding_side == "right"
    args = (["ACGUNRY", "GGAUC"], "UAGCUUAUCAGACUGAUGUUGA")
    for key, value in tok.encode_pairs(*args, site_start=[1, -1], site_end=[3, -1]).items():
        assert torch.equal(value, loaded.encode_pairs(*args, site_start=[1, -1], site_end=[3, -1])[key]), key


def test_save_pretrained_keeps_the_length_limits(tmp_path):
    MirLMTokenizer(mrna_max_len=100, mirna_max_len=30).save_pretrained(tmp_path)
    loaded = MirLMTokenizer.from_pretrained(tmp_path)
    assert (loaded.mrna_max_len, loaded.mirna_max_len, loaded.model_max_length) == (100, 30, 100)
    assert loaded.encode_pairs("ACGT", "ACGU")["input_ids"].shape == (1, 100)


def test_a_foreign_vocab_file_is_refused(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({**EXPECTED_VOCAB, "[MRNA_CLS]": 12, "N": 7}))
    with pytest.raises(ValueError, match="mirLM vocabulary"):
        MirLMTokenizer(vocab_file=str(path))


# -- the vectorised path equals the per-character path -----------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.text(ACCEPTED, min_size=1, max_size=519), st.text(ACCEPTED, min_size=1, max_size=30)),
        min_size=1,
        max_size=6,
    ),
    padding=st.sampled_from(["longest", "max_length"]),
    multiple=st.sampled_from([None, 1, 8, 64]),
)
def test_encode_pairs_equals_the_per_character_path(tok, pairs, padding, multiple):
    mrnas, mirnas = map(list, zip(*pairs))
    enc = tok.encode_pairs(mrnas, mirnas, padding=padding, pad_to_multiple_of=multiple, return_tensors="np")
    mrna_width, mirna_width = enc["input_ids"].shape[1], enc["mirna_input_ids"].shape[1]
    if padding == "max_length":
        assert (mrna_width, mirna_width) == (520, 30)
    else:
        assert mrna_width >= max(map(len, mrnas)) + 1 and mirna_width >= max(map(len, mirnas))
    expected = [per_character_ids(tok, s, mrna_width, with_cls=True) for s in mrnas]
    expected_mirna = [per_character_ids(tok, s, mirna_width, with_cls=False) for s in mirnas]
    assert enc["input_ids"].tolist() == expected
    assert enc["mirna_input_ids"].tolist() == expected_mirna
    assert enc["attention_mask"].sum(1).tolist() == [len(s) + 1 for s in mrnas]
    assert enc["mirna_attention_mask"].sum(1).tolist() == list(map(len, mirnas))
    np.testing.assert_array_equal(enc["attention_mask"], enc["input_ids"] != tok.pad_token_id)
    np.testing.assert_array_equal(enc["mirna_attention_mask"], enc["mirna_input_ids"] != tok.pad_token_id)
