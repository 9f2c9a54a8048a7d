"""Rows that many tests need, made through the services where a service makes them."""

from __future__ import annotations

import hashlib
from typing import Any

from evaluations import services
from evaluations.models import EvaluationRun

SHA_A = "a" * 40
SHA_B = "b" * 40


def queued_run(repo_id: str = "demo-org/tiny", **kwargs: Any) -> EvaluationRun:
    return services.submission_create(repo_id=repo_id, **kwargs).run


def inspected_run(repo_id: str = "demo-org/tiny", sha: str = SHA_A, **kwargs: Any) -> EvaluationRun:
    run = queued_run(repo_id, **kwargs)
    assert services.run_claim(run_id=run.id, worker_name="worker-1", task_id="task-1")
    original = services.run_record_inspection(
        run_id=run.id,
        commit_sha=sha,
        files=[{"path": "model.safetensors", "size": 10, "sha256": "0" * 64}],
        parameter_count=1000,
        dtype="F32",
        licence="mit",
        model_type="llama",
    )
    assert original is None
    return EvaluationRun.objects.get(id=run.id)


def finished_run(
    repo_id: str = "demo-org/tiny", sha: str = SHA_A, value: float = 0.5, **kwargs: Any
) -> EvaluationRun:
    run = inspected_run(repo_id, sha, **kwargs)
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    scores = [
        {
            "benchmark_key": "smoke_arc",
            "task": "smoke_arc",
            "metric": "acc",
            "filter": "none",
            "shots": 0,
            "value": value,
            "stderr": 0.05,
            "n_samples": 40,
        },
        {
            "benchmark_key": "smoke_gsm8k",
            "task": "smoke_gsm8k",
            "metric": "exact_match",
            "filter": "flexible-extract",
            "shots": 0,
            "value": 0.0,
            "stderr": None,
            "n_samples": 20,
        },
    ]
    assert services.run_record_results(
        run_id=run.id, scores=scores, versions={"lm_eval_version": "0.4.13"}, artifacts=[]
    )
    return EvaluationRun.objects.get(id=run.id)


def suite_run(
    repo_id: str, *, suite: str = "classic", value: float = 0.5, sha: str = SHA_A
) -> EvaluationRun:
    """A finished run of every benchmark of ``suite`` in the catalogue's setting, each
    scoring ``value`` ± 0.02."""
    from evaluations.catalogue import suite_benchmarks

    run = inspected_run(repo_id, sha, suite=suite)
    assert services.run_start_evaluating(run_id=run.id, backend="hf")
    scores = [
        {
            "benchmark_key": benchmark.key,
            "task": benchmark.task,
            "metric": benchmark.metric,
            "filter": benchmark.filter,
            "shots": benchmark.shots,
            "value": value,
            "stderr": 0.02,
            "n_samples": 100,
        }
        for benchmark in suite_benchmarks(suite)
    ]
    assert services.run_record_results(run_id=run.id, scores=scores, versions={}, artifacts=[])
    return EvaluationRun.objects.get(id=run.id)


def model_run(name: str, value: float, **kwargs: Any) -> EvaluationRun:
    """A finished smoke run of ``demo-org/<name>`` scoring ``value`` on Smoke ARC."""
    sha = hashlib.sha1(name.encode()).hexdigest()  # noqa: S324 - a test commit id
    return finished_run(f"demo-org/{name}", sha=sha, value=value, **kwargs)


def arc_claim(name: str, percent: float, *, shots: int | None = 0, **kwargs: Any) -> None:
    """``demo-org/<name>`` claims ``percent`` on Smoke ARC (0-shot unless told)."""
    claims = [
        services.ClaimInput(
            benchmark="smoke_arc", value=percent, unit="percent", shots=shots, **kwargs
        )
    ]
    services.claims_record(repo_id=f"demo-org/{name}", source="submission", claims=claims)


def person(
    username: str, *, hub: str | None = None, orgs: tuple[str, ...] = (), moderator: bool = False
) -> Any:
    """A user account; with ``hub``, one the hub said (at sign-in) is that hub account, a
    member of ``orgs``. The password is ``pw-<username>-123``."""
    from django.contrib.auth.models import Group, User

    from evaluations.services import authors

    user = User.objects.create_user(
        username, f"{username}@example.org", password=f"pw-{username}-123"
    )
    if hub:
        authors.hub_membership_record(
            user=user, hub_username=hub, orgs=list(orgs), source="sign-in"
        )
    if moderator:
        user.groups.add(Group.objects.get(name="moderators"))
    return user
