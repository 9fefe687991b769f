"""Samples simulated from a reference atlas: depth, binomial calls, missing calls, noise, mixtures, groups, errors."""
import numpy as np
import pytest

from datasets_scripts.tissuebert import SimulationConfig, at_depth, load_train_file, simulate_samples, split_table

TISSUES = ["Blood_A", "Blood_B", "Liver", "Lung", "Kidney"]
BLOOD = "blood_columns=Blood_A;Blood_B"


def small_atlas(path, probes: int = 60, seed: int = 0):
    """A hand-made atlas in the meth_atlas layout: each tissue hypomethylated at its own 10 marker probes."""
    rng = np.random.default_rng(seed)
    values = np.clip(rng.normal(0.85, 0.05, (probes, len(TISSUES))), 0, 1)
    for t in range(len(TISSUES)):
        values[10 * t : 10 * t + 10, t] = rng.uniform(0.02, 0.1, 10)
    lines = ["CpGs," + ",".join(TISSUES)] + [f"cg{i:08d}," + ",".join(f"{v:.4f}" for v in row) for i, row in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path, values


def test_read_depth_and_binomial_calls():
    profiles = np.full((4000, 2), 0.3)
    config = SimulationConfig(depth_min=5, depth_max=5, depth_dispersion=0, missing_rate_max=0, profile_noise=0,
                              array_fraction=0, samples_per_draw=1)
    table = simulate_samples(profiles, ["a", "b"], 2, config, seed=0)
    assert table.coverage.mean() == pytest.approx(5, rel=0.05) and np.isfinite(table.depth).all()
    assert np.isnan(table.means).mean() == pytest.approx(np.exp(-5), abs=0.01)  # no read -> missing, never 0
    assert np.nanmean(table.means) == pytest.approx(0.3, abs=0.01)
    calls = table.means * table.coverage
    assert np.allclose(calls[~np.isnan(calls)], np.round(calls[~np.isnan(calls)]), atol=1e-4)  # whole numbers of reads


def test_missing_calls_noise_and_array_samples():
    profiles = np.full((2000, 2), 0.5)
    array = simulate_samples(profiles, ["a", "b"], 4, at_depth(SimulationConfig(missing_rate_max=0, array_noise=0, profile_noise=0), None))
    assert np.isinf(array.depth).all() and np.allclose(array.means, 0.5)  # array-like: the beta values themselves
    dropped = simulate_samples(profiles, ["a", "b"], 40, SimulationConfig(depth_min=50, depth_max=50, missing_rate_max=0.5,
                                                                           array_fraction=0), seed=1)
    assert 0.1 < np.isnan(dropped.means).mean() < 0.4  # a per-sample random fraction in [0, 0.5] dropped
    noisy = simulate_samples(profiles, ["a", "b"], 2, at_depth(SimulationConfig(profile_noise=1.0, array_noise=0,
                                                                                missing_rate_max=0), None))
    assert 0.15 < noisy.means.std() < 0.25  # per-draw logit noise


def test_mixtures_cfdna_and_groups():
    config = SimulationConfig.parse(f"mixture_fraction=1,cfdna_fraction=1,{BLOOD},samples_per_draw=3")
    table = simulate_samples(np.random.default_rng(0).random((50, 5)), TISSUES, 60, config, seed=0)
    assert np.allclose(table.proportions.sum(1), 1) and (table.proportions[:, :2].sum(1) >= 0.8).all()
    assert ((table.proportions[:, 2:] > 0).sum(1) >= 1).all()  # at least one minor tissue
    assert len(set(table.groups)) == 20 and table.tissue_index.max() <= 1  # the label: the largest component (blood)
    splits = split_table(table)
    seen = {name: {table.groups[i] for i in rows} for name, rows in splits.items()}
    assert not (seen["train"] & seen["test"]) and not (seen["train"] & seen["validation"])  # one draw, one split
    again = simulate_samples(np.random.default_rng(0).random((50, 5)), TISSUES, 60, config, seed=0)
    np.testing.assert_array_equal(table.means, again.means)


def test_simulation_config_errors():
    with pytest.raises(ValueError, match="not key=value with a key among"):
        SimulationConfig.parse("depth=3")
    with pytest.raises(ValueError, match="depth_min <= depth_max"):
        SimulationConfig.parse("depth_min=5,depth_max=2")
    with pytest.raises(ValueError, match="cfDNA-like mixtures need blood columns"):
        simulate_samples(np.random.default_rng(0).random((5, 2)), ["x", "y"], 4,
                         SimulationConfig(mixture_fraction=1, cfdna_fraction=1))


def test_train_file_labels_are_found_or_named(tmp_path):
    path, values = small_atlas(tmp_path / "atlas.csv")
    table, atlas = load_train_file(path, simulate=25, simulation=SimulationConfig.parse(BLOOD))
    assert table.tissues == tuple(TISSUES) and table.region_names == atlas.probes and table.num_samples == 25
    np.testing.assert_allclose(atlas.values, values, atol=1e-4)
    with pytest.raises(ValueError, match=r"column\(s\) \['Heart'\] not found; it has \['Blood_A'"):
        load_train_file(path, simulate=5, tissue_columns=["Liver", "Heart"])
    with pytest.raises(ValueError, match=r"columns \['Blood_A', .*are not labelled: give --metadata"):
        load_train_file(path)  # a sample matrix without labels
    (tmp_path / "meta.csv").write_text("filename,tissue\nBlood_A,blood\nSpleen_1,spleen\n")
    with pytest.raises(ValueError, match=r"\['Spleen_1'\] named in .* not in the file; its columns are \['Blood_A'"):
        load_train_file(path, metadata=tmp_path / "meta.csv")
    (tmp_path / "meta.csv").write_text("file,label\nBlood_A,blood\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['filename', 'tissue'\]; found \['file', 'label'\]"):
        load_train_file(path, metadata=tmp_path / "meta.csv")
    (tmp_path / "meta.csv").write_text("filename,tissue\n" + "".join(f"{t},{t.lower()}\n" for t in TISSUES[:4]))
    with pytest.raises(ValueError, match=r"\['Kidney'\] have no row"):
        load_train_file(path, metadata=tmp_path / "meta.csv")
    (tmp_path / "meta.csv").write_text("filename,tissue\n" + "".join(f"{t},{t.lower()}\n" for t in TISSUES))
    labelled, none = load_train_file(path, metadata=tmp_path / "meta.csv")
    assert none is None and labelled.num_samples == 5 and labelled.tissues == tuple(sorted(t.lower() for t in TISSUES))
