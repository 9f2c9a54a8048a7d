"""Searching the rankings by model name and choosing their benchmark columns: both live in
the URL, survive the sort links and the pages, and never answer a mistake with a 500."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations import dispatch
from tests.factories import model_run as model
from tests.leaderboard.test_rankings import page_rows, shown, table

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: None)


@pytest.fixture
def family() -> None:
    """Five models, best first; three of them are llamas."""
    for index, name in enumerate(["Llama-big", "qwen-mid", "llama-small", "phi", "tiny-LLAMA"]):
        model(name, 0.95 - index * 0.15)


def links(page: str) -> list[str]:
    return [html.unescape(url) for url in re.findall(r'href="(\?[^"]*)"', page)]


@pytest.mark.usefixtures("family")
def test_a_search_finds_names_in_any_case_and_keeps_their_ranks(client: Client) -> None:
    page = table(client, "/?suite=smoke&q=LLAMA")
    ranks = [(rank, name) for rank, _, name in page_rows(client, "/?suite=smoke&q=LLAMA")]
    assert ranks == [("1", "Llama-big"), ("3", "llama-small"), ("5", "tiny-LLAMA")]
    assert re.search(r"3 models\s+match these filters", page)
    assert 'name="q" id="q" value="LLAMA"' in page  # the box shows what was searched
    assert "Ranks are those of the list without the search" in page
    assert shown(table(client, "/?suite=smoke&q=  qwen ")) == ["qwen-mid"]


@pytest.mark.usefixtures("family")
def test_the_search_stays_in_sort_links_pages_and_filters(client: Client) -> None:
    page = table(client, "/?suite=smoke&q=llama&per_page=2")
    assert "?suite=smoke&q=llama&sort=name&per_page=2" in links(page)  # a header
    assert "?suite=smoke&q=llama&page=2&per_page=2" in links(page)  # the next page
    assert shown(table(client, "/?suite=smoke&q=llama&per_page=2&page=2")) == ["tiny-LLAMA"]
    assert '<input type="hidden" name="q" value="llama">' in page  # the filter form keeps it
    assert shown(table(client, "/?suite=smoke&q=llama&sort=name")) == [
        "Llama-big",
        "llama-small",
        "tiny-LLAMA",
    ]


@pytest.mark.usefixtures("family")
def test_a_search_that_finds_nothing_says_so(client: Client) -> None:
    page = table(client, "/?suite=smoke&q=mistral")
    assert "No model matches “mistral” these filters" not in page
    assert "No model matches “mistral”" in page and shown(page) == []
    percent = table(client, "/?suite=smoke&q=%25")  # SQL wildcards are plain characters
    assert shown(percent) == []


@pytest.mark.parametrize(
    "query, message",
    [
        ("q=" + "x" * 101, "Search for at most 100 characters"),
        ("q=a%00b", "contains a NUL character"),
    ],
)
def test_a_bad_search_is_a_400_that_says_why(client: Client, query: str, message: str) -> None:
    for url in (f"/?suite=smoke&{query}", f"/api/v1/rankings?suite=smoke&{query}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert message in html.unescape(response.content.decode()), url


@pytest.mark.usefixtures("family")
def test_the_api_and_the_csv_search_as_the_page_does(client: Client) -> None:
    rows = client.get("/api/v1/rankings?suite=smoke&q=llama").json()["rows"]
    assert [(row["hub_id"], row["rank"]) for row in rows] == [
        ("demo-org/Llama-big", 1),
        ("demo-org/llama-small", 3),
        ("demo-org/tiny-LLAMA", 5),
    ]
    csv_text = client.get("/api/v1/rankings.csv?suite=smoke&q=llama").content.decode()
    assert "qwen" not in csv_text and "tiny-LLAMA" in csv_text
    page = table(client, "/?suite=smoke&q=llama")
    assert "/api/v1/rankings.csv?suite=smoke&amp;q=llama" in page


def headers(page: str) -> list[str]:
    found = re.findall(r'<a class="sort[^"]*" href="[^"]*">([^<]*)</a>', page)
    return [label.strip(" ▲▼") for label in found]


@pytest.mark.usefixtures("family")
def test_only_the_chosen_columns_are_shown_and_links_keep_them(client: Client) -> None:
    every = table(client, "/?suite=smoke")
    assert headers(every) == ["Model", "Params", "Average", "Smoke ARC", "Smoke GSM8K"]
    page = table(client, "/?suite=smoke&cols=smoke_gsm8k")
    assert headers(page) == ["Model", "Params", "Average", "Smoke GSM8K"]
    assert "raw 0.9500" not in page  # the ARC cells are gone with their column
    assert "?suite=smoke&cols=smoke_gsm8k&sort=name" in links(page)
    assert '<input type="hidden" name="cols" value="smoke_gsm8k">' in page  # filters keep it
    ticked = re.findall(r'name="cols" value="(\w+)"\s*checked', page)
    assert ticked == ["smoke_gsm8k"]
    # The chooser's checkboxes repeat the name; ticking every column is the default.
    assert headers(table(client, "/?suite=smoke&cols=smoke_arc&cols=smoke_gsm8k")) == headers(every)
    both = table(client, "/?suite=smoke&cols=smoke_gsm8k,smoke_arc&sort=name")
    assert "cols=" not in "".join(links(both))


@pytest.mark.usefixtures("family")
def test_unknown_columns_are_left_out_with_a_note(client: Client) -> None:
    page = table(client, "/?suite=smoke&cols=smoke_arc,mmlu,<b>x</b>")
    assert headers(page) == ["Model", "Params", "Average", "Smoke ARC"]
    assert "Not a benchmark of this suite, so not shown" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    only_unknown = table(client, "/?suite=smoke&cols=nothing-real")
    assert headers(only_unknown) == ["Model", "Params", "Average", "Smoke ARC", "Smoke GSM8K"]


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_search_costs_the_same_queries_at_any_number_of_models(client: Client) -> None:
    for index in range(3):
        model(f"llama-{index}", 0.3 + index * 0.04)
    url = "/?suite=smoke&q=llama&cols=smoke_arc&sort=smoke_arc"
    few = _queries(client, url)
    for index in range(3, 15):
        model(f"llama-{index}" if index % 2 else f"qwen-{index}", 0.3 + index * 0.04)
    assert _queries(client, url) == few
    assert few <= 11
