"""Every written layout reads back to the same region means, labels and groups; bad input fails clearly."""
import numpy as np
import pytest

from datasets_scripts.tissuebert import (atlas_table, generate_atlas, read_beta_table, read_metadata, read_samples,
                                         write_beta_folder, write_beta_table, write_hdf5, write_npz_folder)
from modeling.tissuebert.formats_tissuebert import aggregate_beta, read_beta, read_region_bed


@pytest.fixture(scope="module")
def atlas():
    return generate_atlas("tiny", seed=1)


@pytest.fixture(scope="module")
def table(atlas):
    return atlas_table(atlas, progress=False)


@pytest.mark.parametrize("writer, target", [(write_npz_folder, "npz"), (write_hdf5, "h5/atlas.h5"),
                                            (write_beta_folder, "beta"), (write_beta_table, "table/atlas.tsv")])
def test_round_trip(atlas, table, tmp_path, writer, target):
    path = writer(atlas, tmp_path / target)
    read = read_samples(path, progress=False)
    assert read.filenames[0].split(".")[0] == table.filenames[0].split(".")[0]
    np.testing.assert_allclose(read.means, table.means, atol=1e-5)  # NaN in the same places
    assert np.array_equal(read.tissue_index, table.tissue_index) and read.groups == table.groups
    assert read.num_regions == 64 and read.region_names[0].startswith("chr1:")


def test_beta_file_layout(atlas, tmp_path):
    folder = write_beta_folder(atlas, tmp_path)
    raw = np.fromfile(folder / (atlas.filenames[0][:-4] + ".beta"), dtype=np.uint8)
    assert raw.size == 2 * atlas.num_genome_cpgs  # uint8 (methylated, coverage) per genome CpG
    names, ranges = read_region_bed(folder / "regions.bed")
    assert np.array_equal(ranges, atlas.region_cpg_ranges)
    means, _ = aggregate_beta(*read_beta(folder / (atlas.filenames[0][:-4] + ".beta")), ranges)
    assert np.isnan(means).sum() == np.isnan(atlas_table(atlas, progress=False).means[0]).sum()


def test_bad_inputs_name_the_problem(atlas, tmp_path):
    (tmp_path / "odd.beta").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="odd"):
        read_beta(tmp_path / "odd.beta")
    (tmp_path / "bad.beta").write_bytes(bytes([3, 1]))
    with pytest.raises(ValueError, match="CpG 0 has 3 methylated calls but coverage 1"):
        read_beta(tmp_path / "bad.beta")
    (tmp_path / "meta.csv").write_text("file,tissue\na,Liver\n")
    with pytest.raises(ValueError, match="filename"):
        read_metadata(tmp_path / "meta.csv")
    table_path = write_beta_table(atlas, tmp_path / "t" / "atlas.tsv")
    text = table_path.read_text().splitlines()
    table_path.write_text("\n".join(text[:2] + [text[2].replace("\t0.", "\t7", 1)] + text[3:]) + "\n")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        read_beta_table(table_path)
    folder = write_npz_folder(atlas, tmp_path / "npz")
    (folder / atlas.filenames[3]).unlink()
    with pytest.raises(FileNotFoundError, match=atlas.filenames[3]):
        read_samples(folder, progress=False)


def test_command_line_writes_the_atlas_in_a_readable_layout(table, tmp_path, capsys):
    from datasets_scripts.tissuebert.writers import main as write_atlas

    path = write_atlas(["--format", "npz", "--output", str(tmp_path / "samples"), "--size", "tiny", "--seed", "1"])
    assert f"{len(table.filenames)} samples x 64 regions" in capsys.readouterr().out
    read = read_samples(path, progress=False)
    np.testing.assert_allclose(read.means, table.means, atol=1e-5)
    with pytest.raises(ValueError, match="unknown atlas size 'huge'"):
        write_atlas(["--output", str(tmp_path / "x"), "--size", "huge"])
