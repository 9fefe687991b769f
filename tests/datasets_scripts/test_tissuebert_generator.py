"""The embedded atlas has the notes' structure: tissues with subtypes, markers vs housekeeping regions, missing calls, augmentation groups."""
import numpy as np
import pytest

from datasets_scripts.tissuebert import SUBTYPES, atlas_table, generate_atlas
from datasets_scripts.tissuebert.generator import REGION_KINDS
from modeling.tissuebert.configuration_tissuebert import TISSUES


@pytest.fixture(scope="module")
def atlas():
    return generate_atlas("tiny", seed=3)


def test_structure(atlas):
    assert atlas.num_regions == 64 and atlas.dna_tokens.shape == (64, 150)
    assert set(atlas.tissue) == set(TISSUES)
    assert set(atlas.subtype) >= set(SUBTYPES["Pancreas"]) | set(SUBTYPES["Blood"])
    # every CpG of the mask is a C followed by G in the DNA, and there are no other CpGs
    for seq, mask in zip(atlas.dna, atlas.cpg_mask):
        cpgs = {i for i in range(149) if seq[i : i + 2] == "CG"}
        assert cpgs == set(np.flatnonzero(mask).tolist())
    assert all(name.endswith(f"_{tissue}.npz") for name, tissue in zip(atlas.filenames, atlas.tissue))


def test_methylation_is_reproducible_and_missing_outside_cpgs(atlas):
    first, again = atlas.methylation(5), atlas.methylation(5)
    assert np.array_equal(first, again) and not np.array_equal(first, atlas.methylation(6))
    assert set(np.unique(first)) <= {0, 1, 2}
    assert (first[~atlas.cpg_mask] == 2).all()
    assert ((first != 2) & atlas.cpg_mask).any() and ((first == 2) & atlas.cpg_mask).any()  # calls and missing calls


def test_augmented_copies_share_group_and_profile_but_not_reads(atlas):
    copies = np.flatnonzero(atlas.augmented)
    assert copies.size
    for i in copies:
        source = atlas.filenames.index(atlas.group[i] + ".npz")
        assert not atlas.augmented[source] and atlas.tissue[source] == atlas.tissue[i]
        assert np.array_equal(atlas.betas[i], atlas.betas[source])
        assert not np.array_equal(atlas.methylation(i), atlas.methylation(source))


def test_markers_carry_the_tissue_signal_and_housekeeping_does_not():
    atlas = generate_atlas("demo", seed=0)
    labels = atlas.tissue_index
    def ratio(columns):  # between-tissue / within-tissue variance of the true levels
        x = atlas.betas[:, columns]
        means = np.stack([x[labels == t].mean(0) for t in np.unique(labels)])
        between = means.var(0).mean()
        within = np.mean([x[labels == t].var(0).mean() for t in np.unique(labels)])
        return between / within
    marker = np.flatnonzero(atlas.region_kind == REGION_KINDS.index("tissue_marker"))
    house = np.flatnonzero(atlas.region_kind == REGION_KINDS.index("methylated"))
    assert ratio(marker) > 5 * ratio(house)
    means = atlas_table(atlas, progress=False).means
    assert 0 < np.isnan(means).mean() < 0.2  # whole regions without any call exist, but not many
