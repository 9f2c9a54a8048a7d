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
    cells = models.TextField(
        help_text="every cell but the rank: the model, its size and average, a score cell for "
        "each benchmark of the suite in the suite's order, the verdict and the compare tick"
    )
    # Where the head ends and each score cell ends in ``cells``: "412,889,1366,…". A page that
    # shows every column takes ``cells`` as it is; one that shows some cuts them out.
    bounds = models.TextField(help_text="the offsets in cells where the head and each score end")

    def __str__(self) -> str:
        return f"the row of ranking entry {self.entry_id}"
