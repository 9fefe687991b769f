"""3-mer DNA tokens aligned with methylation states; samples as region means with a missing mask; clear errors."""
import numpy as np
import pytest

from modeling.tissuebert.tokenization_tissuebert import KMERS, VOCAB, TissueBERTTokenizer, region_means


@pytest.fixture
def tokenizer():
    return TissueBERTTokenizer(region_length=10, num_regions=3)


def test_vocabulary_is_the_notes_69_tokens(tokenizer):
    assert len(tokenizer) == 69 == len(VOCAB) and len(KMERS) == 64
    assert tokenizer.pad_token_id == 0 and tokenizer.convert_ids_to_tokens(5) == "AAA"


def test_kmers_start_at_each_position(tokenizer):
    ids = tokenizer.kmer_ids("ACGTNacguA")
    tokens = tokenizer.convert_ids_to_tokens(ids.tolist())
    assert tokens == ["ACG", "CGT", "[UNK]", "[UNK]", "[UNK]", "ACG", "CGT", "GTA", "[PAD]", "[PAD]"]
    with pytest.raises(ValueError, match="invalid character 'X' at position 3"):
        tokenizer.kmer_ids("ACGX")


def test_encode_regions(tokenizer):
    batch = tokenizer.encode_regions(["ACGTACGTAC"], [[2, 1, 2, 2, 2, 0, 2, 2, 2, 2]])
    assert batch["input_ids"].shape == batch["methylation"].shape == (1, 10)
    with pytest.raises(ValueError, match="10-bp"):
        tokenizer.encode_regions(["ACG"], [[2, 2, 2]])
    with pytest.raises(ValueError, match="state 3"):
        tokenizer.encode_regions(["ACGTACGTAC"], [[3] * 10])


def test_region_means_mask_missing_calls():
    states = np.array([[[1, 0, 2, 1], [2, 2, 2, 2], [0, 0, 0, 2]]])
    means, counts = region_means(states)
    assert np.allclose(means[0, [0, 2]], [2 / 3, 0.0]) and np.isnan(means[0, 1])  # no call -> missing, not 0
    assert counts.tolist() == [[3, 0, 3]]


def test_encode_samples_from_means_states_and_dicts(tokenizer):
    states = np.full((3, 10), 2)
    states[0, :4] = [1, 1, 0, 2]
    states[2, 0] = 0
    batch = tokenizer.encode_samples([[0.2, None, 0.9], states, {"region_means": np.array([0.1, 0.5, np.nan]),
                                                                  "region_coverage": np.array([4, 2, 0])}])
    assert batch["region_mask"].tolist() == [[1, 0, 1], [1, 0, 1], [1, 1, 0]]
    assert np.allclose(batch["region_means"].numpy()[1], [2 / 3, 0, 0])
    assert batch["region_coverage"].tolist()[2] == [4, 2, 0]
    with pytest.raises(ValueError, match="sample #0: expected 3 region means"):
        tokenizer.encode_samples([[0.1, 0.2]])
    with pytest.raises(ValueError, match="outside"):
        tokenizer.encode_samples([[0.1, 1.5, 0.2]])
