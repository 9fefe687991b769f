"""Other predictors' columns of an external test file, compared with mirLM on the same rows."""
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from trainers.mirlm.comparison import canonical_pointing_accuracy, comparison_table, predictor_columns

HEADER = "noncodingRNA\tgene\tlabel\tToolA\tNotes\tToolB\n"
LET7 = "TGAGGTAGTAGGTTGTATAGTT"
SITE = "AAAAACTACCTCAAAAAAAA"  # 8mer of let-7 at nt 5-12


def table_file(tmp_path, rows):
    path = tmp_path / "test.tsv"
    path.write_text(HEADER + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


def test_numeric_extra_columns_are_predictors_and_others_are_named(tmp_path, capsys):
    path = table_file(tmp_path, [(LET7, SITE, 1, 0.9, "a", 3), (LET7, "A" * 20, 0, 0.2, "b", 1), (LET7, SITE, 1, 0.4, "c", "nan")])
    scores = predictor_columns(path, [2, 3, 4])
    assert list(scores) == ["ToolA"] and scores["ToolA"].tolist() == [0.9, 0.2, 0.4]
    out = capsys.readouterr().out
    assert "line 2, column 'Notes'" in out and "line 4, column 'ToolB'" in out  # left out, with the reason
    assert predictor_columns(path, [2, 3], ["ToolB"])["ToolB"].tolist() == [3.0, 1.0]
    with pytest.raises(ValueError, match=r"line 4, column 'ToolB': 'nan' is not a number"):
        predictor_columns(path, [2, 3, 4], ["ToolB"])


def test_comparison_table_ranks_by_average_precision_on_the_same_rows():
    labels = np.array([1, 0, 1, 0, 1, 0])
    scores = {"weak": np.array([0.2, 0.5, 0.4, 0.3, 0.1, 0.6]), "strong": np.array([0.9, 0.1, 0.8, 0.3, 0.7, 0.2])}
    table = comparison_table(labels, scores)
    assert [row["predictor"] for row in table] == ["strong", "weak"]
    assert table[1]["average_precision"] == pytest.approx(average_precision_score(labels, scores["weak"]))
    assert table[1]["auroc"] == pytest.approx(roc_auc_score(labels, scores["weak"])) and table[0]["n"] == 6


def test_canonical_pointing_counts_positives_with_a_seed_match_only():
    mrnas, mirnas = [SITE, SITE, "A" * 20, SITE], [LET7] * 4
    result = canonical_pointing_accuracy([1, 1, 1, 0], mrnas, mirnas, [7, 15, 3, 7])
    assert result == {"n": 2, "pointing_accuracy": 0.5}  # row 3 has no site, row 4 is a negative
