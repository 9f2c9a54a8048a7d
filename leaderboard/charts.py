"""History charts: claims and measurements over time, one panel per benchmark, as one Plotly
figure of small multiples with shared axes.

Pages render an empty container; the browser asks ``history.json`` for these figures and
draws them with the plotly.js served from our own static files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from evaluations.catalogue import BENCHMARKS
from evaluations.models import Claim, FlagEvent, Score
from leaderboard.templatetags.scores import Z_95

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


def history_figure(
    scores: list[Score], claims: list[Claim], events: list[FlagEvent], *, columns: int = 2
) -> dict[str, Any]:
    """One figure of small multiples, a panel per benchmark, all on the same time axis and the
    same 0–100 scale, so eight benchmarks read at a glance instead of as a page of charts."""
    keys = [
        key
        for key in BENCHMARKS
        if any(s.benchmark == key for s in scores) or any(c.benchmark == key for c in claims)
    ]
    if not keys:
        return {"benchmarks": [], "figure": None}
    columns = min(columns, len(keys))
    rows = -(-len(keys) // columns)
    figure = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[BENCHMARKS[key].display_name for key in keys],
        shared_xaxes="all",
        shared_yaxes="all",
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.04,
    )
    legend: set[str] = set()
    # One colour per setting across the panels, as the one legend entry names it.
    colours = {
        shots: MEASURED_COLOURS[index % len(MEASURED_COLOURS)]
        for index, shots in enumerate(sorted({s.shots for s in scores}))
    }
    points: list[Point] = []
    times: list[datetime] = []
    panels = []
    for index, key in enumerate(keys):
        row, col = divmod(index, columns)
        drawn = _panel(
            figure,
            key,
            scores,
            claims,
            events,
            row=row + 1,
            col=col + 1,
            legend=legend,
            colours=colours,
        )
        points += drawn[0]
        times += drawn[1]
        suffix = "" if index == 0 else str(index + 1)
        panels.append({"benchmark": key, "xaxis": f"x{suffix}", "yaxis": f"y{suffix}"})
    figure.update_layout(
        height=90 + 230 * rows,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "yref": "container"},
        template="plotly_white",
    )
    figure.update_yaxes(title_text="points", col=1)
    axes = _axes(times + [p.at for p in points], [p.value for p in points])
    if "xaxis" in axes:
        figure.update_xaxes(axes["xaxis"])
    if "yaxis" in axes:
        figure.update_yaxes(axes["yaxis"])
    plotly_json: dict[str, Any] = figure.to_plotly_json()
    return {"benchmarks": panels, "figure": plotly_json}


def _panel(
    figure: go.Figure,
    key: str,
    scores: list[Score],
    claims: list[Claim],
    events: list[FlagEvent],
    *,
    row: int,
    col: int,
    legend: set[str],
    colours: dict[int, str],
) -> tuple[list[Point], list[datetime]]:
    """One benchmark's measurements (with their 95 % intervals), claims and flag events in
    the panel at ``row``, ``col``; each trace name enters the legend once."""
    settings = sorted({s.shots for s in scores if s.benchmark == key})
    drawn: list[Point] = []
    for shots in settings:
        mine = _measured(_of(scores, key, shots))
        drawn += mine
        name = f"measured, {shots}-shot"
        figure.add_trace(
            go.Scatter(
                x=[p.at.isoformat() for p in mine],
                y=[100 * p.value for p in mine],
                error_y={"type": "data", "array": [100 * Z_95 * p.stderr for p in mine]},
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=_first(name, legend),
                marker={"color": colours[shots], "size": 8},
                text=[p.text for p in mine],
                hovertemplate="%{y:.1f} ± %{error_y.array:.1f} (95 %)<br>%{text}<extra></extra>",
            ),
            row=row,
            col=col,
        )
    mine_claims = _claimed([c for c in claims if c.benchmark == key])
    if mine_claims:
        figure.add_trace(
            go.Scatter(
                x=[p.at.isoformat() for p in mine_claims],
                y=[100 * p.value for p in mine_claims],
                mode="markers",
                name="claimed",
                legendgroup="claimed",
                showlegend=_first("claimed", legend),
                marker={"color": CLAIM_COLOUR, "symbol": "diamond", "size": 10},
                text=[p.text for p in mine_claims],
                hovertemplate="claimed %{y:.1f}<br>%{text}<extra></extra>",
            ),
            row=row,
            col=col,
        )
    mine_events = [e for e in events if e.flag.claim is not None and e.flag.claim.benchmark == key]
    for event in mine_events:
        figure.add_vline(
            x=event.created_at.isoformat(),
            line_dash="dot",
            line_color=CLAIM_COLOUR if event.is_open else "#1f7a4d",
            annotation_text=f"flag {event.state}",
            annotation_position="top left",
            row=row,
            col=col,
        )
    return drawn + mine_claims, [e.created_at for e in mine_events]


def _first(name: str, seen: set[str]) -> bool:
    if name in seen:
        return False
    seen.add(name)
    return True


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
    elif values:
        # Plotly's own y range fails across panels that match one axis (it draws −1…4), so the
        # shared range is set here: every value with a margin, within 0–100.
        low, high = 100 * min(values), 100 * max(values)
        margin = max(5.0, 0.15 * (high - low))  # room for the error bars
        low, high = low - margin, high + margin
        axes["yaxis"] = {"range": [max(0.0, round(low, 1)), min(100.0, round(high, 1))]}
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
