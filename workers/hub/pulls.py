"""A model repo's open pull requests, where the hub keeps community-provided results.

The hub shows a result as community-provided while it sits in an open pull request rather
than on main. The refs list (``list_repo_refs(include_pull_requests=True)``) gives each pull
request's ``refs/pr/N`` and commit; the discussions list says which are still open.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from huggingface_hub import HfApi

from workers.hub.connection import HUB_TIMEOUT_SECONDS, endpoint, hub_errors

MAX_PULL_REQUESTS = 20  # the most recent open ones; each costs a model_info and a download


@dataclass(frozen=True)
class PullRequest:
    number: int
    ref: str  # "refs/pr/N"
    commit_sha: str
    author: str


def open_pull_requests(repo_id: str, *, token: str | None = None) -> list[PullRequest]:
    """The repo's open pull requests with the commit each points to, newest first."""
    api = HfApi(endpoint=endpoint(), token=token)
    with hub_errors(repo_id, "refs/pr/*"):
        refs = api.list_repo_refs(repo_id, include_pull_requests=True)
        discussions = api.get_repo_discussions(
            repo_id, discussion_type="pull_request", discussion_status="open"
        )
        opened = list(itertools.islice(discussions, MAX_PULL_REQUESTS))
    targets = {ref.ref: ref.target_commit for ref in refs.pull_requests or []}
    return [
        PullRequest(d.num, f"refs/pr/{d.num}", targets[f"refs/pr/{d.num}"], d.author)
        for d in opened
        if f"refs/pr/{d.num}" in targets
    ]


def eval_results_blobs(
    repo_id: str, commit_sha: str, *, token: str | None = None
) -> dict[str, str | None]:
    """``.eval_results`` YAML files at a commit, path to git blob id."""
    api = HfApi(endpoint=endpoint(), token=token)
    with hub_errors(repo_id, commit_sha):
        info = api.model_info(
            repo_id, revision=commit_sha, files_metadata=True, timeout=HUB_TIMEOUT_SECONDS
        )
    return {
        sibling.rfilename: sibling.blob_id
        for sibling in info.siblings or ()
        if is_eval_results_path(sibling.rfilename)
    }


def is_eval_results_path(path: str) -> bool:
    return path.startswith(".eval_results/") and path.endswith((".yaml", ".yml"))
