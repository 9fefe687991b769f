"""Illumina beta matrices and GEO series matrices: read, aligned by probe id, and every bad input a clear error."""
import gzip

import numpy as np
import pytest

from datasets_scripts.tissuebert import composition_from_name, read_array_matrix, read_beta_matrix, read_series_matrix

CSV = """CpGs,Liver,Blood
cg001,0.10,0.90
cg002,NA,0.5
cg003,0.7,
cg002,NA,0.5
"""

SERIES = """!Series_title\t"a methylation study"
!Sample_title\t"liver 1"\t"blood 1"
!Sample_geo_accession\t"GSM1"\t"GSM2"
!Sample_characteristics_ch1\t"tissue: liver"\t"tissue: blood"
!Sample_characteristics_ch1\t"age: 50"\t"age: 61"
!series_matrix_table_begin
"ID_REF"\t"GSM1"\t"GSM2"
"cg001"\t0.1\t0.9
"cg003"\tnull\t0.25
!series_matrix_table_end
"""


def write(path, text, gz=False):
    if gz:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("name, text, gz", [("atlas.csv", CSV, False), ("atlas.tsv", CSV.replace(",", "\t"), False),
                                            ("atlas.csv.gz", CSV, True)])
def test_beta_matrix_layouts(tmp_path, name, text, gz):
    matrix = read_array_matrix(write(tmp_path / name, text, gz))
    assert matrix.probes == ["cg001", "cg002", "cg003"] and matrix.samples == ["Liver", "Blood"]
    np.testing.assert_allclose(matrix.values, [[0.1, 0.9], [np.nan, 0.5], [0.7, np.nan]])  # NA and empty are missing
    assert matrix.repeated_rows == 1  # cg002 listed twice with the same values: kept once, counted


def test_series_matrix(tmp_path):
    matrix = read_array_matrix(write(tmp_path / "GSE1_series_matrix.txt.gz", SERIES, gz=True))
    assert matrix.samples == ["GSM1", "GSM2"] and matrix.probes == ["cg001", "cg003"]
    np.testing.assert_allclose(matrix.values, [[0.1, 0.9], [np.nan, 0.25]])
    assert matrix.sample_info["!Sample_title"] == ["liver 1", "blood 1"]
    assert matrix.sample_info["!Sample_characteristics_ch1[1]"] == ["age: 50", "age: 61"]


def test_alignment_by_probe_id(tmp_path):
    matrix = read_beta_matrix(write(tmp_path / "a.csv", CSV))
    aligned = matrix.aligned(["cg003", "cg999", "cg001"], min_overlap=0.5)
    np.testing.assert_allclose(aligned, [[0.7, np.nan, 0.1], [np.nan, np.nan, 0.9]])  # absent probe: missing, not 0
    with pytest.raises(ValueError, match=r"only 1 of the model's 4 regions \(25.0%\).*at least 50%"):
        matrix.aligned(["cg001", "x1", "x2", "x3"], min_overlap=0.5)


@pytest.mark.parametrize("text, match", [
    ("CpGs,Liver\ncg001,0.1\ncg002,high\n", r"a\.csv:3: column 2 \('Liver'\): 'high' is not a number"),
    ("CpGs,Liver\ncg001,0.1\ncg002,45\n", r"a\.csv:3: .*outside \[0, 1\]"),
    ("CpGs,Liver,Blood\ncg001,0.1\n", r"a\.csv:2: 2 columns, the header has 3"),
    ("CpGs,Liver\ncg001,0.1\ncg001,0.2\n", r"a\.csv:3: probe 'cg001' is listed again with other values than on line 2"),
    ("CpGs,Liver,Liver\ncg001,0.1,0.2\n", r"named twice: \['Liver'\]"),
    ("CpGs\ncg001\n", "one column in the header"),
    ("CpGs,Liver\n", "no probe rows"),
])
def test_beta_matrix_errors(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        read_beta_matrix(write(tmp_path / "a.csv", text))


def test_series_matrix_errors(tmp_path):
    with pytest.raises(ValueError, match="no !series_matrix_table_begin"):
        read_series_matrix(write(tmp_path / "a_series_matrix.txt", SERIES.split("!series_matrix_table_begin")[0]))
    with pytest.raises(ValueError, match="no !series_matrix_table_end .*truncated"):
        read_series_matrix(write(tmp_path / "b_series_matrix.txt", SERIES.replace("!series_matrix_table_end\n", "")))
    with pytest.raises(ValueError, match="ID_REF"):
        read_series_matrix(write(tmp_path / "c_series_matrix.txt", SERIES.replace('"ID_REF"', '"probe"')))


def test_composition_from_column_names():
    tissues = ["Monocytes_EPIC", "Adipocytes", "Kidney", "Prostate", "Upper_GI", "Lung_cells", "Breast"]
    assert composition_from_name("Monocytes90_Breast10", tissues) == {"Monocytes_EPIC": 0.9, "Breast": 0.1}
    assert composition_from_name("Adipo60Kidney30Prost10", tissues) == {"Adipocytes": 0.6, "Kidney": 0.3, "Prostate": 0.1}
    assert composition_from_name("Lung25GI75", tissues) == {"Lung_cells": 0.25, "Upper_GI": 0.75}
    with pytest.raises(ValueError, match="sum to 90%"):
        composition_from_name("Kidney60Breast30", tissues)
    with pytest.raises(ValueError, match="'Liver' names no tissue"):
        composition_from_name("Liver50Kidney50", tissues)
