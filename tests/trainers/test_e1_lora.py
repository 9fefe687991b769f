"""LoRA through PEFT: only adapters train, the merged model computes the same function and exports as a plain repository."""

import pytest
import torch
from transformers import AutoModel, AutoModelForTokenClassification

import hf_models  # noqa: F401  registers e1
from datasets_scripts.e1.collator import E1ContrastiveCollator
from hf_models import export_repository, preset_config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding
from modeling.e1.tokenization_e1 import E1Tokenizer
from trainers.e1.lora import DEFAULT_TARGETS, apply_lora, merged, save_adapters_and_heads
from trainers.e1.trainer import load_heads

ROWS = [{"id": "a", "sequence": "MKCAVCGKHLAEHHW", "homologs": ["MKCAICGRHLSEHHW"], "labels_zn": [0, 0, 1, 0, 0, 1] + [0] * 6 + [1, 1, 0],
         "labels_ca": [0] * 15, "labels_mg": [0] * 15}]


def _model():
    torch.manual_seed(0)
    model = E1ForContrastiveBinding(preset_config("e1", "tiny"))
    model.prototypes.copy_(torch.nn.functional.normalize(torch.randn(3, model.config.hidden_size), dim=-1))
    model.prototypes_initialized.fill_(True)
    return model


def test_lora_trains_adapters_only_and_merges_to_the_same_function(tmp_path):
    model = apply_lora(_model(), r=4, alpha=8, dropout=0.0)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert {n.split(".")[-4] for n in trainable if "lora_A" in n} == set(DEFAULT_TARGETS)
    batch = E1ContrastiveCollator(E1Tokenizer(), ["ZN", "CA", "MG"], num_variants=2, num_context=1)(ROWS)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    frozen_before = model.get_base_model().model.embed_tokens.weight.clone()
    for _ in range(3):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert torch.equal(model.get_base_model().model.embed_tokens.weight, frozen_before)
    model.eval()
    inputs = {k: v[:, 0] for k, v in batch.items() if k in E1Tokenizer.model_input_names}
    with torch.no_grad():
        adapted = model(**inputs).binding_logits
    save_adapters_and_heads(model, tmp_path / "fold")
    assert (tmp_path / "fold" / "adapter" / "adapter_model.safetensors").is_file()
    plain = merged(model)
    assert type(plain) is E1ForContrastiveBinding and not any("lora" in k for k in plain.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(plain(**inputs).binding_logits, adapted, rtol=1e-4, atol=1e-4)

    fresh = _model()
    fresh.prototypes.zero_()
    assert load_heads(fresh, tmp_path / "fold") and torch.equal(fresh.prototypes, plain.prototypes)

    folder = export_repository(plain, E1Tokenizer(), tmp_path / "repo", dataset="unit-test")
    backbone = AutoModel.from_pretrained(folder, trust_remote_code=True).eval()
    head = AutoModelForTokenClassification.from_pretrained(folder, trust_remote_code=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(head(**inputs).binding_logits, adapted, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(backbone(**inputs).last_hidden_state, plain.model(**inputs).last_hidden_state)


def test_lora_needs_known_targets():
    with pytest.raises(ValueError):
        apply_lora(_model(), r=4, alpha=8, dropout=0.0, target_modules=["not_a_module"])
