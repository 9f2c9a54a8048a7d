"""Where run artifacts live on disk (written by the workers, served by the site)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def artifact_path(relative: str) -> Path:
    """The absolute path of a stored artifact; refuses paths that leave the artifacts dir."""
    root = Path(settings.ARTIFACTS_DIR).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise FileNotFoundError(relative)
    return path
