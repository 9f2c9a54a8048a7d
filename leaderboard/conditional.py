"""Conditional GET for the read API: ETags from a fingerprint of the data, and 304s.

Every read answers 304 to an If-None-Match that names the current ETag. The ETag is a
fingerprint of the rows the response rests on (open_data.*_version) and of the URL, so a new
run state, claim or flag event changes it at once: no stale page after an update.
If-Modified-Since alone is not honoured: a second's resolution could hide an update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.http import http_date, parse_etags

from evaluations import open_data

MAX_ID = 2**63 - 1  # ids are bigints: a larger number is a 422, never a database error
ViewFunc = Callable[..., HttpResponseBase]
VersionOf = Callable[..., "open_data.DataVersion | None"]


def _etag(request: HttpRequest, version: open_data.DataVersion) -> str:
    digest = hashlib.sha256(f"{version.tag}|{request.get_full_path()}".encode()).hexdigest()
    return f'"{digest[:32]}"'


def _matches(request: HttpRequest, etag: str) -> bool:
    wanted = parse_etags(request.headers.get("If-None-Match", ""))
    return "*" in wanted or etag in [tag.removeprefix("W/") for tag in wanted]


def _stamp(response: HttpResponseBase, etag: str, version: open_data.DataVersion) -> None:
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    if version.last_modified is not None:
        response["Last-Modified"] = http_date(version.last_modified.timestamp())


def conditional(version_of: VersionOf) -> Callable[[ViewFunc], ViewFunc]:
    """Answer 304 while the data a view rests on is unchanged; stamp ETag and Last-Modified."""
    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            version = version_of(**kwargs)
            if version is None:  # nothing there: the view answers 404
                return view(request, *args, **kwargs)
            etag = _etag(request, version)
            if _matches(request, etag):
                response: HttpResponseBase = HttpResponseNotModified()
            else:
                response = view(request, *args, **kwargs)
            if response.status_code in (200, 304):
                _stamp(response, etag, version)
            return response
        return wrapped
    return decorator


def _site_version(**_: Any) -> open_data.DataVersion:
    return open_data.site_version()


def _repo_version(owner: str, name: str, **_: Any) -> open_data.DataVersion | None:
    repo = open_data.repo_by_hub_id(f"{owner}/{name}")
    return open_data.repo_version(repo.id) if repo else None


def _run_version(run_id: str, **_: Any) -> open_data.DataVersion | None:
    # Django hands the path segment over unparsed: a non-number is left to the view's 422.
    if not str(run_id).isdigit() or not 0 < int(run_id) <= MAX_ID:
        return None
    return open_data.run_version(int(run_id))
