"""`trainers.run_e1` under torchrun: 2 CPU processes (DDP over gloo), gradient accumulation, one exported repository."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.distributed, pytest.mark.slow]  # about a minute on 2 busy cores
ROOT = Path(__file__).resolve().parents[2]


def test_torchrun_two_processes(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    output = tmp_path / "repo"
    command = [str(Path(sys.executable).parent / "torchrun"), "--nproc_per_node", "2", "--master_port", str(port),
               "-m", "trainers.run_e1", "--preset", "tiny", "--use_cpu", "true", "--max_steps", "3",
               "--gradient_accumulation_steps", "2", "--output_dir", str(output), "--disable_tqdm", "true"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    state = json.loads(next(output.glob("checkpoints/checkpoint-*/trainer_state.json")).read_text())
    assert state["global_step"] == 3 and (output / "metrics.json").is_file()
    args = json.loads((output / "metrics.json").read_text())
    assert args["global_step"] == 3
