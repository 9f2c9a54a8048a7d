"""What an endpoint check concludes from its evidence: a failed pre-flight is "misconfigured"
before anything else; a rejecting equality test or a score interval that excludes zero is
"differs"; too little evidence is "inconclusive"; otherwise "consistent"."""

from __future__ import annotations

from typing import Any

from evaluations.endpoint_verdict import endpoint_verdict

PASSED = [{"key": "sampling", "title": "Sampling parameters honoured", "passed": True}]
UNSURE = [{"key": "chat-template", "title": "Chat template", "passed": None}]
FAILED = [{"key": "sampling", "title": "Sampling parameters honoured", "passed": False}]


def mmd(p_value: float) -> dict[str, Any]:
    return {"statistic": 0.01, "p_value": p_value, "prompts": 25}


def score(difference: float, half_width: float, n: int = 40) -> dict[str, Any]:
    return {
        "display_name": "Smoke ARC",
        "difference": difference,
        "half_width_95": half_width,
        "n": n,
    }


def verdict(**evidence: Any) -> tuple[str, str]:
    arguments: dict[str, Any] = {"preflight": PASSED, "mmd": mmd(0.5), "scores": [], "error": ""}
    return endpoint_verdict(**{**arguments, **evidence}, alpha=0.05, min_items=10)


def test_it_is_consistent_when_nothing_tells_them_apart() -> None:
    found, summary = verdict(preflight=PASSED + UNSURE, scores=[score(0.01, 0.05)])
    assert found == "consistent" and "p = 0.500" in summary


def test_it_differs_when_the_equality_test_rejects() -> None:
    found, summary = verdict(mmd=mmd(0.001))
    assert found == "differs" and "equality test rejects" in summary


def test_it_differs_when_a_paired_interval_excludes_zero() -> None:
    found, summary = verdict(scores=[score(-0.2, 0.05)])
    assert found == "differs" and "-20.0 points" in summary and "40 items" in summary


def test_a_failed_preflight_is_misconfigured_not_another_model() -> None:
    found, summary = verdict(preflight=FAILED, mmd=mmd(0.0001), scores=[score(-0.2, 0.05)])
    assert found == "misconfigured" and "Sampling parameters honoured" in summary


def test_too_little_evidence_is_inconclusive() -> None:
    assert verdict(mmd=None, error="the endpoint answered 401")[0] == "inconclusive"
    assert verdict(scores=[score(0.0, 0.1, n=3)])[0] == "inconclusive"
    # A few items with a wide gap prove nothing either.
    assert verdict(scores=[score(-0.5, 0.1, n=3)])[0] == "inconclusive"
