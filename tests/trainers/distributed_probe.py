"""
Test-only wrapper of the mirLM entry point for tests/trainers/test_distributed.py: it runs
`trainers.run_mirlm.main` unchanged in every process a launcher starts and records what the tests check.

    torchrun --nproc_per_node=2 tests/trainers/distributed_probe.py --preset tiny --output_dir DIR --use_cpu true [...]
    deepspeed --num_gpus 2 tests/trainers/distributed_probe.py ... --use_cpu true --deepspeed trainers/deepspeed/zero2.json
    accelerate launch --use_deepspeed --deepspeed_config_file trainers/deepspeed/zero2.json --num_processes 2 \
        tests/trainers/distributed_probe.py ... --use_cpu true

Inside this process only (run_mirlm itself is not modified), it replaces four names of `trainers.run_mirlm`:
- `build_mirlm_dataset` by a wrapper that numbers the training rows (column `probe_row`, ignored by the collator);
- `MirLMDataCollator` by a subclass that keeps the rows it collates, in order (the rows of each micro-batch);
- `MirLMTrainer` by a subclass that adds `ProbeCallback` (state_dict hashes at train begin and after every
  optimizer step, the MIL temperature of the first step) and keeps the loss of every training micro-batch;
- `write_repository` by a stop: held-out evaluation and export run on the main process after training and
  are tested in test_run_mirlm.py.

After training every rank recomputes, in one plain process (no collectives, eval mode, the weights from train
begin), the loss of each micro-batch it used in the first optimizer step, and writes DIR/probe/rank<R>.json
(DIR: the --output_dir given on the command line).
"""

import argparse
import copy
import hashlib
import json
import os
import sys
from pathlib import Path

import torch
from transformers import TrainerCallback

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, when run as a script

from datasets_scripts.mirlm import build_mirlm_dataset  # noqa: E402
from trainers import run_mirlm  # noqa: E402

# What the launcher set, read before accelerate and the Trainer add their own variables.
LAUNCHER_ENV = {key: os.environ.get(key) for key in (
    "RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "ACCELERATE_USE_DEEPSPEED", "ACCELERATE_DEEPSPEED_CONFIG_FILE")}


def state_dict_sha256(model) -> str:
    """sha256 over the names and raw bytes of every tensor of the model's state_dict."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def build_numbered_dataset(*args, **kwargs):
    """The mirLM splits, with the training rows numbered 0..n-1 in `probe_row` (which the collator ignores)."""
    splits = build_mirlm_dataset(*args, **kwargs)
    splits["train"] = splits["train"].add_column("probe_row", list(range(len(splits["train"]))))
    return splits


class RecordingCollator(run_mirlm.MirLMDataCollator):
    """The mirLM collator, remembering the rows of every batch it builds (in the order the DataLoader asks)."""

    batches: list = []  # one list per process: the probe runs one Trainer

    def __call__(self, rows: list) -> dict:
        RecordingCollator.batches.append([dict(row) for row in rows])
        return super().__call__(rows)


class ProbeCallback(TrainerCallback):
    """Weights at train begin (kept for the recomputation), their hash after every step, tau of the first step."""

    def __init__(self):
        self.initial_state = None
        self.hashes = {}  # global step -> state_dict sha256 after that step (0: train begin)
        self.first_step_temperature = None  # set by TemperatureAnnealingCallback at the step's begin
        self.final_hash = None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.initial_state = {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
        self.hashes[state.global_step] = state_dict_sha256(model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if self.first_step_temperature is None:
            self.first_step_temperature = model.config.mil_temperature
        self.hashes[state.global_step] = state_dict_sha256(model)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.final_hash = state_dict_sha256(model)


class ProbeTrainer(run_mirlm.MirLMTrainer):
    """MirLMTrainer with `ProbeCallback`, keeping the loss of every training micro-batch as computed in training."""

    instance = None  # the process's trainer, for main() below

    def __init__(self, *args, **kwargs):
        self.probe = ProbeCallback()
        self.micro_batch_losses = []
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), self.probe]
        super().__init__(*args, **kwargs)
        ProbeTrainer.instance = self

    def compute_loss(self, model, inputs, *args, **kwargs):
        result = super().compute_loss(model, inputs, *args, **kwargs)
        if model.training:
            loss = result[0] if isinstance(result, tuple) else result
            self.micro_batch_losses.append(loss.detach().float().item())
        return result


class StopBeforeExport(Exception):
    """Raised in place of `write_repository` on the main process, right after `trainer.train()`."""


def stop_before_export(*args, **kwargs):
    raise StopBeforeExport


def recompute_first_step_losses(trainer: ProbeTrainer) -> list:
    """Loss of each micro-batch of optimizer step 1, recomputed in this process alone with the weights from train begin."""
    probe = trainer.probe
    config = copy.deepcopy(trainer.model.config)
    config.mil_temperature = probe.first_step_temperature
    model = type(trainer.model)(config)
    model.load_state_dict(probe.initial_state)
    model.eval()
    collate = run_mirlm.MirLMDataCollator(trainer.processing_class)
    losses = []
    with torch.no_grad():
        for rows in RecordingCollator.batches[: trainer.args.gradient_accumulation_steps]:
            losses.append(model(**collate(rows)).loss.float().item())
    return losses


def main(argv) -> None:
    run_mirlm.build_mirlm_dataset = build_numbered_dataset
    run_mirlm.MirLMDataCollator = RecordingCollator
    run_mirlm.MirLMTrainer = ProbeTrainer
    run_mirlm.write_repository = stop_before_export
    command_line = argparse.ArgumentParser(add_help=False)
    command_line.add_argument("--output_dir", required=True)
    output_dir = command_line.parse_known_args(argv)[0].output_dir
    try:
        run_mirlm.main(argv)
    except StopBeforeExport:
        pass
    trainer = ProbeTrainer.instance
    args, probe = trainer.args, trainer.probe
    engine = trainer.model_wrapped
    record = {
        "rank": args.process_index,
        "world_size": args.world_size,
        "launcher_env": LAUNCHER_ENV,
        "distributed_type": str(trainer.accelerator.distributed_type),
        "accelerator_num_processes": trainer.accelerator.num_processes,
        "backend": torch.distributed.get_backend() if torch.distributed.is_initialized() else None,
        "deepspeed": trainer.is_deepspeed_enabled,
        "wrapped_model": type(engine).__name__,
        "deepspeed_train_batch_size": engine.train_batch_size() if trainer.is_deepspeed_enabled else None,
        "deepspeed_zero_stage": engine.zero_optimization_stage() if trainer.is_deepspeed_enabled else None,
        "is_world_process_zero": trainer.is_world_process_zero(),
        "optimizer": type(getattr(trainer.optimizer, "optimizer", trainer.optimizer)).__name__,
        # the torch optimizer doing the update: the Trainer's AdamW, wrapped by DeepSpeed's ZeRO optimizer
        "base_optimizer": type(engine.basic_optimizer if trainer.is_deepspeed_enabled else trainer.optimizer.optimizer).__name__,
        "gradient_accumulation_steps": args.gradient_accumulation_steps,
        "per_device_train_batch_size": args.per_device_train_batch_size,
        "global_step": trainer.state.global_step,
        "batches": [[row["probe_row"] for row in rows] for rows in RecordingCollator.batches],
        "micro_batch_losses": trainer.micro_batch_losses,
        "recomputed_first_step_losses": recompute_first_step_losses(trainer),
        "first_step_temperature": probe.first_step_temperature,
        "state_dict_sha256": {str(step): digest for step, digest in probe.hashes.items()},
        "final_state_dict_sha256": probe.final_hash,
        "log_history": trainer.state.log_history,
    }
    out = Path(output_dir) / "probe"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{args.process_index}.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
