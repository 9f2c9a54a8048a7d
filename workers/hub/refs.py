"""Where a repo's ref points now, and the files of that commit: the re-upload watch's one
question to the hub. Metadata only (``model_info`` with file metadata): no file is downloaded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from huggingface_hub import HfApi

from evaluations.errors import EvaluationError
from workers.hub.connection import HUB_TIMEOUT_SECONDS, endpoint, hub_errors
from workers.hub.inspection import RepoFile, _repo_files


@dataclass(frozen=True)
class RefListing:
    commit_sha: str
    committed_at: datetime | None  # when the hub says the ref last changed
    files: tuple[RepoFile, ...]


def ref_listing(repo_id: str, ref: str, *, token: str | None = None) -> RefListing:
    """The commit ``ref`` names now and its files (sizes, sha256 of LFS files, blob ids).

    Raises EvaluationError: ``eval:user:repo-not-found``, ``eval:user:gated`` (also when the
    repo answers but is gated now), ``eval:user:revision-not-found`` or
    ``eval:infra:hub-unreachable``.
    """
    api = HfApi(endpoint=endpoint(), token=token)
    with hub_errors(repo_id, ref):
        info = api.model_info(
            repo_id, revision=ref, files_metadata=True, timeout=HUB_TIMEOUT_SECONDS
        )
    if info.private:
        raise EvaluationError("eval:user:repo-not-found", f"{repo_id} is private now")
    if info.gated:
        raise EvaluationError("eval:user:gated", f"{repo_id} is gated now ({info.gated})")
    if info.sha is None:
        raise EvaluationError("eval:infra:hub-unreachable", f"no commit named for {repo_id}@{ref}")
    return RefListing(commit_sha=info.sha, committed_at=info.last_modified, files=_repo_files(info))
