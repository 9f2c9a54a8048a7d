"""`manage.py card_claims PATH_OR_REPO`: the claims a model card would import, as JSON.

Lets an author check a card before submitting. Exits non-zero with the parse error when the
card's YAML is broken. A path ending in .yaml/.yml is read as a hub ``.eval_results`` file.

For a repo id it reads what a run imports, through the run's own reader: the README, the
``.eval_results/*.yaml`` files at the revision, and the results files that open pull requests
add or change, which come out community-provided (source kind ``eval-results-community``,
reported by the pull request). What the run would leave out is said on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.cards import (
    CardClaim,
    CardError,
    claims_from_eval_results,
    claims_from_readme,
    claims_to_json,
)
from evaluations.errors import EvaluationError
from evaluations.services import ResultsFile
from workers import card_files, hub


class Command(BaseCommand):
    help = "Print, as JSON, the claims a model card (a README path or a hub repo id) holds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("card", help="a README.md / .eval_results YAML path, or org/name")
        parser.add_argument("--revision", default="main", help="for a repo id: branch or SHA")
        parser.add_argument("--repo-id", default="", help="the repo the card belongs to")

    def handle(self, *args: Any, **options: Any) -> None:
        card, repo_id = options["card"], options["repo_id"]
        path = Path(card)
        try:
            if path.exists():
                claims = _file_claims(path, repo_id or path.resolve().parent.name)
            else:
                claims = self._repo_claims(card, options["revision"], repo_id or card)
        except CardError as error:
            raise CommandError(f"The card could not be read: {error}") from error
        except EvaluationError as error:
            raise CommandError(f"{card}: {error.detail or error.code}") from error
        self.stdout.write(json.dumps(claims_to_json(claims), indent=2, ensure_ascii=False))
        if not claims:
            self.stderr.write("no claims found")

    def _repo_claims(self, hub_id: str, revision: str, repo_id: str) -> list[CardClaim]:
        """The README's claims, then each results file's, as a run of ``revision`` reads them."""
        claims = claims_from_readme(hub.read_model_card(hub_id, revision) or "", repo_id=repo_id)
        blobs = hub.eval_results_blobs(hub_id, revision)
        files, notes = card_files.read_results_files(hub_id, revision, blobs)
        for file in files:
            claims += _results_claims(file, repo_id, notes)
        for note in notes:
            self.stderr.write(note)
        return claims


def _file_claims(path: Path, repo_id: str) -> list[CardClaim]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix in (".yaml", ".yml"):
        return claims_from_eval_results(text, repo_id=repo_id)
    return claims_from_readme(text, repo_id=repo_id)


def _results_claims(file: ResultsFile, repo_id: str, notes: list[str]) -> list[CardClaim]:
    """A results file's claims. The repo's own broken file stops the command, as a broken card
    does; a pull request's costs only its claims, as in a run."""
    try:
        return claims_from_eval_results(
            file.text, repo_id=repo_id, source_ref=file.source_ref, base_text=file.base_text
        )
    except CardError as error:
        if not file.source_ref:
            raise CardError(f"{file.path}: {error}") from error
        notes.append(f"Not imported: {file.path} ({file.source_ref}): {error}.")
        return []
