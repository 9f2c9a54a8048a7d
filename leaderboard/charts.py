"""History charts: claims and measurements of one benchmark over time, as Plotly figures.

Pages render an empty container; the browser asks ``history.json`` for these figures and
draws them with the plotly.js served from our own static files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

from evaluations.catalogue import BENCHMARKS
from evaluations.models import Claim, FlagEvent, Score

MEASURED_COLOURS = ("#3451b2", "#0e9384", "#7a5af8", "#c4320a")  # one per setting (shots)
CLAIM_COLOUR = "#b42318"
# Plotly stretches a lone instant into sub-millisecond ticks and a lone value into a band of
# ±1 point, so noise would read as signal. Points closer in time than SHORT_SPAN get a week of
# date ticks around them; points that share one value get the whole 0–100 scale.
SHORT_SPAN = timedelta(days=1)
WINDOW = timedelta(days=7)
DAY_MS = 24 * 60 * 60 * 1000
FULL_SCALE = [0.0, 100.0]  # every benchmark's metric is a fraction, drawn in points


@dataclass(frozen=True)
class Point:
    """One marker: when, the score as a fraction, its standard error and its hover text."""

    at: datetime
    value: float
    stderr: float
    text: str


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
    measured = {shots: _measured(_of(scores, key, shots)) for shots in settings}
    for index, (shots, mine) in enumerate(measured.items()):
        figure.add_trace(
            go.Scatter(
                x=[p.at.isoformat() for p in mine],
                y=[100 * p.value for p in mine],
                error_y={"type": "data", "array": [100 * p.stderr for p in mine]},
                mode="lines+markers",
                name=f"measured, {shots}-shot",
                marker={"color": MEASURED_COLOURS[index % len(MEASURED_COLOURS)], "size": 9},
                text=[p.text for p in mine],
                hovertemplate="%{y:.1f} ± %{error_y.array:.1f}<br>%{text}<extra></extra>",
            )
        )
    mine_claims = _claimed([c for c in claims if c.benchmark == key])
    if mine_claims:
        figure.add_trace(
            go.Scatter(
                x=[p.at.isoformat() for p in mine_claims],
                y=[100 * p.value for p in mine_claims],
                mode="markers",
                name="claimed",
                marker={"color": CLAIM_COLOUR, "symbol": "diamond", "size": 11},
                text=[p.text for p in mine_claims],
                hovertemplate="claimed %{y:.1f}<br>%{text}<extra></extra>",
            )
        )
    mine_events = [e for e in events if e.flag.claim is not None and e.flag.claim.benchmark == key]
    for event in mine_events:
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
    points = [p for mine in measured.values() for p in mine] + mine_claims
    figure.update_layout(
        _axes(
            [p.at for p in points] + [e.created_at for e in mine_events], [p.value for p in points]
        )
    )
    plotly_json: dict[str, Any] = figure.to_plotly_json()
    return plotly_json


def _of(scores: list[Score], key: str, shots: int) -> list[Score]:
    return [s for s in scores if s.benchmark == key and s.shots == shots]


def _axes(times: list[datetime], values: list[float]) -> dict[str, Any]:
    """Fixed ranges for the axes Plotly's own would make unreadable (see SHORT_SPAN)."""
    axes: dict[str, Any] = {}
    if times and max(times) - min(times) < SHORT_SPAN:
        middle = min(times) + (max(times) - min(times)) / 2
        window = [(middle + sign * WINDOW / 2).isoformat() for sign in (-1, 1)]
        axes["xaxis"] = {"type": "date", "range": window, "dtick": DAY_MS, "tickformat": "%b %-d"}
    if len({round(100 * value, 2) for value in values}) <= 1:
        axes["yaxis"] = {"range": FULL_SCALE}
    return axes


def _measured(scores: list[Score]) -> list[Point]:
    """Scores in the order their runs finished. A score is recorded only when its run ends
    on a pinned commit, so every run here has both."""
    points = [
        Point(
            at=run.finished_at,
            value=score.value,
            stderr=score.stderr or 0,
            text=f"run #{score.run_id}, commit {run.revision.commit_sha[:10]}",
        )
        for score in scores
        if (run := score.run).finished_at is not None and run.revision is not None
    ]
    return sorted(points, key=lambda point: point.at)


def _claimed(claims: list[Claim]) -> list[Point]:
    """The claims that have a value to draw."""
    return [
        Point(at=claim.created_at, value=claim.value, stderr=0, text=_claim_label(claim))
        for claim in claims
        if claim.value is not None
    ]


def _claim_label(claim: Claim) -> str:
    setting = f"{claim.shots}-shot" if claim.shots is not None else "shots not stated"
    return f"{claim.get_source_display()}, {setting}" + (
        f", by {claim.reported_by}" if claim.reported_by else ""
    )
