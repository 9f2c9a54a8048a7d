"""The commits of a repo, as a worker inspected them: recorded once, then shared by every run
that evaluates that commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evaluations.models import Revision

MAX_CARD_TEXT = 64 * 1024  # characters; the worker already cuts the text at 64 KiB


def revision_record(
    *,
    repo_id: int,
    commit_sha: str,
    files: list[Mapping[str, Any]],
    parameter_count: int | None,
    dtype: str | None,
    licence: str | None,
    model_type: str | None,
    card_text: str = "",
) -> Revision:
    """The repo's revision at ``commit_sha``; the first inspection's facts are kept."""
    revision, _ = Revision.objects.get_or_create(
        repo_id=repo_id,
        commit_sha=commit_sha,
        defaults={
            "files": list(files),
            "parameter_count": parameter_count,
            "dtype": dtype or "",
            "licence": (licence or "")[:100],
            "model_type": (model_type or "")[:100],
            "card_text": card_text.replace("\x00", "")[:MAX_CARD_TEXT],
        },
    )
    return revision
