"""The evaluation child's environment: an allow-list, no secrets, the hub offline."""

from __future__ import annotations

import pytest

from workers.child import child_environment


def test_it_passes_no_secret_to_the_evaluation(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "DATABASE_URL",
        "SECRET_KEY",
        "HF_TOKEN",
        "REDIS_URL",
        "AWS_SECRET_ACCESS_KEY",
        "HUGGING_FACE_HUB_TOKEN",
        "CELERY_BROKER_URL",
    ):
        monkeypatch.setenv(name, "secret-value")
    env = child_environment(tmp_path)
    assert "secret-value" not in env.values()
    assert env["HF_HUB_OFFLINE"] == "1" and env["HF_DATASETS_OFFLINE"] == "1"
    assert env["HOME"] == str(tmp_path)


def test_it_keeps_the_gpu_selection(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert child_environment(tmp_path)["CUDA_VISIBLE_DEVICES"] == "1"
