"""The hub, as the workers see it: inspect a submitted repo, then download what the run needs.

The only package that imports ``huggingface_hub`` (an import-linter contract in pyproject.toml
holds the rest of the code to that). ``inspect_repo`` decides from model_info and a few small
JSON files whether a repo may be evaluated, and refuses before any weights are downloaded;
``download_repo`` fetches configs, tokenizer files and ``*.safetensors`` only, at the inspected
commit, and checks every file against the checksums the hub published; ``open_pull_requests``
lists where the hub keeps community-provided results; ``ref_listing`` tells the re-upload watch
which commit a ref names now, with its files' metadata; ``WeightsReader`` reads safetensors
headers and slabs of tensors by Range requests, for the lineage check.

The modules follow the client's seams: ``connection`` (endpoint, one file's download, the
client's errors in the run's words), ``inspection``, ``downloads``, ``pulls``, ``refs`` and
``weights``.
Callers use the names below (``hub.inspect_repo(...)``), looked up on this package at call time,
so a test can replace one here.

The endpoint is ``HF_ENDPOINT`` read at call time (``huggingface_hub`` reads it once, at import),
so production (no ``HF_ENDPOINT``: the real hub) and tests (the stand-in hub) take one path.
"""

from workers.hub.connection import HUB_TIMEOUT_SECONDS, RETRYABLE_STATUS
from workers.hub.downloads import (
    DOWNLOAD_PATTERNS,
    download_repo,
    files_to_download,
    read_model_card,
    read_text_file,
)
from workers.hub.inspection import PICKLE_SUFFIXES, RepoFile, RepoInspection, inspect_repo
from workers.hub.pulls import (
    MAX_PULL_REQUESTS,
    PullRequest,
    eval_results_blobs,
    is_eval_results_path,
    open_pull_requests,
)
from workers.hub.refs import RefListing, ref_listing
from workers.hub.weights import WeightsListing, WeightsReader

__all__ = [
    "DOWNLOAD_PATTERNS",
    "HUB_TIMEOUT_SECONDS",
    "MAX_PULL_REQUESTS",
    "PICKLE_SUFFIXES",
    "RETRYABLE_STATUS",
    "PullRequest",
    "RefListing",
    "RepoFile",
    "RepoInspection",
    "WeightsListing",
    "WeightsReader",
    "download_repo",
    "eval_results_blobs",
    "files_to_download",
    "inspect_repo",
    "is_eval_results_path",
    "open_pull_requests",
    "read_model_card",
    "read_text_file",
    "ref_listing",
]
