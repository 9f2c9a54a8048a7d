"""E-mail to a repo's authors when one of its claims is flagged or a moderator decides.

Mail goes out once the transaction that recorded the event has committed, so a rolled-back
flag never writes to anyone, and a mail server that is down never undoes a decision: the
failure is logged and the record stands.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from evaluations.models import Flag, FlagEvent, FlagState
from evaluations.services import authors

logger = logging.getLogger(__name__)

SUBJECTS: dict[str, str] = {  # keyed by a FlagEvent.state
    FlagState.OPENED: "A claim about {repo} was flagged",
    FlagState.REOPENED: "A claim about {repo} was flagged again",
    FlagState.CONFIRMED: "A moderator confirmed the flag on {repo}",
    FlagState.DISMISSED: "A moderator dismissed the flag on {repo}",
    FlagState.AUTHOR_ASKED: "A moderator asks you about a claim on {repo}",
}


def authors_notify(*, event: FlagEvent) -> None:
    """Write to the repo's authors about ``event``, after the current transaction commits."""
    if event.state not in SUBJECTS:
        return
    flag: Flag = event.flag
    repo = flag.repo
    recipients = authors.repo_author_emails(repo)
    if not recipients:
        return
    subject = " ".join(SUBJECTS[event.state].format(repo=repo.hub_id).split())[:200]
    body = _body(flag, event)
    transaction.on_commit(lambda: _send(subject, body, recipients))


def _body(flag: Flag, event: FlagEvent) -> str:
    who = f"Moderator {event.actor}" if event.actor else "The automatic check"
    link = getattr(settings, "SITE_URL", "").rstrip("/") + reverse("flag-detail", args=[flag.id])
    subject = (
        f"Claim: {flag.claim.label} = {flag.claim.typed_value}"
        if flag.claim is not None
        else f"Flag: {flag.get_kind_display()}"
    )
    return (
        f"{who} recorded: {event.get_state_display()}.\n\n"
        f"{subject}\n"
        f"Why: {event.reason}\n\n"
        f"The flag, its evidence and its discussion: {link}\n"
        "You can answer there once signed in as the model's author.\n"
    )


def _send(subject: str, body: str, recipients: list[str]) -> None:
    try:
        send_mail(subject, body, None, recipients)
    except Exception:  # noqa: BLE001 - the event is recorded; a lost mail must not undo it
        logger.exception("could not send the flag e-mail %r to %s", subject, recipients)
