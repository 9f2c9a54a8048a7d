"""What every page's header needs to know about the visitor."""

from django.http import HttpRequest

from evaluations.services.moderation import is_moderator


def moderation(request: HttpRequest) -> dict[str, bool]:
    return {"is_moderator": is_moderator(request.user)}
