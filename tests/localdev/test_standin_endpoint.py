"""The stand-in OpenAI-compatible endpoint: what clients (lm-eval among them) get from it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localdev.smoke import smoke_task_dir
from localdev.standin.endpoint import (
    CHATML_TEMPLATE,
    IGNORED_MAX_TOKENS,
    EndpointServer,
    Quirks,
    serve_endpoint,
    write_chat_template,
)
from localdev.tiny_models import build_tiny_model
from tests.direct_lm_eval import direct_evaluate

SEED = 1234
# Both sides in float32 on the same CPU: per-item log-likelihoods agree to about 1e-5.
LOGLIKELIHOOD_TOLERANCE = 1e-3
API_KEY = "sk-standin-test"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("endpoint")


@pytest.fixture(scope="module")
def model_dir(workdir: Path) -> Path:
    return write_chat_template(build_tiny_model(workdir / "model", seed=3, train_steps=30))


@pytest.fixture(scope="module")
def endpoint(model_dir: Path) -> Iterator[EndpointServer]:
    with serve_endpoint(model_dir, served_name="org/tiny", api_key=API_KEY) as server:
        yield server


def post(
    server: EndpointServer, route: str, body: dict[str, Any], key: str | None = API_KEY
) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{server.base_url}/{route}", json=body, headers=headers, timeout=60)


def completion(server: EndpointServer, **body: Any) -> dict[str, Any]:
    response = post(server, "completions", {"model": "org/tiny", **body})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_it_lists_the_served_model(endpoint: EndpointServer) -> None:
    response = httpx.get(
        f"{endpoint.base_url}/models", headers={"Authorization": f"Bearer {API_KEY}"}
    )

    assert response.status_code == 200
    assert [model["id"] for model in response.json()["data"]] == ["org/tiny"]


@pytest.mark.parametrize("key", [None, "sk-wrong"])
def test_it_refuses_a_wrong_or_missing_key_with_a_json_401(
    endpoint: EndpointServer, key: str | None
) -> None:
    response = post(endpoint, "completions", {"model": "org/tiny", "prompt": "Hi"}, key=key)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"
    assert endpoint.requests[-1]["authorization"] == (f"Bearer {key}" if key else None)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "org/other", "prompt": "Hi"},
        {"model": "org/tiny", "prompt": ""},
        {"model": "org/tiny", "prompt": [10**6]},
        {"model": "org/tiny", "prompt": "Hi", "temperature": "hot"},
        {"model": "org/tiny", "prompt": "Hi", "max_tokens": 5000},
        {"model": "org/tiny", "messages": "Hi"},
    ],
)
def test_it_answers_bad_requests_with_a_json_error(
    endpoint: EndpointServer, body: dict[str, Any]
) -> None:
    route = "chat/completions" if "messages" in body else "completions"

    response = post(endpoint, route, body)

    assert response.status_code in (400, 404)
    assert response.json()["error"]["message"]


def test_echo_with_logprobs_scores_every_prompt_token(endpoint: EndpointServer) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    local = endpoint.local_model
    ids = local.encode("Question: Which is a mammal?\nAnswer: a dog")

    result = completion(endpoint, prompt=[ids], max_tokens=0, echo=True, logprobs=1, temperature=0)

    logprobs = result["choices"][0]["logprobs"]
    assert logprobs["token_logprobs"][0] is None and len(logprobs["tokens"]) == len(ids)
    model = AutoModelForCausalLM.from_pretrained(local.model.name_or_path, dtype=torch.float32)
    with torch.inference_mode():
        expected = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0], dim=-1)
    for position in range(1, len(ids)):
        want = expected[position - 1, ids[position]].item()
        assert logprobs["token_logprobs"][position] == pytest.approx(want, abs=1e-5)
    assert result["choices"][0]["text"] == local.decode(ids)
    assert result["usage"] == {
        "prompt_tokens": len(ids),
        "completion_tokens": 0,
        "total_tokens": len(ids),
    }


def test_seeded_sampling_repeats_and_other_seeds_vary(endpoint: EndpointServer) -> None:
    def texts(seed: int) -> list[str]:
        result = completion(
            endpoint, prompt="The weather", max_tokens=12, temperature=1.0, n=4, seed=seed
        )
        return [choice["text"] for choice in result["choices"]]

    first = texts(7)

    assert len(first) == 4 and len(set(first)) > 1
    assert texts(7) == first
    assert texts(8) != first


def test_greedy_decoding_is_deterministic_and_honours_max_tokens(endpoint: EndpointServer) -> None:
    results = [
        completion(endpoint, prompt=["The sky", "Water"], max_tokens=5, temperature=0)
        for _ in range(2)
    ]

    assert results[0]["choices"] == results[1]["choices"]
    assert len(results[0]["choices"]) == 2
    assert all(choice["finish_reason"] in ("stop", "length") for choice in results[0]["choices"])
    assert results[0]["usage"]["completion_tokens"] <= 10


def test_a_tiny_top_p_keeps_only_the_likeliest_token(endpoint: EndpointServer) -> None:
    greedy = completion(endpoint, prompt="The sky", max_tokens=8, temperature=0)
    narrow = completion(
        endpoint, prompt="The sky", max_tokens=8, temperature=1.0, top_p=1e-6, n=3, seed=1
    )

    assert {choice["text"] for choice in narrow["choices"]} == {greedy["choices"][0]["text"]}


def test_a_stop_text_cuts_the_completion(endpoint: EndpointServer) -> None:
    free = completion(endpoint, prompt="Question:", max_tokens=12, temperature=0)
    text = free["choices"][0]["text"]
    stop = text[3:6]
    assert stop, "the greedy completion is too short for this test"

    cut = completion(endpoint, prompt="Question:", max_tokens=12, temperature=0, stop=[stop])

    assert cut["choices"][0]["text"] == text.split(stop)[0]
    assert cut["choices"][0]["finish_reason"] == "stop"


def test_chat_uses_the_repo_template_and_counts_its_tokens(
    endpoint: EndpointServer, model_dir: Path
) -> None:
    from transformers import AutoTokenizer

    messages = [{"role": "user", "content": "Name a mammal."}]

    response = post(
        endpoint,
        "chat/completions",
        {"model": "org/tiny", "messages": messages, "max_tokens": 6, "temperature": 0},
    )

    assert response.status_code == 200, response.text
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    rendered = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    expected = len(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert response.json()["usage"]["prompt_tokens"] == expected
    assert response.json()["choices"][0]["message"]["role"] == "assistant"


def test_quirks_misreport_and_misbehave(model_dir: Path) -> None:
    quirks = Quirks(
        ignore_temperature=True,
        ignore_max_tokens=True,
        prompt_token_offset=3,
        chat_template=CHATML_TEMPLATE.replace("<|im_start|>", "### "),
    )
    with serve_endpoint(model_dir, quirks=quirks) as server:
        body = {"model": "model", "prompt": "The sky", "max_tokens": 2, "temperature": 0, "n": 6}
        result = httpx.post(f"{server.base_url}/completions", json=body, timeout=60).json()
        chat = {"model": "model", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}
        chat_result = httpx.post(f"{server.base_url}/chat/completions", json=chat, timeout=60)

    texts = [choice["text"] for choice in result["choices"]]
    assert len(set(texts)) > 1  # temperature 0 was not honoured
    assert result["usage"]["completion_tokens"] > 2 * 6
    assert result["usage"]["completion_tokens"] <= IGNORED_MAX_TOKENS * 6
    assert result["usage"]["prompt_tokens"] == len(server.local_model.encode("The sky")) + 3
    assert chat_result.status_code == 200


def test_a_model_without_a_chat_template_refuses_chats(workdir: Path) -> None:
    plain = build_tiny_model(workdir / "plain", seed=4)
    with serve_endpoint(plain) as server:
        chat = {"model": "model", "messages": [{"role": "user", "content": "Hi"}]}
        response = httpx.post(f"{server.base_url}/chat/completions", json=chat, timeout=60)

    assert response.status_code == 400
    assert "chat template" in response.json()["error"]["message"]


def test_lm_eval_local_completions_agrees_with_the_hf_backend(
    endpoint: EndpointServer, model_dir: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lm-eval 0.4.13's local-completions client scores the smoke suite through the stand-in
    (echo + logprobs for ARC, generate_until for GSM8K) as its hf backend does on the weights."""
    tasks_dir = smoke_task_dir(workdir / "smoke_tasks")
    common = {
        "tasks": ["smoke_arc", "smoke_gsm8k"],
        "include_path": str(tasks_dir),
        "log_samples": True,
        "random_seed": SEED,
        "numpy_random_seed": SEED,
        "torch_random_seed": SEED,
        "fewshot_random_seed": SEED,
    }
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)  # what local-completions sends as its key
    served = direct_evaluate(
        {
            **common,
            "model": "local-completions",
            "model_args": {
                "base_url": f"{endpoint.base_url}/completions",
                "model": "org/tiny",
                "tokenizer": str(model_dir),
                "tokenizer_backend": "huggingface",
                "batch_size": 4,
                "max_retries": 1,
            },
        },
        workdir / "served",
    )
    hf = direct_evaluate(
        {
            **common,
            "model": "hf",
            "model_args": {"pretrained": str(model_dir), "dtype": "float32"},
            "device": "cpu",
            "batch_size": 8,
        },
        workdir / "hf",
    )

    def responses(run: dict[str, Any], task: str) -> dict[int, list[Any]]:
        return {s["doc_id"]: s["resps"] for s in run["samples"][task]}

    ours, theirs = responses(served, "smoke_arc"), responses(hf, "smoke_arc")
    assert ours.keys() == theirs.keys() and len(ours) == 40
    gaps = [
        abs(a[0][0] - b[0][0]) for doc in ours for a, b in zip(ours[doc], theirs[doc], strict=True)
    ]
    print(f"\nstand-in endpoint vs hf (float32): max log-likelihood gap {max(gaps):.2e}")
    assert max(gaps) <= LOGLIKELIHOOD_TOLERANCE
    assert responses(served, "smoke_gsm8k") == responses(hf, "smoke_gsm8k")
    for task, metrics in hf["results"].items():
        for metric, value in metrics.items():
            if isinstance(value, float) and "stderr" not in metric:
                assert served["results"][task][metric] == pytest.approx(value, abs=1e-6), metric
    assert all(r["authorization"] == f"Bearer {API_KEY}" for r in endpoint.requests[-5:])
