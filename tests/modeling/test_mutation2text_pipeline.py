"""The mutation-to-text pipeline: input forms, validation, greedy text equal to generate()."""

import pytest
import torch
from transformers import pipeline

import hf_models  # noqa: F401
from hf_models import preset_config
from modeling.mutation2text.modeling_mutation2text import Mutation2TextForConditionalGeneration
from modeling.mutation2text.pipeline_mutation2text import Mutation2TextPipeline
from modeling.mutation2text.processing_mutation2text import Mutation2TextProcessor

WILD_TYPE = "MKTAYIAKQRQISFVKSHFSRQ"


@pytest.fixture(scope="module")
def describe():
    torch.manual_seed(0)
    config = preset_config("mutation2text", "tiny")
    model = Mutation2TextForConditionalGeneration(config).eval()
    processor = Mutation2TextProcessor(num_media_tokens=config.num_media_tokens)
    pipe = pipeline("mutation-to-text", model=model, tokenizer=processor)
    assert isinstance(pipe, Mutation2TextPipeline)
    return pipe


def test_output_matches_generate(describe):
    result = describe(wild_type=WILD_TYPE, mutation="p.Lys2Ala", max_new_tokens=5, min_new_tokens=5)
    assert result["mutation"] == "K2A"
    inputs = describe.tokenizer.encode_mutations(WILD_TYPE, mutation="K2A")
    with torch.no_grad():
        tokens = describe.model.generate(**inputs, max_new_tokens=5, min_new_tokens=5, do_sample=False)
    expected = describe.tokenizer.decode(tokens[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    assert result["generated_text"] == expected


def test_input_forms(describe):
    one = describe(wild_type=WILD_TYPE, mutant="MATAYIAKQRQISFVKSHFSRQ", max_new_tokens=3)
    listed = describe([{"wild_type": WILD_TYPE, "mutation": "K2A"}, {"wild_type": WILD_TYPE, "mutation": "R10G;K2A"}],
                      max_new_tokens=3)
    assert one["mutation"] == listed[0]["mutation"] == "K2A" and one["generated_text"] == listed[0]["generated_text"]
    assert listed[1]["mutation"] == "R10G;K2A"


def test_bad_input_is_reported(describe):
    with pytest.raises(ValueError, match="has K at position 2, not A"):
        describe(wild_type=WILD_TYPE, mutation="A2K")
    with pytest.raises(ValueError, match="unknown input fields"):
        describe({"wild_type": WILD_TYPE, "mutation": "K2A", "sequence": "x"})
    with pytest.raises(ValueError, match="give wild_type"):
        describe(mutation="K2A")


def test_generation_arguments_given_at_construction_are_kept(describe):
    short = pipeline("mutation-to-text", model=describe.model, tokenizer=describe.tokenizer, max_new_tokens=2,
                     min_new_tokens=2)
    inputs = describe.tokenizer.encode_mutations(WILD_TYPE, mutation="K2A")
    with torch.no_grad():
        tokens = describe.model.generate(**inputs, max_new_tokens=2, min_new_tokens=2, do_sample=False)
    expected = describe.tokenizer.decode(tokens[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()
    assert short(wild_type=WILD_TYPE, mutation="K2A")["generated_text"] == expected
