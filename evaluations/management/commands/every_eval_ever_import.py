"""`manage.py every_eval_ever_import FILE`: a developer's Every Eval Ever record as claims.

The operator vouches for where the file comes from: a first-party record becomes the
author's claims. A record someone else ran is refused unless ``--third-party`` is given, with
``--source-url`` (where it was published); it is then recorded as third-party claims. The
file is untrusted: whatever is wrong with it is said in one sentence, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.services.every_eval_ever import claims_import_every_eval_ever

MAX_BYTES = 5 * 1024 * 1024  # an aggregate record is a few kilobytes


class Command(BaseCommand):
    help = "Import the scores of an Every Eval Ever record (JSON) as claims."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="an Every Eval Ever aggregate record, .json")
        parser.add_argument(
            "--third-party", action="store_true", help="record as third-party claims"
        )
        parser.add_argument("--source-url", default="", help="where the record was published")

    def handle(self, *args: Any, **options: Any) -> None:
        record = read_json(Path(options["file"]))
        try:
            outcome = claims_import_every_eval_ever(
                record=record,
                third_party=options["third_party"],
                source_url=options["source_url"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        if outcome.already_imported:
            self.stdout.write(f"{outcome.evaluation_id} was already imported: nothing to do.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(outcome.claims)} {outcome.source} claims of {outcome.repo_id} "
                f"from {outcome.evaluation_id}"
            )
        )


def read_json(path: Path) -> Any:
    """The file's JSON, or a ``CommandError`` saying why not."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path} is larger than {MAX_BYTES // 1024 // 1024} MiB.")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"{path} could not be read: {error}") from error
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise CommandError(f"{path} is not valid JSON: {error}") from error


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
