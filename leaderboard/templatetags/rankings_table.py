"""The rankings table's rows, its sortable column heads and the home page's recent runs,
each rendered in one tag.

A page shows up to 100 rows of a dozen cells; through the template engine that is thousands
of node renders, most of an uncached rankings page's time. The row's markup lives here
instead, built as plain strings: every value from the database goes through ``_escape``
(the standard library's ``html.escape``, which is what Django's ``escape`` calls, without
the lazy-string checks that made ``format_html`` most of a row's cost). Numbers are
formatted here and need none. A row's cells but its rank are rendered once, when its entry
is written, and kept (``leaderboard.row_markup``); a page joins them. The column heads (a
dozen) and the recent runs (fifteen rows) were an ``{% include %}`` each, which cost more
than the rest of the page around the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from html import escape as _escape

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from evaluations.models import EvaluationRun, RunState
from evaluations.selectors.rankings import RankedRow, RankingPage, Slot
from leaderboard.ranking_params import Column
from leaderboard.templatetags.intervals import interval_bar_html
from leaderboard.templatetags.scores import (
    NO_SCORE,
    Z_95,
    fixed,
    model_url,
    percent,
    row_reverse,
    score_cell_html,
    short_sha,
)

register = template.Library()
SHARED_RANK = "Shares its rank: its 95 % interval overlaps that of the first model with this rank"
NO_CLAIMS = mark_safe(  # noqa: S308 - a constant
    '<span class="muted" title="No scores have been claimed for this model">no claims</span>'
)


@register.simple_tag
def ranking_rows(page: RankingPage, stored: dict[int, str] | None = None) -> SafeString:
    """The table's body: every row in one tag (a tag per row cost a template node each). A
    row's cells come from ``stored`` (its entry's cells, rendered when the entry was written:
    ``leaderboard.row_markup``) after the rank of the page's slot; the rank, which depends on
    the page's sort and filters, is always made here. When a row's cells are not kept, the
    page's rows are read and each is rendered here unless kept."""
    stored = stored or {}
    if all(slot.entry_id in stored for slot in page.slots):
        lines = [f"<tr>{_rank(slot)}{stored[slot.entry_id]}</tr>" for slot in page.slots]
    else:
        keys = [benchmark.key for benchmark in page.benchmarks]
        lines = [
            f"<tr>{_rank(row)}{stored.get(row.entry_id) or row_html(row, keys)}</tr>"
            for row in page.rows
        ]
    return mark_safe("\n".join(lines))  # noqa: S308 - see row_parts


NO_SCORE_CELL = f'<td class="num">{NO_SCORE}</td>'


def row_html(row: RankedRow, keys: list[str]) -> str:
    """The row's cells but its rank, a score cell for each of ``keys``."""
    return "".join(row_parts(row, keys))


def row_parts(row: RankedRow, keys: Iterable[str]) -> list[str]:
    """A row's cells but its rank (every part escaped or made of numbers here), in order: the
    model, its size and its average; a score cell for each benchmark of ``keys``; the verdict
    and the compare tick."""
    url = _escape(model_url(row.hub_id))
    hub_id = _escape(row.hub_id)
    scores = row.scores
    tick = (
        '<td class="tick"><input type="checkbox" form="compare-form" name="model" '
        f'value="{hub_id}" aria-label="Compare {hub_id}"></td>'
    )
    return [
        _model(row, url, hub_id) + _parameters(row) + _average(row),
        *(
            f'<td class="num">{score_cell_html(scores[key], bar=True)}</td>'
            if key in scores
            else NO_SCORE_CELL
            for key in keys
        ),
        _verdict(row, url) + tick,
    ]


def _rank(row: RankedRow | Slot) -> str:
    if row.tied:
        return f'<td class="rank"><span title="{_escape(SHARED_RANK)}">={row.rank}</span></td>'
    return f'<td class="rank">{row.rank}</td>'


def _model(row: RankedRow, url: str, hub_id: str) -> str:
    badge = (
        f' <a class="badge badge-flagged" href="{url}#evidence" title="A claimed score is '
        'contradicted by our measurement">flagged claim</a>'
        if row.flagged
        else ""
    )
    if row.provenance_flagged:
        badge += (
            f' <a class="badge badge-provenance" href="{url}#provenance" title="A moderator '
            'is asked to look at where these weights come from">provenance flag</a>'
        )
    return (
        f'<td><a href="{url}">{hub_id}</a>{badge}<br><small class="muted" '
        'title="the commit and precision of the run ranked here">'
        f'<a href="{_escape(row_reverse("run-detail", row.run_id))}"><code>'
        f"{_escape(short_sha(row.commit_sha))}</code></a> · {_escape(row.precision)}"
        "</small></td>"
    )


def _parameters(row: RankedRow) -> str:
    if not row.parameter_count:
        return f'<td class="num">{NO_SCORE}</td>'
    return (
        f'<td class="num"><span title="{row.parameter_count} parameters">'
        f"{_escape(row.parameters_label)}</span></td>"
    )


def _average(row: RankedRow) -> str:
    low, high = row.interval
    title = (
        f"raw average {percent(row.raw_average, 2)} %; standard error "
        f"{fixed(row.average_stderr, 1)} (95 % interval {fixed(low, 1)}–{fixed(high, 1)})"
    )
    return (
        f'<td class="num"><strong class="average" title="{_escape(title)}">'
        f'{fixed(row.average, 1)}</strong> <small class="muted">± '
        # as every "±": the half-width of the 95 % interval
        f"{fixed(Z_95 * row.average_stderr, 1)}</small>"
        f"{interval_bar_html(row.average, row.average_stderr, top=100.0)}</td>"
    )


@cache
def _verdict_class(verdict: str) -> str:
    return _escape(slugify(verdict))  # a handful of verdicts: once each per process


def _verdict(row: RankedRow, url: str) -> str:
    if not row.verdict:
        return f'<td class="claims">{NO_CLAIMS}</td>'
    severity = (
        f' <span class="badge severity-{_escape(row.severity)}">{_escape(row.severity)}</span>'
        if row.severity
        else ""
    )
    return (
        f'<td class="claims"><a class="badge verdict-{_verdict_class(row.verdict)}" '
        f'href="{url}#evidence">'
        f"{_escape(row.verdict)}</a>{severity}</td>"
    )


INTERVAL_NOTE = (
    '<br><small>{shots}<span title="± is the half-width of the 95 % interval '
    '(1.96 standard errors)">± 95 %</span></small>'
)


@register.simple_tag
def sort_header(
    column: Column, descending: bool, css: str = "", title: str = "", interval: bool = False
) -> SafeString:
    """A sortable column head: a link that sorts on it (the active one flips the order); a
    benchmark's (and, with ``interval``, the average's) says what its ± means."""
    attributes = f' class="{_escape(css)}"' if css else ""
    attributes += f' title="{_escape(title)}"' if title else ""
    if column.active:
        attributes += f' aria-sort="{"descending" if descending else "ascending"}"'
    note = ""
    if column.benchmark or interval:
        shots = f"{column.benchmark.shots}-shot · " if column.benchmark else ""
        note = INTERVAL_NOTE.format(shots=shots)
    return mark_safe(  # noqa: S308 - every part escaped or a constant
        f'<th scope="col"{attributes}><a class="sort{" active" if column.active else ""}" '
        f'href="{_escape(column.url)}">{_escape(column.label)} {column.arrow}</a>{note}</th>'
    )


@register.simple_tag
def recent_run_row(run: EvaluationRun) -> SafeString:
    """One row of the home page's recent runs: the run, its model, commit (or the ref asked
    for, until a worker pins it), suite, state and age."""
    submission = run.submission
    hub_id = submission.repo.hub_id
    commit = run.revision.commit_sha if run.revision else ""
    pinned = _escape(short_sha(commit)) if run.revision else _escape(submission.ref)
    progress = (
        f" {run.progress_percent}%" if run.state == RunState.RUNNING and run.progress_total else ""
    )
    return mark_safe(  # noqa: S308 - every part escaped
        f'<tr><td><a href="{_escape(row_reverse("run-detail", run.id))}">#{run.id}</a></td>'
        f'<td><a href="{_escape(model_url(hub_id))}">{_escape(hub_id)}</a></td>'
        f"<td><code>{pinned}</code></td><td>{_escape(submission.suite)}</td>"
        f'<td><span class="state state-{_escape(run.shown_state)}">'
        f"{_escape(str(run.state_label))}</span>{progress}</td>"
        f"<td>{_escape(str(naturaltime(run.created_at)))}</td></tr>"
    )
