"""Production settings pass Django's deployment checklist (`manage.py check --deploy`)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DEBUG": "0",
        "HTTPS": "1",
        "BEHIND_PROXY": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "leaderboard.example.org",
        "LEADERBOARD_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_cookies_are_secure_in_production(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HTTPS": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LEADERBOARD_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings",
    }
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["True"] * 4, result.stderr


def cache_backends(tmp_path: Path, **env: str) -> list[str]:
    environment = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    environment.update(
        LEADERBOARD_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="leaderboard.settings", **env
    )
    code = (
        "from django.conf import settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.CACHES['pages']['BACKEND'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return [name.rsplit(".", 1)[1] for name in result.stdout.split()]


def test_sign_in_counters_are_shared_through_redis_and_pages_stay_per_process(
    tmp_path: Path,
) -> None:
    assert cache_backends(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0") == [
        "FallbackRedisCache",  # leaderboard/cache.py: memory while Redis is down
        "LocMemCache",
    ]
    assert cache_backends(tmp_path) == ["LocMemCache", "LocMemCache"], "the demo: no Redis"
