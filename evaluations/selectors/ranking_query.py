"""What a visitor asked of the rankings: every filter, the sort and the page, and the rows of
the ``RankingEntry`` read table that the filters keep, in the asked order (SQL: WHERE and
ORDER BY). The site reads the query from the URL and writes it back into links."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.db.models import F, FloatField, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Lower

from evaluations.catalogue import SUITES
from evaluations.models import RankingEntry

SORT_AVERAGE, SORT_NAME, SORT_PARAMS = "average", "name", "params"
DEFAULT_PER_PAGE, MAX_PER_PAGE = 50, 100
BILLION = 1_000_000_000
RANK_ORDER = (F("average").desc(), "hub_id")


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
    hide_provenance_flagged: bool = False
    search: str = ""  # a part of the repo id, any case (``q`` in the URL)
    columns: tuple[str, ...] = ()  # the benchmark columns shown; () shows every one
    sort: str = SORT_AVERAGE
    order: str = "desc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    @property
    def filtered(self) -> bool:
        """Whether a filter (not the suite, the search, the sort or the page) narrows the list."""
        return any(
            (
                self.min_params is not None,
                self.max_params is not None,
                self.precision,
                self.licence,
                self.hide_flagged,
                self.hide_not_comparable,
                self.hide_provenance_flagged,
            )
        )

    def params(self, **changes: object) -> dict[str, str]:
        """The query string's values (with ``changes``), defaults left out so shared links
        stay short."""
        # dataclasses.replace types its changes as the fields; ours come from a query string
        # already parsed into them, so they are checked at run time by the caller's parse.
        query = replace(self, **changes)  # type: ignore[arg-type]
        values = {
            "suite": query.suite,
            "min_params": "" if query.min_params is None else f"{query.min_params:g}",
            "max_params": "" if query.max_params is None else f"{query.max_params:g}",
            "precision": query.precision,
            "licence": query.licence,
            "hide_flagged": "1" if query.hide_flagged else "",
            "hide_not_comparable": "1" if query.hide_not_comparable else "",
            "hide_provenance": "1" if query.hide_provenance_flagged else "",
            "q": query.search,
            "cols": ",".join(query.columns),
            "sort": "" if query.sort == SORT_AVERAGE else query.sort,
            "order": "" if query.order == default_order(query.sort) else query.order,
            "page": "" if query.page == 1 else str(query.page),
            "per_page": "" if query.per_page == DEFAULT_PER_PAGE else str(query.per_page),
        }
        return {key: value for key, value in values.items() if value}

    def key(self) -> str:
        """The query in one line (its values, encoded as in a URL): its name in caches."""
        return urlencode(self.params())


def sort_keys(suite: str) -> tuple[str, ...]:
    return (SORT_AVERAGE, SORT_NAME, SORT_PARAMS, *SUITES[suite])


def kept_entries(query: RankingQuery) -> QuerySet[RankingEntry]:
    """The entries every filter keeps (a model whose size is unknown is left out once a size
    range is asked for: it cannot be said to lie inside it). Hidden models never rank."""
    entries = RankingEntry.objects.filter(
        suite=query.suite, precision_scope=query.precision, hidden=False
    )
    if query.min_params is not None:
        entries = entries.filter(parameter_count__gte=query.min_params * BILLION)
    if query.max_params is not None:
        entries = entries.filter(parameter_count__lte=query.max_params * BILLION)
    if query.licence:
        entries = entries.filter(licence__iexact=query.licence)
    if query.hide_flagged:
        entries = entries.filter(flagged=False)
    if query.hide_not_comparable:
        entries = entries.filter(not_comparable=False)
    if query.hide_provenance_flagged:
        entries = entries.filter(provenance_flagged=False)
    if query.search:
        # A substring anywhere in the id: no index serves it, but it reads only the suite's
        # entries once per generation (``standings.ordering`` keeps the result).
        entries = entries.filter(hub_id__icontains=query.search)
    return entries


def entry_order(query: RankingQuery) -> list[Any]:
    """The asked column; rows without a value go last either way, equal values A→Z. Best
    first is the rank's own order, which the table's main index serves."""
    by_name = Lower("hub_id")
    if query.sort == SORT_NAME:
        return [by_name.desc() if query.descending else by_name.asc(), "hub_id"]
    if query.sort == SORT_AVERAGE:
        return list(RANK_ORDER) if query.descending else [F("average").asc(), "hub_id"]
    if query.sort == SORT_PARAMS:
        value: Any = F("parameter_count")
    else:
        value = Cast(KT(f"scores__{query.sort}__value"), FloatField())
    column = value.desc(nulls_last=True) if query.descending else value.asc(nulls_last=True)
    return [column, by_name, "hub_id"]
