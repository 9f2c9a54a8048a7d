"""`manage.py card_claims PATH_OR_REPO`: the claims a model card would import, as JSON.

Lets an author check a card before submitting. Exits non-zero with the parse error when the
card's YAML is broken. A path ending in .yaml/.yml is read as a hub ``.eval_results`` file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evaluations.cards import (
    CardError,
    claims_from_eval_results,
    claims_from_readme,
    claims_to_json,
)
from evaluations.errors import EvaluationError
from workers import hub


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
                text = path.read_text(encoding="utf-8", errors="replace")
                repo_id = repo_id or path.resolve().parent.name
                if path.suffix in (".yaml", ".yml"):
                    claims = claims_from_eval_results(text, repo_id=repo_id)
                else:
                    claims = claims_from_readme(text, repo_id=repo_id)
            else:
                readme = hub.read_model_card(card, options["revision"]) or ""
                claims = claims_from_readme(readme, repo_id=repo_id or card)
        except CardError as error:
            raise CommandError(f"The card could not be read: {error}") from error
        except EvaluationError as error:
            raise CommandError(f"{card}: {error.detail or error.code}") from error
        self.stdout.write(json.dumps(claims_to_json(claims), indent=2, ensure_ascii=False))
        if not claims:
            self.stderr.write("no claims found")
