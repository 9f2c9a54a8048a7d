"""Who may moderate, and what every decision leaves on the public record."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.test import Client

from evaluations import dispatch, selectors, services
from evaluations.models import (
    EvaluationRun,
    Flag,
    FlagAction,
    FlagEvent,
    RankingEntry,
    RepoDecision,
)
from evaluations.services import discussions, moderation
from tests.factories import SHA_A, SHA_B, finished_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REASON = "The measurement was reproduced twice; the claim does not hold."


@pytest.fixture
def outsider() -> User:
    return User.objects.create_user("otto", password="pw-otto-123")


def signed_in(user: User, **kwargs: object) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def test_a_visitor_is_sent_to_sign_in(client: Client, flag: Flag) -> None:
    response = client.get("/moderation/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_signed_in_non_moderator_gets_403(outsider: User, flag: Flag) -> None:
    client = signed_in(outsider)
    assert client.get("/moderation/").status_code == 403
    assert client.get("/moderation/log/").status_code == 403
    response = client.post(f"/moderation/flags/{flag.id}/", {"action": "dismiss", "reason": REASON})
    assert response.status_code == 403
    assert not FlagEvent.objects.exclude(actor="").exists()


def test_the_service_refuses_non_moderators_whatever_the_caller(outsider: User, flag: Flag) -> None:
    with pytest.raises(PermissionDenied):
        moderation.flag_moderate(flag_id=flag.id, user=outsider, action="confirm", reason=REASON)


def test_a_moderator_sees_the_queue_with_the_evidence(moderator: User, flag: Flag) -> None:
    page = signed_in(moderator).get("/moderation/?sort=q").content.decode()
    assert f"Flag #{flag.id}" in page and "Claimed 95.0, measured 50.0" in page


def test_dismissing_needs_a_reason_and_is_public(moderator: User, flag: Flag) -> None:
    client = signed_in(moderator)
    client.post(f"/moderation/flags/{flag.id}/", {"action": "dismiss", "reason": "no"})
    assert not FlagEvent.objects.exclude(actor="").exists()
    client.post(f"/moderation/flags/{flag.id}/", {"action": "dismiss", "reason": REASON})
    decision = FlagEvent.objects.get(actor="mona")
    assert decision.state == "dismissed" and decision.reason == REASON
    assert flag.claim.repo_id not in selectors.flagged_repo_ids()
    assert selectors.moderation_queue() == []
    public = Client().get(f"/flags/{flag.id}/").content.decode()
    assert "Dismissed by a moderator" in public and REASON in public and "outranks" in public


def test_a_dismissed_flag_is_not_reopened_by_the_rule(moderator: User, flag: Flag) -> None:
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    services.flags_recompute(repo_id=flag.claim.repo_id)
    assert [e.state for e in flag.events.order_by("id")] == ["opened", "dismissed"]


def test_hiding_a_model_takes_it_out_of_the_rankings_and_is_logged(
    moderator: User, flag: Flag
) -> None:
    client = signed_in(moderator)
    client.post("/moderation/models/demo-org/tiny/visibility/", {"hidden": "on", "reason": REASON})
    ranking = Client().get("/?suite=smoke").content.decode().split("Recent runs")[0]
    assert 'href="/models/demo-org/tiny/"' not in ranking
    client.post("/moderation/models/demo-org/tiny/visibility/", {"reason": REASON})
    assert [d.action for d in RepoDecision.objects.order_by("id")] == ["hide", "unhide"]
    log = client.get("/moderation/log/").content.decode()
    assert log.count(REASON) == 2
    assert client.get("/moderation/log/?action=bogus").status_code == 400


def test_a_form_without_its_csrf_token_is_refused(moderator: User, flag: Flag) -> None:
    client = signed_in(moderator, enforce_csrf_checks=True)
    response = client.post(f"/moderation/flags/{flag.id}/", {"action": "confirm", "reason": REASON})
    assert response.status_code == 403
    assert not FlagEvent.objects.exclude(actor="").exists()


def test_moderators_sign_in_with_a_password(moderator: User) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": "mona", "password": "x"})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(
        "/accounts/login/", {"login": "mona", "password": "pw-mona-123", "next": "/moderation/"}
    )
    assert response.status_code == 302 and response["Location"] == "/moderation/"
    assert client.get("/moderation/").status_code == 200


# --- Locking a discussion, re-running a claim, the log of both --------------------------------

LOCK_REASON = "Off-topic arguing; locked until the re-run reports."


def test_it_refuses_a_lock_from_a_non_moderator(outsider: User, flag: Flag) -> None:
    with pytest.raises(PermissionDenied):
        discussions.discussion_lock_set(
            flag_id=flag.id, user=outsider, locked=True, reason=LOCK_REASON
        )
    response = signed_in(outsider).post(
        f"/moderation/flags/{flag.id}/lock/", {"locked": "on", "reason": LOCK_REASON}
    )
    assert response.status_code == 403 and not FlagAction.objects.exists()


def test_it_locks_and_unlocks_with_a_reason_on_the_record(moderator: User, flag: Flag) -> None:
    client = signed_in(moderator)
    assert (
        client.post(
            f"/moderation/flags/{flag.id}/lock/", {"locked": "on", "reason": "no"}
        ).status_code
        == 400
    )
    client.post(f"/moderation/flags/{flag.id}/lock/", {"locked": "on", "reason": LOCK_REASON})
    again = client.post(
        f"/moderation/flags/{flag.id}/lock/", {"locked": "on", "reason": LOCK_REASON}
    )
    assert again.status_code == 400 and "already locked" in again.content.decode()
    client.post(f"/moderation/flags/{flag.id}/lock/", {"reason": "Re-run reported; open again."})
    rows = [
        (a.action, a.actor, a.state_before, a.state_after)
        for a in FlagAction.objects.order_by("id")
    ]
    assert rows == [("lock", "mona", "open", "locked"), ("unlock", "mona", "locked", "open")]
    public = Client().get(f"/flags/{flag.id}/").content.decode()
    assert LOCK_REASON in public and "Discussion unlocked" in public


def test_it_refuses_a_rerun_from_a_non_moderator(outsider: User, flag: Flag) -> None:
    with pytest.raises(PermissionDenied):
        moderation.flag_rerun_queue(flag_id=flag.id, user=outsider, reason=REASON)
    response = signed_in(outsider).post(f"/moderation/flags/{flag.id}/rerun/", {"reason": REASON})
    assert response.status_code == 403
    assert EvaluationRun.objects.count() == 1 and not FlagAction.objects.exists()


def _inspect(run: EvaluationRun) -> EvaluationRun | None:
    """What a worker does first: pin the run to its commit (the original if a duplicate)."""
    assert services.run_claim(run_id=run.id, worker_name="w", task_id=f"t{run.id}")
    return services.run_record_inspection(
        run_id=run.id,
        commit_sha=SHA_A,
        files=[],
        parameter_count=1000,
        dtype="F32",
        licence="mit",
        model_type="llama",
    )


def _finish(run: EvaluationRun, value: float) -> None:
    assert _inspect(run) is None
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    assert services.run_record_results(
        run_id=run.id,
        versions={},
        artifacts=[],
        scores=[
            {
                "benchmark_key": "smoke_arc",
                "task": "smoke_arc",
                "metric": "acc",
                "filter": "none",
                "shots": 0,
                "value": value,
                "stderr": 0.05,
                "n_samples": 40,
            }
        ],
    )


def test_a_rerun_is_queued_on_commit_with_who_and_why(
    moderator: User, flag: Flag, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(dispatch, "send_run", lambda run_id, queue: sent.append((run_id, queue)))
    first = EvaluationRun.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        action = moderation.flag_rerun_queue(flag_id=flag.id, user=moderator, reason=REASON)
    run = action.run
    assert sent == [(run.id, run.queue)] and run.state == "queued" and run.deliberate_rerun
    assert run.submission.ref == first.revision.commit_sha
    assert run.submission.tasks == [{"benchmark": "smoke_arc", "shots": 0}]
    assert (action.actor, action.reason) == ("mona", REASON)
    assert action.state_before == f"measured by run #{first.id}"


def test_a_rerun_measures_an_already_measured_commit_again(moderator: User, flag: Flag) -> None:
    earlier = moderation.flag_rerun_queue(flag_id=flag.id, user=moderator, reason=REASON).run
    _finish(earlier, 0.52)  # the same commit, the same claim-matched setting, measured
    again = moderation.flag_rerun_queue(flag_id=flag.id, user=moderator, reason=REASON).run
    assert again.id != earlier.id and again.state == "queued"
    assert _inspect(again) is None  # not ended as a duplicate of the earlier re-run
    assert EvaluationRun.objects.get(id=again.id).state == "fetching"


def test_an_ordinary_submission_of_an_evaluated_commit_stays_a_duplicate(flag: Flag) -> None:
    outcome = services.submission_create(repo_id="demo-org/tiny", ref=SHA_A)
    assert outcome.reused and outcome.run == EvaluationRun.objects.order_by("id").first()
    queued = services.submission_create(repo_id="demo-org/tiny", ref="main").run
    assert _inspect(queued) == outcome.run


def test_it_refuses_a_second_rerun_while_one_is_queued(moderator: User, flag: Flag) -> None:
    client = signed_in(moderator)
    assert client.post(f"/moderation/flags/{flag.id}/rerun/", {"reason": REASON}).status_code == 302
    response = client.post(f"/moderation/flags/{flag.id}/rerun/", {"reason": REASON})
    assert response.status_code == 400 and "already queued" in response.content.decode()
    assert FlagAction.objects.count() == 1


def test_the_log_shows_and_filters_locks_and_reruns(moderator: User, flag: Flag) -> None:
    discussions.discussion_lock_set(
        flag_id=flag.id, user=moderator, locked=True, reason=LOCK_REASON
    )
    moderation.flag_rerun_queue(flag_id=flag.id, user=moderator, reason=REASON)
    moderation.flag_moderate(
        flag_id=flag.id,
        user=moderator,
        action="confirm",
        reason="Reproduced; the claim does not hold at all.",
    )
    client = signed_in(moderator)
    log = client.get("/moderation/log/").content.decode()
    assert LOCK_REASON in log and REASON in log and "open → locked" in log
    assert "Open → Confirmed by a moderator" in log
    reruns = client.get("/moderation/log/?action=rerun").content.decode()
    assert REASON in reruns and LOCK_REASON not in reruns and "run #" in reruns
    assert LOCK_REASON not in client.get("/moderation/log/?actor=someone").content.decode()


# --- A decision beside the automatic verdict, and new evidence after it -----------------------


def test_it_shows_a_dismissal_beside_the_verdict_on_the_model_page(
    moderator: User, flag: Flag
) -> None:
    before = Client().get("/models/demo-org/tiny/").content.decode()
    assert "Dismissed by a moderator" not in before and "no moderator's decision yet" in before
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    page = Client().get("/models/demo-org/tiny/").content.decode()  # the cache was bumped
    evidence = page.split('id="evidence"')[1].split("</table>")[0]
    # The public verdict follows the decision; the rule's verdict stays beside it.
    assert '<span class="badge verdict-inconclusive"' in evidence
    assert "automatic check:" in evidence
    assert "verdict-contradicted" in evidence and "severe" in evidence
    assert "dismissed by a moderator" in evidence and "Dismissed by a moderator" in evidence
    assert REASON in evidence and "(mona, " in evidence and f'href="/flags/{flag.id}/"' in evidence
    assert "outranks the automatic verdict: the flag does not stand" in evidence


def test_it_gives_the_decision_in_the_api_beside_the_verdict(moderator: User, flag: Flag) -> None:
    [row] = Client().get("/api/v1/models/demo-org/tiny/claims").json()
    assert (row["flagged"], row["decision"], row["flag_url"]) == (
        True,
        None,
        f"http://testserver/flags/{flag.id}/",
    )
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    [row] = Client().get("/api/v1/models/demo-org/tiny/claims").json()
    assert (row["verdict"], row["rule_verdict"], row["severity"]) == (
        "inconclusive",
        "contradicted",
        "severe",
    )
    assert (row["flagged"], row["decision"], row["decided_by"], row["decision_reason"]) == (
        False,
        "dismissed",
        "mona",
        REASON,
    )
    assert row["decided_at"] and not row["decision_predates_evidence"]


def test_the_evidence_csv_carries_the_decision_too(moderator: User, flag: Flag) -> None:
    def evidence() -> dict[str, str]:
        response = Client().get("/api/v1/models/demo-org/tiny/evidence.csv")
        [row] = csv.DictReader(io.StringIO(response.content.decode()))
        return row

    before = evidence()
    assert (before["flag_id"], before["flagged"], before["decision"]) == (str(flag.id), "True", "")
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    after = evidence()
    assert (after["verdict"], after["rule_verdict"], after["flagged"], after["decision"]) == (
        "inconclusive",
        "contradicted",
        "False",
        "dismissed",
    )
    assert after["decided_by"] == "mona"
    assert after["decision_reason"] == REASON and after["decision_predates_evidence"] == "False"


def test_the_page_the_api_and_the_rankings_agree_on_a_confirmed_flag(
    moderator: User, flag: Flag
) -> None:
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="confirm", reason=REASON)
    [row] = Client().get("/api/v1/models/demo-org/tiny/claims").json()
    [model] = Client().get("/api/v1/models?flagged=true").json()["items"]
    entry = RankingEntry.objects.get(repo_id=flag.claim.repo_id, precision_scope="")
    assert row["flagged"] and row["decision"] == "confirmed"
    assert entry.flagged and model["open_flag_count"] == 1
    page = Client().get("/models/demo-org/tiny/").content.decode()
    assert "confirmed by a moderator" in page and "the flag stands" in page


def test_it_shows_an_author_asked_while_no_decision_is_made(moderator: User, flag: Flag) -> None:
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="ask-author", reason=REASON)
    [row] = Client().get("/api/v1/models/demo-org/tiny/claims").json()
    assert (row["flagged"], row["decision"], row["decided_by"]) == (True, "author-asked", "mona")
    assert "No decision yet" in Client().get("/models/demo-org/tiny/").content.decode()


def test_a_flag_reopened_on_new_evidence_after_a_dismissal_returns_to_the_queue(
    moderator: User, flag: Flag
) -> None:
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    assert selectors.moderation_queue() == []
    finished_run("demo-org/tiny", sha=SHA_B, value=0.4)  # a newer commit, still contradicted
    assert [e.state for e in flag.events.order_by("id")] == ["opened", "dismissed", "opened"]
    [queued] = selectors.moderation_queue()
    assert queued.flag.id == flag.id and queued.reopened_after_decision
    assert flag.claim.repo_id in selectors.flagged_repo_ids()  # the rule's verdict stands again
    queue = signed_in(moderator).get("/moderation/").content.decode()
    assert "reopened after a decision" in queue
    [row] = Client().get("/api/v1/models/demo-org/tiny/claims").json()
    assert (row["decision"], row["decision_predates_evidence"], row["flagged"]) == (
        "dismissed",
        True,
        True,
    )
    assert "predates newer evidence" in Client().get("/models/demo-org/tiny/").content.decode()
    assert "predates newer evidence" in Client().get(f"/flags/{flag.id}/").content.decode()


def test_a_new_decision_on_the_new_evidence_takes_the_flag_out_of_the_queue_again(
    moderator: User, flag: Flag
) -> None:
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    finished_run("demo-org/tiny", sha=SHA_B, value=0.4)
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="dismiss", reason=REASON)
    assert selectors.moderation_queue() == []
    assert flag.claim.repo_id not in selectors.flagged_repo_ids()


def test_an_undecided_flag_in_the_queue_is_not_marked_reopened(flag: Flag) -> None:
    [queued] = selectors.moderation_queue()
    assert not queued.reopened_after_decision


def test_the_model_page_shows_every_hide_and_unhide_with_its_reason(
    moderator: User, flag: Flag
) -> None:
    moderation.repo_set_hidden(
        repo_id=flag.claim.repo_id,
        user=moderator,
        hidden=True,
        reason="Weights were swapped after the run; hidden.",
    )
    moderation.repo_set_hidden(
        repo_id=flag.claim.repo_id,
        user=moderator,
        hidden=False,
        reason="The author restored the evaluated weights.",
    )
    page = Client().get("/models/demo-org/tiny/").content.decode()
    history = page.split('id="moderation-history"')[1].split("</section>")[0]
    assert history.index("restored the evaluated") < history.index("Weights were swapped")
    assert "Shown in rankings again by mona" in history
    assert "Hidden from rankings by mona" in history
    assert "Hidden from the rankings by" not in page  # no hide is in force


def test_a_model_never_hidden_has_no_moderation_history(flag: Flag) -> None:
    assert 'id="moderation-history"' not in Client().get("/models/demo-org/tiny/").content.decode()
