"""Public reads served from a cache keyed on the site's generation, with ETags and 304s.

``@cached_page`` wraps a GET view. For a visitor without a session the response is looked up
under (generation, live tag, full URL with its query string, Accept): a hit costs one
primary-key read of the generation and no rendering. Services bump the generation after every
commit that changes a public page (``evaluations.generation``), so a page is never
served stale; the live tag covers what moves without a bump (the progress of runs in flight).
The ETag is derived from the same key: an If-None-Match that names it gets a 304 before any
work. Old generations are never read again and age out of the cache. ``X-Cache`` says
whether the page was served from the cache (``hit``) or rendered and kept (``miss``).

Never shared: a signed-in user's page (moderators see controls), any request that carries a
session or pending messages, and any response that sets a cookie, used a CSRF token or asks
not to be stored. Those are rendered as usual. The cache itself is the "pages" cache: a
per-process memory cache is enough, because the key, not the store, is what processes share.
If-Modified-Since alone is not honoured: a second's resolution could hide an update.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, overload

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags

from evaluations.generation import site_generation

ViewFunc = Callable[..., HttpResponseBase]
LiveTag = Callable[[], str]
Stored = tuple[int, list[tuple[str, str]], bytes]


@dataclass(frozen=True)
class Version:
    key: str
    etag: str
    last_modified: datetime | None


@overload
def cached_page(view: ViewFunc, *, live: LiveTag | None = None) -> ViewFunc: ...


@overload
def cached_page(
    view: None = None, *, live: LiveTag | None = None
) -> Callable[[ViewFunc], ViewFunc]: ...


def cached_page(
    view: ViewFunc | None = None, *, live: LiveTag | None = None
) -> ViewFunc | Callable[[ViewFunc], ViewFunc]:
    """``@cached_page`` or ``@cached_page(live=...)``; ``live`` returns a tag of what the
    page shows that moves without a generation bump."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not _shareable(request):
                response = view(request, *args, **kwargs)
            else:
                response = _shared_response(request, view, live, *args, **kwargs)
            patch_vary_headers(response, ["Cookie"])  # a signed-in user sees another page
            return response

        return wrapped

    return decorator(view) if view is not None else decorator


def _shared_response(
    request: HttpRequest, view: ViewFunc, live: LiveTag | None, *args: Any, **kwargs: Any
) -> HttpResponseBase:
    version = _version(request, live)
    stored: Stored | None = caches["pages"].get(version.key)
    if _matches(request, version.etag, exists=stored is not None):
        return _stamp(HttpResponseNotModified(), version)
    if stored is not None:
        return _stamp(_thaw(stored), version, served="hit")
    response = view(request, *args, **kwargs)
    if isinstance(response, HttpResponse) and _storable(request, response):
        caches["pages"].set(version.key, _freeze(response), timeout=settings.PAGE_CACHE_SECONDS)
        _stamp(response, version, served="miss")
    return response


def _shareable(request: HttpRequest) -> bool:
    """An anonymous GET with nothing of its own: no session, no pending messages."""
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and CookieStorage.cookie_name not in cookies
    )


LIVE_TAG_ATTRIBUTE = "_page_cache_live_tag"


def live_tag(request: HttpRequest, live: LiveTag) -> str:
    """``live()``, read once per request: the cache key rests on it, and the view may key
    what it keeps on the same value (the home page's recent runs) without a second read."""
    tag: str | None = getattr(request, LIVE_TAG_ATTRIBUTE, None)
    if tag is None:
        tag = live()
        setattr(request, LIVE_TAG_ATTRIBUTE, tag)
    return tag


def _version(request: HttpRequest, live: LiveTag | None) -> Version:
    generation = site_generation()
    tag = live_tag(request, live) if live is not None else ""
    what = "\n".join(
        (
            str(generation.value),
            tag,
            request.build_absolute_uri(),
            request.headers.get("Accept", ""),
        )
    )
    digest = hashlib.sha256(what.encode()).hexdigest()
    # A live page moved after the generation did: its Last-Modified would be wrong.
    return Version(
        key=f"page:{digest}",
        etag=f'W/"{digest[:32]}"',
        last_modified=None if live else generation.changed_at,
    )


def _matches(request: HttpRequest, etag: str, *, exists: bool) -> bool:
    """Whether If-None-Match names this version. ``*`` means "any version you have", so it
    matches only a page known to exist (one stored under this key): an address that would
    answer 404 or 400 must say so, not 304."""
    wanted = parse_etags(request.headers.get("If-None-Match", ""))
    if "*" in wanted:
        return exists
    bare = etag.removeprefix("W/")
    return bare in [tag.removeprefix("W/") for tag in wanted]


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    """A 200 that is the same for every visitor: no cookie set, no CSRF token used."""
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "no-store" not in cache_control
        and "private" not in cache_control
    )


def _stamp(response: HttpResponseBase, version: Version, served: str = "") -> HttpResponseBase:
    """The validators; and ``X-Cache``, whether this process served the page from its cache
    (``hit``) or rendered it (``miss``), as proxies and CDNs say it: what an operator, and
    ``manage.py bench_site``, read to tell a cached page's time from a rendered one's."""
    if served:
        response["X-Cache"] = served
    response["ETag"] = version.etag
    response["Cache-Control"] = "no-cache"  # keep it, but ask again each time: 304s are cheap
    if version.last_modified is not None:
        response["Last-Modified"] = http_date(version.last_modified.timestamp())
    return response


def _freeze(response: HttpResponse) -> Stored:
    return response.status_code, list(response.items()), response.content


def _thaw(stored: Stored) -> HttpResponse:
    status, headers, content = stored
    response = HttpResponse(content, status=status)
    for name, value in headers:
        response[name] = value
    return response
