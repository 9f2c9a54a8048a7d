"""The ``.eval_results`` files a commit holds and those its open pull requests add, read from
the hub for the card import (the run's, and ``manage.py card_claims``)."""

from __future__ import annotations

from evaluations import services
from evaluations.errors import EvaluationError
from workers import hub


def read_results_files(
    repo_id: str, revision: str, blobs: dict[str, str | None]
) -> tuple[list[services.ResultsFile], list[str]]:
    """The ``.eval_results`` files at ``revision`` (``blobs``: their paths and git blob ids),
    then those each open pull request adds or changes, with notes on what was not read."""
    notes: list[str] = []
    files = [
        services.ResultsFile(path=path, text=text)
        for path in sorted(blobs)
        if (text := _read_results(repo_id, revision, path, notes)) is not None
    ]
    base_texts = {file.path: file.text for file in files}
    files += _pull_request_files(repo_id, blobs, base_texts, notes)
    return files, notes


def _read_results(repo_id: str, revision: str, path: str, notes: list[str]) -> str | None:
    text = hub.read_text_file(repo_id, revision, path)
    if text is None:
        notes.append(
            f"Not imported: {path} at {revision[:12]} is larger than the hub reader takes."
        )
    return text


def _pull_request_files(
    repo_id: str, base_blobs: dict[str, str | None], base_texts: dict[str, str], notes: list[str]
) -> list[services.ResultsFile]:
    """The results files each open pull request adds or changes: community-provided."""
    files: list[services.ResultsFile] = []
    try:
        for pull in hub.open_pull_requests(repo_id):
            blobs = hub.eval_results_blobs(repo_id, pull.commit_sha)
            for path in sorted(
                path for path, blob in blobs.items() if base_blobs.get(path) != blob
            ):
                text = _read_results(repo_id, pull.commit_sha, path, notes)
                if text is not None:
                    base = base_texts.get(path, "")
                    files.append(services.ResultsFile(path, text, pull.ref, base))
    except EvaluationError as error:  # the commit's own claims still count
        notes.append(f"Open pull requests not read: {error.detail or error.code}.")
    return files
