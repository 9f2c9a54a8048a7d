"""One answer for every moderator action, whichever page it was posted from.

A decision on a flag, a model's visibility, a lock and a re-run all answer the same way:

- a signed-in user who is not a moderator: 403, with the sentence why;
- a form that is not valid, or an action the service refuses (a reason too short, a
  discussion already locked, a re-run already queued): 400, the page the form was posted
  from shown again with the message, and nothing recorded;
- done: a redirect to that page, with a message saying what was recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from evaluations.services import moderation

NOT_A_MODERATOR = "Only moderators can do this."


def moderator_action(
    request: HttpRequest,
    form: forms.Form,
    act: Callable[[], str],
    *,
    page: Callable[[int], HttpResponse],
    done_url: str,
) -> HttpResponse:
    """Run ``act`` (a service call that returns what to tell the moderator) on a valid
    ``form``; on a refusal answer ``page(400)``, the form's page with the message."""
    if not moderation.is_moderator(request.user):
        raise PermissionDenied(NOT_A_MODERATOR)
    try:
        if not form.is_valid():
            raise ValidationError(form_messages(form))
        done = act()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return page(400)
    messages.success(request, done)
    return redirect(done_url)


def form_messages(form: forms.Form) -> list[str]:
    """Every error of the form, in the order of its fields."""
    return [str(message) for field_messages in form.errors.values() for message in field_messages]
