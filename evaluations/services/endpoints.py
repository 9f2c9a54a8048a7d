"""Hosted endpoints: registering one, retiring it, asking for a check, and recording a check.

An author of the repo (as the hub says, asked again if stale) or a moderator registers the
OpenAI-compatible endpoint said to serve the model. Its address is checked before it is kept
(``clean_endpoint_url``): http or https, no credentials in it, and no private, loopback or
link-local address unless the site allows them (the worker calls it: without this, anyone who
may register one could make the worker call into its own network). The worker checks the
address again before each call, since a name can resolve elsewhere later.

A check is queued on commit by the task's name. Its record is append-only; a "differs" verdict
opens a flag for moderators, like a re-upload does.
"""

from __future__ import annotations

import ipaddress
import socket
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from celery import current_app
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from evaluations.endpoint_secrets import secret_encrypt
from evaluations.generation import generation_bump
from evaluations.models import (
    ApiKind,
    EndpointCheck,
    EndpointVerdict,
    Flag,
    FlagKind,
    HostedEndpoint,
    ModelRepo,
)
from evaluations.services.authors import hub_membership_current, is_repo_author, membership_owns
from evaluations.services.flags import provenance_flag_open
from evaluations.services.permissions import User, is_moderator

CHECK_TASK = "workers.check_endpoint"
MAX_SECRET_LENGTH = 4000
HONEST_NOTE = (
    "A rejection says the endpoint's completions are unlikely to come from the released weights "
    "served as they are; it does not say which model it serves, nor that anyone meant it: a "
    "quantised copy, another decoding setup or a system prompt shift outputs too."
)


def clean_endpoint_url(url: str, *, allow_private: bool | None = None) -> str:
    """The address, stripped of a trailing slash, or ValidationError saying what is wrong."""
    url = (url or "").strip().rstrip("/")
    allow = settings.ENDPOINT_ALLOW_PRIVATE_ADDRESSES if allow_private is None else allow_private
    if len(url) > 500:
        raise ValidationError("Keep the address under 500 characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Give the endpoint's address as http(s)://host[:port]/path.")
    if parts.username or parts.password:
        raise ValidationError("Leave credentials out of the address; give the API key apart.")
    if parts.query or parts.fragment:
        raise ValidationError("The address takes no query string or fragment.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError, UnicodeError) as error:
        raise ValidationError(f"The host {parts.hostname!r} cannot be resolved.") from error
    if not allow:
        for *_, address in found:
            ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
            if not ip.is_global:
                raise ValidationError(
                    f"The host {parts.hostname!r} resolves to a private or local address "
                    f"({ip}): only public endpoints can be checked."
                )
    return url


def _require_author_or_moderator(user: User, repo: ModelRepo) -> str:
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to register an endpoint.")
    if is_moderator(user):
        return "moderator"
    if is_repo_author(user, repo):
        return "author"
    raise PermissionDenied(
        f"Only authors of {repo.hub_id} and moderators can register or retire its endpoints."
    )


def endpoint_register(
    *,
    user: User,
    repo_id: str,
    base_url: str,
    served_model: str,
    api_kind: str,
    secret: str = "",
) -> HostedEndpoint:
    """Keep the endpoint (its secret encrypted) and queue its first check."""
    repo = ModelRepo.objects.filter(hub_id=repo_id).first()
    if repo is None:
        raise ValidationError(f"No model {repo_id!r} on this site: submit it first.")
    role = _require_author_or_moderator(user, repo)
    base_url = clean_endpoint_url(base_url)
    served_model = " ".join((served_model or "").split())
    if not served_model or len(served_model) > 200:
        raise ValidationError("Give the model name the API expects (up to 200 characters).")
    if api_kind not in ApiKind.values:
        raise ValidationError(f"The API kind is one of {', '.join(ApiKind.values)}.")
    secret = (secret or "").strip()
    if len(secret) > MAX_SECRET_LENGTH or any(ch in secret for ch in "\r\n\0"):
        raise ValidationError("The API key is one line of under 4000 characters.")
    with transaction.atomic():
        endpoint = HostedEndpoint.objects.create(
            repo=repo,
            base_url=base_url,
            served_model=served_model,
            api_kind=api_kind,
            secret_encrypted=secret_encrypt(secret),
            registered_by=user if user.is_authenticated else None,
            registered_as=role,
        )
        _queue_check(endpoint.id)
    generation_bump()
    return endpoint


def endpoint_retire(*, user: User, endpoint_id: int) -> HostedEndpoint:
    """No more checks; its record and its checks stay on the page."""
    endpoint = HostedEndpoint.objects.select_related("repo").get(id=endpoint_id)
    _require_author_or_moderator(user, endpoint.repo)
    if endpoint.retired_at is None:
        HostedEndpoint.objects.filter(id=endpoint.id, retired_at__isnull=True).update(
            retired_at=timezone.now(), retired_by=user.get_username()
        )
        generation_bump()
    endpoint.refresh_from_db()
    return endpoint


def endpoint_check_request(*, user: User, endpoint_id: int) -> None:
    """Check the endpoint again (after a fix, or a new evaluation of the weights)."""
    endpoint = HostedEndpoint.objects.select_related("repo").get(id=endpoint_id)
    _require_author_or_moderator(user, endpoint.repo)
    if endpoint.retired_at is not None:
        raise ValidationError("This endpoint was retired: register it again to check it.")
    with transaction.atomic():
        _queue_check(endpoint.id)


def _queue_check(endpoint_id: int) -> None:
    transaction.on_commit(
        lambda: current_app.send_task(CHECK_TASK, args=[endpoint_id], queue=settings.ENDPOINT_QUEUE)
    )


def endpoint_check_record(
    *,
    endpoint_id: int,
    revision_id: int | None,
    weights_run_id: int | None,
    verdict: str,
    summary: str,
    evidence: dict[str, Any],
    started_at: datetime,
    error: str = "",
) -> EndpointCheck:
    """Record what one check found; a "differs" verdict opens a flag for moderators."""
    with transaction.atomic():
        check = EndpointCheck.objects.create(
            endpoint_id=endpoint_id,
            revision_id=revision_id,
            weights_run_id=weights_run_id,
            verdict=verdict,
            summary=summary,
            evidence=evidence,
            started_at=started_at,
            error=error[:4000],
        )
        if verdict == EndpointVerdict.DIFFERS:
            _open_flag(check)
    generation_bump()  # the model page shows the check
    return check


def _open_flag(check: EndpointCheck) -> None:
    endpoint = check.endpoint
    mmd = check.evidence.get("mmd") or {}
    provenance_flag_open(
        Flag(kind=FlagKind.ENDPOINT, endpoint_check=check),
        reason=f"Hosted endpoint {endpoint.base_url} ({endpoint.served_model}): "
        f"{check.summary} {HONEST_NOTE}",
        run=check.weights_run,
        evidence={
            "endpoint_check": check.id,
            "base_url": endpoint.base_url,
            "served_model": endpoint.served_model,
            "mmd_p_value": mmd.get("p_value"),
            "mmd_statistic": mmd.get("statistic"),
            "scores": check.evidence.get("scores", []),
        },
    )


def endpoint_may_register(user: User, repo: ModelRepo) -> bool:
    """Whether the page offers the form: a moderator, or an author as the hub last said (the
    service asks the hub again when the form is sent)."""
    if not user.is_authenticated:
        return False
    return is_moderator(user) or membership_owns(hub_membership_current(user), repo)
