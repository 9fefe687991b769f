"""The metal-binding-residues pipeline: per-residue probabilities per ion, thresholds, context forms."""

import numpy as np
import pytest
import torch
from transformers import pipeline

import hf_models  # noqa: F401  registers the e1 pipeline task
from hf_models import preset_config
from modeling.e1.modeling_e1 import E1ForContrastiveBinding
from modeling.e1.tokenization_e1 import E1Tokenizer


@pytest.fixture(scope="module")
def find():
    torch.manual_seed(0)
    model = E1ForContrastiveBinding(preset_config("e1", "tiny")).eval()
    model.prototypes.copy_(torch.nn.functional.normalize(torch.randn(3, model.config.hidden_size), dim=-1))
    return pipeline("metal-binding-residues", model=model, tokenizer=E1Tokenizer())


def test_output_per_residue_and_ion(find):
    out = find("mkcavcgk*hh")
    assert out["sequence"] == "MKCAVCGKXHH" and out["ions"] == ["ZN", "CA", "MG"]
    assert out["probabilities"].shape == (11, 3) and ((0 <= out["probabilities"]) & (out["probabilities"] <= 1)).all()
    for j, ion in enumerate(out["ions"]):
        called = [r["position"] for r in out["binding_residues"][ion]]
        assert called == (np.flatnonzero(out["probabilities"][:, j] >= out["thresholds"][ion]) + 1).tolist()
    everything = find("MKCAVCGKHH", threshold=0.0)
    assert all(len(v) == 10 for v in everything["binding_residues"].values())


def test_context_forms_give_the_same_result_and_change_the_query(find, tmp_path):
    a3m = tmp_path / "h.a3m"
    a3m.write_text(">q\nMKCAVCGKHH\n>h1\nMKCA-CGRHH\n>h2\nMRCAVCGKHW\n")
    listed = find("MKCAVCGKHH", context=["MKCACGRHH", "MRCAVCGKHW"])
    joined = find("MKCAVCGKHH", context="MKCACGRHH,MRCAVCGKHW")
    from_file = find("MKCAVCGKHH", context=str(a3m))
    assert listed["num_context"] == 2
    np.testing.assert_array_equal(listed["probabilities"], joined["probabilities"])
    np.testing.assert_array_equal(listed["probabilities"], from_file["probabilities"])
    assert not np.allclose(listed["probabilities"], find("MKCAVCGKHH")["probabilities"])
    batch = find([{"sequence": "MKCAVCGKHH", "context": ["MKCACGRHH", "MRCAVCGKHW"]}, "MKV"])
    np.testing.assert_allclose(batch[0]["probabilities"], listed["probabilities"], atol=1e-6)


def test_bad_input(find):
    with pytest.raises(ValueError, match="query #0 is empty|is empty"):
        find("")
    with pytest.raises(ValueError, match="lacks 'sequence'"):
        find([{"seq": "MK"}])
