"""`manage.py refresh_read_tables`: rebuild the read tables from the rows they derive from.

The services keep the tables in step as runs, claims and flags change; this rebuilds them
whole, for a deployment that adds or changes one and after a bulk load (``seed_demo``).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from evaluations.services.read_models import ranking_entries_rebuild


class Command(BaseCommand):
    help = "Rebuild the rankings' read table from runs, scores, claims and flags."

    def handle(self, *args: Any, **options: Any) -> None:
        start = time.monotonic()
        count = ranking_entries_rebuild()
        self.stdout.write(
            self.style.SUCCESS(f"{count} ranking entries in {time.monotonic() - start:.1f} s")
        )
