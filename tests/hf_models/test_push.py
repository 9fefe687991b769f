"""push_repository: clear errors without a token, offline, with the Hub unreachable or refusing; the calls it makes.
No test touches the network: "unreachable" and "refusing" are a closed and a local port on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from huggingface_hub import constants

import hf_models.push as push
from hf_models import PushError, push_repository


@pytest.fixture
def export_dir(tmp_path):
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


@pytest.fixture
def online(monkeypatch):
    """Pretend the Hub is not in offline mode (the test session sets HF_HUB_OFFLINE=1)."""
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


def test_offline_mode_says_so(export_dir, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(PushError, match="HF_HUB_OFFLINE=1") as error:
        push_repository(export_dir, "biohf/unit", token="hf_unit")
    assert str(export_dir) in str(error.value)


def test_no_token_says_how_to_log_in(export_dir, online, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(push, "get_token", lambda: None)
    with pytest.raises(PushError, match="No Hugging Face token") as error:
        push_repository(export_dir, "biohf/unit")
    assert "hf auth login" in str(error.value) and "HF_TOKEN" in str(error.value)


def test_unreachable_hub(export_dir, online, monkeypatch):
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(PushError, match="could not be reached") as error:
        push_repository(export_dir, "biohf/unit", token="hf_unit")
    assert "127.0.0.1:9" in str(error.value)


class _Refuse(BaseHTTPRequestHandler):
    def _answer(self):
        body = json.dumps({"error": "Invalid username or password."}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args):
        pass


def test_refusing_hub(export_dir, online, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(PushError, match="refused") as error:
            push_repository(export_dir, "biohf/unit", token="hf_unit")
    finally:
        server.shutdown()
        thread.join()
    assert "write access" in str(error.value)


def test_refuses_pickles(export_dir):
    (export_dir / "checkpoint-10").mkdir()
    (export_dir / "checkpoint-10" / "optimizer.pt").write_bytes(b"")
    with pytest.raises(PushError, match="pickled files .*optimizer.pt"):
        push_repository(export_dir, "biohf/unit", token="hf_unit")


def test_not_an_export(tmp_path):
    with pytest.raises(FileNotFoundError, match="export the model first"):
        push_repository(tmp_path, "biohf/unit", token="hf_unit")


class _RecordingApi:
    calls = []

    def __init__(self, token):
        self.calls.append(("init", token))

    def create_repo(self, repo_id, **kwargs):
        self.calls.append(("create_repo", repo_id, kwargs))

    def create_branch(self, repo_id, **kwargs):
        self.calls.append(("create_branch", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        self.calls.append(("upload_folder", kwargs))

        class Commit:
            commit_url = f"https://huggingface.co/{kwargs['repo_id']}/commit/abc"

        return Commit()


@pytest.mark.parametrize("revision", [None, "v1"])
def test_calls(export_dir, online, monkeypatch, revision):
    _RecordingApi.calls = []
    monkeypatch.setattr(push, "HfApi", _RecordingApi)
    url = push_repository(export_dir, "biohf/unit", private=True, revision=revision, token="hf_unit")
    assert url == "https://huggingface.co/biohf/unit/commit/abc"
    names = [call[0] for call in _RecordingApi.calls]
    assert names == ["init", "create_repo"] + (["create_branch"] if revision else []) + ["upload_folder"]
    assert _RecordingApi.calls[0] == ("init", "hf_unit")
    assert _RecordingApi.calls[1][2] == {"private": True, "repo_type": "model", "exist_ok": True}
    if revision:
        assert _RecordingApi.calls[2][2] == {"branch": "v1", "repo_type": "model", "exist_ok": True}
    upload = _RecordingApi.calls[-1][1]
    assert upload["folder_path"] == export_dir and upload["revision"] == revision and upload["repo_id"] == "biohf/unit"
