"""The JSON API, versioned under /api/v1/, with an OpenAPI document at /api/v1/docs.

Endpoints validate with schemas and call the same services and selectors as the pages.
Bad input answers 4xx with a message: 422 for a malformed body, 400 for a rule it breaks,
404 for a model or run that is not there. The reads (models, revisions, runs, scores,
claims, flags, rankings and their CSV downloads) are served from the page cache, with ETags.

One module per resource: ``claims``, ``models``, ``runs``, ``rankings``; ``schemas`` says
what each takes and answers, ``common`` holds what they share (paging, the token sign-in,
the filters), and ``app`` puts them together in the one ``api`` that ``urls.py`` mounts.
"""

from leaderboard.api.app import api

__all__ = ["api"]
