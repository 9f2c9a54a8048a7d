"""The site's own table: each rankings row's markup, kept against its read-table entry."""

from __future__ import annotations

from django.db import models

from evaluations.models import RankingEntry


class RankingRowMarkup(models.Model):
    """A ``RankingEntry``'s row as the rankings page renders it, but its rank: written with the
    entry (``leaderboard.row_markup``), gone with it. An entry is never updated, only replaced
    under a new id, so its markup never goes stale; ``version`` names the code that rendered it,
    and a page renders anew any row whose markup another version wrote."""

    entry = models.OneToOneField(
        RankingEntry, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    version = models.CharField(max_length=64)
    head = models.TextField(help_text="the cells before the scores: model, size, average")
    # "key␟cell␞key␟cell…" (the ASCII unit and record separators, which no cell holds): a
    # page splits it at a tenth of what decoding JSON costs.
    scores = models.TextField(help_text="each benchmark's key and its score cell")
    tail = models.TextField(help_text="the cells after the scores: verdict, compare tick")

    def __str__(self) -> str:
        return f"the row of ranking entry {self.entry_id}"
