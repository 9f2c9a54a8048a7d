"""Fixtures for tests that drive the real huggingface_hub client against the stand-in hub."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import huggingface_hub.constants
import pytest

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture
def isolated_hub_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A client that can reach only the stand-in hub, with its own cache and no token.

    huggingface_hub reads its settings at import: patch the constant that would make it fetch
    a telemetry list from the default endpoint, and refuse any non-loopback host, so an
    accidental outside request fails the test instead of going out.
    """
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK_HOSTS:
            raise OSError(f"test tried to reach {host!r}: only the stand-in hub is allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
