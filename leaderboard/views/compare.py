"""Compare two to five models, and claimed vs measured on one benchmark (a Plotly scatter).

Both pages are plain HTML tables first; the scatter's figure rides along as JSON in the page
(``json_script``) and ``static/leaderboard/scatter.js`` draws it, so nothing but the chart
needs JavaScript. The figure is embedded rather than fetched from a JSON view: it is built
from the same three queries as the table beside it, so a second request would only repeat
them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from evaluations import selectors
from evaluations.catalogue import BENCHMARKS, SUITE_DESCRIPTIONS, SUITES
from evaluations.models import ModelRepo
from evaluations.selectors import comparison
from evaluations.selectors.comparison import ComparisonError, ScatterPoint
from leaderboard.compare_chart import differences_figure
from leaderboard.page_cache import cached_page
from leaderboard.templatetags.scores import interval95, model_url

FLAGGED_COLOUR = "#b42318"
POINT_COLOUR = "#3451b2"
DIAGONAL_COLOUR = "#98a2b3"
MODEL_SUGGESTIONS = 200
WEBGL_FROM = 1000  # points; SVG markers slow the page down past a few thousand
# The basic bundle draws SVG scatters; only WebGL traces (``scattergl``) need the full one.
PLOTLY_BASIC = "vendor/plotly-basic/plotly-basic.min.js"
PLOTLY_FULL = "plotly/plotly.min.js"


def _error(request: HttpRequest, title: str, error: ComparisonError) -> HttpResponse:
    """A 400 page that says what was wrong and offers the same page's empty form again."""
    context = {
        "title": title,
        "message": str(error),
        "retry_url": request.path,
        "retry_label": "Start again with other choices",
    }
    return render(request, "leaderboard/error.html", context, status=400)


@require_GET
@cached_page
def compare(request: HttpRequest) -> HttpResponse:
    raw = request.GET.getlist("models") + request.GET.getlist("model")
    suite = request.GET.get("suite") or selectors.default_suite()
    # Each model once, as the table shows them: the raw list would fill the inputs with the
    # repeats and push later models out, so a resubmitted form would drop them.
    named = list(
        dict.fromkeys(part.strip() for value in raw for part in value.split(",") if part.strip())
    )
    context: dict[str, Any] = {
        "suite": suite,
        "suites": [(key, SUITE_DESCRIPTIONS.get(key, key)) for key in SUITES],
        "inputs": (named + [""] * comparison.MAX_MODELS)[: comparison.MAX_MODELS],
        "suggestions": ModelRepo.objects.resolved().values_list("hub_id", flat=True)[
            :MODEL_SUGGESTIONS
        ],
        "table": None,
    }
    if not named:  # the empty form: nothing asked yet
        return render(request, "leaderboard/compare.html", context)
    try:
        context["table"] = comparison.compare(comparison.parse_model_ids(raw), suite)
    except ComparisonError as error:
        return _error(request, "These models cannot be compared", error)
    context["z_95"] = comparison.Z_95
    context["figure"] = differences_figure(context["table"])
    context["plotly_bundle"] = PLOTLY_BASIC
    return render(request, "leaderboard/compare.html", context)


def _page_number(text: str) -> int:
    if not text:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise ComparisonError(f"page must be a whole number from 1 or more, not “{text[:40]}”.")
    return int(text)


@require_GET
@cached_page
def scatter(request: HttpRequest) -> HttpResponse:
    key = request.GET.get("benchmark") or comparison.default_scatter_benchmark()
    try:
        page = _page_number(request.GET.get("page", "").strip())
        result = comparison.scatter(key)
    except ComparisonError as error:
        return _error(request, "This chart cannot be shown", error)
    rows = comparison.scatter_rows(result.points, page)
    figure = scatter_figure(result.points, result.benchmark.display_name) if result.points else None
    context = {
        "scatter": result,
        "rows": rows,
        "pages": _page_links(result.benchmark.key, rows),
        "benchmarks": [(b.key, b.display_name) for b in BENCHMARKS.values()],
        "figure": figure,
        "plotly_bundle": plotly_bundle(figure) if figure else None,
    }
    return render(request, "leaderboard/scatter.html", context)


def plotly_bundle(figure: dict[str, Any]) -> str:
    """The smallest plotly.js bundle that draws every trace of ``figure``."""
    webgl = any(trace.get("type", "").endswith("gl") for trace in figure["data"])
    return PLOTLY_FULL if webgl else PLOTLY_BASIC


def _page_links(benchmark: str, rows: comparison.ScatterRows) -> dict[str, str]:
    def url(page: int) -> str:
        return "?" + urlencode({"benchmark": benchmark, **({"page": page} if page > 1 else {})})

    links: dict[str, str] = {}
    if rows.page > 1:
        links |= {"first": url(1), "previous": url(rows.page - 1)}
    if rows.page < rows.num_pages:
        links |= {"next": url(rows.page + 1), "last": url(rows.num_pages)}
    return links


def scatter_figure(points: list[ScatterPoint], title: str) -> dict[str, Any]:
    """Claimed (x) vs measured (y) in points, the diagonal y = x, flagged claims in red.

    Every point is drawn, with WebGL once there are many (SVG slows past a few thousand),
    and each carries only what its hover and click need: coordinates to 0.01 point, the hub
    id and, in ``customdata``, the model page's URL (scatter.js opens it on click). The
    sentences explaining each verdict stay in the table.
    """
    figure = go.Figure()
    figure.add_trace(_diagonal(points))
    trace = go.Scattergl if len(points) > WEBGL_FROM else go.Scatter
    for flagged in (False, True):
        mine = [point for point in points if point.flagged == flagged]
        if mine:
            figure.add_trace(_points(trace, mine, flagged=flagged))
    figure.update_layout(
        height=480,
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        xaxis_title=f"claimed {title} (points)",
        yaxis_title=f"measured {title} (points)",
        legend={"orientation": "h", "y": -0.15},
        template="plotly_white",
        hovermode="closest",
    )
    plotly_json: dict[str, Any] = figure.to_plotly_json()
    return plotly_json


def _diagonal(points: list[ScatterPoint]) -> go.Scatter:
    values = [100 * v for point in points for v in (point.claimed, point.measured)]
    low, high = max(0.0, min(values) - 5), min(100.0, max(values) + 5)
    return go.Scatter(
        x=[low, high],
        y=[low, high],
        mode="lines",
        name="claimed = measured",
        line={"color": DIAGONAL_COLOUR, "dash": "dash"},
        hoverinfo="skip",
    )


def _in_points(fraction: float | None) -> float:
    return round(100 * (fraction or 0.0), 2)


def _points(
    trace: type[go.Scatter] | type[go.Scattergl], points: list[ScatterPoint], *, flagged: bool
) -> go.Scatter | go.Scattergl:
    verdict = "flagged: claim contradicted" if flagged else "not flagged"
    return trace(
        x=[_in_points(point.claimed) for point in points],
        y=[_in_points(point.measured) for point in points],
        error_y={  # 95 % intervals, as every "±" on the site
            "type": "data",
            "array": [_in_points(interval95(point.measured_stderr)) for point in points],
        },
        mode="markers",
        name=verdict,
        marker={
            "color": FLAGGED_COLOUR if flagged else POINT_COLOUR,
            "size": 11 if flagged else 9,
            "symbol": "x" if flagged else "circle",
        },
        customdata=[model_url(point.hub_id) for point in points],
        text=[point.hub_id for point in points],
        hovertemplate=f"<b>%{{text}}</b><br>claimed %{{x:.1f}}, measured %{{y:.1f}}"
        f"<br>{verdict}<extra></extra>",
    )
