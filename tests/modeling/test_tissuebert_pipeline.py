"""The tissue-of-origin pipeline on npz, .beta, arrays; informative regions of the attention model; region-level voting."""
import numpy as np
import pytest
import torch
from transformers import pipeline

from datasets_scripts.tissuebert import atlas_table, generate_atlas, write_beta_folder, write_npz_folder
from hf_models import export_repository, make_tokenizer, preset_config
from modeling.tissuebert.modeling_tissuebert import TissueBERTForSequenceClassification


@pytest.fixture(scope="module")
def atlas():
    return generate_atlas("tiny", seed=2)


@pytest.fixture(scope="module")
def files(atlas, tmp_path_factory):
    root = tmp_path_factory.mktemp("samples")
    return write_npz_folder(atlas, root / "npz", progress=False), write_beta_folder(atlas, root / "beta", progress=False)


def repository(kind, atlas, folder, with_ranges=True):
    torch.manual_seed(0)
    config = preset_config("tissuebert", "tiny", model_kind=kind, num_regions=atlas.num_regions, regions=atlas.region_names,
                           region_cpg_ranges=atlas.region_cpg_ranges.tolist() if with_ranges else None)
    model = TissueBERTForSequenceClassification(config).eval()
    return export_repository(model, make_tokenizer("tissuebert", config), folder, dataset="unit-test")


def test_npz_beta_and_array_give_the_same_call(atlas, files, tmp_path):
    classify = pipeline(model=str(repository("region_attention", atlas, tmp_path / "repo")), trust_remote_code=True)
    npz_folder, beta_folder = files
    name = atlas.filenames[0]
    from_npz = classify(str(npz_folder / name))
    from_beta = classify(str(beta_folder / name.replace(".npz", ".beta")))
    table = atlas_table(atlas, progress=False)
    from_array_means, coverage = table.means[0], table.coverage[0]
    assert classify(from_array_means)["label"] in atlas.tissues  # means alone: coverage unknown (taken as equal)
    for result in (from_beta, classify({"region_means": from_array_means, "region_coverage": coverage})):
        np.testing.assert_allclose(result["probabilities"], from_npz["probabilities"], rtol=1e-5, atol=1e-6)
    assert from_npz["label"] in atlas.tissues and len(from_npz["top_k"]) == 5
    regions = from_npz["informative_regions"]
    assert len(regions) == 10 and regions[0]["name"].startswith("chr1:")
    assert regions[0]["attention"] >= regions[-1]["attention"] > 0
    assert from_npz["missing_regions"] == int(np.isnan(atlas_table(atlas, progress=False).means[0]).sum())
    assert len(classify([str(npz_folder / n) for n in atlas.filenames[:3]], top_k=2)) == 3


def test_beta_without_regions_is_a_clear_error(atlas, files, tmp_path):
    classify = pipeline(model=str(repository("sample", atlas, tmp_path / "repo", with_ranges=False)), trust_remote_code=True)
    beta = files[1] / atlas.filenames[0].replace(".npz", ".beta")
    with pytest.raises(ValueError, match="regions_bed"):
        classify(str(beta))
    assert classify(str(beta), regions_bed=str(files[1] / "regions.bed"))["label"] in atlas.tissues


def test_region_level_model_votes_over_regions(atlas, files, tmp_path):
    classify = pipeline(model=str(repository("region", atlas, tmp_path / "repo")), trust_remote_code=True)
    result = classify(str(files[0] / atlas.filenames[1]))
    assert result["probabilities"].sum() == pytest.approx(1.0, abs=1e-5) and "informative_regions" not in result
    with pytest.raises(ValueError, match="dna_tokens"):
        classify(np.random.rand(atlas.num_regions))
