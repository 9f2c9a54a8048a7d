"""The rankings table's rows, rendered in one tag.

A page shows up to 100 rows of a dozen cells; through the template engine that is thousands
of node renders, most of an uncached rankings page's time. The row's markup lives here
instead, built as plain strings: every value from the database goes through ``_escape``
(the standard library's ``html.escape``, which is what Django's ``escape`` calls, without
the lazy-string checks that made ``format_html`` most of a row's cost). Numbers are
formatted here and need none.
"""

from __future__ import annotations

from html import escape as _escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from evaluations.catalogue import Benchmark
from evaluations.selectors.rankings import RankedRow
from leaderboard.templatetags.intervals import interval_bar
from leaderboard.templatetags.scores import (
    NO_SCORE,
    Z_95,
    fixed,
    model_url,
    percent,
    row_reverse,
    score_cell,
    short_sha,
)

register = template.Library()
SHARED_RANK = "Shares its rank: its 95 % interval overlaps that of the first model with this rank"
NO_CLAIMS = mark_safe(  # noqa: S308 - a constant
    '<span class="muted" title="No scores have been claimed for this model">no claims</span>'
)


@register.simple_tag
def ranking_row(row: RankedRow, benchmarks: list[Benchmark]) -> SafeString:
    url = _escape(model_url(row.repo.hub_id))
    cells = [_rank(row), _model(row, url), _parameters(row), _average(row)]
    cells += [
        f'<td class="num">{score_cell(row.scores.get(b.key))}{_bar(row, b.key)}</td>'
        for b in benchmarks
    ]
    cells.append(_verdict(row, url))
    hub_id = _escape(row.repo.hub_id)
    cells.append(
        '<td class="tick"><input type="checkbox" form="compare-form" name="model" '
        f'value="{hub_id}" aria-label="Compare {hub_id}"></td>'
    )
    return mark_safe(f"<tr>{''.join(cells)}</tr>")  # noqa: S308 - every part escaped


def _rank(row: RankedRow) -> str:
    if row.tied:
        return f'<td class="rank"><span title="{_escape(SHARED_RANK)}">={row.rank}</span></td>'
    return f'<td class="rank">{row.rank}</td>'


def _model(row: RankedRow, url: str) -> str:
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
    run = row.run
    commit = run.revision.commit_sha if run.revision else ""
    return (
        f'<td><a href="{url}">{_escape(row.repo.hub_id)}</a>{badge}<br><small class="muted" '
        'title="the commit and precision of the run ranked here">'
        f'<a href="{_escape(row_reverse("run-detail", run.id))}"><code>'
        f"{_escape(short_sha(commit))}</code></a> · {_escape(run.submission.precision)}"
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
        f"{interval_bar(row.average, row.average_stderr, top=100.0)}</td>"
    )


def _bar(row: RankedRow, key: str) -> str:
    score = row.scores.get(key)
    return interval_bar(score.value, score.stderr) if score else ""


def _verdict(row: RankedRow, url: str) -> str:
    if not row.verdict:
        return f'<td class="claims">{NO_CLAIMS}</td>'
    severity = (
        f' <span class="badge severity-{_escape(row.severity)}">{_escape(row.severity)}</span>'
        if row.severity
        else ""
    )
    return (
        f'<td class="claims"><a class="badge verdict-{_escape(slugify(row.verdict))}" '
        f'href="{url}#evidence">'
        f"{_escape(row.verdict)}</a>{severity}</td>"
    )
