"""API tokens (made, used, revoked; stored hashed) and the rate limits an operator sets."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from evaluations.models import ApiToken, Claim, Submission
from tests.factories import person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REPO = "demo-org/tiny"


def arc(value: float = 80.0) -> dict:
    return {"benchmark": "smoke_arc", "value": value, "unit": "percent", "shots": 0}


@pytest.fixture
def ada() -> User:
    return person("ada", hub="ada", orgs=("demo-org",))


def make_token(client: Client, user: User, name: str = "release CI") -> str:
    client.force_login(user)
    response = client.post("/account/tokens/", {"name": name}, follow=True)
    page = response.content.decode()
    start = page.index('<pre class="token" tabindex="0">') + len('<pre class="token" tabindex="0">')
    return page[start : page.index("</pre>", start)]


def post_with_token(token: str, body: dict):
    return Client().post(
        "/api/v1/claims",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_token_is_shown_once_and_only_its_digest_is_kept(client: Client, ada: User) -> None:
    token = make_token(client, ada)
    row = ApiToken.objects.get()
    assert token.startswith("cc_") and token not in (row.digest, row.prefix)
    assert token.startswith(row.prefix)
    assert token not in client.get("/account/").content.decode(), "shown once only"


def test_an_author_posts_claims_with_a_token(client: Client, ada: User) -> None:
    token = make_token(client, ada)
    response = post_with_token(token, {"repo_id": REPO, "claims": [arc()]})
    assert response.status_code == 201 and Claim.objects.get().reporter == ada
    assert ApiToken.objects.get().last_used_at is not None


def test_a_revoked_or_wrong_token_gets_401(client: Client, ada: User) -> None:
    token = make_token(client, ada)
    client.post(f"/account/tokens/{ApiToken.objects.get().id}/revoke/")
    assert ApiToken.objects.get().revoked_at is not None, "revoked, and the row stays"
    assert post_with_token(token, {"repo_id": REPO, "claims": [arc()]}).status_code == 401
    assert post_with_token("cc_made-up", {"repo_id": REPO, "claims": [arc()]}).status_code == 401
    assert not Claim.objects.exists()


def test_nobody_revokes_someone_elses_token(client: Client, ada: User) -> None:
    make_token(client, ada)
    client.force_login(person("otto"))
    response = client.post(f"/account/tokens/{ApiToken.objects.get().id}/revoke/")
    assert response.status_code == 403 and ApiToken.objects.get().revoked_at is None


def test_a_token_needs_a_name(client: Client, ada: User) -> None:
    client.force_login(ada)
    page = client.post("/account/tokens/", {"name": "  "}, follow=True).content.decode()
    assert "Give the token a name" in page and not ApiToken.objects.exists()


def submit(client: Client, repo_id: str = REPO):
    return client.post(
        "/submit/", {"repo_id": repo_id, "ref": "main", "suite": "smoke", "precision": "auto"}
    )


def test_submissions_past_the_weekly_limit_get_429_then_reset(client: Client, settings) -> None:
    settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK = 2
    client.force_login(person("sam"))
    assert submit(client, "demo-org/a").status_code == 302
    assert submit(client, "demo-org/b").status_code == 302
    response = submit(client, "demo-org/c")
    assert response.status_code == 429 and "at most 2 a week" in response.content.decode()
    assert 6 * 86400 < int(response["Retry-After"]) <= 7 * 86400
    assert Submission.objects.count() == 2
    # A week later the oldest submissions have left the window.
    Submission.objects.update(submitted_at=timezone.now() - timedelta(days=8))
    assert submit(client, "demo-org/c").status_code == 302


def test_an_organisations_weekly_limit_counts_its_authors_submissions(
    client: Client, settings
) -> None:
    settings.RATE_LIMIT_SUBMISSIONS_PER_ORG_WEEK = 1
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    assert submit(client, "demo-org/a").status_code == 302
    client.force_login(person("bea", hub="bea", orgs=("demo-org",)))
    response = submit(client, "demo-org/b")
    assert response.status_code == 429 and "repos by its authors" in response.content.decode()
    assert submit(client, "other-lab/b").status_code == 302


def test_outsiders_cannot_use_up_an_organisations_quota(client: Client, settings) -> None:
    settings.RATE_LIMIT_SUBMISSIONS_PER_ORG_WEEK = 1
    client.force_login(person("sam"))
    assert [submit(client, f"demo-org/m{i}").status_code for i in range(2)] == [302] * 2
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    assert submit(client, "demo-org/mine").status_code == 302


def test_the_allow_list_lifts_the_limits(client: Client, settings) -> None:
    settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK = 1
    settings.RATE_LIMIT_ALLOW_LIST = ["trusted-evaluator"]
    client.force_login(person("sam", hub="trusted-evaluator"))
    assert [submit(client, f"demo-org/m{i}").status_code for i in range(3)] == [302] * 3


def test_a_local_account_named_like_an_allow_listed_hub_account_is_limited(
    client: Client, settings
) -> None:
    settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK = 1
    settings.RATE_LIMIT_ALLOW_LIST = ["trusted-evaluator", "demo-org"]
    client.force_login(person("trusted-evaluator"))  # e-mail and password, no hub sign-in
    assert [submit(client, f"demo-org/m{i}").status_code for i in range(2)] == [302, 429]
    client.force_login(person("demo-org"))
    assert [submit(client, f"demo-org/n{i}").status_code for i in range(2)] == [302, 429]


def test_the_allow_list_names_local_accounts_explicitly(client: Client, settings) -> None:
    settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK = 1
    settings.RATE_LIMIT_ALLOW_LIST = ["user:ci-bot"]
    client.force_login(person("ci-bot"))
    assert [submit(client, f"demo-org/m{i}").status_code for i in range(3)] == [302] * 3


def test_an_allow_listed_org_lifts_its_authors_limits_not_outsiders(
    client: Client, settings
) -> None:
    settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK = 1
    settings.RATE_LIMIT_ALLOW_LIST = ["demo-org"]
    client.force_login(person("ada", hub="ada", orgs=("demo-org",)))
    assert [submit(client, f"demo-org/m{i}").status_code for i in range(3)] == [302] * 3
    client.force_login(person("otto", hub="otto", orgs=("other-lab",)))
    assert [submit(client, f"demo-org/n{i}").status_code for i in range(2)] == [302, 429]


def test_claims_past_the_daily_limit_get_429_with_retry_after(
    client: Client, ada: User, settings
) -> None:
    settings.RATE_LIMIT_CLAIMS_PER_DAY = 2
    token = make_token(client, ada)
    assert post_with_token(token, {"repo_id": REPO, "claims": [arc(), arc(70)]}).status_code == 201
    response = post_with_token(token, {"repo_id": REPO, "claims": [arc(60)]})
    assert response.status_code == 429 and "at most 2 a day" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= 86400 and Claim.objects.count() == 2


def test_sign_in_attempts_past_the_limit_get_429(client: Client, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"login": "4/m/ip", "login_failed": "10/m/ip,10/5m/key"}
    person("mona")
    statuses = [
        client.post("/accounts/login/", {"login": "mona", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    assert statuses == [200] * 4 + [429]
    response = client.post("/accounts/login/", {"login": "mona", "password": "pw-mona-123"})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_lock_the_account_for_a_while(client: Client, settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {"login": "100/m/ip", "login_failed": "100/m/ip,3/5m/key"}
    person("mona")
    for _ in range(3):
        client.post("/accounts/login/", {"login": "mona", "password": "wrong"})
    page = client.post("/accounts/login/", {"login": "mona", "password": "pw-mona-123"})
    assert "Too many failed login attempts" in page.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_parallel_submissions_cannot_both_slip_under_the_limit(settings) -> None:
    """Sam's second submission starts while his first is counted and inserted but not yet
    committed: it waits for the first to commit, counts it and is refused."""
    import threading

    from django.db import connection, transaction

    from evaluations.services import submission_submit
    from evaluations.services.limits import RateLimited

    settings.RATE_LIMIT_SUBMISSIONS_PER_USER_WEEK = 1
    sam = person("sam")
    first_inserted, outcomes = threading.Event(), []

    def first() -> None:
        with transaction.atomic():
            submission_submit(user=sam, claims=[], repo_id="demo-org/a", suite="smoke")
            first_inserted.set()
            threading.Event().wait(0.5)  # still uncommitted while the second one counts
        connection.close()

    def second() -> None:
        first_inserted.wait(10)
        try:
            submission_submit(user=sam, claims=[], repo_id="demo-org/b", suite="smoke")
            outcomes.append("accepted")
        except RateLimited:
            outcomes.append("refused")
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert outcomes == ["refused"] and Submission.objects.count() == 1


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the shared cache needs REDIS_URL")
def test_sign_in_limits_hold_across_web_processes(
    client: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.cache import caches
    from django.core.cache.backends import locmem

    settings.ACCOUNT_RATE_LIMITS = {"login": "4/m/ip", "login_failed": "10/m/ip,10/5m/key"}
    person("mona")
    for _ in range(4):
        client.post("/accounts/login/", {"login": "mona", "password": "wrong"})
    # The next attempt reaches another gunicorn worker: its memory caches start empty.
    monkeypatch.setattr(locmem, "_caches", {})
    monkeypatch.setattr(locmem, "_locks", {})
    for alias in settings.CACHES:
        del caches[alias]
    response = client.post("/accounts/login/", {"login": "mona", "password": "wrong"})
    assert response.status_code == 429


def test_a_request_without_a_token_gets_401_about_the_token() -> None:
    # CSRF is enforced as in a browser: no session cookie, no CSRF cookie, no token.
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/claims", {"repo_id": REPO, "claims": [arc()]}, content_type="application/json"
    )
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"] == "Bearer"
    assert "API token" in response.json()["detail"] and "CSRF" not in response.json()["detail"]


def test_a_wrong_token_gets_401_saying_the_token_is_not_valid() -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/claims",
        {"repo_id": REPO, "claims": [arc()]},
        content_type="application/json",
        headers={"Authorization": "Bearer cc_made-up"},
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "token is not valid" in response.json()["detail"] and not Claim.objects.exists()


def test_a_signed_in_session_without_the_csrf_token_is_still_refused(ada: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ada)
    response = browser.post(
        "/api/v1/claims", {"repo_id": REPO, "claims": [arc()]}, content_type="application/json"
    )
    assert response.status_code == 403 and not Claim.objects.exists()
