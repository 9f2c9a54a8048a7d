"""The rows of a model page's "Claimed vs measured" table, built by ``{% evidence_rows %}``:
what each claim says about itself, escaped, and the rarer parts (a hub result's origin, the
forms to correct a claim) rendered from their partials.

Persona: Eve, a hostile reporter, whose texts are markup.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template import engines
from django.test import RequestFactory

from evaluations.evidence.matching import ClaimEvidence
from evaluations.models import Claim, ClaimSource

pytestmark = [pytest.mark.django_db]
ROWS = engines["django"].from_string(
    "{% load evidence_table %}{% evidence_rows evidence refusal correctable %}"
)


def render(rows: list[ClaimEvidence], *, refusal: object = None, correctable: object = ()) -> str:
    request = RequestFactory().get("/models/demo-org/tiny/")
    context = {"evidence": rows, "refusal": refusal, "correctable": correctable}
    return ROWS.render(context, request)


def eves_claim(**fields: object) -> Claim:
    values = {
        "id": 7,
        "label": "ARC <b>hard</b>",
        "typed_value": "95 <%>",
        "shots": None,
        "chat_template": True,
        "chain_of_thought": True,
        "source": ClaimSource.THIRD_PARTY,
        "source_url": 'https://example.org/?a=1&b="2"',
        "reported_by": "Eve <script>",
        "inherited_from": "base-lab/<base>",
    }
    return Claim(**{**values, **fields})


def test_a_claim_row_says_where_the_claim_comes_from_and_escapes_every_text() -> None:
    html = render([ClaimEvidence(claim=eves_claim())])

    assert "<td>ARC &lt;b&gt;hard&lt;/b&gt;</td>" in html
    assert "<td>shots?, chat template, CoT</td>" in html
    assert "95 &lt;%&gt; <br>" in html  # no value in [0, 1]: the claim as typed
    assert 'href="https://example.org/?a=1&amp;b=&quot;2&quot;" rel="nofollow noopener"' in html
    assert ", by Eve &lt;script&gt;; inherited from base-lab/&lt;base&gt;</small>" in html
    assert "<script>" not in html and "<b>" not in html
    assert html.count("<td>–</td>") == 5  # nothing measured: no score, gap, z, p or tolerance
    assert 'data-verdict="not comparable"' in html and "verdict-not-comparable" in html


def test_a_hub_result_names_its_dataset_and_the_pull_request_it_came_from() -> None:
    claim = eves_claim(
        source=ClaimSource.EVAL_RESULTS,
        source_url="",
        dataset_id="cais/<mmlu>",
        source_ref="refs/pr/3",
        value=0.5,
        shots=5,
    )

    html = render([ClaimEvidence(claim=claim)])

    assert "<strong>50.0</strong> <br>" in html and "5-shot" in html
    assert "hub benchmark <code>cais/&lt;mmlu&gt;</code>" in html
    assert "community-provided, from an open pull request (refs/pr/3)" in html


def test_a_refused_repo_says_why_its_claims_are_pending() -> None:
    refusal = SimpleNamespace(id=12, error_reason="It is larger than <every> worker.")

    comparable = eves_claim(benchmark="smoke_arc", metric="acc", filter="none", value=0.9, shots=0)
    comparable.chain_of_thought = False

    html = render([ClaimEvidence(claim=comparable)], refusal=refusal)

    assert 'data-verdict="pending"' in html
    assert "Pending: not measured, because the repo was refused in" in html
    assert '<a href="/runs/12/">run #12</a>: It is larger than &lt;every&gt; worker.' in html


def test_the_forms_to_correct_a_claim_are_offered_only_for_correctable_claims() -> None:
    claim = eves_claim()

    offered = render([ClaimEvidence(claim=claim)], correctable={claim.id})
    withheld = render([ClaimEvidence(claim=claim)], correctable=set())

    assert "Correct or withdraw this claim" in offered
    assert 'action="/claims/7/correct/"' in offered and 'action="/claims/7/withdraw/"' in offered
    assert 'name="csrfmiddlewaretoken"' in offered
    assert "Correct or withdraw this claim" not in withheld
