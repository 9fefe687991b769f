"""`FamilyTrainer`: the Trainer base of the families, which knows the label tensors its model takes."""

import logging

from transformers import Trainer

logger = logging.getLogger(__name__)


def claim_columns(args, label_names) -> None:
    """
    Set `args.label_names` to the family's `label_names` and keep the raw dataset columns for the collator. A user
    value is never overridden silently: other label names are a `ValueError`; `remove_unused_columns=True` (the
    default of TrainingArguments) is turned off with a message, since the family's collator reads the raw columns.
    """
    label_names = list(label_names)
    if args.label_names is None:
        args.label_names = label_names
    elif list(args.label_names) != label_names:
        raise ValueError(f"label_names={list(args.label_names)} does not match the model's label tensors {label_names}; "
                         "leave label_names unset")
    if args.remove_unused_columns:
        logger.info("remove_unused_columns set to False: the family's collator reads the raw dataset columns")
        args.remove_unused_columns = False


class FamilyTrainer(Trainer):
    """A Trainer whose subclass names its label tensors in `family_label_names`; see `claim_columns`."""

    family_label_names: tuple = ("labels",)

    def __init__(self, model=None, args=None, **kwargs):
        if args is not None:
            claim_columns(args, self.family_label_names)
        super().__init__(model, args, **kwargs)
