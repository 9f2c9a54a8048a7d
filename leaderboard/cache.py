"""Django's Redis cache, which keeps answering while Redis does not.

The default cache holds django-allauth's sign-in rate-limit counters and the rankings'
standings. When Redis cannot be reached, this backend serves them from a memory cache of the
process instead of failing the request, tries Redis again after ``RETRY_AFTER`` seconds, and
goes back to it once it answers. While Redis is down each process counts sign-in attempts on
its own (looser limits for that time), and nothing answers 500.

``LayeredCache`` puts process memory in front of it, for the page fragments every web
process renders alike.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)


class FallbackRedisCacheClient(RedisCacheClient):
    """Each call goes to Redis, or to the local cache while Redis is unreachable."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._local = LocMemCache("redis-fallback", {})
        self._down_until = 0.0
        self._clients: dict[Any, Any] = {}  # by connection pool

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        """A client of the pool, made once per pool: Django makes a new one for every call,
        which cost as much as the call's round trip to Redis (a redis-py client is
        thread-safe, and its connections are the pool's)."""
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        if pool not in self._clients:
            self._clients[pool] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return self._clients[pool]

    def _call(self, name: str, *args: Any) -> Any:
        if time.monotonic() >= self._down_until:
            try:
                return getattr(super(), name)(*args)
            except REDIS_DOWN as error:
                self._down_until = time.monotonic() + RETRY_AFTER
                logger.warning("Redis unreachable (%s): memory cache for %ss", error, RETRY_AFTER)
        return getattr(self._local, name)(*args)

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return bool(self._call("add", key, value, timeout))

    def get(self, key: Any, default: Any) -> Any:
        return self._call("get", key, default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._call("set", key, value, timeout)

    def touch(self, key: Any, timeout: Any) -> bool:
        return bool(self._call("touch", key, timeout))

    def delete(self, key: Any) -> bool:
        return bool(self._call("delete", key))

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return dict(self._call("get_many", list(keys)))

    def has_key(self, key: Any) -> bool:
        return bool(self._call("has_key", key))

    def incr(self, key: Any, delta: int) -> Any:
        return self._call("incr", key, delta)

    def set_many(self, data: Any, timeout: Any) -> None:
        self._call("set_many", data, timeout)

    def delete_many(self, keys: Any) -> None:
        self._call("delete_many", list(keys))

    def clear(self) -> bool:
        return bool(self._call("clear"))


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = FallbackRedisCacheClient


_MISSING = object()


class LayeredCache(BaseCache):
    """Process memory in front of a shared cache (the default one, Redis), for what every
    process renders alike: the rankings' controls and recent runs (``{% cache ... using=
    "fragments" %}``). A value is looked up in memory first, then in the shared cache (and kept
    in memory once found there), and set in both: rendered once for all the web processes, and
    read from memory by each after its first time. ``clear`` empties this process's memory
    only: the shared part is the shared cache's, which is never flushed (the broker may use
    the same Redis database)."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._location = location
        self._local = LocMemCache(f"layered-{location}", params)

    @property
    def _shared(self) -> BaseCache:
        return caches["default"]

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        value = self._local.get(key, _MISSING, version)
        if value is _MISSING:
            value = self._shared.get(self._shared_key(key, version), _MISSING)
            if value is _MISSING:
                return default
            self._local.set(key, value, self.default_timeout, version)
        return value

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._local.set(key, value, timeout, version)
        self._shared.set(self._shared_key(key, version), value, timeout)

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        if self.get(key, _MISSING, version) is not _MISSING:
            return False
        self.set(key, value, timeout, version)
        return True

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        self._local.touch(key, timeout, version)
        return bool(self._shared.touch(self._shared_key(key, version), timeout))

    def delete(self, key: Any, version: Any = None) -> bool:
        self._local.delete(key, version)
        return bool(self._shared.delete(self._shared_key(key, version)))

    def clear(self) -> None:
        self._local.clear()

    def _shared_key(self, key: Any, version: Any) -> str:
        return f"{self._location}{self._local.make_key(key, version)}"
