"""`manage.py every_eval_ever_export (--run ID | --all) --out PATH`: open data in the field's
shared format.

One run's record is written to the file PATH (``-`` for standard output). With ``--all``,
every finished run's record is written under the directory PATH in the datastore's layout,
``data/claimcheck/<owner>/<name>/<uuid>.json``, beside where its per-sample file would go.
Links in the records start with ``--base-url`` (the site's ``SITE_URL`` by default).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.every_eval_ever import RecordError, record_path, run_record
from evaluations.models import EvaluationRun
from evaluations.selectors import open_data


class Command(BaseCommand):
    help = "Write Every Eval Ever records of one finished run or of all of them."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--run", type=int, help="the id of one finished run")
        which.add_argument("--all", action="store_true", help="every finished run")
        parser.add_argument("--out", required=True, help="a file (or - ) for one run; a folder")
        parser.add_argument("--base-url", default="", help="e.g. https://claimcheck.example")

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = (options["base_url"] or settings.SITE_URL).rstrip("/")
        out = options["out"]
        if options["all"]:
            self._write_all(Path(out), base_url)
            return
        run = open_data.run_detail(options["run"])
        if run is None:
            raise CommandError(f"There is no run {options['run']}.")
        try:
            text = _dump(run_record(run, base_url=base_url))
        except RecordError as error:
            raise CommandError(str(error)) from error
        if out == "-":
            self.stdout.write(text)
        else:
            Path(out).write_text(text, encoding="utf-8")
            self.stdout.write(f"run {run.id} → {out}")

    def _write_all(self, folder: Path, base_url: str) -> None:
        runs = (
            EvaluationRun.objects.finished_ok()
            .select_related("submission__repo", "revision")
            .prefetch_related("scores", "artifacts")
            .order_by("id")
        )
        count = 0
        for run in runs.iterator(chunk_size=200):
            path = folder / record_path(run)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(_dump(run_record(run, base_url=base_url)), encoding="utf-8")
            count += 1
        self.stdout.write(self.style.SUCCESS(f"{count} records under {folder}"))


def _dump(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
