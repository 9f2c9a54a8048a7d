"""Where a run's files are kept: ``ARTIFACTS_DIR/run-<id>/``, each with its sha256."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings

from workers.child import ChildOutcome


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def store_run_artifacts(run_id: int, outcome: ChildOutcome) -> list[dict[str, Any]]:
    """Copy the child's outputs to permanent storage; samples are gzipped (they can be large)."""
    relative_dir = Path(f"run-{run_id}")
    target_dir = Path(settings.ARTIFACTS_DIR) / relative_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    stored = []
    for kind, source, name in (
        ("results", outcome.results_path, "results.json"),
        ("samples", outcome.samples_path, "samples.jsonl.gz"),
        ("log", outcome.log_path, "evaluation.log"),
    ):
        if not source.exists():
            continue
        target = target_dir / name
        if name.endswith(".gz"):
            with source.open("rb") as raw, gzip.open(target, "wb") as packed:
                shutil.copyfileobj(raw, packed)
        else:
            shutil.copyfile(source, target)
        stored.append(
            {
                "kind": kind,
                "path": str(relative_dir / name),
                "sha256": sha256_of(target),
                "size_bytes": target.stat().st_size,
            }
        )
    return stored
