"""The discussion under a flag: who may post what, what everyone sees, and e-mail to authors.

Personas: a visitor (no account), Uma (a signed-in user), Ada (the repo's author: the hub
said at her sign-in that she belongs to demo-org) and Mona (a moderator).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from evaluations.models import Comment, Flag
from evaluations.services import discussions, moderation
from tests.factories import arc_claim, model_run, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker")]
REASON = "Personal attacks instead of evidence; locked for a cooling-off day."
NOTE = "Internal: the submitter emailed privately about a tokenizer bug."


@pytest.fixture
def user() -> User:
    return User.objects.create_user("uma", password="pw-uma-123")


@pytest.fixture
def author() -> User:
    return person("ada", hub="ada", orgs=("demo-org",))


def signed_in(user: User, **kwargs: object) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def post(client: Client, flag: Flag, body: str, **extra: str) -> object:
    return client.post(f"/flags/{flag.id}/comments/", {"body": body, **extra})


def thread(client: Client, flag: Flag) -> str:
    """The discussion part of the flag page as ``client`` sees it."""
    page = client.get(f"/flags/{flag.id}/").content.decode()
    return page.split('id="discussion"')[1]


# --- Who may post ---------------------------------------------------------------------------


def test_it_shows_a_visitor_the_thread_and_a_sign_in_link(flag: Flag, user: User) -> None:
    discussions.comment_post(flag_id=flag.id, user=user, body="Measured on *which* commit?")
    page = thread(Client(), flag)
    assert "<em>which</em>" in page and "Sign in</a> to join" in page
    assert "<textarea" not in page


def test_it_sends_a_visitor_who_posts_to_sign_in(flag: Flag) -> None:
    response = post(Client(), flag, "hello")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Comment.objects.exists()


def test_it_refuses_a_visitor_in_the_service(flag: Flag) -> None:
    with pytest.raises(PermissionDenied):
        discussions.comment_post(flag_id=flag.id, user=AnonymousUser(), body="hello")


def test_it_lets_a_signed_in_user_comment_as_a_plain_user(flag: Flag, user: User) -> None:
    response = post(signed_in(user), flag, "I get **51%** locally too.")
    comment = Comment.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{comment.id}")
    assert (comment.user_name, comment.role, comment.internal) == ("uma", "user", False)
    assert "<strong>51%</strong>" in thread(Client(), flag)


def test_it_marks_the_authors_comment_as_the_authors_reply(flag: Flag, author: User) -> None:
    post(signed_in(author), flag, "The card reports 25-shot; we will correct it.")
    assert Comment.objects.get().role == "author"
    assert "author's reply" in thread(Client(), flag)


def test_it_never_lets_a_plain_user_post_as_the_author(flag: Flag, user: User) -> None:
    post(signed_in(user), flag, "I am the author, trust me.", role="author")
    assert Comment.objects.get().role == "user"
    assert "reply" not in thread(Client(), flag).split('class="comments"')[1].split("</ol>")[0]


def test_it_shows_a_moderators_comment_with_the_moderator_role(flag: Flag, moderator: User) -> None:
    post(signed_in(moderator), flag, "Please keep to the numbers.")
    assert Comment.objects.get().role == "moderator"
    assert "badge-role-moderator" in thread(Client(), flag)


# --- Internal notes -------------------------------------------------------------------------


def test_it_keeps_internal_notes_from_visitors_and_users(
    flag: Flag, moderator: User, user: User
) -> None:
    post(signed_in(moderator), flag, NOTE, internal="on")
    assert Comment.objects.get().internal
    assert "tokenizer bug" not in Client().get(f"/flags/{flag.id}/").content.decode()
    assert "tokenizer bug" not in signed_in(user).get(f"/flags/{flag.id}/").content.decode()
    api = Client().get("/api/v1/models/demo-org/tiny/flags").content.decode()
    assert "tokenizer bug" not in api


def test_it_shows_internal_notes_to_moderators_on_the_page_and_in_the_log(
    flag: Flag, moderator: User
) -> None:
    client = signed_in(moderator)
    post(client, flag, NOTE, internal="on")
    assert "tokenizer bug" in thread(client, flag) and "moderators only" in thread(client, flag)
    log = client.get("/moderation/log/?action=internal-note").content.decode()
    assert "tokenizer bug" in log and f"flag #{flag.id}" in log


def test_it_refuses_an_internal_note_from_a_plain_user(flag: Flag, user: User) -> None:
    response = post(signed_in(user), flag, NOTE, internal="on")
    assert response.status_code == 403 and not Comment.objects.exists()
    with pytest.raises(PermissionDenied):
        discussions.comment_post(flag_id=flag.id, user=user, body=NOTE, internal=True)


def test_it_refuses_an_internal_note_from_the_author(flag: Flag, author: User) -> None:
    assert post(signed_in(author), flag, NOTE, internal="on").status_code == 403
    assert not Comment.objects.exists()


# --- Locked discussions ---------------------------------------------------------------------


def test_it_refuses_a_plain_users_comment_in_a_locked_thread(
    flag: Flag, moderator: User, user: User
) -> None:
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    response = post(signed_in(user), flag, "Still disagree.")
    page = response.content.decode()
    assert response.status_code == 403 and not Comment.objects.exists()
    assert "The discussion is locked by a moderator" in page and "cooling-off" in page


def test_it_refuses_the_authors_comment_in_a_locked_thread(
    flag: Flag, moderator: User, author: User
) -> None:
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    assert post(signed_in(author), flag, "Our answer.").status_code == 403
    assert not Comment.objects.exists()


def test_it_lets_moderators_post_in_a_locked_thread(flag: Flag, moderator: User) -> None:
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    assert post(signed_in(moderator), flag, "Locked; see the reason above.").status_code == 302
    assert Comment.objects.count() == 1


def test_it_tells_everyone_a_thread_is_locked_and_why(
    flag: Flag, moderator: User, user: User
) -> None:
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    for client in (Client(), signed_in(user)):
        page = thread(client, flag)
        assert "Locked</strong> by mona" in page and "cooling-off" in page
        assert "<textarea" not in page


def test_it_opens_the_thread_again_after_an_unlock(flag: Flag, moderator: User, user: User) -> None:
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    discussions.discussion_lock_set(
        flag_id=flag.id, user=moderator, locked=False, reason="Calmer now; open again for evidence."
    )
    assert post(signed_in(user), flag, "Thanks.").status_code == 302


# --- What a comment may contain -------------------------------------------------------------

XSS = [
    ("<script>alert(1)</script>", "<script"),
    ('<img src=x onerror="alert(1)">', "<img"),
    ("[click](javascript:alert(1))", 'href="javascript'),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "<a href"),
    ("[click](JaVaScRiPt:alert(1))", 'href="JaVaScRiPt'),
    ("[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", 'href="data:'),
    ("![x](data:image/svg+xml,<svg onload=alert(1)>)", "<svg"),
    ("[e](jav&#x61;script:alert(1))", 'href="javascript'),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script"),
    ('<div style="background:url(javascript:alert(1))">x</div>', "<div"),
]


@pytest.mark.parametrize(("payload", "forbidden"), XSS)
def test_it_renders_script_payloads_inert(
    flag: Flag, user: User, payload: str, forbidden: str
) -> None:
    assert post(signed_in(user), flag, payload).status_code == 302
    comments = thread(Client(), flag).split('class="comments"')[1].split("</ol>")[0]
    body = comments.split('class="comment-body">')[1].split("</div>")[0]
    assert forbidden.lower() not in body.lower()
    assert not re.search(r"<[a-z]+[^>]*\son\w+=", body, re.IGNORECASE)


def test_it_keeps_safe_links_and_marks_them_nofollow(flag: Flag, user: User) -> None:
    post(signed_in(user), flag, "See [the card](https://huggingface.co/demo-org/tiny).")
    assert (
        '<a href="https://huggingface.co/demo-org/tiny" rel="nofollow noopener">the card</a>'
        in thread(Client(), flag)
    )


def test_it_refuses_an_oversized_comment_with_a_form_error(flag: Flag, user: User) -> None:
    response = post(signed_in(user), flag, "x" * 10_001)
    assert response.status_code == 400 and not Comment.objects.exists()
    assert "Keep a comment under 10,000 characters" in response.content.decode()


def test_it_refuses_an_empty_comment(flag: Flag, user: User) -> None:
    response = post(signed_in(user), flag, "   ")
    assert response.status_code == 400 and "Write something" in response.content.decode()


def test_it_refuses_a_nul_character_before_the_form(flag: Flag, user: User) -> None:
    response = signed_in(user).post(
        f"/flags/{flag.id}/comments/",
        "body=a%00b",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400 and not Comment.objects.exists()
    assert "NUL character" in response.content.decode()  # the middleware's 400


def test_it_survives_malformed_utf8_in_the_form(flag: Flag, user: User) -> None:
    response = signed_in(user).post(
        f"/flags/{flag.id}/comments/",
        "body=a%ED%A0%80b%FF",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code in (302, 400)


def test_the_service_refuses_lone_surrogates_and_nul(flag: Flag, user: User) -> None:
    for body in ("half a pair \ud800 here", "nul \x00 here"):
        with pytest.raises(ValidationError):
            discussions.comment_post(flag_id=flag.id, user=user, body=body)
    assert not Comment.objects.exists()


def test_it_refuses_a_comment_without_its_csrf_token(flag: Flag, user: User) -> None:
    response = post(signed_in(user, enforce_csrf_checks=True), flag, "hello")
    assert response.status_code == 403 and not Comment.objects.exists()


def test_it_answers_a_comment_on_a_missing_flag_with_404(user: User) -> None:
    assert signed_in(user).post("/flags/999999/comments/", {"body": "x"}).status_code == 404


# --- E-mail to authors ----------------------------------------------------------------------


@pytest.fixture
def author_address(author: User) -> str:
    person("otto", hub="otto", orgs=("other-lab",))  # an author elsewhere: never written to
    return author.email


def test_it_writes_to_the_authors_when_a_flag_opens(
    author_address: str, django_capture_on_commit_callbacks
) -> None:
    model_run("tiny", 0.5)
    with django_capture_on_commit_callbacks(execute=True):
        arc_claim("tiny", 95.0)
    flag = Flag.objects.get()
    [message] = mail.outbox
    assert message.to == [author_address] and "demo-org/tiny" in message.subject
    assert f"/flags/{flag.id}/" in message.body and "95" in message.body


def test_it_writes_nothing_when_the_transaction_rolls_back(author_address: str) -> None:
    model_run("tiny", 0.5)
    arc_claim("tiny", 95.0)  # the test's transaction never commits
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("action", "words"),
    [("confirm", "confirmed"), ("dismiss", "dismissed"), ("ask-author", "asks you")],
)
def test_it_writes_to_the_authors_when_a_moderator_decides(
    flag: Flag,
    moderator: User,
    author_address: str,
    action: str,
    words: str,
    django_capture_on_commit_callbacks,
) -> None:
    reason = "The measurement was reproduced twice; please explain the gap."
    with django_capture_on_commit_callbacks(execute=True):
        moderation.flag_moderate(flag_id=flag.id, user=moderator, action=action, reason=reason)
    [message] = mail.outbox
    assert words in message.subject and reason in message.body and "mona" in message.body


def test_it_writes_to_nobody_when_the_repo_has_no_known_author(
    moderator: User, django_capture_on_commit_callbacks
) -> None:
    model_run("tiny", 0.5)
    with django_capture_on_commit_callbacks(execute=True):
        arc_claim("tiny", 95.0)
    assert mail.outbox == []


# --- The audit log: the rule's changes too, filtered and paged --------------------------------


def test_the_log_lists_the_rules_flag_changes_as_the_automatic_check(
    flag: Flag, moderator: User
) -> None:
    model_run("tiny", 0.95)  # a newer commit measures what was claimed: the flag resolves
    moderation.flag_moderate(
        flag_id=flag.id,
        user=moderator,
        action="confirm",
        reason="Reproduced by hand; the claim does not hold at all.",
    )
    client = signed_in(moderator)
    opened = client.get("/moderation/log/?action=opened").content.decode()
    assert f"flag #{flag.id}" in opened and "automatic check" in opened and "1–1 of 1" in opened
    resolved = client.get("/moderation/log/?action=resolved").content.decode()
    assert "Resolved by a newer revision" in resolved and "Open → Resolved" in resolved
    rule = client.get("/moderation/log/?actor=automatic+check").content.decode()
    assert "1–2 of 2" in rule and "does not hold at all" not in rule
    mona = client.get("/moderation/log/?actor=mona").content.decode()
    assert "does not hold at all" in mona and "automatic check" not in mona.split("<tbody>")[1]


def _fill_log(flag: Flag, count: int) -> None:
    """``count`` more internal notes on the flag, written straight to the table (the log
    only reads them)."""
    Comment.objects.bulk_create(
        [
            Comment(flag=flag, user_name="mona", role="moderator", body=f"Note {n}.", internal=True)
            for n in range(count)
        ]
    )


def test_it_pages_the_log_and_keeps_the_filters_in_the_links(flag: Flag, moderator: User) -> None:
    _fill_log(flag, 120)
    client = signed_in(moderator)
    first = client.get("/moderation/log/?action=internal-note&actor=mona").content.decode()
    assert "1–50 of 120" in first and "Note 119." in first and "Note 69." not in first
    assert 'href="?action=internal-note&amp;actor=mona&amp;page=2"' in first
    last = client.get("/moderation/log/?action=internal-note&actor=mona&page=3").content.decode()
    assert "101–120 of 120" in last and "Note 0." in last and "Note 20." not in last
    assert client.get("/moderation/log/?page=9").status_code == 404
    assert client.get("/moderation/log/?page=last-one").status_code == 400


@pytest.mark.parametrize("size", [3, 150])
def test_a_page_of_the_log_costs_the_same_queries_at_any_size(
    flag: Flag, moderator: User, size: int, django_assert_num_queries
) -> None:
    _fill_log(flag, size)
    model_run("tiny", 0.95)  # the rule resolves the flag: its change is on the first page
    moderation.flag_moderate(
        flag_id=flag.id,
        user=moderator,
        action="confirm",
        reason="Reproduced by hand; the claim does not hold at all.",
    )
    moderation.repo_set_hidden(
        repo_id=flag.claim.repo_id,
        user=moderator,
        hidden=True,
        reason="Hidden while the weights are checked again.",
    )
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    client = signed_in(moderator)
    client.get("/moderation/log/")  # the session and the user, loaded once
    # session, user, moderator check, count, the page's rows, one read per kind of row (4),
    # the header's moderator check
    with django_assert_num_queries(10):
        page = client.get("/moderation/log/").content.decode()
    assert "Resolved by a newer revision" in page and "Hidden while the weights" in page
    assert "Personal attacks" in page and "does not hold at all" in page


# --- What moderators did short of deciding ------------------------------------------------------


def test_the_flag_page_says_what_moderators_did_before_deciding(
    flag: Flag, moderator: User
) -> None:
    """Mona asked the author, queued a re-run and locked the thread: the page says so, with
    who and when, instead of "not yet reviewed"."""
    client = Client()
    assert "not yet reviewed by a moderator" in client.get(f"/flags/{flag.id}/").content.decode()
    moderation.flag_moderate(flag_id=flag.id, user=moderator, action="ask-author", reason=REASON)
    rerun = moderation.flag_rerun_queue(flag_id=flag.id, user=moderator, reason=REASON)
    discussions.discussion_lock_set(flag_id=flag.id, user=moderator, locked=True, reason=REASON)
    page = client.get(f"/flags/{flag.id}/").content.decode()
    assert "not yet reviewed" not in page and "no moderator's decision yet" in page
    steps = page.split('id="moderator-steps"')[1].split("</p>")[0]
    assert "asked the author to respond" in steps and "locked the discussion" in steps
    assert f'queued a re-run\n      as <a href="/runs/{rerun.run_id}/">' in steps
    assert steps.count("(mona, ") == 3
