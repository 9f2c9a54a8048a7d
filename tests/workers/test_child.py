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


def test_it_keeps_vllm_from_sending_usage_statistics(tmp_path) -> None:
    env = child_environment(tmp_path)
    assert env["VLLM_NO_USAGE_STATS"] == "1" and env["DO_NOT_TRACK"] == "1"


def test_it_passes_the_operators_vllm_settings_by_name_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("VLLM_HOST_IP", "127.0.0.1")
    monkeypatch.setenv("VLLM_CPU_KVCACHE_SPACE", "1")
    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    monkeypatch.setenv("VLLM_API_KEY", "secret-value")
    monkeypatch.setenv("VLLM_NO_USAGE_STATS", "0")  # the child never sends them
    env = child_environment(tmp_path)
    assert (env["VLLM_HOST_IP"], env["VLLM_CPU_KVCACHE_SPACE"]) == ("127.0.0.1", "1")
    assert env["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"
    assert "VLLM_API_KEY" not in env and env["VLLM_NO_USAGE_STATS"] == "1"
