"""The JSON the stand-in hub answers with, built from a repo's stored commit. Pure: the
server looks the repo and commit up, these shape the answer as huggingface_hub 2.4 reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localdev.standin import pulls
from localdev.standin.repos import Commit, RepoState, StoredFile


def model_info(repo: RepoState, commit: Commit, *, with_blobs: bool) -> dict[str, Any]:
    """What ``GET /api/models/{repo}[/revision/{rev}]`` answers for one commit."""
    info: dict[str, Any] = {
        "_id": commit.sha[:24],
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "author": repo.repo_id.split("/")[0],
        "sha": commit.sha,
        "lastModified": commit.created_at,
        "createdAt": commit.created_at,
        "private": repo.private,
        "gated": repo.gated,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "library_name": "transformers",
        "tags": _tags(commit),
        "cardData": commit.card_data,
        "config": commit.config,
        "siblings": [_sibling(file, with_blobs) for file in sorted_files(commit)],
        "spaces": [],
        "usedStorage": sum(file.size for file in commit.files.values()),
    }
    if commit.safetensors is not None:
        info["safetensors"] = commit.safetensors
    info.update(commit.metadata_overrides)
    return info


def refs(root: Path, repo: RepoState, *, include_prs: bool) -> dict[str, Any]:
    """What ``GET /api/models/{repo}/refs`` answers; pull requests only when asked for."""
    branches = [
        {"name": name, "ref": f"refs/heads/{name}", "targetCommit": sha}
        for name, sha in sorted(repo.branches.items())
    ]
    answer: dict[str, Any] = {"branches": branches, "tags": [], "converts": []}
    answer["pullRequests"] = pulls.refs_payload(root, repo.repo_id) if include_prs else []
    return answer


def tree(commit: Commit, folder: str, *, recursive: bool) -> list[dict[str, Any]]:
    """What ``GET /api/models/{repo}/tree/{rev}/{folder}`` answers."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    entries: dict[str, dict] = {}
    for file in sorted_files(commit):
        if not file.path.startswith(prefix):
            continue
        parts = file.path[len(prefix) :].split("/")
        for depth in range(1, len(parts)):
            directory = prefix + "/".join(parts[:depth])
            if recursive or depth == 1:
                entries.setdefault(
                    directory,
                    {"type": "directory", "oid": "0" * 40, "size": 0, "path": directory},
                )
        if recursive or len(parts) == 1:
            entries[file.path] = _tree_file(file)
    return list(entries.values())


def sorted_files(commit: Commit) -> list[StoredFile]:
    return [commit.files[path] for path in sorted(commit.files)]


def _tags(commit: Commit) -> list[str]:
    tags = ["transformers"]
    if any(path.endswith(".safetensors") for path in commit.files):
        tags.append("safetensors")
    if commit.config.get("model_type"):
        tags.append(commit.config["model_type"])
    licence = commit.card_data.get("license")
    if isinstance(licence, str):
        tags.append(f"license:{licence}")
    return tags


def _sibling(file: StoredFile, with_blobs: bool) -> dict[str, Any]:
    if not with_blobs:
        return {"rfilename": file.path}
    sibling: dict[str, Any] = {"rfilename": file.path, "size": file.size, "blobId": file.git_oid}
    if file.lfs:
        sibling["lfs"] = {
            "sha256": file.sha256,
            "size": file.size,
            "pointerSize": file.lfs_pointer_size,
        }
    return sibling


def _tree_file(file: StoredFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "file",
        "oid": file.git_oid,
        "size": file.size,
        "path": file.path,
    }
    if file.lfs:
        entry["lfs"] = {"oid": file.sha256, "size": file.size, "pointerSize": file.lfs_pointer_size}
    return entry


def file_headers(commit: Commit, file: StoredFile) -> dict[str, str]:
    # The client takes the commit from X-Repo-Commit and the etag (for LFS files: the sha256)
    # from X-Linked-Etag before ETag. Both describe the published file, not the bytes served,
    # which is what lets tamper_file model a damaged blob.
    etag = f'"{file.sha256 if file.lfs else file.git_oid}"'
    headers = {
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "X-Repo-Commit": commit.sha,
        "Content-Disposition": f'inline; filename="{file.path.rsplit("/", 1)[-1]}"',
    }
    if file.lfs:
        headers["X-Linked-Etag"] = etag
        headers["X-Linked-Size"] = str(file.size)
    return headers
