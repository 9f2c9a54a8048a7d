"""Who may do what: one test per rule, for each persona.

Personas: a visitor (no account); Sam, a submitter the hub knows nothing of; Ada, an author
(the hub says she is in demo-org); Otto, a member of another organisation; Mona, a moderator;
Root, an admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from evaluations import services
from evaluations.models import Claim, ClaimSource, Submission
from evaluations.services import ClaimInput
from tests.factories import person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REPO = "demo-org/tiny"
SOURCE = "https://example.org/launch-post"


def arc(value: float = 80.0, **extra) -> dict:
    return {"benchmark": "smoke_arc", "value": value, "unit": "percent", "shots": 0, **extra}


def claim(value: float = 80.0, **extra) -> ClaimInput:
    return ClaimInput(benchmark="smoke_arc", value=value, unit="percent", shots=0, **extra)


@pytest.fixture
def ada() -> User:
    return person("ada", hub="ada", orgs=("demo-org",))


@pytest.fixture
def otto() -> User:
    return person("otto", hub="otto", orgs=("other-lab",))


@pytest.fixture
def sam() -> User:
    return person("sam")


def api(client: Client, user: User | None, body: dict):
    if user is not None:
        client.force_login(user)
    return client.post("/api/v1/claims", body, content_type="application/json")


def submit(client: Client, user: User, **claim_fields: str):
    client.force_login(user)
    data = {"repo_id": REPO, "ref": "main", "suite": "smoke", "precision": "auto"}
    data.update({f"claim-smoke_arc-{key}": value for key, value in claim_fields.items()})
    return client.post("/submit/", data)


# --- visitor -------------------------------------------------------------------------------


def test_a_visitor_reads_everything_but_cannot_submit(client: Client) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/submit/").status_code == 302
    assert client.get("/account/").status_code == 302


def test_a_visitor_cannot_post_claims(client: Client) -> None:
    response = api(client, None, {"repo_id": REPO, "claims": [arc()]})
    assert response.status_code == 401 and not Claim.objects.exists()


def test_the_service_refuses_an_anonymous_submission() -> None:
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.submission_submit(user=AnonymousUser(), repo_id=REPO, claims=[])


# --- submitter -----------------------------------------------------------------------------


def test_a_submitter_may_submit_any_public_repo(client: Client, sam: User) -> None:
    assert submit(client, sam).status_code == 302
    assert Submission.objects.get().submitted_by == sam


def test_a_submitters_scores_without_a_source_are_refused(client: Client, sam: User) -> None:
    response = submit(client, sam, value="80", unit="percent", shots="0")
    assert response.status_code == 400 and "third-party claims" in response.content.decode()
    assert not Submission.objects.exists() and not Claim.objects.exists()


def test_a_submitters_scores_with_a_source_are_third_party_and_name_him(
    client: Client, sam: User
) -> None:
    response = submit(client, sam, value="80", unit="percent", shots="0", source_url=SOURCE)
    assert response.status_code == 302
    row = Claim.objects.get()
    # Sam signed up with a password: his name is marked local, so it cannot pass for a hub
    # account or organisation of the same name.
    assert row.source == ClaimSource.THIRD_PARTY and row.reported_by == "sam (local account)"
    assert row.reporter == sam


def test_a_submitter_cannot_make_author_claims_through_the_api(client: Client, sam: User) -> None:
    response = api(client, sam, {"repo_id": REPO, "claims": [arc()]})
    assert response.status_code == 403 and "Only authors of demo-org" in response.json()["detail"]


# --- author --------------------------------------------------------------------------------


def test_an_authors_scores_are_author_claims(client: Client, ada: User) -> None:
    assert submit(client, ada, value="80", unit="percent", shots="0").status_code == 302
    row = Claim.objects.get()
    assert row.source == ClaimSource.SUBMISSION and row.reported_by == "ada"


def test_an_author_posts_and_corrects_author_claims(client: Client, ada: User) -> None:
    [first] = api(client, ada, {"repo_id": REPO, "claims": [arc(80.0)]}).json()
    response = api(client, None, {"repo_id": REPO, "claims": [arc(70.0, supersedes=first["id"])]})
    assert response.status_code == 201 and Claim.objects.current().get().value == 0.7


# --- member of another organisation ----------------------------------------------------------


def test_another_orgs_member_cannot_post_author_claims(client: Client, otto: User) -> None:
    response = api(client, otto, {"repo_id": REPO, "claims": [arc()]})
    assert response.status_code == 403 and not Claim.objects.exists()


def test_another_orgs_member_cannot_correct_an_authors_claim(ada: User, otto: User) -> None:
    [first] = services.claims_submit(user=ada, repo_id=REPO, claims=[claim(80.0)])
    with pytest.raises(PermissionDenied):
        services.claims_submit(
            user=otto,
            repo_id=REPO,
            third_party=True,
            claims=[claim(10.0, supersedes=first.id, source_url=SOURCE)],
        )
    assert Claim.objects.count() == 1


def test_nobody_corrects_someone_elses_third_party_claim(ada: User, otto: User) -> None:
    [first] = services.claims_submit(
        user=otto, repo_id=REPO, third_party=True, claims=[claim(80.0, source_url=SOURCE)]
    )
    with pytest.raises(PermissionDenied):
        services.claims_submit(
            user=ada,
            repo_id=REPO,
            third_party=True,
            claims=[claim(10.0, supersedes=first.id, source_url=SOURCE)],
        )
    fixed = services.claims_submit(
        user=otto,
        repo_id=REPO,
        third_party=True,
        claims=[claim(70.0, supersedes=first.id, source_url=SOURCE)],
    )
    assert fixed[0].supersedes_id == first.id


def test_another_orgs_member_may_report_a_third_party_claim(otto: User) -> None:
    [row] = services.claims_submit(
        user=otto, repo_id=REPO, third_party=True, claims=[claim(80.0, source_url=SOURCE)]
    )
    assert row.source == ClaimSource.THIRD_PARTY and row.reported_by == "otto"


def test_a_third_party_claim_without_a_link_is_refused(otto: User) -> None:
    with pytest.raises(ValidationError, match="needs a link"):
        services.claims_submit(user=otto, repo_id=REPO, third_party=True, claims=[claim()])


# --- moderator and admin ---------------------------------------------------------------------


def test_a_moderator_is_not_an_author_by_office(client: Client) -> None:
    mona = person("mona", moderator=True)
    assert api(client, mona, {"repo_id": REPO, "claims": [arc()]}).status_code == 403


def test_an_admin_has_the_moderators_powers(client: Client) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    client.force_login(root)
    assert client.get("/moderation/").status_code == 200
    assert client.get("/admin/").status_code == 200


def test_a_plain_user_cannot_open_the_admin(client: Client, sam: User) -> None:
    client.force_login(sam)
    assert client.get("/admin/").status_code == 302


# --- CSRF: a signed-in browser's forms and session API calls need the token -------------------


def test_a_submission_without_its_csrf_token_is_refused(sam: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(sam)
    response = client.post("/submit/", {"repo_id": REPO, "suite": "smoke", "precision": "auto"})
    assert response.status_code == 403 and not Submission.objects.exists()


def test_a_session_api_call_without_its_csrf_token_is_refused(ada: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    response = client.post(
        "/api/v1/claims", {"repo_id": REPO, "claims": [arc()]}, content_type="application/json"
    )
    assert response.status_code in (401, 403) and not Claim.objects.exists()


def test_making_a_token_without_the_csrf_token_is_refused(ada: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    assert client.post("/account/tokens/", {"name": "ci"}).status_code == 403
    assert not ada.api_tokens.exists()
