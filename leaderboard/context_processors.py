"""What every page's header needs to know about the visitor."""

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from evaluations.services import moderation


def visitor(request: HttpRequest) -> dict[str, bool]:
    # An error page for a request refused before the authentication middleware ran (a bad
    # Host header) has no user: that visitor is anonymous, not a reason for a 500.
    user = getattr(request, "user", None) or AnonymousUser()
    return {"is_moderator": moderation.is_moderator(user), "is_staff": bool(user.is_staff)}
