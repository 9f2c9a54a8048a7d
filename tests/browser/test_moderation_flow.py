"""The whole story in a browser: an author signs in with Hugging Face (the stand-in
provider), submits with an over-claim, sees it flagged; a moderator confirms the flag with a
reason; the public flag page shows the decision and the audit entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import Browser, Page, expect

from evaluations.models import Flag, FlagState
from localdev.standin.hub_server import serve_in_thread
from localdev.standin.oidc import add_oauth_client
from localdev.standin.repos import add_user
from tests.factories import model_run

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_broker"),
]
AUTHOR_REPLY = "Our **95 %** was measured 25-shot; we will correct the claim."
REASON = "Measured 50 % on Smoke ARC twice; the announced 95 % is not reproducible."


@pytest.fixture
def hugging_face(tmp_path: Path, live_server: Any, settings) -> Iterator[str]:
    """The stand-in hub as the site's Hugging Face sign-in, with Ada (in demo-org) on it."""
    add_user(
        tmp_path,
        "hf_ada_token",
        "ada",
        ("demo-org",),
        password="ada-hub-pw",
        email="ada@example.org",
    )
    add_oauth_client(
        tmp_path,
        "site-client",
        "site-secret",
        [f"{live_server.url}/accounts/oidc/huggingface/login/callback/"],
    )
    server, url = serve_in_thread(tmp_path)
    settings.HF_OAUTH_SERVER_URL = url
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "huggingface",
                    "name": "Hugging Face",
                    "client_id": "site-client",
                    "secret": "site-secret",
                    "settings": {"server_url": url},
                }
            ],
        }
    }
    yield url
    server.shutdown()
    server.server_close()


def new_page(browser: Browser, live_server: Any) -> Page:
    return browser.new_context(base_url=live_server.url).new_page()


def test_an_over_claim_is_flagged_and_a_moderator_confirms_it_in_public(
    browser: Browser, live_server: Any, hugging_face: str, screenshot_dir: Path
) -> None:
    model_run("tiny", 0.5)  # the site measured 50 % on Smoke ARC
    group, _ = Group.objects.get_or_create(name="moderators")
    User.objects.create_user("mona", password="pw-mona-123").groups.add(group)

    # Ada signs in with Hugging Face: the site's page, then the hub's, then back.
    author = new_page(browser, live_server)
    author.goto("/accounts/login/")
    author.get_by_role("button", name="Sign in with Hugging Face").click()
    author.wait_for_url(f"{hugging_face}/oauth/authorize*")
    author.get_by_label("Username").fill("ada")
    author.get_by_label("Password").fill("ada-hub-pw")
    author.get_by_role("button", name="Sign in").click()
    author.wait_for_url(f"{live_server.url}/")
    expect(author.locator("header")).to_contain_text("ada")

    # She submits the model with a claim the measurement contradicts.
    author.goto("/submit/")
    expect(author.locator("main")).to_contain_text("member of demo-org")
    author.get_by_label("Hugging Face repo").fill("demo-org/tiny")
    author.locator("[name='claim-smoke_arc-value']").fill("95")
    author.locator("[name='claim-smoke_arc-shots']").fill("0")
    author.get_by_role("button", name="Queue the evaluation").click()
    author.wait_for_url("**/runs/*/")
    author.goto("/models/demo-org/tiny/")
    expect(author.locator("main")).to_contain_text("contradicted")
    flag = Flag.objects.get()
    assert flag.claim.source == "submission" and flag.claim.reported_by == "ada"
    author.screenshot(path=str(screenshot_dir / "flow-author-model-page.png"), full_page=True)

    # She answers the flag as the model's author.
    author.goto(f"/flags/{flag.id}/")
    author.get_by_label("Your reply as the model's author").fill(AUTHOR_REPLY)
    author.get_by_role("button", name="Post").click()
    expect(author.locator(".comment.role-author")).to_contain_text("25-shot")

    # Mona signs in with her password and confirms the flag from the queue.
    moderator = new_page(browser, live_server)
    moderator.goto("/accounts/login/?next=/moderation/")
    moderator.get_by_label("User name or e-mail").fill("mona")
    moderator.get_by_label("Password").fill("pw-mona-123")
    moderator.locator("form.stacked-form button[type=submit]").click()
    moderator.wait_for_url("**/moderation/")
    decision = moderator.locator("form.decision-form").first
    decision.locator("select[name=action]").select_option("confirm")
    decision.locator("textarea[name=reason]").fill(REASON)
    decision.get_by_role("button", name="Record").click()
    moderator.wait_for_url(f"**/flags/{Flag.objects.get().id}/")
    moderator.goto("/moderation/")
    expect(moderator.locator("main")).to_contain_text("No open flag waits for a decision")

    # Anyone sees the decision, who made it and why, on the flag's public page.
    visitor = new_page(browser, live_server)
    visitor.goto(f"/flags/{flag.id}/")
    page_text = visitor.locator("main")
    expect(page_text).to_contain_text("Confirmed by a moderator")
    expect(page_text).to_contain_text(REASON)
    expect(page_text).to_contain_text("mona")
    expect(visitor.locator(".comment.role-author .comment-body strong")).to_have_text("95 %")
    visitor.screenshot(path=str(screenshot_dir / "flow-public-flag-page.png"), full_page=True)
    assert flag.events.order_by("-id").first().state == FlagState.CONFIRMED
    visitor.goto("/moderation/log/")
    assert "/accounts/login/" in visitor.url, "the moderators' log is not public"
