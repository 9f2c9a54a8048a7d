"""Shared fixtures. Tests run against the database DATABASE_URL names (PostgreSQL in CI)."""

from __future__ import annotations

import os
import tempfile

# Keep test artifacts, the broker folder and the secret key out of the developer's var/.
os.environ.setdefault("LEADERBOARD_VAR_DIR", tempfile.mkdtemp(prefix="leaderboard-test-"))
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
