"""The rankings page's read: filters, sort, rank ties and pagination over measured scores.

A page costs the same few queries whatever the number of models: the latest full-suite run
per repo with its scores, the open flags, the current claims, and the measurements the shown
rows' claims are matched against. Averages, ties, filters on flags and claims, sorting and
paging happen in Python. At 10,000 models ``_candidates`` and ``_claim_facts`` become a read
table with these columns; the rest keeps its shape. Claimed scores never enter a ranking.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from django.db.models import F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from evaluations.catalogue import BENCHMARKS, SUITES, Benchmark, suite_benchmarks
from evaluations.models import (
    Claim,
    EvaluationRun,
    FlagEvent,
    ModelRepo,
    Precision,
    Revision,
    Score,
)
from evaluations.selectors import hidden_repo_ids, never_comparable, normalised, open_flags

SORT_AVERAGE, SORT_NAME, SORT_PARAMS = "average", "name", "params"
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 100
UNPAGED = 10**9  # every row on one "page": the API and CSV do their own paging
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile
BILLION = 1_000_000_000
SEVERITIES = ("", "minor", "major", "severe")
# Worst last. The issue orders three levels (contradicted > pending / not comparable >
# not contradicted / under-claim); inside a level the claim no run can ever settle reads
# worse than one a run will settle, and an under-claim is the mildest verdict of all.
VERDICTS = ("", "under-claim", "not contradicted", "pending", "not comparable", "contradicted")
_TRUE, _FALSE = {"1", "on", "true", "yes"}, {"", "0", "off", "false", "no"}


# --- What the visitor asked for ------------------------------------------------------------


def default_order(sort: str) -> str:
    """Names read A→Z; every number reads best (or biggest) first."""
    return "asc" if sort == SORT_NAME else "desc"


@dataclass(frozen=True)
class RankingQuery:
    """Every filter, the sort and the page: all of it lives in the URL so a view can be shared."""

    suite: str
    min_params: float | None = None  # billions of parameters
    max_params: float | None = None
    precision: str = ""
    licence: str = ""
    hide_flagged: bool = False
    hide_not_comparable: bool = False
    sort: str = SORT_AVERAGE
    order: str = "desc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    @property
    def filtered(self) -> bool:
        """Whether a filter (not the suite, sort or page) narrows the list."""
        return any((self.min_params is not None, self.max_params is not None, self.precision,
                    self.licence, self.hide_flagged, self.hide_not_comparable))

    def params(self, **changes: object) -> dict[str, str]:
        """The query string's values, defaults left out so shared links stay short."""
        query = replace(self, **changes)  # type: ignore[arg-type]
        values = {
            "suite": query.suite,
            "min_params": "" if query.min_params is None else f"{query.min_params:g}",
            "max_params": "" if query.max_params is None else f"{query.max_params:g}",
            "precision": query.precision,
            "licence": query.licence,
            "hide_flagged": "1" if query.hide_flagged else "",
            "hide_not_comparable": "1" if query.hide_not_comparable else "",
            "sort": "" if query.sort == SORT_AVERAGE else query.sort,
            "order": "" if query.order == default_order(query.sort) else query.order,
            "page": "" if query.page == 1 else str(query.page),
            "per_page": "" if query.per_page == DEFAULT_PER_PAGE else str(query.per_page),
        }
        return {key: value for key, value in values.items() if value}

    def url(self, **changes: object) -> str:
        return "?" + urlencode(self.params(**changes))


def parse_query(params: Mapping[str, str], *, suite: str) -> RankingQuery:
    """The query in ``params`` (request.GET). Raises ValueError with a sentence a visitor can
    act on; the page answers it with 400, never 500."""
    if suite not in SUITES:
        raise ValueError(f"There is no suite “{suite}”. Choose one of: {', '.join(SUITES)}.")
    sort = params.get("sort") or SORT_AVERAGE
    if sort in BENCHMARKS and sort not in SUITES[suite]:
        # The filter form carries the sort; switching suite there must not end on an error.
        sort, params = SORT_AVERAGE, {k: v for k, v in params.items() if k != "order"}
    if sort not in sort_keys(suite):
        raise ValueError(f"Cannot sort by “{sort}”. Sort by one of: "
                         f"{', '.join(sort_keys(suite))}.")
    order = params.get("order") or default_order(sort)
    if order not in ("asc", "desc"):
        raise ValueError(f"The order must be “asc” or “desc”, not “{order}”.")
    min_params, max_params = _billions(params, "min_params"), _billions(params, "max_params")
    if min_params is not None and max_params is not None and min_params > max_params:
        raise ValueError("The smallest parameter count is above the largest.")
    precision = params.get("precision") or ""
    if precision and precision not in Precision.values:
        raise ValueError(f"Unknown precision “{precision}”. Choose one of: "
                         f"{', '.join(Precision.values)}.")
    licence = (params.get("licence") or "").strip()
    if len(licence) > 100:
        raise ValueError("A licence name has at most 100 characters.")
    return RankingQuery(
        suite=suite, min_params=min_params, max_params=max_params, precision=precision,
        licence=licence, hide_flagged=_flag(params, "hide_flagged"),
        hide_not_comparable=_flag(params, "hide_not_comparable"), sort=sort, order=order,
        page=_count(params, "page", 1, maximum=None),
        per_page=_count(params, "per_page", DEFAULT_PER_PAGE, maximum=MAX_PER_PAGE),
    )


def sort_keys(suite: str) -> tuple[str, ...]:
    return (SORT_AVERAGE, SORT_NAME, SORT_PARAMS, *SUITES[suite])


def _billions(params: Mapping[str, str], name: str) -> float | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of billions of parameters, "
                         f"such as 7 or 0.5, not “{text}”.") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a number of billions of parameters, 0 or more.")
    return value


def _count(params: Mapping[str, str], name: str, default: int, *, maximum: int | None) -> int:
    text = (params.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1 or (maximum is not None and int(text) > maximum):
        bound = f"1 to {maximum}" if maximum is not None else "1 or more"
        raise ValueError(f"{name} must be a whole number from {bound}, not “{text}”.")
    return int(text)


def _flag(params: Mapping[str, str], name: str) -> bool:
    text = (params.get(name) or "").strip().lower()
    if text not in _TRUE | _FALSE:
        raise ValueError(f"{name} must be 1 or 0, not “{text}”.")
    return text in _TRUE


# --- The rows ----------------------------------------------------------------------------


@dataclass
class RankedRow:
    """One model: its latest full run of the suite, measured scores, and where it stands."""

    repo: ModelRepo
    run: EvaluationRun
    scores: dict[str, Score]
    average: float  # normalised above the random baseline, 0–100
    raw_average: float  # the mean of the raw fractions, for the tooltip
    average_stderr: float  # of ``average``, in normalised points
    rank: int = 0
    tie_group: int = 0  # rows with the same group share a rank
    tied: bool = False
    flagged: bool = False
    severity: str = ""  # the worst open flag's severity
    not_comparable: bool = False  # a current claim no run of ours can settle
    verdict: str = ""  # the worst verdict among the repo's current claims; "" = no claims

    @property
    def revision(self) -> Revision | None:
        return self.run.revision

    @property
    def parameter_count(self) -> int | None:
        return self.run.revision.parameter_count if self.run.revision else None

    @property
    def parameters_label(self) -> str:
        """7.24 B, 494 M: the size as model names say it ("" when unknown)."""
        count = self.parameter_count
        if not count:
            return ""
        for unit, size in (("B", BILLION), ("M", 1_000_000), ("K", 1_000)):
            if count >= size:
                return f"{count / size:.3g} {unit}"
        return str(count)

    @property
    def interval(self) -> tuple[float, float]:
        margin = Z_95 * self.average_stderr
        return self.average - margin, self.average + margin


@dataclass
class RankingPage:
    query: RankingQuery
    benchmarks: list[Benchmark]
    rows: list[RankedRow]
    total: int  # rows after every filter, on all pages
    page: int  # the page shown: an out-of-range page shows the last one
    num_pages: int
    any_tied: bool = False

    @property
    def start(self) -> int:
        return (self.page - 1) * self.query.per_page + 1 if self.total else 0

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0

    @property
    def clamped(self) -> bool:
        return self.page != self.query.page


def rankings(query: RankingQuery) -> RankingPage:
    benchmarks = suite_benchmarks(query.suite)
    runs = list(_candidates(query).select_related("submission__repo", "revision")
                .prefetch_related("scores"))
    # Subqueries rather than lists of ids: the statements stay the same size at any scale.
    repo_ids = _candidates(query).values("submission__repo_id")
    severities = _open_flag_severities(repo_ids)
    claims = _current_claims(repo_ids)
    rows = [_row(run, benchmarks) for run in runs]
    for row in rows:
        row.severity = severities.get(row.repo.id, "")
        row.flagged = row.repo.id in severities
        row.not_comparable = any(never_comparable(c) for c in claims.get(row.repo.id, []))
    rows = [row for row in rows if not (query.hide_flagged and row.flagged)
            and not (query.hide_not_comparable and row.not_comparable)]
    any_tied = _rank(rows)
    num_pages = max(1, math.ceil(len(rows) / query.per_page))
    page = min(query.page, num_pages)
    shown = _sorted(rows, query)[(page - 1) * query.per_page: page * query.per_page]
    _set_verdicts(shown, claims)
    return RankingPage(query=query, benchmarks=benchmarks, rows=shown, total=len(rows),
                       page=page, num_pages=num_pages, any_tied=any_tied)


def all_rows(suite: str, *, hide_flagged: bool = False) -> list[RankedRow]:
    """Every ranked row of a suite, best first (the API's pages and the CSV download)."""
    query = RankingQuery(suite=suite, hide_flagged=hide_flagged, per_page=UNPAGED)
    return rankings(query).rows


def licence_choices(suite: str) -> list[str]:
    """The licences of the commits ranked in the suite, for the filter's options."""
    revisions = Revision.objects.filter(runs__in=_latest_runs(suite, precision=""))
    return sorted(set(revisions.exclude(licence="").values_list("licence", flat=True)),
                  key=str.lower)


def _latest_runs(suite: str, *, precision: str) -> QuerySet[EvaluationRun]:
    """Each repo's latest finished whole-suite run; with a precision, the latest in it."""
    setting = EvaluationRun.objects.finished_ok().filter(submission__suite=suite,
                                                         submission__tasks=[])
    if precision:
        setting = setting.filter(submission__precision=precision)
    # One window over the suite's runs rather than a correlated subquery per run: the
    # latter re-joined submissions for every row (0.35 s at 100 models).
    newest_first = Window(RowNumber(), partition_by=[F("submission__repo_id")],
                          order_by=[F("finished_at").desc(), F("id").desc()])
    latest = setting.annotate(position=newest_first).filter(position=1).values("id")
    return EvaluationRun.objects.filter(id__in=Subquery(latest))


def _candidates(query: RankingQuery) -> QuerySet[EvaluationRun]:
    """The latest runs the SQL-side filters keep (a model whose size is unknown is left out
    once a size range is asked for: it cannot be said to lie inside it)."""
    runs = _latest_runs(query.suite, precision=query.precision).exclude(
        submission__repo_id__in=hidden_repo_ids()  # hidden by a moderator
    )
    if query.min_params is not None:
        runs = runs.filter(revision__parameter_count__gte=query.min_params * BILLION)
    if query.max_params is not None:
        runs = runs.filter(revision__parameter_count__lte=query.max_params * BILLION)
    if query.licence:
        runs = runs.filter(revision__licence__iexact=query.licence)
    return runs


def _row(run: EvaluationRun, benchmarks: list[Benchmark]) -> RankedRow:
    """A benchmark the run lacks counts as 0, so a partial run never outranks a whole one."""
    scores = {score.benchmark: score for score in run.scores.all()}
    measured = [(b, scores[b.key]) for b in benchmarks if b.key in scores]
    count = len(benchmarks)
    # Benchmarks are independent samples: variances add, and the mean divides by n.
    variance = sum((normalised_stderr(s.stderr, b)) ** 2 for b, s in measured)
    return RankedRow(
        repo=run.submission.repo, run=run, scores=scores,
        average=sum(normalised(s.value, b) for b, s in measured) / count,
        raw_average=sum(s.value for _, s in measured) / count,
        average_stderr=math.sqrt(variance) / count,
    )


def normalised_stderr(stderr: float | None, benchmark: Benchmark) -> float:
    """A standard error on the normalised scale (a shift does not move it; the stretch
    does). lm-eval's N/A counts as 0, as in the discrepancy rule."""
    return (stderr or 0.0) / (1.0 - benchmark.random_baseline) * 100.0


def _rank(rows: list[RankedRow]) -> bool:
    """Rank by average, best first. A row whose 95 % interval overlaps that of the first row
    of the group above joins that group and shares its rank. Comparing with the group's first
    row, not merely with the neighbour, keeps a chain of small steps from tying models the
    measurements clearly tell apart. Says whether any rank is shared."""
    ordered = sorted(rows, key=lambda row: (-row.average, row.repo.hub_id))
    any_tied = False
    leader: RankedRow | None = None
    for position, row in enumerate(ordered, start=1):
        if leader is not None and row.interval[1] >= leader.interval[0]:
            row.rank, row.tie_group = leader.rank, leader.tie_group
            row.tied = leader.tied = any_tied = True
        else:
            row.rank, row.tie_group, leader = position, position, row
    return any_tied


def _sorted(rows: list[RankedRow], query: RankingQuery) -> list[RankedRow]:
    """Sorted on the asked column; rows without a value go last in either direction."""
    by_name = sorted(rows, key=lambda row: row.repo.hub_id.lower())
    if query.sort == SORT_NAME:
        return by_name[::-1] if query.descending else by_name
    value = _sort_value(query.sort)
    present = [row for row in by_name if value(row) is not None]
    missing = [row for row in by_name if value(row) is None]
    # sorted() stays stable with reverse=True, so equal values keep A→Z order.
    return sorted(present, key=lambda row: value(row) or 0.0, reverse=query.descending) + missing


def _sort_value(sort: str) -> Callable[[RankedRow], float | None]:
    if sort == SORT_AVERAGE:
        return lambda row: row.average
    if sort == SORT_PARAMS:
        return lambda row: row.parameter_count
    return lambda row: row.scores[sort].value if sort in row.scores else None


# --- Flags and claims, in one query each -----------------------------------------------------


def _open_flag_severities(repo_ids: QuerySet) -> dict[int, str]:
    """Repos with a flag that stands (selectors.open_flags: the rule's, unless a moderator
    dismissed it, or a moderator's confirmation), each with its worst severity."""
    latest = FlagEvent.objects.filter(flag=OuterRef("pk")).order_by("-created_at", "-id")
    flags = open_flags().filter(claim__repo_id__in=repo_ids).annotate(
        last_severity=Subquery(latest.values("severity")[:1]),
    )
    worst: dict[int, str] = {}
    for repo_id, severity in flags.values_list("claim__repo_id", "last_severity"):
        known = severity if severity in SEVERITIES else ""
        worst[repo_id] = max(worst.get(repo_id, ""), known, key=SEVERITIES.index)
    return worst


def _current_claims(repo_ids: QuerySet) -> dict[int, list[Claim]]:
    """The current claims of every candidate repo, by repo."""
    by_repo: dict[int, list[Claim]] = {}
    for claim in Claim.objects.current().filter(repo_id__in=repo_ids):
        by_repo.setdefault(claim.repo_id, []).append(claim)
    return by_repo


@dataclass
class _Measurements:
    """One repo's measured (benchmark, shots, chat template) → value, per commit."""

    latest_full_revision: int | None = None
    by_revision: dict[int, dict[tuple[str, int, bool], float]] = field(default_factory=dict)


def _measurements(repo_ids: list[int]) -> dict[int, _Measurements]:
    """Every finished measurement of the shown repos, newest first (one query)."""
    scores = (
        Score.objects.filter(run__in=EvaluationRun.objects.finished_ok(),
                             run__submission__repo_id__in=repo_ids)
        .order_by("-run__finished_at", "id")
        .values_list("run__submission__repo_id", "run__revision_id", "benchmark", "shots",
                     "run__submission__chat_template", "run__submission__tasks", "value")
    )
    result: dict[int, _Measurements] = {}
    for repo_id, revision_id, benchmark, shots, chat, tasks, value in scores:
        facts = result.setdefault(repo_id, _Measurements())
        if not tasks and facts.latest_full_revision is None:
            facts.latest_full_revision = revision_id  # "the model" today, as the model page says
        facts.by_revision.setdefault(revision_id, {}).setdefault((benchmark, shots, chat), value)
    return result


def _claim_verdict(claim: Claim, facts: _Measurements) -> str:
    """The verdict the model page gives a claim that no open flag contradicts."""
    if never_comparable(claim):
        return "not comparable"
    revision_id = claim.revision_id or facts.latest_full_revision
    if revision_id is None:
        return "pending"
    setting = (claim.benchmark, claim.shots or 0, bool(claim.chat_template))
    measured = facts.by_revision.get(revision_id, {}).get(setting)
    if measured is None:
        return "pending"
    return "under-claim" if claim.value is not None and claim.value < measured else \
        "not contradicted"


def _set_verdicts(rows: list[RankedRow], claims: dict[int, list[Claim]]) -> None:
    """The worst verdict per shown row: an open flag decides at once; otherwise each claim is
    matched with the measurement in its setting, as ``selectors.claim_evidence`` does."""
    facts = _measurements([row.repo.id for row in rows if not row.flagged])
    for row in rows:
        if row.flagged:
            row.verdict = "contradicted"
            continue
        verdicts = [_claim_verdict(c, facts.get(row.repo.id, _Measurements()))
                    for c in claims.get(row.repo.id, [])]
        row.verdict = max(verdicts, key=VERDICTS.index, default="")


# --- Links for the table -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    url: str  # sorts on this column; the active one flips its order
    active: bool
    arrow: str
    benchmark: Benchmark | None = None


@dataclass(frozen=True)
class TableLinks:
    columns: dict[str, Column]  # name, params, average
    benchmark_columns: list[Column]
    first: str
    previous: str
    next: str
    last: str
    clear: str


def table_links(page: RankingPage) -> TableLinks:
    """Every link on the table carries the full filter state, so a shared link shows the same."""
    query = page.query

    def column(key: str, label: str, benchmark: Benchmark | None = None) -> Column:
        active = query.sort == key
        order = ("asc" if query.descending else "desc") if active else default_order(key)
        arrow = ("▼" if query.descending else "▲") if active else ""
        return Column(key, label, query.url(sort=key, order=order, page=1), active, arrow,
                      benchmark)

    return TableLinks(
        columns={SORT_NAME: column(SORT_NAME, "Model"), SORT_PARAMS: column(SORT_PARAMS, "Params"),
                 SORT_AVERAGE: column(SORT_AVERAGE, "Average")},
        benchmark_columns=[column(b.key, b.display_name, b) for b in page.benchmarks],
        first=query.url(page=1) if page.page > 1 else "",
        previous=query.url(page=page.page - 1) if page.page > 1 else "",
        next=query.url(page=page.page + 1) if page.page < page.num_pages else "",
        last=query.url(page=page.num_pages) if page.page < page.num_pages else "",
        clear=RankingQuery(suite=query.suite).url(),
    )
