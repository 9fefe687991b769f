"""
Every family's training entry point under DeepSpeed ZeRO-2 with 2 CPU processes (gloo): it trains, rank 0 writes
the repository, and the repository loads. (mirlm is checked in depth, under all three launchers, in
test_distributed.py.) A run only succeeds if the Trainer saw both processes: `trainers.arguments` stops a
process whose Trainer sees a world of one when the launcher started several.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.distributed

ROOT = Path(__file__).resolve().parents[2]
ZERO2 = ROOT / "trainers" / "deepspeed" / "zero2.json"
BIN = Path(sys.executable).parent

COMMON = ["--preset", "tiny", "--max_steps", "2", "--use_cpu", "true", "--deepspeed", str(ZERO2),
          "--eval_strategy", "no", "--save_strategy", "no", "--load_best_model_at_end", "false", "--report_to", "none"]
FAMILY_ARGS = {
    "tissuebert": ["--per_device_train_batch_size", "4"],
    "e1": ["--per_device_train_batch_size", "2"],
    "milmol": ["--per_device_train_batch_size", "8"],  # + the single-instance baseline, trained on every rank
    "mutation2text": ["--per_device_train_batch_size", "4"],  # stage 1 (Trainer), stage 2 and the baseline (TRL SFT + LoRA)
}


def child_env(port: int) -> dict:
    env = dict(os.environ)  # HF_HOME, TORCH_EXTENSIONS_DIR (DeepSpeed's comm op, compiled once per run) from conftest
    env.update({"DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1", "MASTER_PORT": str(port),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
                "PATH": os.pathsep.join([str(BIN), env.get("PATH", "")])})
    return env


@pytest.mark.parametrize("family", list(FAMILY_ARGS))
def test_family_trains_under_deepspeed_zero2_on_two_processes(family, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    output_dir = tmp_path / family
    command = [str(BIN / "deepspeed"), "--num_gpus", "2", "--master_port", str(port), "--module", f"trainers.run_{family}",
               "--output_dir", str(output_dir), *COMMON, *FAMILY_ARGS[family]]
    process = subprocess.Popen(command, cwd=ROOT, env=child_env(port), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{' '.join(command)} ran past 600 s:\n{output[-10000:]}")
    assert process.returncode == 0, f"{' '.join(command)} failed:\n{output[-10000:]}"
    assert "dist_world_size=2" in output
    weights = load_file(output_dir / "model.safetensors")
    assert weights and all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())

    import hf_models  # noqa: F401  registers the families with the Auto classes
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(output_dir)
    assert config.model_type == family
    model = AutoModel.from_pretrained(output_dir)
    assert sum(p.numel() for p in model.parameters()) > 0
