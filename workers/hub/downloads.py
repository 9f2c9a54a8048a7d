"""Downloading what a run needs, at the inspected commit, and checking it.

``download_repo`` fetches configs, tokenizer files and ``*.safetensors`` only and checks every
file against the checksums the hub published; ``read_text_file`` reads a small text file (a
card, an ``.eval_results`` entry).

A download that fails ends with its own reason, and none of them is the submitter's: the hub
computes the sizes and checksums it publishes, so bytes that disagree with them were damaged
on the way or in the hub's storage, not by a push. A short body, a dropped connection and a
checksum mismatch are retried a bounded number of times (the whole file again), since each is
often transient; a full scratch volume is not (it will still be full).
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
from huggingface_hub.errors import EntryNotFoundError

from evaluations.errors import EvaluationError
from workers.hub.connection import download, hub_errors
from workers.hub.inspection import RepoFile, RepoInspection

logger = logging.getLogger(__name__)

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
DOWNLOAD_RETRIES = 2  # further attempts of one file after a transient failure
RETRY_PAUSE_SECONDS = 1.0  # times the attempt's number
RETRIED_CODES = frozenset(
    {
        "eval:infra:download-truncated",
        "eval:infra:download-interrupted",
        "eval:infra:checksum-mismatch",
    }
)
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


def download_repo(
    inspection: RepoInspection,
    dest_dir: Path,
    *,
    token: str | None = None,
    retries: int = DOWNLOAD_RETRIES,
) -> Path:
    """Download the files a model load needs into ``dest_dir`` and return that directory.

    Everything is fetched at ``inspection.commit_sha``, so a push after the inspection changes
    nothing. Each file is then checked against the size and checksum the hub published
    (huggingface_hub checks only the size). When any file fails, ``dest_dir`` is deleted with
    everything in it (the client's cache and unfinished files included) and EvaluationError
    says why: ``eval:infra:download-truncated``, ``-interrupted``, ``checksum-mismatch`` or
    ``disk-full``.
    """
    dest_dir = Path(dest_dir)
    files = files_to_download(inspection.files)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        _check_room(files, dest_dir)
        for file in files:
            _fetch_file(inspection, file, dest_dir, token, retries)
    except BaseException as error:
        shutil.rmtree(dest_dir, ignore_errors=True)  # no partial snapshot, whatever went wrong
        if isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS:
            raise _disk_full(dest_dir, str(error)) from error  # e.g. mkdir on a full volume
        raise
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


def _check_room(files: list[RepoFile], dest_dir: Path) -> None:
    needed = sum(file.size for file in files)
    free = shutil.disk_usage(dest_dir).free
    if needed > free:
        detail = f"the files need {needed} bytes, {free} are free"
        raise _disk_full(dest_dir, detail)


def _disk_full(dest_dir: Path, detail: str) -> EvaluationError:
    return EvaluationError("eval:infra:disk-full", f"{detail} (scratch folder {dest_dir})")


def _fetch_file(
    inspection: RepoInspection, file: RepoFile, dest_dir: Path, token: str | None, retries: int
) -> None:
    for attempt in range(retries + 1):
        try:
            local_path = _download_checked(inspection, file, dest_dir, token)
            _verify(file, local_path, dest_dir)
            return
        except EvaluationError as error:
            if error.code not in RETRIED_CODES or attempt == retries:
                if attempt:
                    error.detail += f" (after {attempt + 1} attempts)"
                raise
            logger.warning("%s; downloading %s again", error, file.path)
            time.sleep(RETRY_PAUSE_SECONDS * (attempt + 1))


def _download_checked(
    inspection: RepoInspection, file: RepoFile, dest_dir: Path, token: str | None
) -> Path:
    with hub_errors(inspection.repo_id, inspection.commit_sha), _transfer_errors(file, dest_dir):
        return Path(download(inspection.repo_id, inspection.commit_sha, file.path, dest_dir, token))


@contextlib.contextmanager
def _transfer_errors(file: RepoFile, dest_dir: Path) -> Iterator[None]:
    """A file's transfer failing part way, in the run's words (inside ``hub_errors``, which
    reports a hub that cannot be reached at all)."""
    try:
        yield
    except httpx2.RemoteProtocolError as error:
        # The body ended before its Content-Length; the client resumed it 5 times already.
        detail = f"{file.path}: {error}"
        raise EvaluationError("eval:infra:download-truncated", detail) from error
    except (httpx2.ReadError, httpx2.ReadTimeout, httpx2.CloseError) as error:
        detail = f"{file.path}: {type(error).__name__}: {error}"
        raise EvaluationError("eval:infra:download-interrupted", detail) from error
    except OSError as error:
        if error.errno in DISK_FULL_ERRNOS:
            raise _disk_full(dest_dir, f"{file.path}: {error.strerror}") from error
        # huggingface_hub's own size check: a whole body, but not the size published.
        if "Consistency check failed" not in str(error):
            raise
        detail = f"{file.path}: expected {file.size} bytes, got a different size"
        raise EvaluationError("eval:infra:checksum-mismatch", detail) from error


# --- checking downloads ---------------------------------------------------------------------


def _verify(file: RepoFile, local_path: Path, dest_dir: Path) -> None:
    actual_size = local_path.stat().st_size
    if actual_size != file.size:
        _discard(local_path, dest_dir, file.path)
        detail = f"{file.path}: expected {file.size} bytes, got {actual_size}"
        raise EvaluationError("eval:infra:checksum-mismatch", detail)
    expected, actual = _expected_and_actual_digest(file, local_path)
    if expected is not None and expected != actual:
        _discard(local_path, dest_dir, file.path)
        detail = f"{file.path}: expected {expected}, got {actual}"
        raise EvaluationError("eval:infra:checksum-mismatch", detail)


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
