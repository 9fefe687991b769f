"""Mutation2TextProcessor: placeholders, labels only on the answer, protein ids, padding sides, errors, save/load."""

import pytest
import torch

from modeling.mutation2text.processing_mutation2text import PROTEIN_VOCAB, Mutation2TextProcessor


@pytest.fixture(scope="module")
def processor():
    return Mutation2TextProcessor(num_media_tokens=3, protein_max_length=40)


def test_vocabulary_and_specials(processor):
    assert len(processor) == 260 and processor.delta_token_id == 259
    assert processor.convert_ids_to_tokens([0, 1, 2]) == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert processor.eos_token == processor.pad_token == "<|im_end|>"
    assert "<delta_P>" in processor.all_special_tokens
    # ESM-2's alphabet order, so real ESM-2 embeddings line up
    assert PROTEIN_VOCAB.index("L") == 4 and PROTEIN_VOCAB.index("<mask>") == 32 and len(PROTEIN_VOCAB) == 33


def test_training_batch(processor):
    batch = processor.encode_mutations(["MKTAYIAK", "MKTAYIAKQR"], mutation=["K2A", None],
                                       mutant=[None, "MKTAYIAKQG"], answer=["Lys to Ala.", "Arg to Gly."])
    ids, labels = batch["input_ids"], batch["labels"]
    assert ids.shape == labels.shape == batch["attention_mask"].shape
    assert ((ids == processor.delta_token_id).sum(dim=1) == 3).all()
    for row in range(2):
        answer = labels[row][labels[row] != -100]
        text = processor.decode(answer)
        assert text == ["Lys to Ala.", "Arg to Gly."][row] + "<|im_end|>"
        # right padding: the answer ends where the attention mask ends
        last = int(batch["attention_mask"][row].sum()) - 1
        assert labels[row, last] == processor.eos_token_id and batch["attention_mask"][row, 0] == 1
    prompt = processor.decode(ids[1][batch["attention_mask"][1].bool()])
    assert "Mutation R10G in a protein of 10 residues." in prompt and prompt.count("<delta_P>") == 3
    # proteins: <cls> residues <eos>, right padded, shared mask; the mutant differs at the mutation only
    wt, mt, mask = batch["wild_type_input_ids"], batch["mutant_input_ids"], batch["protein_attention_mask"]
    assert wt.shape == (2, 12) and mask[0].sum() == 10 and wt[0, 10] == 1
    assert (wt[0] != mt[0]).nonzero().flatten().tolist() == [2]
    assert PROTEIN_VOCAB[int(mt[0, 2])] == "A" and PROTEIN_VOCAB[int(wt[0, 2])] == "K"


def test_generation_batch_is_left_padded(processor):
    batch = processor.encode_mutations(["MKTAYIAK", "MKTAYIAKQR"], mutation=["K2A", "R10G;Y5W"], question=[None, "Why?"])
    assert "labels" not in batch
    assert batch["attention_mask"][:, -1].tolist() == [1, 1]
    assert batch["attention_mask"][0, 0] == 0 or batch["attention_mask"][1, 0] == 0
    text = processor.decode(batch["input_ids"][1], skip_special_tokens=False)
    assert text.rstrip().endswith("<|im_start|>assistant") and "Why?" in text and "R10G;Y5W" in text


def test_errors_name_the_example(processor):
    with pytest.raises(ValueError, match="example 1: mutation A2G: the wild type has K at position 2"):
        processor.encode_mutations(["MKTA", "MKTA"], mutation=["K2A", "A2G"])
    with pytest.raises(ValueError, match="longer than protein_max_length=40"):
        processor.encode_mutations("M" * 41, mutation="M1A")
    with pytest.raises(ValueError, match="answer for every example"):
        processor.encode_mutations(["MKTA", "MKTA"], mutation="K2A", answer=["x", None])
    with pytest.raises(ValueError, match="exactly one <delta_P>"):
        processor.encode_mutations("MKTA", mutation="K2A", question="what about <delta_P>?")


def test_save_and_reload(processor, tmp_path):
    processor.save_pretrained(tmp_path)
    again = Mutation2TextProcessor.from_pretrained(tmp_path)
    assert again.get_vocab() == processor.get_vocab() and again.num_media_tokens == 3
    assert again.protein_max_length == 40 and again.chat_template == processor.chat_template
    a = processor.encode_mutations("MKTAYIAK", mutation="K2A", answer="ok")
    b = again.encode_mutations("MKTAYIAK", mutation="K2A", answer="ok")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_wraps_a_language_model_tokenizer(processor):
    wrapped = Mutation2TextProcessor.from_text_tokenizer(processor, num_media_tokens=2)
    assert wrapped.get_vocab() == processor.get_vocab() and wrapped.num_media_tokens == 2
    assert wrapped.chat_template == processor.chat_template
