"""Score vs parameters: the rankings' second view, a Plotly scatter with the rankings'
filters and search, linked from the rankings with them."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from evaluations.models import Revision
from evaluations.services import read_models
from tests.factories import model_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]


@pytest.fixture
def sized() -> None:
    model_run("llama-7b", 0.7)
    model_run("llama-1b", 0.5)
    model_run("qwen-0.5b", 0.4)
    model_run("unknown-size", 0.6)
    sizes = {"llama-7b": 7_000_000_000, "llama-1b": 1_000_000_000, "qwen-0.5b": 500_000_000}
    for name, count in sizes.items():
        Revision.objects.filter(repo__hub_id=f"demo-org/{name}").update(parameter_count=count)
    Revision.objects.filter(repo__hub_id="demo-org/unknown-size").update(parameter_count=None)
    read_models.ranking_entries_rebuild()  # commits edited past the services


def figure(client: Client, url: str) -> dict:
    page = client.get(url).content.decode()
    found = re.search(r'<script id="scatter-figure" type="application/json">(.*?)</script>', page)
    assert found, "the figure is embedded in the page"
    return json.loads(found.group(1))


@pytest.mark.usefixtures("sized")
def test_it_plots_each_sized_model_with_its_interval(client: Client) -> None:
    data = figure(client, "/rankings/parameters/?suite=smoke")["data"]
    (trace,) = data
    assert sorted(trace["text"]) == ["demo-org/llama-1b", "demo-org/llama-7b", "demo-org/qwen-0.5b"]
    by_name = dict(zip(trace["text"], trace["x"], strict=True))
    assert by_name["demo-org/llama-7b"] == 7 and by_name["demo-org/qwen-0.5b"] == 0.5
    assert all(error > 0 for error in trace["error_y"]["array"])
    assert trace["customdata"][0].startswith("/models/demo-org/")


@pytest.mark.usefixtures("sized")
def test_it_keeps_the_rankings_filters_and_search(client: Client) -> None:
    trace = figure(client, "/rankings/parameters/?suite=smoke&q=llama&min_params=2")["data"][0]
    assert trace["text"] == ["demo-org/llama-7b"]
    rankings = client.get("/?suite=smoke&q=llama").content.decode()
    assert 'href="/rankings/parameters/?suite=smoke&amp;q=llama">Score vs parameters' in rankings
    assert client.get("/rankings/parameters/?suite=smoke&sort=bogus").status_code == 400
    empty = client.get("/rankings/parameters/?suite=smoke&q=mistral").content.decode()
    assert "No ranked model of known size matches" in empty
