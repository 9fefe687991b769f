"""What every family's training and evaluation script does alike: logging, resuming, reading the training record, reporting."""

import json
import logging
from pathlib import Path

from transformers import set_seed
from transformers.trainer_utils import get_last_checkpoint

from trainers.arguments import repository_folder

logger = logging.getLogger("biohf")


def setup_logging(training_args=None) -> None:
    """INFO on the process that logs (`training_args.should_log`; every process without arguments), WARNING elsewhere."""
    verbose = training_args is None or training_args.should_log
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if verbose else logging.WARNING)


def start_run(training_args) -> Path:
    """Logging, the seed, and the Hub repository folder (`trainers.arguments.repository_folder`): the start of a training run."""
    setup_logging(training_args)
    set_seed(training_args.seed)
    return repository_folder(training_args)


def train_resuming(trainer, training_args, resume: bool):
    """`trainer.train()` from `--resume_from_checkpoint`, else with `resume` from the last checkpoint in `output_dir`."""
    checkpoint = training_args.resume_from_checkpoint
    if checkpoint is None and resume and Path(training_args.output_dir).is_dir():
        checkpoint = get_last_checkpoint(training_args.output_dir)
        if checkpoint:
            logger.info("resuming from %s", checkpoint)
    return trainer.train(resume_from_checkpoint=checkpoint)


def read_trained_on(model_dir) -> dict:
    """The `metrics.json` a training run left in `model_dir` (what data, size and seed it used); {} when there is none."""
    path = Path(model_dir) / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def write_report(report: dict, output=None) -> dict:
    """Print `report` as JSON and, with `output`, write it there too."""
    text = json.dumps(report, indent=2)
    if output:
        Path(output).write_text(text)
    print(text)
    return report
