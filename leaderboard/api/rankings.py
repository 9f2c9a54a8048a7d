"""The rankings, as JSON one page at a time and as a CSV file."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.decorators import decorate_view
from ninja.errors import HttpError

# ``ninja.Query(...)`` calls these; under mypy ``ninja.Query`` is only the annotation alias.
from ninja.params import functions as param

from evaluations import selectors
from evaluations.catalogue import BENCHMARKS, suite_benchmarks
from evaluations.selectors import rankings as ranking_rows
from evaluations.selectors.ranking_query import RankingQuery
from leaderboard import ranking_params
from leaderboard.api.common import CSV_RESPONSE, MAX_PAGE_SIZE, PAGE_SIZE
from leaderboard.api.schemas import Message, RankingFiltersIn, RankingsPageOut
from leaderboard.page_cache import cached_page
from leaderboard.views import csv_downloads

router = Router()


def _ranking_query(filters: RankingFiltersIn) -> RankingQuery:
    """The page's own parser, so the API and CSV take what the page takes and refuse it
    with the same sentence (page and per_page are the page's; the API pages by offset)."""
    params = filters.model_dump()
    suite = params["suite"] or selectors.default_suite()
    try:
        return ranking_params.parse_query(params, suite=suite)
    except ValueError as error:
        raise HttpError(400, str(error)) from None


def _ranking_row(row: ranking_rows.RankedRow, benchmarks: list[str]) -> dict[str, Any]:
    scores = [
        {
            "benchmark": key,
            "value": row.scores[key].value if key in row.scores else None,
            "stderr": row.scores[key].stderr if key in row.scores else None,
        }
        for key in benchmarks
    ]
    return {
        "rank": row.rank,
        "tied": row.tied,
        "hub_id": row.hub_id,
        "run_id": row.run_id,
        "commit_sha": row.commit_sha or None,
        "precision": row.precision,
        "parameter_count": row.parameter_count,
        "average": row.average,
        "average_stderr": row.average_stderr,
        "raw_average": row.raw_average,
        "flagged": row.flagged,
        "severity": row.severity,
        "verdict": row.verdict,
        "not_comparable": row.not_comparable,
        "provenance_flagged": row.provenance_flagged,
        "scores": scores,
    }


@router.get("/rankings", response={200: RankingsPageOut, 400: Message}, tags=["rankings"])
@decorate_view(cached_page)
def rankings(
    request: HttpRequest,
    filters: Query[RankingFiltersIn],
    limit: int = param.Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    offset: int = param.Query(0, ge=0, le=10**9),
) -> dict[str, Any]:
    """Each model's latest finished run of a suite, ranked by its normalised average of
    measured scores, filtered and sorted as on the rankings page, one page at a time.
    Claimed scores are never ranked."""
    query = _ranking_query(filters)
    keys = [benchmark.key for benchmark in suite_benchmarks(query.suite)]
    rows, total = ranking_rows.ranked_slice(query, offset=offset, limit=limit)
    return {
        "suite": query.suite,
        "min_params": query.min_params,
        "max_params": query.max_params,
        "precision": query.precision,
        "licence": query.licence,
        "hide_flagged": query.hide_flagged,
        "hide_not_comparable": query.hide_not_comparable,
        "hide_provenance": query.hide_provenance_flagged,
        "sort": query.sort,
        "order": query.order,
        "total": total,
        "limit": limit,
        "offset": offset,
        "benchmarks": [BENCHMARKS[key] for key in keys],
        "rows": [_ranking_row(row, keys) for row in rows],
    }


@router.get(
    "/rankings.csv",
    response={200: None, 400: Message},
    tags=["rankings"],
    openapi_extra=CSV_RESPONSE,
)
@decorate_view(cached_page)
def rankings_csv(request: HttpRequest, filters: Query[RankingFiltersIn]) -> HttpResponse:
    """The rankings as CSV, every row the filters keep in the asked order: rank, normalised
    average and its stderr, raw average, flag and verdict, raw value and stderr per benchmark.
    Every score column is a fraction in [0, 1], named `*_fraction` (for example
    `normalised_average_fraction`, `mmlu_fraction`, `mmlu_stderr_fraction`)."""
    return csv_downloads.rankings_csv(_ranking_query(filters))
