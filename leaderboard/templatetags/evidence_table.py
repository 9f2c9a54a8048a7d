"""``{% evidence_rows evidence refusal correctable %}``: the rows of a model page's "Claimed vs
measured" table, two per current claim (the numbers and the verdict, then why).

Built as strings, as the rankings' rows are: each claim's row resolved some forty template
variables and filters, most of the table's cost on a model page. Every text from the
database goes through ``conditional_escape``, as ``{{ }}`` would; numbers are formatted here.
The rarer parts (a hub result's origin, a flag's review, the forms to correct a claim) stay
partials, rendered with the row's claim and review in the context, as ``{% include %}`` did.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template import Context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from evaluations.evidence.matching import ClaimEvidence
from evaluations.evidence.verdicts import Verdict
from leaderboard.templatetags.scores import interval95, percent, pvalue, row_reverse, zscore

register = template.Library()

HUB_RESULT = "leaderboard/partials/hub_result.html"
FLAG_REVIEW = "leaderboard/partials/flag_review.html"
CLAIM_ACTIONS = "leaderboard/partials/claim_actions.html"
NONE = "–"


@register.simple_tag(takes_context=True)
def evidence_rows(
    context: Context, evidence: list[ClaimEvidence], refusal: Any, correctable: Any
) -> SafeString:
    rows = [_rows_of(context, row, refusal, correctable) for row in evidence]
    return mark_safe("\n".join(rows))  # noqa: S308 - every text escaped in _rows_of


def _rows_of(context: Context, row: ClaimEvidence, refusal: Any, correctable: Any) -> str:
    claim, judgement, score = row.claim, row.judgement, row.score
    verdict, rule_verdict = row.verdict, row.rule_verdict
    with context.push(c=claim, j=judgement, s=score, row=row):
        hub_result = _partial(context, HUB_RESULT) if claim.from_hub_results else ""
        review = _partial(context, FLAG_REVIEW, review=row.review) if row.review else ""
        actions = _partial(context, CLAIM_ACTIONS) if claim.id in correctable else ""
    numbers = [NONE] * 4  # gap, z, p (Holm) and tolerance, once the claim is judged
    if judgement:
        numbers = [percent(judgement.gap), zscore(judgement.z), _text(pvalue(judgement.p_holm))]
        numbers.append(percent(judgement.tolerance))
    cells = [_text(claim.label), _setting(claim), f"{_claimed(claim)} {hub_result}"]
    cells += [_measured(score), *numbers, f" {_verdict(row, verdict, rule_verdict)}"]
    return (
        f'<tr id="claim-{claim.id}" data-claim="{claim.id}" data-verdict="{_text(verdict)}">\n'
        + "\n".join(f"<td>{cell}</td>" for cell in cells)
        + '\n</tr>\n<tr class="explanation-row">\n<td colspan="9" class="explanation">\n'
        f'<span class="explanation-text">{_explanation(row, rule_verdict, refusal)}</span>\n'
        f"{review} {actions}\n</td>\n</tr>"
    )


def _partial(context: Context, name: str, **values: Any) -> str:
    assert context.template is not None  # a tag renders inside its page's template
    with context.push(**values):
        return str(context.template.engine.get_template(name).render(context))


def _text(value: Any) -> str:
    return str(conditional_escape(value))


def _setting(claim: Any) -> str:
    shots = f"{claim.shots}-shot" if claim.shots is not None else "shots?"
    chat = ", chat template" if claim.chat_template else ""
    return f"{shots}{chat}{', CoT' if claim.chain_of_thought else ''}"


def _claimed(claim: Any) -> str:
    value = (
        f"<strong>{percent(claim.value)}</strong>"
        if claim.value is not None
        else _text(claim.typed_value)
    )
    source = _text(claim.get_source_display())
    if claim.source_url:
        source = (
            f'<a href="{_text(claim.source_url)}" rel="nofollow noopener" '
            f'target="_blank">{source}</a>'
        )
    else:
        source = f" {source}"
    if claim.reported_by:
        source += f", by {_text(claim.reported_by)}"
    if claim.inherited_from:
        source += f"; inherited from {_text(claim.inherited_from)}"
    return f'{value} <br><small class="muted">{source}</small>'


def _measured(score: Any) -> str:
    if not score:
        return NONE
    link = f'<a href="{row_reverse("run-detail", score.run_id)}">{percent(score.value)}</a>'
    if score.stderr is None:
        return link
    return (
        f'{link} <small title="standard error {percent(score.stderr, 2)}">'
        f"± {percent(interval95(score.stderr))}</small>"
    )


def _verdict(row: ClaimEvidence, verdict: Verdict, rule_verdict: Verdict) -> str:
    html = _badge(verdict, title=True)
    if row.severity:
        html += f" {_severity(row.severity)}"
    if rule_verdict != verdict:
        severity = _severity(row.judgement.severity) if row.judgement else ""
        html += (
            f' <br><small class="muted">automatic check: {_badge(rule_verdict)} {severity}</small>'
        )
    decision = row.review.decision if row.review else None
    if row.review and decision:
        stale = row.review.stale
        state = _text(decision.state)
        said = "author asked" if decision.state == "author-asked" else f"{state} by a moderator"
        html += (
            f' <br><a class="badge decision-{state}{" decision-stale" if stale else ""}" '
            f'href="{row_reverse("flag-detail", row.review.flag_id)}">{said}'
            f"{', before new evidence' if stale else ''}</a>"
        )
    return html


def _badge(verdict: Verdict, *, title: bool = False) -> str:
    titled = f' title="{_text(verdict.label)}"' if title else ""
    return f'<span class="badge verdict-{_text(verdict.css)}"{titled}>{_text(verdict)}</span>'


def _severity(severity: str | None) -> str:
    if not severity:
        return ""
    return f'<span class="badge severity-{_text(severity)}">{_text(severity)}</span>'


def _explanation(row: ClaimEvidence, rule_verdict: Verdict, refusal: Any) -> str:
    if refusal and rule_verdict == "pending":
        return (
            "Pending: not measured, because the repo was refused in "
            f'<a href="{row_reverse("run-detail", refusal.id)}">run #{refusal.id}</a>: '
            f"{_text(refusal.error_reason)}"
        )
    queued = " A run in the claimed setting is queued or will be." if row.needs_run else ""
    return f"{_text(row.sentence)}{queued}"
