"""The rankings' second view: each model's average against its number of parameters, with
the 95 % interval of the average as error bars. A Plotly figure embedded in the page; a click
on a point opens the model (``static/leaderboard/scatter.js``)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from evaluations.selectors.rankings import SizePoint
from evaluations.selectors.standings import Z_95
from leaderboard.templatetags.scores import model_url

WEBGL_FROM = 1000  # points; SVG slows down past a few thousand
POINT_COLOUR, FLAGGED_COLOUR = "#3056a6", "#b42318"


def size_figure(points: list[SizePoint]) -> dict[str, Any]:
    figure = go.Figure()
    trace = go.Scattergl if len(points) > WEBGL_FROM else go.Scatter
    for flagged in (False, True):
        mine = [point for point in points if point.flagged == flagged]
        if mine:
            figure.add_trace(_points(trace, mine, flagged=flagged))
    figure.update_layout(
        height=480,
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        xaxis={"title": "parameters (billions, log scale)", "type": "log"},
        yaxis_title="average above the random baseline (0–100), ± 95 % interval",
        legend={"orientation": "h", "y": -0.15},
        template="plotly_white",
        hovermode="closest",
    )
    plotly_json: dict[str, Any] = figure.to_plotly_json()
    return plotly_json


def _points(
    trace: type[go.Scatter] | type[go.Scattergl], points: list[SizePoint], *, flagged: bool
) -> go.Scatter | go.Scattergl:
    name = "flagged: a claim contradicted" if flagged else "not flagged"
    return trace(
        x=[round(point.parameter_count / 1e9, 4) for point in points],
        y=[round(point.average, 2) for point in points],
        error_y={
            "type": "data",
            "array": [round(Z_95 * point.average_stderr, 2) for point in points],
        },
        mode="markers",
        name=name,
        marker={
            "color": FLAGGED_COLOUR if flagged else POINT_COLOUR,
            "symbol": "x" if flagged else "circle",
            "size": 9,
        },
        customdata=[model_url(point.hub_id) for point in points],
        text=[point.hub_id for point in points],
        hovertemplate="<b>%{text}</b><br>%{x:.3g} B parameters, average %{y:.1f}<extra></extra>",
    )
