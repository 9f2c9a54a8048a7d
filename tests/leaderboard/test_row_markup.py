"""Each rankings row's markup is rendered when its read-table entry is written, kept against
the entry, and joined by the page: the page reads the same as when every row is rendered
anew, a rewritten entry brings its new row, and markup another version of the code wrote (or
none at all) is never shown."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_script_prefix

from evaluations import dispatch
from evaluations.models import RankingEntry
from evaluations.services import read_models
from leaderboard import row_markup
from leaderboard.models import RankingRowMarkup
from tests.factories import arc_claim as claim
from tests.factories import model_run as model

pytestmark = pytest.mark.django_db

PAGES = (
    "/?suite=smoke",
    "/?suite=smoke&sort=name&order=desc&per_page=25",
    "/?suite=smoke&cols=smoke_gsm8k&sort=smoke_gsm8k",  # a chosen column, one the rows lack
    "/?suite=smoke&cols=smoke_arc",  # one they have
    "/?suite=smoke&q=beta",
    "/?suite=smoke&hide_flagged=1&sort=smoke_arc",
)


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)


@pytest.fixture
def ranked() -> None:
    """Five models: one flagged, one whose claim no run can settle, one with a shared rank."""
    for index, name in enumerate(("alpha", "beta", "gamma", "delta", "epsilon")):
        model(name, 0.35 + 0.1 * index)
    claim("beta", 99.0)
    claim("gamma", 50.0, shots=None)


def page(client: Client, url: str) -> str:
    caches["pages"].clear()
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode().split("Recent runs")[0]


def test_every_written_entry_has_its_row_kept(ranked: None) -> None:
    entries = set(RankingEntry.objects.values_list("id", flat=True))
    assert entries
    kept = RankingRowMarkup.objects.filter(version=row_markup.markup_version())
    assert set(kept.values_list("entry_id", flat=True)) == entries
    assert read_models.ranking_entries_rebuild() == len(entries)
    assert RankingRowMarkup.objects.count() == len(entries)  # the old rows went with their entries


def test_a_page_of_kept_rows_reads_as_a_page_rendered_anew(client: Client, ranked: None) -> None:
    kept = {url: page(client, url) for url in PAGES}
    assert "flagged claim" in kept["/?suite=smoke"] and "<tr>" in kept["/?suite=smoke"]
    RankingRowMarkup.objects.all().delete()
    assert {url: page(client, url) for url in PAGES} == kept


def test_a_page_of_kept_rows_reads_no_row_of_the_read_table(client: Client, ranked: None) -> None:
    page(client, "/?suite=smoke&per_page=2")  # the standings and the order, kept
    with CaptureQueriesContext(connection) as queries:
        second = page(client, "/?suite=smoke&per_page=2&page=2")
    assert second.count("<tr>") == 3  # the head's and two rows
    read = [query["sql"] for query in queries if RankingEntry._meta.db_table in query["sql"]]
    assert read == []
    RankingRowMarkup.objects.filter(entry__hub_id="demo-org/beta").delete()  # one row not kept
    with CaptureQueriesContext(connection) as queries:
        assert page(client, "/?suite=smoke&per_page=2&page=2") == second
    assert any(RankingEntry._meta.db_table in query["sql"] for query in queries)


def test_a_pages_rows_are_read_in_one_query_of_two_parameters(client: Client, ranked: None) -> None:
    page(client, "/?suite=smoke")
    with CaptureQueriesContext(connection) as queries:
        page(client, "/?suite=smoke&sort=name")
    table = RankingRowMarkup._meta.db_table
    read = [query["sql"] for query in queries if table in query["sql"]]
    assert len(read) == 1
    if connection.vendor == "postgresql":  # the ids as one array: psycopg keeps its parse
        assert "entry_id = ANY(" in read[0] and " IN (" not in read[0]


def test_the_page_shows_the_kept_row_of_this_version_only(client: Client, ranked: None) -> None:
    entry = RankingEntry.objects.get(hub_id="demo-org/alpha", precision_scope="")
    kept = RankingRowMarkup.objects.filter(entry=entry)
    kept.update(cells="<td>kept-row-marker</td>")
    assert "kept-row-marker" in page(client, "/?suite=smoke")
    kept.update(version="written-by-other-code")  # a deployment changed the markup
    shown = page(client, "/?suite=smoke")
    assert "kept-row-marker" not in shown
    assert 'href="/models/demo-org/alpha/">demo-org/alpha</a>' in shown


def test_migrate_renders_again_the_rows_of_another_version_and_the_missing(
    client: Client, ranked: None
) -> None:
    shown = page(client, "/?suite=smoke")
    RankingRowMarkup.objects.filter(entry__hub_id="demo-org/alpha").delete()  # written before
    RankingRowMarkup.objects.update(version="written-by-other-code", cells="<td>stale</td>")
    call_command("migrate", verbosity=0)  # a deployment
    kept = RankingRowMarkup.objects.filter(version=row_markup.markup_version())
    assert kept.count() == RankingEntry.objects.count()
    assert not kept.filter(cells__contains="stale").exists()
    assert page(client, "/?suite=smoke") == shown
    assert row_markup.refresh_stale() == 0  # nothing left to render


def test_a_rewritten_entry_brings_its_new_row(client: Client, ranked: None) -> None:
    before = page(client, "/?suite=smoke&q=alpha")
    assert "flagged claim" not in before
    claim("alpha", 99.0)  # contradicted: the entry is written again, flagged
    entry = RankingEntry.objects.get(hub_id="demo-org/alpha", precision_scope="")
    assert "flagged claim" in RankingRowMarkup.objects.get(entry=entry).cells
    assert "flagged claim" in page(client, "/?suite=smoke&q=alpha")


def test_a_site_served_under_a_path_links_under_it(client: Client, ranked: None) -> None:
    assert 'href="/api/v1/rankings.csv?suite=smoke"' in page(client, "/?suite=smoke")
    with override_script_prefix("/board/"):  # as the WSGI handler sets it from SCRIPT_NAME
        shown = page(client, "/?suite=smoke")
    assert 'href="/board/models/demo-org/alpha/"' in shown
    assert 'href="/models/demo-org/alpha/"' not in shown
    # What every page of the query shares (its controls) is kept under each prefix apart.
    assert 'href="/board/api/v1/rankings.csv?suite=smoke"' in shown
