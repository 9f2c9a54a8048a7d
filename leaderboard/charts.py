"""History charts: claims and measurements of one benchmark over time, as Plotly figures.

Pages render an empty container; the browser asks ``history.json`` for these figures and
draws them with the plotly.js served from our own static files.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from evaluations.catalogue import BENCHMARKS
from evaluations.models import Claim, FlagEvent, Score

MEASURED_COLOURS = ("#3451b2", "#0e9384", "#7a5af8", "#c4320a")  # one per setting (shots)
CLAIM_COLOUR = "#b42318"


def benchmark_figures(
    scores: list[Score], claims: list[Claim], events: list[FlagEvent]
) -> list[dict[str, Any]]:
    keys = [
        key
        for key in BENCHMARKS
        if any(s.benchmark == key for s in scores) or any(c.benchmark == key for c in claims)
    ]
    return [
        {
            "benchmark": key,
            "title": BENCHMARKS[key].display_name,
            "figure": _figure(key, scores, claims, events),
        }
        for key in keys
    ]


def _figure(
    key: str, scores: list[Score], claims: list[Claim], events: list[FlagEvent]
) -> dict[str, Any]:
    figure = go.Figure()
    settings = sorted({s.shots for s in scores if s.benchmark == key})
    for index, shots in enumerate(settings):
        mine = sorted(
            (s for s in scores if s.benchmark == key and s.shots == shots),
            key=lambda s: s.run.finished_at,
        )
        figure.add_trace(
            go.Scatter(
                x=[s.run.finished_at.isoformat() for s in mine],
                y=[100 * s.value for s in mine],
                error_y={"type": "data", "array": [100 * (s.stderr or 0) for s in mine]},
                mode="lines+markers",
                name=f"measured, {shots}-shot",
                marker={"color": MEASURED_COLOURS[index % len(MEASURED_COLOURS)], "size": 9},
                text=[f"run #{s.run_id}, commit {s.run.revision.commit_sha[:10]}" for s in mine],
                hovertemplate="%{y:.1f} ± %{error_y.array:.1f}<br>%{text}<extra></extra>",
            )
        )
    mine_claims = [c for c in claims if c.benchmark == key and c.value is not None]
    if mine_claims:
        figure.add_trace(
            go.Scatter(
                x=[c.created_at.isoformat() for c in mine_claims],
                y=[100 * c.value for c in mine_claims],
                mode="markers",
                name="claimed",
                marker={"color": CLAIM_COLOUR, "symbol": "diamond", "size": 11},
                text=[_claim_label(c) for c in mine_claims],
                hovertemplate="claimed %{y:.1f}<br>%{text}<extra></extra>",
            )
        )
    for event in (e for e in events if e.flag.claim.benchmark == key):
        figure.add_vline(
            x=event.created_at.isoformat(),
            line_dash="dot",
            line_color=CLAIM_COLOUR if event.is_open else "#1f7a4d",
            annotation_text=f"flag {event.state}",
            annotation_position="top left",
        )
    figure.update_layout(
        height=320,
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        yaxis_title="score (points)",
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
    )
    return figure.to_plotly_json()


def _claim_label(claim: Claim) -> str:
    setting = f"{claim.shots}-shot" if claim.shots is not None else "shots not stated"
    return f"{claim.get_source_display()}, {setting}" + (
        f", by {claim.reported_by}" if claim.reported_by else ""
    )
