"""Storage and publishing for the stand-in hub: repos as commits of content-addressed blobs.

Layout under the root directory (one folder per repo, ``ROOT/<org>/<name>/``)::

    repo.json              {"private": bool, "gated": false | "auto" | "manual"}
    refs.json              {"branches": {"main": "<sha>"}}
    commits/<sha>.json     the commit: parent, files (size, sha256, git oid), card data, config
    blobs/<sha256>         file contents, named by their sha256

Old commits are never removed, so a commit stays downloadable by its SHA after the branch
moves on, as on the real hub. Standard library, plus the product's bounded YAML reader for
card front matter (a published card is as untrusted here as on the hub).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluations.cards import CardError
from evaluations.cards.loading import load_yaml

# Files the hub's default .gitattributes stores in LFS; anything over 10 MB is LFS too.
LFS_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".pkl",
    ".pickle",
    ".h5",
    ".msgpack",
    ".onnx",
    ".model",
    ".npy",
    ".npz",
    ".gguf",
    ".zip",
    ".tar",
    ".gz",
    ".tflite",
    ".ot",
)
LFS_MIN_SIZE = 10 * 1024 * 1024
REPO_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
COMMIT_SHA_PATTERN = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class StoredFile:
    """One file of a commit. ``served_sha256`` differs from ``sha256`` only after tampering."""

    path: str
    size: int
    sha256: str
    git_oid: str
    lfs: bool
    served_sha256: str

    @property
    def lfs_pointer_size(self) -> int:
        return len(_lfs_pointer(self.sha256, self.size))


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    created_at: str
    files: dict[str, StoredFile]
    card_data: dict[str, Any]
    config: dict[str, Any]
    safetensors: dict[str, Any] | None
    metadata_overrides: dict[str, Any]


@dataclass
class RepoState:
    repo_id: str
    private: bool
    gated: bool | str
    branches: dict[str, str] = field(default_factory=dict)


def publish_repo(
    root: Path,
    repo_id: str,
    files: dict[str, bytes | Path],
    *,
    branch: str = "main",
    gated: bool | str = False,
    private: bool = False,
    card_data: dict[str, Any] | None = None,
    metadata_overrides: dict[str, Any] | None = None,
) -> str:
    """Publish ``files`` as a new commit on ``branch`` and return the commit's 40-hex SHA.

    ``gated``: False, True (same as "manual"), "auto" or "manual". ``card_data`` replaces the
    README.md front matter. ``metadata_overrides`` replaces top-level model_info fields
    (e.g. ``{"safetensors": {"total": 70_000_000_000, "parameters": {"BF16": ...}}}``), so a
    test can describe a huge model without writing a huge file.
    """
    repo_dir = _repo_dir(root, repo_id)
    contents = {path: _read_content(value) for path, value in files.items()}
    stored = {path: _store_blob(repo_dir, path, data) for path, data in contents.items()}
    refs = _read_json(repo_dir / "refs.json", {"branches": {}})
    parent = refs["branches"].get(branch)
    overrides = metadata_overrides or {}
    commit_sha = _commit_sha(stored, parent, card_data, overrides)
    commit = {
        "sha": commit_sha,
        "parent": parent,
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "files": {path: _file_record(file) for path, file in stored.items()},
        "card_data": card_data if card_data is not None else _card_data_from(contents),
        "config": _config_summary(contents),
        "safetensors": _safetensors_summary(contents),
        "metadata_overrides": overrides,
    }
    _write_json(repo_dir / "commits" / f"{commit_sha}.json", commit)
    _write_json(repo_dir / "repo.json", {"private": private, "gated": _gated_value(gated)})
    refs["branches"][branch] = commit_sha
    _write_json(repo_dir / "refs.json", refs)
    return commit_sha


def move_branch(root: Path, repo_id: str, commit_sha: str, *, branch: str = "main") -> None:
    """Test hook: point ``branch`` at a commit the repo already has (a force-push, or a revert
    to an older commit). Publishing new files on a branch moves it too (``publish_repo``)."""
    repo_dir = _repo_dir(root, repo_id)
    if not (repo_dir / "commits" / f"{commit_sha}.json").is_file():
        raise KeyError(f"{repo_id} has no commit {commit_sha}")
    refs = _read_json(repo_dir / "refs.json", {"branches": {}})
    refs["branches"][branch] = commit_sha
    _write_json(repo_dir / "refs.json", refs)


def tamper_file(root: Path, repo_id: str, commit_sha: str, path: str, new_bytes: bytes) -> None:
    """Test hook: serve ``new_bytes`` for ``path`` while the published metadata stays the same.

    Models a damaged blob on the hub's storage, so that checksum verification can be tested.
    """
    repo_dir = _repo_dir(root, repo_id)
    commit_path = repo_dir / "commits" / f"{commit_sha}.json"
    commit = _read_json(commit_path, None)
    if commit is None or path not in commit["files"]:
        raise KeyError(f"{repo_id}@{commit_sha} has no file {path!r}")
    served_sha256 = hashlib.sha256(new_bytes).hexdigest()
    _write_blob(repo_dir, served_sha256, new_bytes)
    commit["files"][path]["served_sha256"] = served_sha256
    _write_json(commit_path, commit)


def add_user(
    root: Path,
    token: str,
    name: str,
    orgs: tuple[str, ...] = (),
    *,
    password: str = "",
    email: str = "",
) -> None:
    """Let ``/api/whoami-v2`` answer for ``token`` (a test token, never a real one); with a
    password, the user can also sign in through the stand-in's OpenID Connect pages."""
    users_path = root / "users.json"
    users = _read_json(users_path, {})
    users[token] = {"name": name, "orgs": list(orgs), "password": password, "email": email}
    _write_json(users_path, users)


class RepoStore:
    """The read side, used by the server. Reads from disk on every call, so a publish made
    while the server runs is seen by the next request."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def repo(self, repo_id: str) -> RepoState | None:
        if not REPO_ID_PATTERN.match(repo_id):
            return None
        repo_dir = self.root / repo_id
        settings = _read_json(repo_dir / "repo.json", None)
        if settings is None:
            return None
        refs = _read_json(repo_dir / "refs.json", {"branches": {}})
        return RepoState(repo_id, settings["private"], settings["gated"], refs["branches"])

    def resolve(self, repo: RepoState, revision: str) -> str | None:
        """A branch name or a full commit SHA of this repo, to the commit SHA."""
        if revision in repo.branches:
            return repo.branches[revision]
        pull = re.fullmatch(r"refs/pr/(\d+)", revision)
        pulls = _read_json(self.root / repo.repo_id / "refs.json", {}).get("pulls", {})
        if pull and pull.group(1) in pulls:
            return pulls[pull.group(1)]["sha"]
        if COMMIT_SHA_PATTERN.match(revision) and self._commit_path(repo, revision).is_file():
            return revision
        return None

    def commit(self, repo: RepoState, commit_sha: str) -> Commit:
        record = _read_json(self._commit_path(repo, commit_sha), None)
        files = {path: StoredFile(path=path, **data) for path, data in record["files"].items()}
        return Commit(
            sha=record["sha"],
            parent=record["parent"],
            created_at=record["created_at"],
            files=files,
            card_data=record["card_data"],
            config=record["config"],
            safetensors=record["safetensors"],
            metadata_overrides=record["metadata_overrides"],
        )

    def blob_path(self, repo: RepoState, sha256: str) -> Path:
        return self.root / repo.repo_id / "blobs" / sha256

    def user_for_token(self, token: str) -> dict[str, Any] | None:
        return _read_json(self.root / "users.json", {}).get(token)

    def _commit_path(self, repo: RepoState, commit_sha: str) -> Path:
        return self.root / repo.repo_id / "commits" / f"{commit_sha}.json"


# --- publishing helpers -------------------------------------------------------------------


def _repo_dir(root: Path, repo_id: str) -> Path:
    if not REPO_ID_PATTERN.match(repo_id):
        raise ValueError(f"repo id must look like 'org/name', got {repo_id!r}")
    return Path(root) / repo_id


def _read_content(value: bytes | Path) -> bytes:
    return value if isinstance(value, bytes) else Path(value).read_bytes()


def _store_blob(repo_dir: Path, path: str, data: bytes) -> StoredFile:
    sha256 = hashlib.sha256(data).hexdigest()
    _write_blob(repo_dir, sha256, data)
    lfs = path.lower().endswith(LFS_SUFFIXES) or len(data) >= LFS_MIN_SIZE
    # The hub's blobId is the git object id: of the content, or of the LFS pointer file.
    git_content = _lfs_pointer(sha256, len(data)) if lfs else data
    return StoredFile(path, len(data), sha256, _git_oid(git_content), lfs, sha256)


def _write_blob(repo_dir: Path, sha256: str, data: bytes) -> None:
    blob = repo_dir / "blobs" / sha256
    if not blob.exists():
        blob.parent.mkdir(parents=True, exist_ok=True)
        tmp = blob.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, blob)


def _lfs_pointer(sha256: str, size: int) -> bytes:
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    return pointer.encode()


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _commit_sha(
    stored: dict[str, StoredFile],
    parent: str | None,
    card_data: dict[str, Any] | None,
    overrides: dict[str, Any],
) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(stored):
        digest.update(f"{path}\0{stored[path].sha256}\n".encode())
    digest.update(f"parent {parent}\n".encode())
    extras = {"card_data": card_data, "overrides": overrides}
    digest.update(json.dumps(extras, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _file_record(file: StoredFile) -> dict[str, Any]:
    return {
        "size": file.size,
        "sha256": file.sha256,
        "git_oid": file.git_oid,
        "lfs": file.lfs,
        "served_sha256": file.served_sha256,
    }


def _gated_value(gated: bool | str) -> bool | str:
    # The hub reports gating as false, "auto" or "manual".
    if gated is True:
        return "manual"
    return gated or False


def _config_summary(contents: dict[str, bytes]) -> dict[str, Any]:
    """The part of config.json (and tokenizer_config.json) that model_info's ``config`` shows."""
    config = _json_or_empty(contents.get("config.json"))
    config_keys = ("model_type", "architectures", "auto_map")
    summary = {key: config[key] for key in config_keys if key in config}
    tokenizer_config = _json_or_empty(contents.get("tokenizer_config.json"))
    token_keys = ("bos_token", "eos_token", "pad_token", "unk_token", "chat_template")
    tokenizer_summary = {
        key: tokenizer_config[key] for key in token_keys if key in tokenizer_config
    }
    if tokenizer_summary:
        summary["tokenizer_config"] = tokenizer_summary
    return summary


def _json_or_empty(data: bytes | None) -> dict[str, Any]:
    try:
        loaded = json.loads(data) if data is not None else {}
    except (ValueError, RecursionError):  # the hub shows no summary of a config it cannot read
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _safetensors_summary(contents: dict[str, bytes]) -> dict[str, Any] | None:
    """Parameter counts per dtype over the top-level *.safetensors files, as the hub reports."""
    parameters: dict[str, int] = {}
    for path, data in contents.items():
        if "/" in path or not path.endswith(".safetensors"):
            continue
        for dtype, count in _safetensors_parameters(data).items():
            parameters[dtype] = parameters.get(dtype, 0) + count
    if not parameters:
        return None
    return {"parameters": parameters, "total": sum(parameters.values())}


def _safetensors_parameters(data: bytes) -> dict[str, int]:
    """Header = 8-byte little-endian length, then JSON: {name: {dtype, shape, data_offsets}}."""
    if len(data) < 8:
        return {}
    (header_size,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8 : 8 + header_size])
        return _count_tensors(header)
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}  # not a safetensors file: the hub then reports no parameters either


def _count_tensors(header: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for dimension in tensor["shape"]:
            count *= dimension
        counts[tensor["dtype"]] = counts.get(tensor["dtype"], 0) + count
    return counts


def _card_data_from(contents: dict[str, bytes]) -> dict[str, Any]:
    readme = contents.get("README.md")
    if readme is None:
        return {}
    return parse_front_matter(readme.decode("utf-8", errors="replace"))


def parse_front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter of a model card (what the hub serves as ``cardData``); a card
    whose YAML does not parse gets none, as on the hub. It is read with the product's bounded
    loader: an alias bomb published here is refused, not expanded into millions of values."""
    match = re.match(r"^---\r?\n(.*?)\r?\n---\s*(\r?\n|$)", text, re.DOTALL)
    if not match:
        return {}
    try:
        data = load_yaml(match.group(1), "model card front matter")
    except CardError:
        return {}
    return data if isinstance(data, dict) else {}


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return default


def _write_json(path: Path, data: Any) -> None:
    # Write then rename, so a server reading while a test publishes never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)
