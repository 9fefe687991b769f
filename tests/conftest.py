"""Test-wide environment: offline Hub, no telemetry, a private HF_HOME per run (remote-code module cache)."""
import os
import tempfile

_HF_HOME = tempfile.mkdtemp(prefix="biohf-hf-home-")
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_MODULES_CACHE"] = os.path.join(_HF_HOME, "modules")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["TRANSFORMERS_NO_ADVISORY_WARNINGS"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("DS_ACCELERATOR", "cpu")
os.environ.setdefault("TORCH_EXTENSIONS_DIR", os.path.join(_HF_HOME, "torch_extensions"))

import pytest  # noqa: E402
import torch  # noqa: E402


if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)  # `make test` runs 2 workers on 2 cores: one thread each, no oversubscription


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def hf_env():
    """The environment a subprocess needs to behave like the tests (offline, private caches)."""
    return {k: os.environ[k] for k in ("HF_HOME", "HF_MODULES_CACHE", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY")}
