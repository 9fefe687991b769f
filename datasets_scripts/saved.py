"""Reading a DatasetDict saved with `save_to_disk` as training data, checked like any other input format."""

from pathlib import Path

from datasets import DatasetDict, load_from_disk


def load_saved_splits(path, split_names, columns=()) -> DatasetDict:
    """The DatasetDict in the folder `path`; every split of `split_names` must be there with every column of `columns`."""
    path = Path(path)
    if not (path / "dataset_dict.json").is_file():
        raise ValueError(f"{path} is a folder but not a DatasetDict saved with save_to_disk")
    loaded = load_from_disk(str(path))
    for name in split_names:
        if name not in loaded:
            raise ValueError(f"{path}: split {name!r} missing; found {list(loaded)}")
        missing = set(columns) - set(loaded[name].column_names)
        if missing:
            raise ValueError(f"{path}: split {name!r} lacks column(s) {sorted(missing)}")
    return loaded
