"""Claims, the flags the rule raises on them, and their history, through the services."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evaluations import services
from evaluations.evidence.matching import claim_evidence
from evaluations.models import Claim, FlagEvent, Submission
from evaluations.services import ClaimInput
from tests.factories import SHA_A, SHA_B, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REPO = "demo-org/tiny"


def claim(value: float, unit: str = "percent", shots: int | None = 0, **kwargs) -> ClaimInput:
    return ClaimInput(benchmark="smoke_arc", value=value, unit=unit, shots=shots, **kwargs)


def record(*claims: ClaimInput, **kwargs) -> list[Claim]:
    return services.claims_record(repo_id=REPO, claims=claims, source="submission", **kwargs)


def events(claim: Claim) -> list[tuple[str, str]]:
    return [(e.state, e.severity) for e in FlagEvent.objects.filter(flag__claim=claim)]


def test_an_over_claim_is_flagged_with_the_measured_value_in_words() -> None:
    run = finished_run(REPO, value=0.5)  # measured 50.0, standard error 5.0 on 40 items
    [over] = record(claim(95.0))
    [event] = FlagEvent.objects.filter(flag__claim=over)
    assert event.state == "opened" and event.severity == "severe" and event.run_id == run.id
    assert "Claimed 95.0, measured 50.0, standard error 5.0" in event.reason
    assert event.evidence["measured"] == 0.5 and event.evidence["p_holm"] < 0.01


def test_a_claim_equal_to_the_measurement_is_not_flagged() -> None:
    finished_run(REPO, value=0.5)
    [held] = record(claim(0.5, unit="fraction"))
    assert events(held) == []
    [row] = claim_evidence(held.repo_id)
    assert row.verdict == "inconclusive"


def test_percent_and_fraction_are_stored_as_the_same_fraction() -> None:
    a, b = record(claim(72.5), claim(0.725, unit="fraction"))
    assert a.value == pytest.approx(b.value) and a.value == pytest.approx(0.725)
    assert a.typed_value == "72.5" and a.unit == "percent"


def test_a_claim_in_another_setting_is_not_comparable_and_gets_a_claim_matched_run() -> None:
    finished_run(REPO, sha=SHA_A, value=0.5)
    [other] = record(claim(90.0, shots=5))
    [row] = claim_evidence(other.repo_id)
    assert row.verdict == "pending" and row.not_comparable_reason == (
        "claimed 5-shot, measured 0-shot"
    )
    assert events(other) == []
    matched = Submission.objects.get(tasks=[{"benchmark": "smoke_arc", "shots": 5}])
    assert matched.ref == SHA_A and matched.runs.get().state == "queued"
    record(claim(91.0, shots=5))  # a second claim in that setting: no second run
    assert Submission.objects.filter(tasks=[{"benchmark": "smoke_arc", "shots": 5}]).count() == 1


@pytest.mark.parametrize(
    "claim_input, reason",
    [
        (
            ClaimInput(benchmark="", label="KoBEST", value=0.5, unit="fraction", shots=0),
            "not a benchmark in the catalogue",
        ),
        (claim(50.0, shots=None), "shots was not stated"),
        (claim(50.0, chain_of_thought=True), "chain-of-thought"),
        (claim(50.0, metric="acc_norm"), "claimed acc_norm, measured acc"),
    ],
)
def test_claims_we_cannot_measure_are_shown_as_not_comparable(claim_input, reason) -> None:
    finished_run(REPO, value=0.5)
    [stored] = record(claim_input)
    [row] = claim_evidence(stored.repo_id)
    assert row.verdict == "not comparable" and reason in row.not_comparable_reason
    assert not row.needs_run and events(stored) == []


def test_a_correction_supersedes_and_both_stay() -> None:
    finished_run(REPO, value=0.5)
    [first] = record(claim(95.0))
    [fixed] = record(claim(51.0, supersedes=first.id))
    assert Claim.objects.count() == 2 and fixed.supersedes_id == first.id
    assert [c.id for c in Claim.objects.current()] == [fixed.id]
    assert events(first) == [("opened", "severe"), ("resolved", "")]
    with pytest.raises(ValidationError):  # only the latest version can be corrected
        record(claim(52.0, supersedes=first.id))


def test_a_newer_revision_resolves_the_flag_and_a_worse_one_reopens_it() -> None:
    finished_run(REPO, sha=SHA_A, value=0.5)
    [over] = record(claim(90.0))
    finished_run(REPO, sha=SHA_B, value=0.9)
    services.flags_recompute(repo_id=over.repo_id)
    assert events(over)[-1] == ("resolved", "")
    assert (
        FlagEvent.objects.filter(flag__claim=over)
        .last()
        .reason.startswith("Resolved by a newer revision.")
    )
    finished_run(REPO, sha="c" * 40, value=0.4)
    services.flags_recompute(repo_id=over.repo_id)
    assert [state for state, _ in events(over)] == ["opened", "resolved", "reopened"]


def test_recomputing_twice_adds_no_event() -> None:
    finished_run(REPO, value=0.5)
    [over] = record(claim(95.0))
    services.flags_recompute(repo_id=over.repo_id)
    services.flags_recompute(repo_id=over.repo_id)
    assert len(events(over)) == 1


@pytest.mark.parametrize(
    "bad",
    [
        claim(120.0),
        claim(1.5, unit="fraction"),
        claim(50.0, stated_stderr=-1.0),
        ClaimInput(benchmark="nope", value=0.5),
        claim(50.0, unit="parsecs"),
        claim(50.0, shots=500),
    ],
)
def test_it_refuses_impossible_claims(bad: ClaimInput) -> None:
    with pytest.raises(ValidationError):
        record(bad)
    assert not Claim.objects.exists()
