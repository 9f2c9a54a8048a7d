"""The rankings' second view: each model's average against its number of parameters, with
the 95 % interval of the average as error bars. A Plotly figure embedded in the page; a click
on a point opens the model (``static/leaderboard/scatter.js``)."""

from __future__ import annotations

from typing import Any

from evaluations.selectors.rankings import SizePoint
from evaluations.selectors.standings import Z_95
from leaderboard.templatetags.scores import model_url

WEBGL_FROM = 1000  # points; SVG slows down past a few thousand
POINT_COLOUR, FLAGGED_COLOUR = "#3056a6", "#b42318"


def size_figure(points: list[SizePoint]) -> dict[str, Any]:
    """The figure as Plotly's JSON, written out directly: building it through
    ``plotly.graph_objects`` validates every value and costs ten times more at 10,000 points."""
    kind = "scattergl" if len(points) > WEBGL_FROM else "scatter"
    data = [
        _points(kind, mine, flagged=flagged)
        for flagged in (False, True)
        if (mine := [point for point in points if point.flagged == flagged])
    ]
    layout = {
        "height": 480,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 50},
        "xaxis": {"title": {"text": "parameters (billions, log scale)"}, "type": "log"},
        "yaxis": {"title": {"text": "average above the random baseline (0–100), ± 95 % interval"}},
        "legend": {"orientation": "h", "y": -0.15},
        "template": {"layout": {"plot_bgcolor": "white", "paper_bgcolor": "white"}},
        "hovermode": "closest",
    }
    return {"data": data, "layout": layout}


def _points(kind: str, points: list[SizePoint], *, flagged: bool) -> dict[str, Any]:
    name = "flagged: a claim contradicted" if flagged else "not flagged"
    # One reverse() for the model pages' prefix, not one per point (10,000 cost 0.1 s).
    prefix = model_url("owner/name").removesuffix("owner/name/")
    return {
        "type": kind,
        "x": [round(point.parameter_count / 1e9, 4) for point in points],
        "y": [round(point.average, 2) for point in points],
        "error_y": {
            "type": "data",
            "array": [round(Z_95 * point.average_stderr, 2) for point in points],
        },
        "mode": "markers",
        "name": name,
        "marker": {
            "color": FLAGGED_COLOUR if flagged else POINT_COLOUR,
            "symbol": "x" if flagged else "circle",
            "size": 9,
        },
        "customdata": [f"{prefix}{point.hub_id}/" for point in points],
        "text": [point.hub_id for point in points],
        "hovertemplate": "<b>%{text}</b><br>%{x:.3g} B parameters, average %{y:.1f}<extra></extra>",
    }
