"""The rankings table's rows, rendered in one tag.

A page shows up to 100 rows of a dozen cells; through the template engine that is thousands
of node renders, most of an uncached rankings page's time. The row's markup lives here
instead, built with ``format_html`` so every value from the database is escaped as the
template would escape it.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from evaluations.catalogue import Benchmark
from evaluations.selectors.rankings import RankedRow
from leaderboard.templatetags.intervals import interval_bar
from leaderboard.templatetags.scores import (
    NO_SCORE,
    fixed,
    model_url,
    percent,
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
    url = model_url(row.repo.hub_id)
    cells = [_rank(row), _model(row, url), _parameters(row), _average(row)]
    cells += [
        format_html(
            '<td class="num">{}{}</td>', score_cell(row.scores.get(b.key)), _bar(row, b.key)
        )
        for b in benchmarks
    ]
    cells.append(_verdict(row, url))
    cells.append(
        format_html(
            '<td class="tick"><input type="checkbox" form="compare-form" name="model" value="{}" '
            'aria-label="Compare {}"></td>',
            row.repo.hub_id,
            row.repo.hub_id,
        )
    )
    return format_html("<tr>{}</tr>", mark_safe("".join(cells)))  # noqa: S308 - built escaped


def _rank(row: RankedRow) -> str:
    if row.tied:
        return format_html(
            '<td class="rank"><span title="{}">={}</span></td>', SHARED_RANK, row.rank
        )
    return format_html('<td class="rank">{}</td>', row.rank)


def _model(row: RankedRow, url: str) -> str:
    badge = (
        format_html(
            ' <a class="badge badge-flagged" href="{}#evidence" title="A claimed score is '
            'contradicted by our measurement">flagged claim</a>',
            url,
        )
        if row.flagged
        else ""
    )
    run = row.run
    commit = run.revision.commit_sha if run.revision else ""
    return format_html(
        '<td><a href="{}">{}</a>{}<br><small class="muted" title="the commit and precision of '
        'the run ranked here"><a href="{}"><code>{}</code></a> · {}</small></td>',
        url,
        row.repo.hub_id,
        badge,
        reverse("run-detail", args=[run.id]),
        short_sha(commit),
        run.submission.precision,
    )


def _parameters(row: RankedRow) -> str:
    if not row.parameter_count:
        return format_html('<td class="num">{}</td>', NO_SCORE)
    return format_html(
        '<td class="num"><span title="{} parameters">{}</span></td>',
        row.parameter_count,
        row.parameters_label,
    )


def _average(row: RankedRow) -> str:
    low, high = row.interval
    title = (
        f"raw average {percent(row.raw_average, 2)} %; standard error "
        f"± {fixed(row.average_stderr, 1)} (95 % interval {fixed(low, 1)}–{fixed(high, 1)})"
    )
    return format_html(
        '<td class="num"><strong class="average" title="{}">{}</strong> '
        '<small class="muted">± {}</small>{}</td>',
        title,
        fixed(row.average, 1),
        fixed(row.average_stderr, 1),
        interval_bar(row.average, row.average_stderr, top=100.0),
    )


def _bar(row: RankedRow, key: str) -> str:
    score = row.scores.get(key)
    return interval_bar(score.value, score.stderr) if score else ""


def _verdict(row: RankedRow, url: str) -> str:
    if not row.verdict:
        return format_html("<td>{}</td>", NO_CLAIMS)
    severity = (
        format_html(' <span class="badge severity-{}">{}</span>', row.severity, row.severity)
        if row.severity
        else ""
    )
    return format_html(
        '<td><a class="badge verdict-{}" href="{}#evidence">{}</a>{}</td>',
        slugify(row.verdict),
        url,
        row.verdict,
        severity,
    )
