"""CSV downloads of the rankings and of one model's evidence (served under /api/v1/).

Claim labels, values as typed and explanations come from users: a cell that a spreadsheet
would read as a formula (= + - @, or a leading tab or carriage return) is prefixed with a
single quote. Numbers stay numbers: only text is guarded.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

from evaluations.catalogue import suite_benchmarks
from evaluations.evidence.matching import ClaimEvidence, claim_evidence
from evaluations.models import Claim, ModelRepo
from evaluations.selectors import rankings
from evaluations.selectors.ranking_query import RankingQuery

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

EVIDENCE_COLUMNS = (
    "claim_id",
    "benchmark",
    "label",
    "setting",
    "claimed_fraction",
    "typed_value",
    "source",
    "source_url",
    "measured_fraction",
    "measured_stderr_fraction",
    "gap_fraction",
    "z",
    "p_holm",
    "q",
    "tolerance_fraction",
    "verdict",
    "rule_verdict",
    "severity",
    "explanation",
    "run_id",
    "flag_id",
    "flagged",
    "decision",
    "decided_by",
    "decided_at",
    "decision_reason",
    "decision_predates_evidence",
)


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should show it: text that could run as a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return response


# --- Rankings ---------------------------------------------------------------------------


RANKING_COLUMNS = (
    "rank",
    "tied",
    "hub_id",
    "commit_sha",
    "run_id",
    "precision",
    "parameter_count",
    "normalised_average_fraction",
    "normalised_average_stderr_fraction",
    "raw_average_fraction",
    "flagged",
    "severity",
    "verdict",
    "not_comparable",
)


def rankings_csv(query: RankingQuery) -> HttpResponse:
    """One row per ranked model, as the rankings page shows it for the same filters and sort:
    rank (and whether it is shared), normalised average and its stderr, raw average, flag and
    verdict, then each benchmark's raw value and stderr. Every score column is a fraction in
    [0, 1] and says so in its name (``*_fraction``): one unit for the whole file. Read from the
    read table only."""
    benchmarks = suite_benchmarks(query.suite)
    header = list(RANKING_COLUMNS)
    for benchmark in benchmarks:
        header += [f"{benchmark.key}_fraction", f"{benchmark.key}_stderr_fraction"]

    def rows() -> Iterable[list[object]]:
        for rank, tied, entry in rankings.ranked_entries(query):
            cells: list[object] = [
                rank,
                tied,
                entry.hub_id,
                entry.commit_sha,
                entry.run_id,
                entry.precision,
                entry.parameter_count,
                round(entry.average / 100, 6),  # the page's 0–100 points, as a fraction
                round(entry.average_stderr / 100, 6),
                round(entry.raw_average, 6),
                entry.flagged,
                entry.severity,
                entry.verdict,
                entry.not_comparable,
            ]
            for benchmark in benchmarks:
                score = entry.scores.get(benchmark.key) or {}
                cells += [score.get("value"), score.get("stderr")]
            yield cells

    return csv_response(f"rankings-{query.suite}.csv", header, rows())


# --- One model's evidence ---------------------------------------------------------------


def claim_setting(claim: Claim) -> str:
    """The setting a claim names, in words: "5-shot, chat template"."""
    parts = [f"{claim.shots}-shot" if claim.shots is not None else "shots not stated"]
    if claim.chat_template:
        parts.append("chat template")
    if claim.chain_of_thought:
        parts.append("chain-of-thought")
    if claim.system_prompt:
        parts.append("system prompt")
    return ", ".join(parts)


def evidence_row(row: ClaimEvidence) -> list[object]:
    """A claim's row; with the moderator's decision on its flag, as the API's evidence has it
    (``flagged`` is whether the flag stands once the decision is counted)."""
    claim, judgement, score, review = row.claim, row.judgement, row.score, row.review
    decision = review.decision if review else None
    return [
        claim.id,
        claim.benchmark,
        claim.label,
        claim_setting(claim),
        claim.value,
        claim.typed_value,
        claim.source,
        claim.source_url,
        score.value if score else None,
        score.stderr if score else None,
        judgement.gap if judgement else None,
        judgement.z if judgement else None,
        judgement.p_holm if judgement else None,
        judgement.q_value if judgement else None,
        judgement.tolerance if judgement else None,
        str(row.verdict),
        str(row.rule_verdict),
        judgement.severity if judgement else None,
        row.sentence,
        score.run_id if score else None,
        review.flag_id if review else None,
        row.flagged,
        decision.state if decision else None,
        decision.actor if decision else None,
        decision.created_at.isoformat() if decision else None,
        decision.reason if decision else None,
        bool(review and review.stale),
    ]


def evidence_csv(repo: ModelRepo) -> HttpResponse:
    """Every current claim of the repo beside its measurement and verdict; scores, gaps and
    tolerances as fractions (``*_fraction``), the claim as typed in ``typed_value``."""
    rows = [evidence_row(row) for row in claim_evidence(repo.id)]
    filename = "evidence-" + repo.hub_id.replace("/", "--") + ".csv"
    return csv_response(filename, EVIDENCE_COLUMNS, rows)
