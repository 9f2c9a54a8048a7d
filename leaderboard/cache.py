"""Django's Redis cache, which keeps answering while Redis does not.

The default cache holds django-allauth's sign-in rate-limit counters and the rankings'
standings. When Redis cannot be reached, this backend serves them from a memory cache of the
process instead of failing the request, tries Redis again after ``RETRY_AFTER`` seconds, and
goes back to it once it answers. While Redis is down each process counts sign-in attempts on
its own (looser limits for that time), and nothing answers 500.
"""

from __future__ import annotations

import logging
import time
from typing import Any

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
