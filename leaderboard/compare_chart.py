"""Compare's chart: the first model minus each other one, per benchmark, in points, with the
95 % interval of each difference (paired where both runs kept per-item outputs). An
interval that crosses zero cannot tell the two models apart on that benchmark."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from evaluations.selectors.comparison import PAIRED, ComparisonTable

ZERO_COLOUR = "#98a2b3"


def differences_figure(table: ComparisonTable) -> dict[str, Any] | None:
    """One trace per other model; None when no difference could be computed."""
    if len(table.columns) < 2:
        return None
    first = table.columns[0].hub_id
    figure = go.Figure()
    for index, column in enumerate(table.columns[1:]):
        rows = [(row.benchmark.display_name, row.differences[index]) for row in table.rows]
        shown = [(name, d) for name, d in rows if d.value is not None]
        if not shown:
            continue
        figure.add_trace(
            go.Scatter(
                x=[round(100 * d.value, 2) for _, d in shown if d.value is not None],
                y=[name for name, _ in shown],
                error_x={
                    "type": "data",
                    "array": [round(100 * (d.margin or 0.0), 2) for _, d in shown],
                },
                mode="markers",
                name=f"{first} − {column.hub_id}",
                text=[_method(d.method, d.n_items) for _, d in shown],
                hovertemplate="%{y}: %{x:.1f} ± %{error_x.array:.1f} points (%{text})"
                "<extra>%{fullData.name}</extra>",
                marker={"size": 10},
            )
        )
    if not figure.data:
        return None
    figure.add_vline(x=0, line={"color": ZERO_COLOUR, "dash": "dash"})
    figure.update_layout(
        height=140 + 60 * len(table.rows),
        margin={"l": 120, "r": 20, "t": 30, "b": 50},
        xaxis_title="difference in points, ± 95 % interval",
        legend={"orientation": "h", "y": -0.25},
        template="plotly_white",
        hovermode="closest",
    )
    plotly_json: dict[str, Any] = figure.to_plotly_json()
    return plotly_json


def _method(method: str, n_items: int | None) -> str:
    if method == PAIRED:
        return f"paired over {n_items} items" if n_items else "paired"
    return "unpaired"
