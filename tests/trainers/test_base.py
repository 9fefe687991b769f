"""`FamilyTrainer` sets the label names the user left unset, keeps matching ones and refuses others."""

import logging

import pytest
import torch
from transformers import TrainingArguments

from trainers.base import FamilyTrainer


class TwoLabelTrainer(FamilyTrainer):
    family_label_names = ("labels", "start_positions")


def trainer_args(tmp_path, **values):
    return TrainingArguments(output_dir=str(tmp_path), report_to=[], use_cpu=True, **values)


def build(args):
    return TwoLabelTrainer(model=torch.nn.Linear(2, 1), args=args)


def test_unset_label_names_are_set_and_raw_columns_kept(tmp_path, caplog):
    args = trainer_args(tmp_path)
    with caplog.at_level(logging.INFO, logger="trainers.base"):
        trainer = build(args)
    assert args.label_names == ["labels", "start_positions"]
    assert trainer.label_names == ["labels", "start_positions"]
    assert args.remove_unused_columns is False
    assert "remove_unused_columns set to False" in caplog.text


def test_matching_label_names_are_kept(tmp_path):
    args = trainer_args(tmp_path, label_names=["labels", "start_positions"], remove_unused_columns=False)
    build(args)
    assert args.label_names == ["labels", "start_positions"]


def test_other_label_names_are_refused(tmp_path):
    args = trainer_args(tmp_path, label_names=["labels"])
    with pytest.raises(ValueError, match="leave label_names unset"):
        build(args)
