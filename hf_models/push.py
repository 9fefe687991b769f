"""Publish an exported repository folder to the Hugging Face Hub (create the repo, the branch, upload)."""

from pathlib import Path
from typing import Optional

from huggingface_hub import HfApi, constants, get_token
from huggingface_hub.errors import HfHubHTTPError, HTTPError, OfflineModeIsEnabled

from .export import PICKLE_PATTERNS, TRAINING_STATE


class PushError(RuntimeError):
    """Publishing failed for a reason the user can act on; the message says what to do."""


NO_TOKEN = (
    "No Hugging Face token is configured, so {repo_id} cannot be published. Create a token with write access at "
    "https://huggingface.co/settings/tokens, then run `hf auth login` or set HF_TOKEN (or pass token=...)."
)
OFFLINE = (
    "The Hub is in offline mode (HF_HUB_OFFLINE=1), so {repo_id} cannot be published. Unset HF_HUB_OFFLINE on a "
    "machine with network access and push again; the exported folder {folder} is complete as it is."
)
UNREACHABLE = (
    "The Hub could not be reached while publishing {repo_id} ({error}). Check the network / proxy (HF_ENDPOINT "
    "is {endpoint}) and push again; the exported folder {folder} is complete as it is."
)
REFUSED = (
    "The Hub refused to publish {repo_id}: {error}. Check that the token has write access to that namespace and "
    "that the repository name is valid."
)


def push_repository(folder, repo_id: str, *, private: bool = False, revision: Optional[str] = None,
                    token: Optional[str] = None, commit_message: Optional[str] = None) -> str:
    """
    Upload the exported `folder` to the model repository `repo_id` (created if missing; `private` applies
    only then). With `revision`, the files go to that branch, created from main if missing. Returns the
    commit URL. Raises `PushError` with what to do when the folder holds pickles (a training folder), there is
    no token, the Hub is offline or unreachable, or the Hub refuses; `FileNotFoundError` when `folder` is not
    an export.
    """
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} holds no config.json: export the model first (hf_models.export_repository)")
    pickles = sorted(str(p.relative_to(folder)) for pattern in PICKLE_PATTERNS for p in folder.rglob(pattern)
                     if p.relative_to(folder).parts[0] != TRAINING_STATE)
    if pickles:
        raise PushError(f"{folder} holds pickled files ({', '.join(pickles[:5])}): push the exported repository folder "
                        "(safetensors only), not a training output folder with checkpoints")
    facts = {"repo_id": repo_id, "folder": folder, "endpoint": constants.ENDPOINT}
    if constants.is_offline_mode():
        raise PushError(OFFLINE.format(**facts))
    token = token or get_token()
    if not token:
        raise PushError(NO_TOKEN.format(**facts))

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, private=private, repo_type="model", exist_ok=True)
        if revision is not None:
            api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
        commit = api.upload_folder(
            repo_id=repo_id, folder_path=folder, repo_type="model", revision=revision,
            ignore_patterns=[f"{TRAINING_STATE}/**"],  # resumable training state stays local
            commit_message=commit_message or f"Upload {folder.name} with biohf",
        )
    except OfflineModeIsEnabled as error:
        raise PushError(OFFLINE.format(**facts)) from error
    except HfHubHTTPError as error:  # the Hub answered: auth, permissions, name
        raise PushError(REFUSED.format(error=error, **facts)) from error
    except HTTPError as error:  # no answer: DNS, connection, timeout, proxy
        raise PushError(UNREACHABLE.format(error=error, **facts)) from error
    return commit.commit_url
