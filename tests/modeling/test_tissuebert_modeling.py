"""The TissueBERT models: shapes, missing regions, the loss, the mixture fit, and the repository class that picks one."""
import numpy as np
import pytest
import torch

from hf_models import preset_config
from modeling.tissuebert.modeling_tissuebert import (TissueBERTForMixtureDeconvolution, TissueBERTForRegionAttention,
                                                     TissueBERTForRegionClassification, TissueBERTForSampleClassification,
                                                     TissueBERTForSequenceClassification)


def config(kind, **extra):
    return preset_config("tissuebert", "tiny", model_kind=kind, **extra)


@pytest.mark.parametrize("kind, cls", [("sample", TissueBERTForSampleClassification), ("region_attention", TissueBERTForRegionAttention),
                                       ("region", TissueBERTForRegionClassification), ("mixture", TissueBERTForMixtureDeconvolution)])
def test_repository_class_holds_the_kind(kind, cls):
    model = TissueBERTForSequenceClassification(config(kind))
    assert type(model.tissuebert) is cls
    assert all(key.startswith("tissuebert.") for key in model.state_dict())


def test_sample_model_from_states_equals_from_means():
    model = TissueBERTForSequenceClassification(config("sample")).eval()
    states = torch.randint(0, 3, (2, 16, 150))
    states[0, 3] = 2  # region 3 of sample 0 has no call
    counts = (states != 2).sum(-1).float()
    means = ((states == 1).sum(-1) / counts.clamp(min=1)).masked_fill(counts == 0, float("nan"))
    with torch.no_grad():
        a = model(methylation=states).logits
        b = model(region_means=means).logits
    torch.testing.assert_close(a, b)
    assert a.shape == (2, 22)


def test_missing_region_uses_the_learned_fill_not_zero():
    model = TissueBERTForSequenceClassification(config("sample")).eval()
    assert torch.allclose(model.tissuebert.missing_fill, torch.full((16,), 0.5))
    means = torch.rand(1, 16)
    with torch.no_grad():
        missing = means.clone()
        missing[0, 4] = float("nan")
        filled = means.clone()
        filled[0, 4] = 0.5
        zero = means.clone()
        zero[0, 4] = 0.0
        assert torch.equal(model(region_means=missing).logits, model(region_means=filled).logits)
        assert not torch.equal(model(region_means=missing).logits, model(region_means=zero).logits)


def test_region_attention_ignores_missing_regions_and_sums_to_one():
    model = TissueBERTForSequenceClassification(config("region_attention", region_attention_layers=1)).eval()
    means = torch.rand(2, 16)
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, :5] = 0
    with torch.no_grad():
        out = model(region_means=means, region_mask=mask)
        changed = means.clone()
        changed[1, :5] = torch.rand(5)  # values of hidden regions do not matter
        again = model(region_means=changed, region_mask=mask)
    assert torch.allclose(out.region_attention.sum(-1), torch.ones(2))
    assert (out.region_attention[1, :5] == 0).all()
    torch.testing.assert_close(out.logits[1], again.logits[1])


def test_region_model_and_loss():
    model = TissueBERTForSequenceClassification(config("region"))
    ids, states = torch.randint(5, 69, (4, 150)), torch.randint(0, 3, (4, 150))
    out = model(input_ids=ids, methylation=states, labels=torch.tensor([0, 1, 2, 3]))
    assert out.logits.shape == (4, 22) and out.loss.item() == pytest.approx(np.log(22), abs=0.2)
    out.loss.backward()
    assert model.tissuebert.dna_embeddings.weight.grad is not None
    with pytest.raises(ValueError, match="region-level model"):
        model(region_means=torch.rand(1, 16))


def test_bad_inputs():
    model = TissueBERTForSequenceClassification(config("sample"))
    with pytest.raises(ValueError, match=r"\(batch, 16\)"):
        model(region_means=torch.rand(2, 15))
    with pytest.raises(ValueError, match="no region with a methylation call"):
        model(region_means=torch.full((2, 16), float("nan")))
    with pytest.raises(ValueError, match="either methylation"):
        model()


def mixture_model(regions=40, tissues=4, seed=0):
    model = TissueBERTForSequenceClassification(config("mixture", num_regions=regions, id2label={i: f"t{i}" for i in range(tissues)}))
    reference = torch.rand(regions, tissues, generator=torch.Generator().manual_seed(seed))
    model.tissuebert.set_reference(reference)
    return model.eval(), reference


def test_mixture_model_recovers_an_exact_mixture_of_its_atlas():
    model, reference = mixture_model()
    truth = torch.tensor([[0.7, 0.2, 0.1, 0.0], [0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    means = truth @ reference.T
    means[0, :10] = float("nan")  # missing regions are left out of the fit, not read as 0
    with torch.no_grad():
        out = model(region_means=means)
    torch.testing.assert_close(out.proportions, truth, atol=1e-5, rtol=0)
    torch.testing.assert_close(torch.softmax(out.logits, -1), out.proportions, atol=1e-5, rtol=0)


def test_mixture_model_noisy_fit_is_a_composition_and_trains():
    model, reference = mixture_model()
    truth = torch.tensor([[0.9, 0.0, 0.1, 0.0], [0.0, 0.5, 0.0, 0.5]])
    noisy = (truth @ reference.T + 0.2 * torch.randn(2, 40, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    model.train()
    out = model(region_means=noisy, labels=truth)
    assert (out.proportions >= 0).all() and torch.allclose(out.proportions.sum(-1), torch.ones(2), atol=1e-5)
    out.loss.backward()
    assert model.tissuebert.region_log_weights.grad.abs().sum() > 0 and model.tissuebert.reference.grad is None
    with pytest.raises(ValueError, match="mixture labels must be proportions"):
        model(region_means=noisy, labels=torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="without NaN"):
        model.tissuebert.set_reference(torch.full((40, 4), float("nan")))


def test_mixture_model_keeps_its_atlas_when_saved(tmp_path):
    model, reference = mixture_model()
    model.save_pretrained(tmp_path)
    loaded = TissueBERTForSequenceClassification.from_pretrained(tmp_path)
    torch.testing.assert_close(loaded.tissuebert.reference, reference)
