"""A saved DatasetDict is accepted only with the splits and columns training needs; otherwise the error names them."""
import pytest
from datasets import Dataset, DatasetDict

from datasets_scripts.saved import load_saved_splits


def test_saved_splits_are_checked(tmp_path):
    rows = Dataset.from_dict({"sequence": ["MKT", "MEE"], "label": [0, 1]})
    DatasetDict({"train": rows, "test": rows}).save_to_disk(str(tmp_path / "ok"))
    loaded = load_saved_splits(tmp_path / "ok", ["train", "test"], ["sequence", "label"])
    assert loaded["test"]["sequence"] == ["MKT", "MEE"]
    with pytest.raises(ValueError, match="split 'validation' missing; found \\['train', 'test'\\]"):
        load_saved_splits(tmp_path / "ok", ["train", "validation"])
    with pytest.raises(ValueError, match="split 'train' lacks column\\(s\\) \\['weight'\\]"):
        load_saved_splits(tmp_path / "ok", ["train"], ["sequence", "weight"])
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="not a DatasetDict saved with save_to_disk"):
        load_saved_splits(tmp_path / "plain", ["train"])
