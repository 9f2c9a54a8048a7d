"""The rankings read: filters, sort, ties, pages and verdicts."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches

from evaluations import dispatch, generation
from evaluations.evidence.matching import claim_evidence
from evaluations.models import ModelRepo, Revision
from evaluations.selectors import rankings, standings
from evaluations.selectors.ranking_query import RankingQuery
from evaluations.services import read_models
from tests.factories import arc_claim as claim
from tests.factories import finished_run
from tests.factories import model_run as model

# --- Rows from the database ------------------------------------------------------------------


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)


def names(page: rankings.RankingPage) -> list[str]:
    return [row.hub_id.removeprefix("demo-org/") for row in page.rows]


def ranked(page: rankings.RankingPage) -> list[tuple[str, int]]:
    return list(zip(names(page), [row.rank for row in page.rows], strict=True))


pytestmark = pytest.mark.usefixtures("no_broker")


@pytest.mark.django_db
def test_the_average_is_normalised_and_keeps_the_raw_value() -> None:
    model("alpha", 0.625)
    row = rankings.rankings(RankingQuery(suite="smoke")).rows[0]
    # Smoke ARC has 4 choices: (0.625 − 0.25) / 0.75 = 50 points; Smoke GSM8K measured 0.
    assert row.average == pytest.approx(25.0)
    assert row.raw_average == pytest.approx(0.3125)
    # Only Smoke ARC has a standard error: 5 points raw, 6.67 normalised, halved by the mean.
    assert row.average_stderr == pytest.approx(0.05 / 0.75 * 100 / 2)
    assert row.parameters_label == "1 K"


@pytest.mark.django_db
def test_only_the_latest_whole_suite_run_of_a_model_counts() -> None:
    model("alpha", 0.3)
    latest = finished_run("demo-org/alpha", sha="f" * 40, value=0.9)
    page = rankings.rankings(RankingQuery(suite="smoke"))
    assert page.total == 1 and page.rows[0].run_id == latest.id
    # The row names the run's commit and precision from the read table, without a join.
    assert page.rows[0].commit_sha == "f" * 40
    assert page.rows[0].precision == latest.submission.precision


@pytest.mark.django_db
def test_close_averages_share_a_rank_and_distant_ones_do_not() -> None:
    model("top", 0.95)
    model("close-a", 0.50)
    model("close-b", 0.52)
    page = rankings.rankings(RankingQuery(suite="smoke"))
    ranks = {row.hub_id: (row.rank, row.tied) for row in page.rows}
    assert ranks == {
        "demo-org/top": (1, False),
        "demo-org/close-b": (2, True),
        "demo-org/close-a": (2, True),
    }
    assert page.any_tied


@pytest.mark.django_db
def test_a_chain_of_small_steps_does_not_tie_the_ends() -> None:
    # Averages 30, 20 and 10, each ± 6.5 at 95 %: each overlaps its neighbour, the ends do not.
    for name, value in (("a", 0.7), ("b", 0.55), ("c", 0.4)):
        model(name, value)
    page = rankings.rankings(RankingQuery(suite="smoke"))
    assert [(row.rank, row.tied) for row in page.rows] == [(1, True), (1, True), (3, False)]
    assert [row.tie_group for row in page.rows] == [1, 1, 3]


@pytest.mark.django_db
def test_a_flagged_model_reads_contradicted_with_its_severity() -> None:
    model("overclaimer", 0.5)
    claim("overclaimer", 95.0)
    row = rankings.rankings(RankingQuery(suite="smoke")).rows[0]
    assert row.flagged and row.verdict == "contradicted" and row.severity == "severe"


@pytest.mark.django_db
def test_the_worst_verdict_matches_the_model_page() -> None:
    for name in ("honest", "modest", "pending", "vague", "silent"):
        model(name, 0.5)
    claim("honest", 50.0)
    claim("modest", 20.0)
    claim("pending", 50.0, shots=5)  # measured 0-shot only: a run in its setting would settle it
    claim("vague", 50.0, shots=None)
    claim("vague", 50.0)  # a comparable claim does not hide the one that is not
    rows = {row.hub_id: row for row in rankings.rankings(RankingQuery(suite="smoke")).rows}
    expected = {
        "honest": "inconclusive",  # 40 items cannot support it either
        "modest": "under-claim",
        "pending": "pending",
        "vague": "not comparable",
        "silent": "",
    }
    for name, verdict in expected.items():
        row = rows[f"demo-org/{name}"]
        repo = ModelRepo.objects.get(hub_id=row.hub_id)
        page_verdicts = {e.verdict for e in claim_evidence(repo.id)}
        assert row.verdict == verdict
        assert verdict in page_verdicts or (verdict == "" and not page_verdicts)


@pytest.mark.django_db
def test_each_filter_narrows_the_list() -> None:
    model("small", 0.4)
    model("large", 0.6, precision="bfloat16")
    model("flagged", 0.7)
    claim("flagged", 99.0)
    model("cot", 0.5)
    claim("cot", 50.0, chain_of_thought=True)
    Revision.objects.filter(repo__hub_id="demo-org/large").update(
        parameter_count=7_000_000_000, licence="Apache-2.0"
    )
    Revision.objects.exclude(repo__hub_id="demo-org/large").update(parameter_count=500_000_000)
    # Commits are edited by hand here, past the services: rebuild the read table.
    read_models.ranking_entries_rebuild()

    def shown(**filters: Any) -> set[str]:
        return set(names(rankings.rankings(RankingQuery(suite="smoke", **filters))))

    everyone = {"small", "large", "flagged", "cot"}
    assert shown() == everyone
    assert shown(min_params=1.0) == {"large"}
    assert shown(max_params=1.0) == everyone - {"large"}
    assert shown(precision="bfloat16") == {"large"}
    assert shown(licence="apache-2.0") == {"large"}
    assert shown(hide_flagged=True) == everyone - {"flagged"}
    assert shown(hide_not_comparable=True) == everyone - {"cot"}
    assert rankings.licence_choices("smoke") == ["Apache-2.0", "mit"]


@pytest.mark.django_db
def test_it_sorts_on_any_column_both_ways_and_ranks_stay_by_average() -> None:
    model("bravo", 0.9)
    model("alpha", 0.3)
    model("charlie", 0.6)
    Revision.objects.filter(repo__hub_id="demo-org/alpha").update(parameter_count=None)
    # Commits are edited by hand here, past the services: rebuild the read table.
    read_models.ranking_entries_rebuild()

    def order(**sort: Any) -> list[str]:
        return names(rankings.rankings(RankingQuery(suite="smoke", **sort)))

    assert order() == ["bravo", "charlie", "alpha"]
    assert order(order="asc") == ["alpha", "charlie", "bravo"]
    assert order(sort="smoke_arc", order="asc") == ["alpha", "charlie", "bravo"]
    assert order(sort="smoke_arc", order="desc") == ["bravo", "charlie", "alpha"]
    assert order(sort="name", order="asc") == ["alpha", "bravo", "charlie"]
    assert order(sort="name", order="desc") == ["charlie", "bravo", "alpha"]
    assert order(sort="params", order="asc")[-1] == "alpha"  # unknown size last either way
    assert order(sort="params", order="desc")[-1] == "alpha"
    page = rankings.rankings(RankingQuery(suite="smoke", sort="name", order="asc"))
    assert [row.rank for row in page.rows] == [3, 1, 2]


@pytest.mark.django_db
def test_pages_split_the_list_and_a_page_past_the_end_shows_the_last() -> None:
    for index in range(5):
        model(f"m{index}", 0.3 + index * 0.1)
    first = rankings.rankings(RankingQuery(suite="smoke", per_page=2))
    assert (first.total, first.num_pages, first.start, first.end) == (5, 3, 1, 2)
    last = rankings.rankings(RankingQuery(suite="smoke", per_page=2, page=3))
    assert names(last) == ["m0"] and not last.clamped
    beyond = rankings.rankings(RankingQuery(suite="smoke", per_page=2, page=9))
    assert beyond.page == 3 and beyond.clamped and names(beyond) == ["m0"]


# --- The read table follows the services ---------------------------------------------------


@pytest.fixture
def moderator() -> Any:
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("mona", password="pw-mona-123")
    user.groups.add(Group.objects.get(name="moderators"))
    return user


REASON = "Reproduced twice; the decision is on the record."


@pytest.mark.django_db
def test_a_recorded_run_and_a_claim_move_the_rankings_without_a_rebuild() -> None:
    model("alpha", 0.5)
    assert names(rankings.rankings(RankingQuery(suite="smoke"))) == ["alpha"]
    claim("alpha", 95.0)
    row = rankings.rankings(RankingQuery(suite="smoke")).rows[0]
    assert (row.flagged, row.verdict, row.severity) == (True, "contradicted", "severe")
    finished_run("demo-org/alpha", sha="e" * 40, value=0.95)  # a new commit settles it
    row = rankings.rankings(RankingQuery(suite="smoke")).rows[0]
    assert not row.flagged and row.verdict == "inconclusive"


@pytest.mark.django_db
def test_ranks_follow_a_new_run_at_once_in_any_sort() -> None:
    model("alpha", 0.3)
    model("beta", 0.6)
    by_name = RankingQuery(suite="smoke", sort="name", order="asc")
    assert ranked(rankings.rankings(by_name)) == [("alpha", 2), ("beta", 1)]
    model("gamma", 0.95)  # the standings above were stored; a recorded run moves them on
    assert ranked(rankings.rankings(by_name)) == [("alpha", 3), ("beta", 2), ("gamma", 1)]


@pytest.mark.django_db
def test_a_row_the_stored_standings_miss_is_ranked_afresh(monkeypatch: Any) -> None:
    stuck = generation.Generation(7, None)  # as if a bump were not seen yet
    monkeypatch.setattr(generation, "site_generation", lambda: stuck)
    model("alpha", 0.3)
    assert [r.rank for r in rankings.rankings(RankingQuery(suite="smoke")).rows] == [1]
    model("beta", 0.6)
    page = rankings.rankings(RankingQuery(suite="smoke", sort="name", order="asc"))
    assert ranked(page) == [("alpha", 2), ("beta", 1)]


class ReadKeys:
    """The shared cache, noting each key read."""

    def __init__(self, cache: Any) -> None:
        self.cache, self.read = cache, []

    def get(self, key: str, default: Any = None) -> Any:
        self.read.append(key)
        return self.cache.get(key, default)

    def set(self, *args: Any, **kwargs: Any) -> None:
        self.cache.set(*args, **kwargs)


@pytest.mark.django_db
def test_a_page_reads_its_sort_order_alone_with_the_ranks_in_it(monkeypatch: Any) -> None:
    for name, value in (("alpha", 0.3), ("beta", 0.6), ("gamma", 0.95)):
        model(name, value)
    by_name = RankingQuery(suite="smoke", sort="name", order="asc", per_page=2)
    assert [(s.rank, s.tied) for s in rankings.rankings(by_name).slots] == [(3, False), (2, False)]
    standings.forget_kept()  # another web process: what is kept is in the shared cache only
    shared = ReadKeys(standings.cache)
    monkeypatch.setattr(standings, "cache", shared)
    page = rankings.rankings(by_name)
    assert [(s.rank, s.tied) for s in page.slots] == [(3, False), (2, False)]
    assert ranked(page) == [("alpha", 3), ("beta", 2)]
    assert len(shared.read) == 1 and shared.read[0].startswith("sort-order:")  # no standings


def test_a_sort_order_keeps_its_places_through_the_cache() -> None:
    order = standings.SortOrder([30, 10, 20, 40], {10: (1, True), 20: (1, True), 30: (3, False)})
    caches["default"].set("a-sort-order", order, 10)  # pickled, as every cache does
    copy = caches["default"].get("a-sort-order")
    assert len(copy) == 3  # 40 has no place: an entry written after the standings were
    assert copy.window(0, 2) == [(30, 3, False), (10, 1, True)]
    assert copy.window(2, 50) == [(20, 1, True)] and copy.window(3, 50) == []


@pytest.mark.django_db
def test_a_moderators_decisions_reach_the_rankings(moderator: Any) -> None:
    from evaluations.models import Flag, ModelRepo
    from evaluations.services import moderation

    model("alpha", 0.5)
    model("bravo", 0.6)
    claim("alpha", 95.0)
    moderation.flag_moderate(
        flag_id=Flag.objects.get().id, user=moderator, action="dismiss", reason=REASON
    )
    assert not rankings.rankings(RankingQuery(suite="smoke", hide_flagged=True)).rows[-1].flagged
    alpha = ModelRepo.objects.get(hub_id="demo-org/alpha")
    moderation.repo_set_hidden(repo_id=alpha.id, user=moderator, hidden=True, reason=REASON)
    assert names(rankings.rankings(RankingQuery(suite="smoke"))) == ["bravo"]
    moderation.repo_set_hidden(repo_id=alpha.id, user=moderator, hidden=False, reason=REASON)
    assert names(rankings.rankings(RankingQuery(suite="smoke"))) == ["bravo", "alpha"]


@pytest.mark.django_db
def test_the_rebuild_gives_what_the_services_kept() -> None:
    from evaluations.models import RankingEntry

    model("alpha", 0.5, precision="bfloat16")
    model("bravo", 0.7)
    claim("bravo", 50.0, shots=None)
    fields = (
        "repo_id",
        "suite",
        "precision_scope",
        "run_id",
        "average",
        "scores",
        "flagged",
        "not_comparable",
        "verdict",
        "hidden",
    )
    kept = sorted(RankingEntry.objects.values_list(*fields))
    assert read_models.ranking_entries_rebuild() == len(kept) == 4  # any, and each precision
    assert sorted(RankingEntry.objects.values_list(*fields)) == kept


@pytest.mark.django_db
def test_ties_across_a_page_boundary_keep_the_leaders_rank() -> None:
    for name, value in (("a", 0.7), ("b", 0.55), ("c", 0.4)):
        model(name, value)
    second = rankings.rankings(RankingQuery(suite="smoke", per_page=1, page=2))
    assert [(row.rank, row.tied) for row in second.rows] == [(1, True)]
    by_name = rankings.rankings(
        RankingQuery(suite="smoke", sort="name", order="asc", per_page=1, page=3)
    )
    assert [(row.rank, row.tied) for row in by_name.rows] == [(3, False)]


@pytest.mark.django_db
def test_kept_values_are_computed_once_per_generation_and_bounded_in_the_process() -> None:
    computed: list[str] = []

    def compute(name: str) -> Any:
        return lambda: computed.append(name) or [name]

    assert standings.kept_for_generation("a", compute("a")) == ["a"]
    assert standings.kept_for_generation("a", compute("a")) == ["a"]
    assert computed == ["a"]  # the second read is this process's copy
    generation.generation_bump()
    standings.kept_for_generation("a", compute("a"))
    assert computed == ["a", "a"]  # a new generation computes again
    for index in range(2 * standings.IN_PROCESS_MAX):
        standings.kept_for_generation(f"filters {index}", compute(f"filters {index}"))
    assert len(standings._IN_PROCESS) <= standings.IN_PROCESS_MAX
