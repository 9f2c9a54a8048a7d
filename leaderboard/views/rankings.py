"""The home page: the rankings of a suite, filtered and sorted, and the recent runs."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix
from django.views.decorators.http import require_GET

from evaluations import selectors
from evaluations.catalogue import SUITE_DESCRIPTIONS, SUITES, suite_benchmarks
from evaluations.generation import site_generation
from evaluations.models import Precision
from evaluations.selectors import open_data, rankings
from leaderboard import ranking_params, row_markup
from leaderboard.page_cache import cached_page, live_tag
from leaderboard.size_chart import size_figure
from leaderboard.views.compare import plotly_bundle


@require_GET
@cached_page(live=open_data.active_runs_tag)  # recent runs show their progress
def home(request: HttpRequest) -> HttpResponse:
    suite = request.GET.get("suite") or selectors.default_suite()
    try:
        query = ranking_params.parse_query(request.GET, suite=suite)
    except ValueError as error:
        return render(
            request,
            "leaderboard/error.html",
            {"title": "These rankings cannot be shown", "message": str(error)},
            status=400,
        )
    page = rankings.rankings(query)
    # What the page keeps for all its visitors moves with the generation, and holds links.
    kept_as = f"{get_script_prefix()}:{site_generation().value}"
    context = {
        "query": query,
        "page": page,
        "stored_rows": row_markup.stored(
            [slot.entry_id for slot in page.slots],
            suite=suite,
            keys=[benchmark.key for benchmark in page.benchmarks],
        ),
        "links": ranking_params.table_links(page),
        "suite_benchmarks": suite_benchmarks(suite),
        "unknown_columns": ranking_params.known_columns(request.GET, suite=suite)[1][:5],
        "suites": [(key, SUITE_DESCRIPTIONS.get(key, key)) for key in SUITES],
        "suite_label": SUITE_DESCRIPTIONS.get(suite, suite),
        "precisions": Precision.choices,
        "licences": rankings.licence_choices(suite),
        "per_page_choices": (25, 50, 100),
        # What every page of this query shows but its rows (the template keeps it).
        "controls_key": f"{kept_as}:{replace(query, page=1).key()}",
        "fragment_seconds": settings.PAGE_CACHE_SECONDS,
    }
    tag = live_tag(request, open_data.active_runs_tag)
    context.update(
        # Read only when the page's fragment of them is not kept (a callable: the template
        # calls it where it lists them).
        recent_runs=partial(selectors.recent_runs_kept, 15, live_tag=tag),
        recent_runs_key=f"{kept_as}:{tag}",
    )
    return render(request, "leaderboard/home.html", context)


@require_GET
@cached_page
def parameters(request: HttpRequest) -> HttpResponse:
    """Score vs parameters: the rankings' second view, with the same filters and search."""
    suite = request.GET.get("suite") or selectors.default_suite()
    try:
        query = ranking_params.parse_query(request.GET, suite=suite)
    except ValueError as error:
        return render(
            request,
            "leaderboard/error.html",
            {"title": "This plot cannot be shown", "message": str(error)},
            status=400,
        )
    points = rankings.size_points(query)
    figure = size_figure(points) if points else None
    context = {
        "query": query,
        "points": points,
        "suite_label": SUITE_DESCRIPTIONS.get(suite, suite),
        "rankings_url": ranking_params.query_url(query, page=1),
        "figure": figure,
        "plotly_bundle": plotly_bundle(figure) if figure else None,
    }
    return render(request, "leaderboard/parameters.html", context)
