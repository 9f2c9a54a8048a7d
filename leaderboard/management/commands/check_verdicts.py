"""`manage.py check_verdicts`: do the model page, the API, the CSV and the rankings agree?

For every repo with current claims it reads, as a visitor would (Django's test client, no
server), the model page (each claim's verdict and the header's), the claims API, the
evidence CSV and the rankings API row, and counts every disagreement. Exits non-zero on any.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client

from evaluations.models import Claim, ModelRepo, RankingEntry

ROW = re.compile(r'data-claim="(\d+)" data-verdict="([^"]*)"')
HEADLINE = re.compile(r'data-headline="([^"]*)"')


class Command(BaseCommand):
    help = "Check that every surface gives each claim the same verdict."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="at most this many repos")

    def handle(self, *args: Any, **options: Any) -> None:
        host = next((h for h in settings.ALLOWED_HOSTS if h and not h.startswith(".")), "")
        client = Client(HTTP_HOST=host or "127.0.0.1")
        repo_ids = Claim.objects.current().values_list("repo_id", flat=True).distinct()
        repos = ModelRepo.objects.filter(id__in=repo_ids).order_by("id")[: options["limit"]]
        shares: Counter[str] = Counter()
        mismatches = []
        start = time.monotonic()
        for repo in repos:
            page, headline, api, table, ranked = _surfaces(client, repo)
            shares.update(api.values())
            for name, found in (("page", page), ("csv", table)):
                if found != api:
                    mismatches.append(f"{repo.hub_id}: {name} {found} ≠ api {api}")
            if ranked is not None and ranked != headline:
                mismatches.append(f"{repo.hub_id}: rankings {ranked!r} ≠ page header {headline!r}")
        total = sum(shares.values())
        for verdict, count in shares.most_common():
            self.stdout.write(f"{verdict:18s} {count:7d} {100 * count / max(total, 1):5.1f} %")
        self.stdout.write(
            f"{total} claims, {len(mismatches)} disagreements ({time.monotonic() - start:.0f} s)"
        )
        if mismatches:
            raise CommandError("\n".join(mismatches[:20]))


def _surfaces(
    client: Client, repo: ModelRepo
) -> tuple[dict[int, str], str, dict[int, str], dict[int, str], str | None]:
    html = client.get(f"/models/{repo.hub_id}/").content.decode()
    page = {int(claim_id): verdict for claim_id, verdict in ROW.findall(html)}
    headline = HEADLINE.findall(html)
    api = {
        row["claim"]["id"]: row["verdict"]
        for row in client.get(f"/api/v1/models/{repo.hub_id}/claims").json()
    }
    text = client.get(f"/api/v1/models/{repo.hub_id}/evidence.csv").content.decode()
    table = {int(row["claim_id"]): row["verdict"] for row in csv.DictReader(io.StringIO(text))}
    entry = RankingEntry.objects.filter(repo=repo, precision_scope="").first()
    ranked = entry.verdict if entry else None
    return page, headline[0] if headline else "", api, table, ranked
