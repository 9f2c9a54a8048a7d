"""Talking to the hub: the endpoint, one file's download, and the client's errors in the
run's words.

The endpoint is ``HF_ENDPOINT`` read at call time (``huggingface_hub`` reads it once, at import),
so production (no ``HF_ENDPOINT``: the real hub) and tests (the stand-in hub) take one path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx2
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from evaluations.errors import EvaluationError

HUB_TIMEOUT_SECONDS = 30.0
RETRYABLE_STATUS = (429, 500, 502, 503, 504)


def endpoint() -> str | None:
    """``HF_ENDPOINT`` as it is now; None for the real hub."""
    value = os.environ.get("HF_ENDPOINT", "").strip().rstrip("/")
    return value or None


def download(
    repo_id: str, commit_sha: str, filename: str, local_dir: Path, token: str | None
) -> str:
    """One file of the repo at ``commit_sha`` into ``local_dir``; its local path."""
    # local_dir gives plain files a model load can read; the cache_dir inside it keeps the
    # lookup that hf_hub_download makes in a shared cache from copying files in from outside.
    return hf_hub_download(
        repo_id,
        filename,
        revision=commit_sha,
        local_dir=local_dir,
        cache_dir=local_dir / ".cache" / "huggingface" / "hub",
        endpoint=endpoint(),
        token=token,
    )


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str) -> Iterator[None]:
    """Turn the client's exceptions into the run's error ids."""
    try:
        yield
    except GatedRepoError as error:  # before RepositoryNotFoundError: it is a subclass
        raise EvaluationError("eval:user:gated", f"{repo_id} is gated") from error
    except (RepositoryNotFoundError, DisabledRepoError) as error:
        raise EvaluationError("eval:user:repo-not-found", f"{repo_id} was not found") from error
    except RevisionNotFoundError as error:
        detail = f"{revision!r} is not a branch, tag or commit of {repo_id}"
        raise EvaluationError("eval:user:revision-not-found", detail) from error
    except (httpx2.TransportError, LocalEntryNotFoundError, OfflineModeIsEnabled) as error:
        # hf_hub_download reports a failed connection as LocalEntryNotFoundError.
        detail = f"{type(error).__name__} while asking the hub about {repo_id}"
        raise EvaluationError("eval:infra:hub-unreachable", detail) from error
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status in RETRYABLE_STATUS:
            detail = f"the hub answered HTTP {status} for {repo_id}"
            raise EvaluationError("eval:infra:hub-unreachable", detail) from error
        raise
