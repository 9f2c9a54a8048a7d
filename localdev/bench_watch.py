"""What one tick of the re-upload watch costs: ``python -m localdev.bench_watch --repos 200``.

Publishes ``--repos`` tiny repos on a stand-in hub, records each as evaluated at its first
commit (through the services, no lm-eval) with a claim on it, re-uploads the weights of one
repo in ten and edits only the card of another one in ten, then times a tick of
``PROVENANCE_WATCH_BATCH`` repos and one of all of them: seconds, milliseconds per repo and
database queries. Last, the watch's detection rate (re-uploaded weights that opened a flag)
and false-alarm rate (flags on repos whose weights were never replaced). Uses a scratch SQLite
database in a temporary folder unless DATABASE_URL is set (then that database must be a
scratch one: rows are added).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repos", type=int, default=200)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'db.sqlite3'}")
    os.environ.setdefault("LEADERBOARD_VAR_DIR", str(scratch / "var"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from evaluations import dispatch
    from localdev.standin.hub_server import serve_in_thread

    call_command("migrate", verbosity=0)
    dispatch.send_run = lambda run_id, queue: None  # the queued re-evaluations are not run here
    server, url = serve_in_thread(scratch / "hub")
    os.environ["HF_ENDPOINT"] = url
    try:
        _publish_and_evaluate(scratch / "hub", args.repos)
        for batch in (settings.PROVENANCE_WATCH_BATCH, args.repos):
            _time_tick(batch, args.repos)
        _rates(args.repos)
    finally:
        server.shutdown()


def _files(fill: int, card: str = "# tiny\n") -> dict[str, bytes | Path]:
    return {
        "config.json": b'{"model_type": "llama"}',
        "model.safetensors": bytes([fill]) * 64,
        "README.md": card.encode(),
    }


def _replaced(index: int) -> bool:
    return index % 10 == 0  # weights re-uploaded


def _card_edited(index: int) -> bool:
    return index % 10 == 5  # only the card changed: recorded, never flagged


def _publish_and_evaluate(root: Path, count: int) -> None:
    from evaluations import services
    from localdev.standin.repos import publish_repo
    from workers import hub

    for index in range(count):
        repo_id = f"bench-org/model-{index}"
        publish_repo(root, repo_id, _files(0))
        listing = hub.ref_listing(repo_id, "main")
        run = services.submission_create(repo_id=repo_id).run
        services.run_claim(run_id=run.id, worker_name="bench", task_id="bench")
        services.run_record_inspection(
            run_id=run.id,
            commit_sha=listing.commit_sha,
            files=[dataclasses.asdict(file) for file in listing.files],
            parameter_count=16,
            dtype="F32",
            licence="",
            model_type="llama",
        )
        services.run_start_evaluating(run_id=run.id, backend="hf")
        services.run_record_results(run_id=run.id, scores=[], versions={}, artifacts=[])
        claim = services.ClaimInput(benchmark="smoke_arc", value=50.0, unit="percent", shots=0)
        services.claims_record(repo_id=repo_id, source="submission", claims=[claim])
    for index in range(count):
        if _replaced(index):
            publish_repo(root, f"bench-org/model-{index}", _files(1))
        elif _card_edited(index):
            publish_repo(root, f"bench-org/model-{index}", _files(0, card="# tiny, v2\n"))


def _time_tick(batch: int, count: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workers import watch

    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        outcomes = watch.watch_reuploads(limit=batch)
    seconds = time.perf_counter() - start
    print(
        f"tick of {batch} of {count} evaluated repos: {seconds:.2f} s, "
        f"{1000 * seconds / batch:.1f} ms a repo, {len(queries)} queries, {outcomes}",
        flush=True,
    )


def _rates(count: int) -> None:
    from evaluations.models import Flag, ProvenanceEvent

    flagged = set(
        Flag.objects.filter(provenance_event__isnull=False).values_list(
            "provenance_event__repo__hub_id", flat=True
        )
    )
    replaced = {f"bench-org/model-{i}" for i in range(count) if _replaced(i)}
    carded = {f"bench-org/model-{i}" for i in range(count) if _card_edited(i)}
    card_events = ProvenanceEvent.objects.filter(repo__hub_id__in=carded).count()
    print(
        f"detection: {len(flagged & replaced)} of {len(replaced)} re-uploaded weights flagged; "
        f"false alarms: {len(flagged - replaced)} of {count - len(replaced)} repos whose "
        f"weights stayed; of the {len(carded)} with only a new card, {card_events} recorded "
        f"as events, {len(flagged & carded)} flagged",
        flush=True,
    )


if __name__ == "__main__":
    main()
