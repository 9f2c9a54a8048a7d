"""Downloading what a run needs, at the inspected commit, and checking it.

``download_repo`` fetches configs, tokenizer files and ``*.safetensors`` only and checks every
file against the checksums the hub published; ``read_text_file`` reads a small text file (a
card, an ``.eval_results`` entry).
"""

from __future__ import annotations

import fnmatch
import hashlib
import tempfile
from pathlib import Path

from huggingface_hub.errors import EntryNotFoundError

from evaluations.errors import EvaluationError
from workers.hub.connection import download, hub_errors
from workers.hub.inspection import RepoFile, RepoInspection

# What a transformers load reads from the repo root; never pickle weights, never .py files.
DOWNLOAD_PATTERNS = (
    "*.json",
    "*.safetensors",
    "*.txt",
    "*.jinja",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
)


def download_repo(inspection: RepoInspection, dest_dir: Path, *, token: str | None = None) -> Path:
    """Download the files a model load needs into ``dest_dir`` and return that directory.

    Everything is fetched at ``inspection.commit_sha``, so a push after the inspection changes
    nothing. Each file is then checked against the size and checksum the hub published
    (huggingface_hub checks only the size); a mismatch deletes the file and raises
    ``eval:user:checksum-mismatch``.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    for file in files_to_download(inspection.files):
        local_path = _download_checked(inspection, file, dest_dir, token)
        _verify(file, local_path, dest_dir)
    return dest_dir


def read_model_card(repo_id: str, ref: str = "main", *, token: str | None = None) -> str | None:
    """The README.md of ``repo_id`` at ``ref``, or None when the repo has none."""
    return read_text_file(repo_id, ref, "README.md", token=token)


def read_text_file(
    repo_id: str, ref: str, path: str, *, token: str | None = None, max_bytes: int = 1 << 20
) -> str | None:
    """A small text file of the repo (a card, an .eval_results entry); None when absent.
    Larger files than ``max_bytes`` are not read: these are data, not weights."""
    with hub_errors(repo_id, ref), tempfile.TemporaryDirectory() as scratch:
        try:
            local = Path(download(repo_id, ref, path, Path(scratch), token))
        except EntryNotFoundError:
            return None
        if local.stat().st_size > max_bytes:
            return None
        return local.read_text(encoding="utf-8", errors="replace")


def files_to_download(files: tuple[RepoFile, ...]) -> list[RepoFile]:
    """Root-level files matching DOWNLOAD_PATTERNS: what ``from_pretrained`` reads."""
    return [
        file
        for file in files
        if "/" not in file.path
        and any(fnmatch.fnmatch(file.path, pattern) for pattern in DOWNLOAD_PATTERNS)
    ]


def _download_checked(
    inspection: RepoInspection, file: RepoFile, dest_dir: Path, token: str | None
) -> Path:
    try:
        with hub_errors(inspection.repo_id, inspection.commit_sha):
            return Path(
                download(inspection.repo_id, inspection.commit_sha, file.path, dest_dir, token)
            )
    except OSError as error:
        # huggingface_hub's own size check: the bytes served were not the size published.
        if "Consistency check failed" not in str(error):
            raise
        detail = f"{file.path}: expected {file.size} bytes, got a different size"
        raise EvaluationError("eval:user:checksum-mismatch", detail) from error


# --- checking downloads ---------------------------------------------------------------------


def _verify(file: RepoFile, local_path: Path, dest_dir: Path) -> None:
    actual_size = local_path.stat().st_size
    if actual_size != file.size:
        _discard(local_path, dest_dir, file.path)
        detail = f"{file.path}: expected {file.size} bytes, got {actual_size}"
        raise EvaluationError("eval:user:checksum-mismatch", detail)
    expected, actual = _expected_and_actual_digest(file, local_path)
    if expected is not None and expected != actual:
        _discard(local_path, dest_dir, file.path)
        detail = f"{file.path}: expected {expected}, got {actual}"
        raise EvaluationError("eval:user:checksum-mismatch", detail)


def _expected_and_actual_digest(file: RepoFile, local_path: Path) -> tuple[str | None, str]:
    if file.sha256 is not None:
        return f"sha256 {file.sha256}", f"sha256 {_sha256(local_path)}"
    # Small files have no sha256 on the hub, but their git object id covers the content.
    return (f"git {file.blob_id}" if file.blob_id else None), f"git {_git_blob_id(local_path)}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git_blob_id(path: Path) -> str:
    data = path.read_bytes()  # small files only: LFS files are checked by sha256
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _discard(local_path: Path, dest_dir: Path, filename: str) -> None:
    # Remove the bad file and the client's note that it is up to date, so a retry fetches anew.
    local_path.unlink(missing_ok=True)
    metadata = dest_dir / ".cache" / "huggingface" / "download" / f"{filename}.metadata"
    metadata.unlink(missing_ok=True)
