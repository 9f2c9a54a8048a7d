"""Probing a hosted endpoint: pre-flight checks, sampling it and the weights, its errors.

Each signal is tested for a true and a false alarm: the stand-in endpoint serves the released
weights faithfully in one test and misbehaves (a quirk) or serves another model in another.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evaluations.endpoint_stats import mmd_test
from localdev.standin.endpoint import CHATML_TEMPLATE, Quirks, serve_endpoint, write_chat_template
from localdev.tiny_models import build_tiny_model
from workers import endpoint_probe
from workers.endpoint_probe import (
    PROBE_PROMPTS,
    EndpointError,
    NoChatTemplate,
    PreflightCheck,
    preflight,
    sample_endpoint,
    sample_weights,
)

API_KEY = "sk-probe-test"
SAMPLING = {"samples": 10, "temperature": 1.0, "max_tokens": 12}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe")


@pytest.fixture(scope="module")
def released(workdir: Path) -> Path:
    """The released weights, a chat model: its tokenizer has a chat template. Trained a
    little, so its completions are peaked as a real model's are (two untrained models both
    emit near-uniform noise, which no test tells apart)."""
    return write_chat_template(build_tiny_model(workdir / "released", seed=3, train_steps=30))


@pytest.fixture(scope="module")
def other(workdir: Path) -> Path:
    return write_chat_template(build_tiny_model(workdir / "other", seed=5, train_steps=30))


@pytest.fixture(scope="module")
def weights_samples(released: Path) -> dict[str, list[str]]:
    return sample_weights(released, prompts=PROBE_PROMPTS, seed=11, **SAMPLING)


@pytest.fixture(scope="module")
def weights_chat_samples(released: Path) -> dict[str, list[str]]:
    """The weights' answers to each probe prompt asked as a chat, through the repo's template."""
    return sample_weights(released, prompts=PROBE_PROMPTS, seed=11, chat=True, **SAMPLING)


def verdicts(checks: list[PreflightCheck]) -> dict[str, bool | None]:
    return {check.key: check.passed for check in checks}


def test_an_honest_endpoint_passes_every_preflight_check(released: Path) -> None:
    with serve_endpoint(released, served_name="org/tiny", api_key=API_KEY) as server:
        checks = preflight(server.base_url, model="org/tiny", api_key=API_KEY, model_dir=released)

    assert verdicts(checks) == {"sampling": True, "prompt-tokens": True, "chat-template": True}
    assert all(check.title and check.detail for check in checks)
    assert {r["authorization"] for r in server.requests} == {f"Bearer {API_KEY}"}


@pytest.mark.parametrize(
    ("quirks", "expected"),
    [
        (
            Quirks(ignore_temperature=True),
            {"sampling": False, "prompt-tokens": True, "chat-template": True},
        ),
        (
            Quirks(ignore_max_tokens=True),
            {"sampling": False, "prompt-tokens": True, "chat-template": True},
        ),
        (
            Quirks(prompt_token_offset=2),
            {"sampling": True, "prompt-tokens": False, "chat-template": False},
        ),
        (
            Quirks(chat_template=CHATML_TEMPLATE.replace("<|im_start|>", "### ")),
            {"sampling": True, "prompt-tokens": True, "chat-template": False},
        ),
        (
            Quirks(system_prompt="You are a helpful assistant."),
            {"sampling": True, "prompt-tokens": False, "chat-template": False},
        ),
    ],
    ids=["temperature", "max-tokens", "token-count", "chat-template", "system-prompt"],
)
def test_a_misconfigured_endpoint_fails_the_matching_check(
    released: Path, quirks: Quirks, expected: dict[str, bool | None]
) -> None:
    with serve_endpoint(released, quirks=quirks) as server:
        checks = preflight(server.base_url, model="model", api_key=None, model_dir=released)

    assert verdicts(checks) == expected
    failed = [check for check in checks if check.passed is False]
    assert all(len(check.detail) > 20 for check in failed)


def test_the_chat_check_is_inconclusive_for_a_repo_without_a_template(workdir: Path) -> None:
    plain = build_tiny_model(workdir / "plain", seed=4)
    with serve_endpoint(plain) as server:
        checks = preflight(server.base_url, model="model", api_key=None, model_dir=plain)

    assert verdicts(checks)["chat-template"] is None
    assert "no chat template" in checks[2].detail


def test_sampling_the_endpoint_gives_the_asked_samples_and_repeats_with_a_seed(
    released: Path,
) -> None:
    prompts = PROBE_PROMPTS[:3]
    with serve_endpoint(released, api_key=API_KEY) as server:
        first, second = (
            sample_endpoint(
                server.base_url,
                model="model",
                api_key=API_KEY,
                prompts=prompts,
                seed=7,
                **SAMPLING,
            )
            for _ in range(2)
        )

    assert list(first) == list(prompts)
    assert all(len(texts) == 10 and len(set(texts)) > 1 for texts in first.values())
    assert first == second


def test_sampling_the_weights_repeats_with_a_seed(released: Path) -> None:
    prompts = PROBE_PROMPTS[:2]

    first = sample_weights(released, prompts=prompts, seed=3, **SAMPLING)

    assert first == sample_weights(released, prompts=prompts, seed=3, **SAMPLING)
    assert all(len(texts) == 10 and len(set(texts)) > 1 for texts in first.values())
    greedy = sample_weights(released, prompts=prompts, seed=3, **{**SAMPLING, "temperature": 0})
    assert all(len(set(texts)) == 1 for texts in greedy.values())


def test_the_equality_test_accepts_an_endpoint_serving_the_released_weights(
    released: Path, weights_samples: dict[str, list[str]]
) -> None:
    with serve_endpoint(released) as server:
        served = sample_endpoint(
            server.base_url, model="model", api_key=None, prompts=PROBE_PROMPTS, seed=21, **SAMPLING
        )

    result = mmd_test(served, weights_samples, permutations=500, seed=1)

    assert result.p_value > 0.05
    assert (result.prompts, result.samples_a, result.samples_b) == (25, 250, 250)


def test_the_equality_test_rejects_an_endpoint_serving_another_model(
    other: Path, weights_samples: dict[str, list[str]]
) -> None:
    with serve_endpoint(other) as server:
        served = sample_endpoint(
            server.base_url, model="model", api_key=None, prompts=PROBE_PROMPTS, seed=21, **SAMPLING
        )

    result = mmd_test(served, weights_samples, permutations=500, seed=1)

    assert result.p_value <= 0.05


# --- chat endpoints: each probe prompt asked as one user message ---------------------------

CHAT_ONLY = Quirks(chat_only=True)  # as most hosted APIs are


def test_a_chat_only_endpoint_passes_preflight_through_its_chat_route(released: Path) -> None:
    with serve_endpoint(released, quirks=CHAT_ONLY) as server:
        checks = preflight(
            server.base_url, model="model", api_key=None, model_dir=released, chat=True
        )

    assert verdicts(checks) == {"sampling": True, "prompt-tokens": None, "chat-template": True}
    assert "no completions route" in checks[1].detail
    sampling = [r for r in server.requests if r["body"].get("max_tokens") != 1]
    assert sampling and all(r["path"] == "/v1/chat/completions" for r in sampling)


def test_a_chat_endpoint_that_ignores_the_temperature_fails_the_sampling_check(
    released: Path,
) -> None:
    quirks = Quirks(chat_only=True, ignore_temperature=True)
    with serve_endpoint(released, quirks=quirks) as server:
        checks = preflight(
            server.base_url, model="model", api_key=None, model_dir=released, chat=True
        )

    assert verdicts(checks) == {"sampling": False, "prompt-tokens": None, "chat-template": True}


def test_greedy_chat_answers_are_the_same_from_the_endpoint_and_the_weights(
    released: Path,
) -> None:
    """Both sides answer the same chat-formatted prompt: at temperature 0, token for token."""
    greedy = {**SAMPLING, "samples": 2, "temperature": 0.0}
    prompts = PROBE_PROMPTS[:4]
    with serve_endpoint(released, quirks=CHAT_ONLY) as server:
        served = sample_endpoint(
            server.base_url,
            model="model",
            api_key=None,
            prompts=prompts,
            seed=1,
            chat=True,
            **greedy,
        )
        plain = sample_weights(released, prompts=prompts, seed=1, **greedy)

    assert served == sample_weights(released, prompts=prompts, seed=1, chat=True, **greedy)
    assert served != plain  # the template is not a no-op: the chat is another prompt
    bodies = [request["body"] for request in server.requests]
    assert [body["messages"] for body in bodies] == [
        [{"role": "user", "content": prompt}] for prompt in prompts
    ]
    assert {(body["n"], body["temperature"], body["max_tokens"]) for body in bodies} == {
        (2, 0.0, 12)
    }


def test_the_chat_equality_test_accepts_an_endpoint_serving_the_released_weights(
    released: Path, weights_chat_samples: dict[str, list[str]]
) -> None:
    with serve_endpoint(released, quirks=CHAT_ONLY) as server:
        served = sample_endpoint(
            server.base_url,
            model="model",
            api_key=None,
            prompts=PROBE_PROMPTS,
            seed=21,
            chat=True,
            **SAMPLING,
        )

    result = mmd_test(served, weights_chat_samples, permutations=500, seed=1)

    assert result.p_value > 0.05
    assert (result.prompts, result.samples_a, result.samples_b) == (25, 250, 250)


def test_the_chat_equality_test_rejects_an_endpoint_serving_another_model(
    other: Path, weights_chat_samples: dict[str, list[str]]
) -> None:
    with serve_endpoint(other, quirks=CHAT_ONLY) as server:
        served = sample_endpoint(
            server.base_url,
            model="model",
            api_key=None,
            prompts=PROBE_PROMPTS,
            seed=21,
            chat=True,
            **SAMPLING,
        )

    result = mmd_test(served, weights_chat_samples, permutations=500, seed=1)

    assert result.p_value <= 0.05


def test_weights_without_a_chat_template_cannot_answer_a_chat(workdir: Path) -> None:
    plain = build_tiny_model(workdir / "plain-chat", seed=4)

    with pytest.raises(NoChatTemplate, match="no chat template"):
        sample_weights(plain, prompts=["Hi"], seed=1, chat=True, **SAMPLING)


def test_a_wrong_key_is_an_endpoint_error_that_says_so(released: Path) -> None:
    with serve_endpoint(released, api_key=API_KEY) as server:
        with pytest.raises(EndpointError, match="refused the API key"):
            preflight(server.base_url, model="model", api_key="sk-wrong", model_dir=released)


def test_a_wrong_model_name_is_an_endpoint_error(released: Path) -> None:
    with serve_endpoint(released) as server:
        with pytest.raises(EndpointError, match="does not exist"):
            sample_endpoint(
                server.base_url, model="nope", api_key=None, prompts=["Hi"], seed=1, **SAMPLING
            )


def test_an_unreachable_endpoint_is_an_endpoint_error(released: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nothing listens once closed

    with pytest.raises(EndpointError, match="could not reach"):
        preflight(f"http://127.0.0.1:{port}/v1", model="m", api_key=None, model_dir=released)


class _Fixed(BaseHTTPRequestHandler):
    """Answers every POST with a fixed page, after ``delay`` seconds."""

    body = b"<html>not an API</html>"
    delay = 0.0

    def do_POST(self) -> None:
        time.sleep(self.delay)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def odd_server() -> Iterator[tuple[ThreadingHTTPServer, type[_Fixed]]]:
    handler = type("Handler", (_Fixed,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_an_answer_that_is_not_json_is_an_endpoint_error(
    odd_server: tuple[ThreadingHTTPServer, type[_Fixed]], released: Path
) -> None:
    server, _ = odd_server
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"

    with pytest.raises(EndpointError, match="not JSON"):
        sample_endpoint(base_url, model="m", api_key=None, prompts=["Hi"], seed=1, **SAMPLING)


def test_a_slow_endpoint_is_an_endpoint_error(
    odd_server: tuple[ThreadingHTTPServer, type[_Fixed]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, handler = odd_server
    handler.delay = 1.0
    monkeypatch.setattr(endpoint_probe, "TIMEOUT_SECONDS", 0.2)
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"

    with pytest.raises(EndpointError, match="did not answer within"):
        sample_endpoint(base_url, model="m", api_key=None, prompts=["Hi"], seed=1, **SAMPLING)
