"""The model card's text: read with the commit's inspection (README.md after its front
matter, capped at 64 KiB), stored with the revision, and shown on the model page sanitised
exactly as comments are."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from evaluations import services
from evaluations.models import Revision
from tests.factories import SHA_A, queued_run
from tests.workers.test_hub import (  # noqa: F401 - fixtures
    StandinHub,
    _isolated_client,
    standin,
    tiny_llama,
)
from workers import hub
from workers.hub.inspection import MAX_CARD_TEXT, card_body


def test_the_card_body_leaves_out_the_front_matter() -> None:
    text = "\ufeff---\nlicense: mit\nmodel-index: []\n---\n\n# Tiny\r\n\nIt is **small**.\n"
    assert card_body(text) == "# Tiny\n\nIt is **small**."
    assert card_body("No front matter here.") == "No front matter here."
    assert card_body("---\nnever closed") == "---\nnever closed"  # shown as written


def test_a_long_card_is_cut_at_64_kib_on_a_character_boundary() -> None:
    body = card_body("é" * MAX_CARD_TEXT)  # two bytes each
    assert len(body.encode()) <= MAX_CARD_TEXT and set(body) == {"é"}
    assert len(body) == MAX_CARD_TEXT // 2
    assert card_body("a\x00b") == "ab"


def test_the_inspection_reads_the_card_text(standin: StandinHub) -> None:  # noqa: F811
    standin.publish("alice/tiny", tiny_llama())
    inspection = hub.inspect_repo("alice/tiny", max_parameters=None)
    assert inspection.card_text == "# Tiny"
    assert inspection.card_data["base_model"] == "alice/base"


def test_a_repo_without_a_readme_has_no_card_text(standin: StandinHub) -> None:  # noqa: F811
    files = tiny_llama()
    del files["README.md"]
    standin.publish("alice/bare", files)
    assert hub.inspect_repo("alice/bare", max_parameters=None).card_text == ""


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


HOSTILE_CARD = """\
# A card

Some **bold** text and [a link](https://example.org/paper).

<script>alert("script")</script>
<a href="https://example.org" onclick="alert('click')">raw link</a>
<img src="x" onerror="alert('img')">
[click me](javascript:alert('link'))
![tracker](https://evil.example/pixel.png)
"""


@pytest.mark.django_db
@pytest.mark.usefixtures("no_broker")
def test_the_model_page_shows_the_card_sanitised(client: Client) -> None:
    run = queued_run("demo-org/tiny")
    assert services.run_claim(run_id=run.id, worker_name="worker-1", task_id="task-1")
    services.run_record_inspection(
        run_id=run.id,
        commit_sha=SHA_A,
        files=[],
        parameter_count=1000,
        dtype="F32",
        licence="mit",
        model_type="llama",
        card_text=HOSTILE_CARD,
    )
    assert Revision.objects.get().card_text == HOSTILE_CARD
    page = client.get("/models/demo-org/tiny/").content.decode()
    card = page.split('<section class="card" id="model-card">')[1].split("</section>")[0]
    assert "<details>" in card and "Model card" in card
    assert "<strong>bold</strong>" in card
    assert 'href="https://example.org/paper" rel="nofollow noopener"' in card
    tags = Elements()
    tags.feed(card)
    assert not {"script", "img"} & {tag for tag, _ in tags.found}
    attributes = [(name, value or "") for _, attrs in tags.found for name, value in attrs]
    assert not [name for name, _ in attributes if name.startswith("on")]
    assert not [value for _, value in attributes if "javascript:" in value.lower()]
    assert "&lt;script&gt;" in card  # raw HTML is shown as text, never run


@pytest.mark.django_db
@pytest.mark.usefixtures("no_broker")
def test_a_model_without_a_card_has_no_card_section(client: Client) -> None:
    run = queued_run("demo-org/tiny")
    assert services.run_claim(run_id=run.id, worker_name="worker-1", task_id="task-1")
    services.run_record_inspection(
        run_id=run.id,
        commit_sha=SHA_A,
        files=[],
        parameter_count=None,
        dtype=None,
        licence=None,
        model_type=None,
    )
    assert 'id="model-card"' not in client.get("/models/demo-org/tiny/").content.decode()
