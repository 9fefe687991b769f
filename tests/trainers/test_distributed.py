"""
`trainers.run_mirlm` under the three launchers, 2 CPU processes each, a few optimizer steps:

    torchrun --nproc_per_node=2 ...                          DDP over gloo            (--use_cpu true)
    deepspeed --num_gpus 2 ... --deepspeed zero2.json        DeepSpeed ZeRO-2, gloo   (--use_cpu true)
    accelerate launch --use_deepspeed --deepspeed_config_file zero2.json --num_processes 2 ...   (--use_cpu true)

Each process runs tests/trainers/distributed_probe.py, which runs the real entry point and writes what it saw
(rows per micro-batch, state_dict hashes per step, the loss log, a single-process recomputation of the first
step's micro-batch losses). Every run uses --gradient_accumulation_steps 2 and --warmup_steps 1, so the first
optimizer step has learning rate 0 (weights unchanged: its logged loss can be checked exactly) and the next
steps change the weights (the ranks must agree on them).

On CPU `--use_cpu true` is required with every launcher: without it accelerate finds no GPU and records one
process in each rank (each trains alone on all the data), and with DeepSpeed `train_batch_size: auto` then
resolves with world size 1 and DeepSpeed stops on its batch-size check. The first DeepSpeed run of a fresh
TORCH_EXTENSIONS_DIR compiles DeepSpeed's shared-memory comm op (1-2 minutes on 2 cores); the second reuses it.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.distributed

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("distributed_probe.py")
ZERO2 = ROOT / "trainers" / "deepspeed" / "zero2.json"
BIN = Path(sys.executable).parent  # torchrun, deepspeed, accelerate and ninja of this environment

WORLD_SIZE, BATCH_SIZE, ACCUMULATION, MAX_STEPS = 2, 4, 2, 3
TRAINING_ARGS = [
    "--preset", "tiny", "--max_steps", str(MAX_STEPS), "--per_device_train_batch_size", str(BATCH_SIZE),
    "--gradient_accumulation_steps", str(ACCUMULATION), "--learning_rate", "1e-3", "--warmup_steps", "1",
    "--logging_steps", "1", "--eval_strategy", "no", "--save_strategy", "no", "--use_cpu", "true",
    "--config_overrides", "hidden_dropout_prob=0,attention_probs_dropout_prob=0",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env(port: int) -> dict:
    env = dict(os.environ)  # HF_HOME, HF_HUB_OFFLINE, TORCH_EXTENSIONS_DIR, ... from tests/conftest.py
    env.update({
        "DS_ACCELERATOR": "cpu",
        "OMP_NUM_THREADS": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        # the environment's ninja first: a second ninja on PATH hashes build commands differently and rebuilds the op
        "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")]),
    })
    # tests/conftest.py sets TORCH_EXTENSIONS_DIR once per run (pytest-xdist workers inherit it): DeepSpeed compiles
    # its CPU comm op there once; a second process waits on torch's build lock and reuses it.
    env.setdefault("TORCH_EXTENSIONS_DIR", str(Path(env.get("HF_HOME", tempfile.gettempdir())) / "torch_extensions"))
    return env


def launch(launcher: list, output_dir: Path, port: int, extra_args=(), timeout: int = 420) -> list:
    """Run `launcher + probe + args` in its own process group; return the two ranks' probe records (rank order)."""
    command = [*launcher, str(PROBE), "--output_dir", str(output_dir), *TRAINING_ARGS, *extra_args]
    process = subprocess.Popen(command, cwd=ROOT, env=child_env(port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{' '.join(command)} ran past {timeout}s; its output:\n{output[-20000:]}")
    print(f"$ {' '.join(command)}\n{output[-20000:]}")  # shown by pytest when an assertion below fails
    files = sorted((output_dir / "probe").glob("rank*.json"))
    assert process.returncode == 0 and len(files) == WORLD_SIZE, (
        f"exit code {process.returncode}, probe files {[f.name for f in files]}; output:\n{output[-20000:]}")
    records = sorted((json.loads(f.read_text()) for f in files), key=lambda r: r["rank"])
    assert [r["rank"] for r in records] == list(range(WORLD_SIZE))
    return records


def check_two_ranks_trained_one_model(records: list) -> None:
    """Same world on both ranks, one main process, and identical weights after every optimizer step."""
    for record in records:
        assert record["world_size"] == WORLD_SIZE and record["accelerator_num_processes"] == WORLD_SIZE
        assert record["backend"] == "gloo"
        assert record["global_step"] == MAX_STEPS
    assert [r["is_world_process_zero"] for r in records] == [True, False]  # only rank 0 evaluates and exports

    hashes = [r["state_dict_sha256"] for r in records]
    assert hashes[0] == hashes[1], "the ranks' weights differ after some step"
    assert sorted(hashes[0], key=int) == [str(step) for step in range(MAX_STEPS + 1)]
    assert records[0]["final_state_dict_sha256"] == records[1]["final_state_dict_sha256"] == hashes[0][str(MAX_STEPS)]
    assert hashes[0]["1"] == hashes[0]["0"], "step 1 runs at learning rate 0 (warm-up) and must not change the weights"
    assert hashes[0][str(MAX_STEPS)] != hashes[0]["1"], "steps 2.. must train: equal hashes would prove nothing"


def check_data_is_sharded(records: list) -> None:
    """Each rank reads its own rows: per step and over the run, no row is seen by both ranks or twice."""
    used = MAX_STEPS * ACCUMULATION  # the DataLoader may collate one batch ahead; it is never used
    for record in records:
        assert len(record["batches"]) >= used
        assert all(len(batch) == BATCH_SIZE for batch in record["batches"][:used])
    for step in range(MAX_STEPS):
        per_rank = [{row for batch in r["batches"][step * ACCUMULATION:(step + 1) * ACCUMULATION] for row in batch}
                    for r in records]
        assert all(len(rows) == ACCUMULATION * BATCH_SIZE for rows in per_rank), f"step {step + 1}: a row repeats"
        assert not per_rank[0] & per_rank[1], f"step {step + 1}: both ranks read {sorted(per_rank[0] & per_rank[1])}"
    every_row = [row for r in records for batch in r["batches"][:used] for row in batch]
    assert len(set(every_row)) == len(every_row) == WORLD_SIZE * used * BATCH_SIZE


def check_logged_loss_is_the_micro_batch_mean(records: list) -> None:
    """
    The first logged loss is the mean of the 2 ranks x 2 micro-batch losses, recomputed in one plain process on
    the same rows with the same (unchanged) weights: not multiplied by the world size or the accumulation steps.
    """
    first = [r["log_history"][0] for r in records]
    assert first[0]["step"] == 1 and first[0]["learning_rate"] == 0.0
    assert first[0]["loss"] == first[1]["loss"], "the ranks logged different losses"
    recomputed = [loss for r in records for loss in r["recomputed_first_step_losses"]]
    assert len(recomputed) == WORLD_SIZE * ACCUMULATION
    for record in records:  # the recomputation reproduces the training forward of the same rows
        assert record["recomputed_first_step_losses"] == pytest.approx(record["micro_batch_losses"][:ACCUMULATION], abs=1e-5)
    expected = sum(recomputed) / len(recomputed)
    assert first[0]["loss"] == pytest.approx(expected, abs=1e-4), (
        f"logged {first[0]['loss']:.6f}, mean of the micro-batch losses {expected:.6f} "
        f"(ratio {first[0]['loss'] / expected:.3f}; world size {WORLD_SIZE}, accumulation {ACCUMULATION})")


def check_deepspeed_zero2(records: list) -> None:
    for record in records:
        assert record["deepspeed"] and record["distributed_type"] == "DistributedType.DEEPSPEED"
        assert record["wrapped_model"] == "DeepSpeedEngine" and record["deepspeed_zero_stage"] == 2
        assert record["optimizer"] == "DeepSpeedZeroOptimizer"
        assert record["base_optimizer"] == "AdamW"  # zero2.json has no "optimizer": the Trainer's torch AdamW runs
        # "auto" resolved with the real world size: micro-batch 4 x accumulation 2 x 2 ranks
        assert record["deepspeed_train_batch_size"] == BATCH_SIZE * ACCUMULATION * WORLD_SIZE


def check_all(records: list) -> None:
    check_two_ranks_trained_one_model(records)
    check_data_is_sharded(records)
    check_logged_loss_is_the_micro_batch_mean(records)


def test_torchrun_ddp_on_two_cpu_processes(tmp_path):
    port = free_port()
    records = launch([str(BIN / "torchrun"), f"--nproc_per_node={WORLD_SIZE}", "--master_addr=127.0.0.1",
                      f"--master_port={port}"], tmp_path, port)
    for record in records:
        assert record["launcher_env"]["WORLD_SIZE"] == str(WORLD_SIZE)
        assert not record["deepspeed"] and record["distributed_type"] == "DistributedType.MULTI_CPU"
        assert record["wrapped_model"] == "DistributedDataParallel" and record["base_optimizer"] == "AdamW"
    check_all(records)


def test_deepspeed_launcher_zero2_on_two_cpu_processes(tmp_path):
    port = free_port()
    records = launch([str(BIN / "deepspeed"), "--num_gpus", str(WORLD_SIZE), "--master_addr", "127.0.0.1",
                      "--master_port", str(port)], tmp_path, port, extra_args=["--deepspeed", str(ZERO2)])
    check_deepspeed_zero2(records)
    check_all(records)


def test_accelerate_launch_zero2_on_two_cpu_processes(tmp_path):
    """accelerate's own DeepSpeed plugin reads zero2.json; the Trainer fills its "auto" values (no --deepspeed)."""
    port = free_port()
    records = launch([str(BIN / "accelerate"), "launch", "--use_deepspeed", "--deepspeed_config_file", str(ZERO2),
                      "--num_processes", str(WORLD_SIZE), "--num_machines", "1", "--main_process_ip", "127.0.0.1",
                      "--main_process_port", str(port), "--mixed_precision", "no", "--dynamo_backend", "no"],
                     tmp_path, port)
    for record in records:
        assert record["launcher_env"]["ACCELERATE_USE_DEEPSPEED"] == "true"
        assert record["launcher_env"]["ACCELERATE_DEEPSPEED_CONFIG_FILE"] == str(ZERO2)
    check_deepspeed_zero2(records)
    check_all(records)
