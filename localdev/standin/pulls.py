"""Pull requests on the stand-in hub: a commit on ``refs/pr/N`` whose tree is the base branch's
plus the files the pull request adds, as on the real hub.

``refs.json`` keeps them beside the branches: ``{"pulls": {"N": {"sha", "author", "status",
"title", "created_at"}}}``. The server lists them through ``/refs?include_prs=1`` and
``/discussions?type=pull_request``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localdev.standin import repos


def publish_pull_request(
    root: Path,
    repo_id: str,
    files: dict[str, bytes],
    *,
    author: str,
    status: str = "open",
    title: str = "Add evaluation results",
    base: str = "main",
) -> tuple[int, str]:
    """Open (or, with ``status="closed"``, record a closed) pull request on ``base`` adding
    ``files``; return its number and commit SHA."""
    repo_dir = repos._repo_dir(root, repo_id)
    refs = repos._read_json(repo_dir / "refs.json", {"branches": {}})
    parent_sha = refs["branches"][base]
    parent = repos._read_json(repo_dir / "commits" / f"{parent_sha}.json", None)
    stored = {path: repos._store_blob(repo_dir, path, data) for path, data in files.items()}
    commit_sha = repos._commit_sha(stored, parent_sha, {"pull_request_by": author}, {})
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    commit = {
        **parent,
        "sha": commit_sha,
        "parent": parent_sha,
        "created_at": now,
        "files": {**parent["files"], **{p: repos._file_record(f) for p, f in stored.items()}},
    }
    repos._write_json(repo_dir / "commits" / f"{commit_sha}.json", commit)
    pulls = refs.setdefault("pulls", {})
    number = len(pulls) + 1
    pulls[str(number)] = {
        "sha": commit_sha,
        "author": author,
        "status": status,
        "title": title,
        "created_at": now,
    }
    repos._write_json(repo_dir / "refs.json", refs)
    return number, commit_sha


def pull_requests(root: Path, repo_id: str) -> dict[str, dict[str, Any]]:
    """Number (as text) to the pull request's record."""
    refs = repos._read_json(Path(root) / repo_id / "refs.json", {})
    return refs.get("pulls", {})


def refs_payload(root: Path, repo_id: str) -> list[dict[str, str]]:
    """``pullRequests`` of the refs answer: every pull request keeps its ref, open or not."""
    return [
        {"name": f"refs/pr/{number}", "ref": f"refs/pr/{number}", "targetCommit": pull["sha"]}
        for number, pull in sorted(pull_requests(root, repo_id).items(), key=_by_number)
    ]


def discussions_payload(root: Path, repo_id: str, query: dict[str, list[str]]) -> dict[str, Any]:
    """One page holding every pull request of the asked status, newest first."""
    status = query.get("status", ["all"])[0]
    pulls = sorted(pull_requests(root, repo_id).items(), key=_by_number, reverse=True)
    discussions = [
        {
            "num": int(number),
            "title": pull["title"],
            "status": pull["status"],
            "isPullRequest": True,
            "createdAt": pull["created_at"],
            "author": {"name": pull["author"]},
            "repo": {"name": repo_id, "type": "model"},
            "pinned": False,
            "numComments": 1,
        }
        for number, pull in pulls
        if status in ("all", pull["status"])
    ]
    return {"discussions": discussions, "count": len(discussions), "start": 0}


def _by_number(item: tuple[str, dict[str, Any]]) -> int:
    return int(item[0])
