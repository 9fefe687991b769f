"""The run-script plumbing: resuming from the last checkpoint, the training record, the report."""

import json
from types import SimpleNamespace

from trainers.running import read_trained_on, train_resuming, write_report


class RecordingTrainer:
    def train(self, resume_from_checkpoint=None):
        self.resumed_from = resume_from_checkpoint
        return resume_from_checkpoint


def test_resume_takes_the_last_checkpoint(tmp_path):
    for step in (2, 10):
        (tmp_path / f"checkpoint-{step}").mkdir()
    trainer = RecordingTrainer()
    train_resuming(trainer, SimpleNamespace(resume_from_checkpoint=None, output_dir=str(tmp_path)), resume=True)
    assert trainer.resumed_from == str(tmp_path / "checkpoint-10")


def test_resume_off_or_an_explicit_checkpoint(tmp_path):
    (tmp_path / "checkpoint-10").mkdir()
    trainer = RecordingTrainer()
    train_resuming(trainer, SimpleNamespace(resume_from_checkpoint=None, output_dir=str(tmp_path)), resume=False)
    assert trainer.resumed_from is None
    train_resuming(trainer, SimpleNamespace(resume_from_checkpoint="given", output_dir=str(tmp_path)), resume=True)
    assert trainer.resumed_from == "given"


def test_trained_on_reads_metrics_json_or_nothing(tmp_path):
    assert read_trained_on(tmp_path) == {}
    (tmp_path / "metrics.json").write_text(json.dumps({"dataset_seed": 3}))
    assert read_trained_on(tmp_path) == {"dataset_seed": 3}


def test_report_is_printed_and_written(tmp_path, capsys):
    path = tmp_path / "report.json"
    assert write_report({"auprc": 0.5}, str(path)) == {"auprc": 0.5}
    assert json.loads(path.read_text()) == json.loads(capsys.readouterr().out) == {"auprc": 0.5}
