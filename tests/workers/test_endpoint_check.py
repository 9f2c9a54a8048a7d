"""An endpoint check, end to end with real lm-eval: demo-org/tiny-trained is evaluated from the
stand-in hub (hf backend, in the sandboxed child), then its author registers an endpoint, served
by the stand-in endpoint, and the check runs the pre-flight checks, the equality test on sampled
completions, and lm-eval's local-completions on the same smoke tasks, paired item by item.
Each evaluated commit runs lm-eval in the sandboxed child once per module: a later test that
evaluates the same commit gets a copy of that child's files (the same weights, spec and seed give
the same numbers), and the runner records them as it records any child's.

- honest: the endpoint serves the released weights -> consistent, no flag (no false alarm);
- another model: it serves other-lab/tiny-random-b -> differs, and a flag for moderators;
- misconfigured: it ignores the temperature -> misconfigured, not "another model".

A chat endpoint (chat route only, as most hosted APIs) is checked the same way on
demo-org/tiny-chat, TRAINED's weights with a chat template: each probe prompt is sent as a user
message and the weights answer it through the repo's template. Scores are not compared (lm-eval's
chat backend cannot score log-likelihood items).

Ada is the author of demo-org (the hub said so at her sign-in).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client

from evaluations import services
from evaluations.models import EndpointCheck, EvaluationRun, Flag, FlagKind, HostedEndpoint
from evaluations.services import endpoints
from localdev.standin import demo_repos
from localdev.standin.endpoint import (
    CHATML_TEMPLATE,
    EndpointServer,
    Quirks,
    serve_endpoint,
    write_chat_template,
)
from tests.e2e_support import Hub
from tests.factories import person
from workers import endpoint_check, runner
from workers.child import ChildOutcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_broker", "isolated_hub_client")]

KEY = "sk-endpoint-9f8e7d6c5b4a-never-shown"
TRAINED = demo_repos.TRAINED


@pytest.fixture(scope="module")
def children_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of each evaluation child run in this module, by its spec (less the folder)."""
    return tmp_path_factory.mktemp("children-run")


def once_per_spec(
    run_child: Callable[..., ChildOutcome], kept: Path
) -> Callable[..., ChildOutcome]:
    """``run_child`` that runs the child once per spec, then gives each later run with that
    spec a copy of its results, samples and log in the run's own folder."""

    def run_or_copy(spec: dict, work_dir: Path, *args, **kwargs) -> ChildOutcome:
        same = {key: value for key, value in spec.items() if key != "model_dir"}
        done = kept / hashlib.sha256(json.dumps(same, sort_keys=True).encode()).hexdigest()
        if not done.exists():
            outcome = run_child(spec, work_dir, *args, **kwargs)
            shutil.copytree(outcome.results_path.parent, done / "out")
            shutil.copyfile(outcome.log_path, done / "evaluation.log")
            return outcome
        shutil.copytree(done / "out", work_dir / "out")
        shutil.copyfile(done / "evaluation.log", work_dir / "evaluation.log")
        out = work_dir / "out"
        return ChildOutcome(
            out / "results.json", out / "samples.jsonl", work_dir / "evaluation.log"
        )

    return run_or_copy


@pytest.fixture
def evaluated(
    hub: Hub, settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, children_run: Path
) -> Callable[[str], EvaluationRun]:
    """Evaluates a demo repo on the smoke suite, as any submission is."""
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setattr(runner, "run_child", once_per_spec(runner.run_child, children_run))
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.WORKER_SCRATCH_DIR = tmp_path / "scratch"
    settings.ENDPOINT_ALLOW_PRIVATE_ADDRESSES = True  # the stand-in listens on 127.0.0.1
    settings.ENDPOINT_SCORE_LIMIT = 12  # the first 12 items of each task, paired
    monkeypatch.setattr(endpoints.current_app, "send_task", lambda *args, **kwargs: None)

    def evaluate(repo_id: str) -> EvaluationRun:
        run = services.submission_create(repo_id=repo_id, suite="smoke").run
        assert runner.evaluate_run(run.id, worker_name="w", task_id="t") == "finished"
        return EvaluationRun.objects.get(id=run.id)

    return evaluate


@pytest.fixture
def measured(evaluated: Callable[[str], EvaluationRun]) -> EvaluationRun:
    """demo-org/tiny-trained evaluated on the smoke suite."""
    return evaluated(TRAINED)


@contextmanager
def registered(
    model_dir: Path,
    quirks: Quirks | None = None,
    *,
    repo_id: str = TRAINED,
    api_kind: str = "completions",
) -> Iterator[EndpointServer]:
    """The stand-in serving ``model_dir``, registered for ``repo_id`` by its author."""
    with serve_endpoint(model_dir, served_name="tiny", api_key=KEY, quirks=quirks) as server:
        endpoints.endpoint_register(
            user=person("ada", hub="ada", orgs=("demo-org",)),
            repo_id=repo_id,
            base_url=server.base_url,
            served_model="tiny",
            api_kind=api_kind,
            secret=KEY,
        )
        yield server


def check() -> EndpointCheck:
    endpoint = HostedEndpoint.objects.get()
    endpoint_check.check_endpoint(endpoint.id)
    return EndpointCheck.objects.get(endpoint=endpoint)


def test_an_endpoint_serving_the_released_weights_is_consistent(
    measured: EvaluationRun, hub: Hub
) -> None:
    with registered(hub.model_dirs[TRAINED]) as server:
        found = check()

    assert found.verdict == "consistent", (found.summary, found.error)
    assert found.weights_run_id == measured.id and found.revision_id == measured.revision_id
    assert all(row["passed"] is not False for row in found.evidence["preflight"])
    assert found.evidence["mmd"]["p_value"] >= 0.05
    scores = {row["benchmark"]: row for row in found.evidence["scores"]}
    assert set(scores) == {"smoke_arc", "smoke_gsm8k"}
    # The same weights, the same items: every item scores the same through the endpoint.
    assert all(abs(row["difference"]) <= row["half_width_95"] for row in scores.values())
    assert not Flag.objects.exists()
    # The key went to the endpoint, and nowhere else.
    assert any(KEY in str(request) for request in server.requests)
    assert KEY not in str(found.evidence) + found.summary + found.error
    assert "OPENAI_API_KEY" not in os.environ
    page = Client().get("/models/demo-org/tiny-trained/").content.decode()
    assert "consistent with the released weights" in page and KEY not in page
    assert "What this compares" in page and "It does not say" in page


def test_an_endpoint_serving_another_model_differs_and_is_flagged(
    measured: EvaluationRun, hub: Hub
) -> None:
    with registered(hub.model_dirs[demo_repos.RANDOM_B]):
        found = check()

    assert found.verdict == "differs", (found.summary, found.error)
    assert found.evidence["mmd"]["p_value"] < 0.05
    flag = Flag.objects.get()
    assert flag.kind == FlagKind.ENDPOINT and flag.endpoint_check == found
    assert flag.repo.hub_id == TRAINED
    mona = Client()
    mona.force_login(person("mona", moderator=True))
    queue = mona.get("/moderation/").content.decode()
    assert "Hosted endpoint" in queue and KEY not in queue
    api = Client().get("/api/v1/models/demo-org/tiny-trained/endpoints").json()
    assert api[0]["checks"][0]["verdict"] == "differs" and api[0]["checks"][0]["flag_id"] == flag.id
    (row,) = Client().get("/api/v1/rankings?suite=smoke").json()["rows"]
    assert row["hub_id"] == TRAINED and row["provenance_flagged"] is True
    assert Client().get("/api/v1/rankings?suite=smoke&hide_provenance=1").json()["rows"] == []


def test_an_endpoint_that_ignores_the_temperature_is_misconfigured(
    measured: EvaluationRun, hub: Hub
) -> None:
    with registered(hub.model_dirs[TRAINED], Quirks(ignore_temperature=True)):
        found = check()

    assert found.verdict == "misconfigured", (found.summary, found.error)
    sampling = next(row for row in found.evidence["preflight"] if row["key"] == "sampling")
    assert sampling["passed"] is False
    assert not Flag.objects.exists()


# --- chat endpoints ------------------------------------------------------------------------

CHAT = demo_repos.CHAT
CHAT_ONLY = Quirks(chat_only=True)


@pytest.fixture(scope="module")
def chat_model(hub: Hub) -> Path:
    """demo-org/tiny-chat published on the stand-in hub; its model dir."""
    _, model_dir = demo_repos.publish_chat_repo(hub.root, hub.model_dirs[TRAINED].parent)
    return model_dir


@pytest.fixture
def measured_chat(evaluated: Callable[[str], EvaluationRun], chat_model: Path) -> EvaluationRun:
    """demo-org/tiny-chat evaluated on the smoke suite."""
    return evaluated(CHAT)


@pytest.fixture(scope="module")
def other_chat_model(hub: Hub, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """other-lab/tiny-random-b given the same chat template: another model behind a chat."""
    target = tmp_path_factory.mktemp("other-chat") / "model"
    shutil.copytree(hub.model_dirs[demo_repos.RANDOM_B], target)
    return write_chat_template(target)


@contextmanager
def registered_chat(model_dir: Path, quirks: Quirks = CHAT_ONLY) -> Iterator[EndpointServer]:
    with registered(model_dir, quirks, repo_id=CHAT, api_kind="chat") as server:
        yield server


def preflight_of(found: EndpointCheck) -> dict[str, bool | None]:
    return {row["key"]: row["passed"] for row in found.evidence["preflight"]}


def test_a_chat_endpoint_serving_the_released_weights_is_consistent(
    measured_chat: EvaluationRun, chat_model: Path
) -> None:
    with registered_chat(chat_model) as server:
        found = check()

    assert found.verdict == "consistent", (found.summary, found.error)
    assert found.weights_run_id == measured_chat.id
    # No completions route: its token count is left to the chat-template check, which passes.
    assert preflight_of(found) == {"sampling": True, "prompt-tokens": None, "chat-template": True}
    assert found.evidence["mmd"]["p_value"] >= 0.05
    assert found.evidence["mmd"]["prompts"] == 25
    assert found.evidence.get("scores", []) == []
    assert "NotImplementedError" in found.evidence["scores_note"]
    assert not Flag.objects.exists()
    asked = [request["path"] for request in server.requests]
    assert asked.count("/v1/chat/completions") >= 25 and "/v1/completions" in asked
    page = Client().get("/models/demo-org/tiny-chat/").content.decode()
    assert "consistent with the released weights" in page and "local-chat-completions" in page
    assert KEY not in page


def test_a_chat_endpoint_serving_another_model_differs_and_is_flagged(
    measured_chat: EvaluationRun, other_chat_model: Path
) -> None:
    with registered_chat(other_chat_model):
        found = check()

    assert found.verdict == "differs", (found.summary, found.error)
    assert preflight_of(found)["chat-template"] is True  # the same template: another model
    assert found.evidence["mmd"]["p_value"] < 0.05
    flag = Flag.objects.get()
    assert flag.kind == FlagKind.ENDPOINT and flag.endpoint_check == found
    assert flag.repo.hub_id == CHAT


def test_a_chat_endpoint_with_another_chat_template_is_misconfigured(
    measured_chat: EvaluationRun, chat_model: Path
) -> None:
    other_template = CHATML_TEMPLATE.replace("<|im_start|>", "### ")
    with registered_chat(chat_model, Quirks(chat_only=True, chat_template=other_template)):
        found = check()

    assert found.verdict == "misconfigured", (found.summary, found.error)
    assert preflight_of(found)["chat-template"] is False
    assert "chat template" in found.summary
    assert not Flag.objects.exists()


def test_a_chat_endpoint_of_a_repo_without_a_chat_template_is_inconclusive(
    measured: EvaluationRun, hub: Hub
) -> None:
    # tiny-trained ships no template; the endpoint answers chats with one of its own.
    quirks = Quirks(chat_only=True, chat_template=CHATML_TEMPLATE)
    with registered(hub.model_dirs[TRAINED], quirks, api_kind="chat"):
        found = check()

    assert found.verdict == "inconclusive", (found.summary, found.error)
    assert "no chat template" in found.error and "equality test" in found.error
    assert preflight_of(found)["chat-template"] is None
    assert "mmd" not in found.evidence
    assert not Flag.objects.exists()


def test_an_unreachable_endpoint_is_inconclusive_with_the_reason(measured: EvaluationRun) -> None:
    endpoints.endpoint_register(
        user=person("ada", hub="ada", orgs=("demo-org",)),
        repo_id=TRAINED,
        base_url="http://127.0.0.1:9/v1",  # nothing listens there
        served_model="tiny",
        api_kind="completions",
        secret=KEY,
    )
    found = check()
    assert found.verdict == "inconclusive" and found.error
    assert KEY not in found.error + found.summary


def test_the_normal_evaluation_child_never_sees_an_endpoint_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from workers.child import child_environment

    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # even were it in the worker's own environment
    assert KEY not in str(child_environment(tmp_path))
