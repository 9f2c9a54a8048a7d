"""The worker's scratch folders, one per run (``run-<id>``, weights included).

A run's folder is deleted when the runner is done with it, but a worker killed mid-run
leaves it behind. So a worker, as it starts, deletes the folders of runs that are no longer
its own: runs that ended (or no longer exist), and runs the database still has in flight on
this very worker, which has just started and so runs none. Folders of queued runs and of
runs in flight on other workers stay, since workers may share the disk.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from evaluations.models import ACTIVE_STATES, EvaluationRun
from workers.sandbox import make_writable

logger = logging.getLogger(__name__)

RUN_FOLDER = re.compile(r"run-(\d+)")


def sweep(scratch_dir: Path, *, worker_name: str) -> list[Path]:
    """Delete the run folders in ``scratch_dir`` that are no longer ``worker_name``'s own;
    return them."""
    folders = _run_folders(scratch_dir)
    still_used = set(
        EvaluationRun.objects.active()
        .filter(id__in=folders)
        .exclude(state__in=ACTIVE_STATES, worker_name=worker_name)
        .values_list("id", flat=True)
    )
    swept = [folder for run_id, folder in folders.items() if run_id not in still_used]
    for folder in swept:
        remove(folder)
        logger.info("deleted %s: its run is no longer this worker's", folder)
    return swept


def remove(folder: Path) -> None:
    """Delete a run's folder, its read-only model snapshot included (workers/sandbox.py)."""
    make_writable(folder / "model")
    shutil.rmtree(folder, ignore_errors=True)


def _run_folders(scratch_dir: Path) -> dict[int, Path]:
    if not scratch_dir.is_dir():
        return {}
    return {
        int(match.group(1)): path
        for path in scratch_dir.iterdir()
        if path.is_dir() and (match := RUN_FOLDER.fullmatch(path.name))
    }
