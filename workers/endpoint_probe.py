"""Probing a hosted, OpenAI-compatible endpoint beside the released weights.

Completions are sampled on a fixed probe set from the endpoint (``sample_endpoint``, over
HTTP) and from the weights themselves (``sample_weights``, transformers on this machine) with
the same decoding settings, for the Model Equality Test. A chat endpoint (``chat=True``) is
sent each probe prompt as one user message; the weights then answer the same message rendered
with the repo's chat template, as an honest chat server renders it. ``preflight`` first checks, as
vendors' verifiers do, that the endpoint is configured to serve the weights faithfully: it
honours the sampling parameters, counts prompt tokens as the repo's tokenizer does, and
renders chats with the repo's template. A failed check tells "misconfigured" apart from
"another model".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

TIMEOUT_SECONDS = 60.0
# The paper's headline: about 10 samples per prompt on a few dozen prompts.
DEFAULT_SAMPLES = 10

PROBE_PROMPTS: tuple[str, ...] = (
    "The capital of France is",
    "Once upon a time, in a small village,",
    "def fibonacci(n):",
    "The three primary colours are",
    "Water boils at",
    "My favourite season of the year is",
    "Translate to French: Good morning ->",
    "Q: What is 12 plus 7?\nA:",
    "The quick brown fox",
    "In 1969, the first people to walk on the Moon",
    "A good recipe for pancakes needs",
    "Dear hiring manager,",
    "The most important rule of chess is",
    "Photosynthesis is the process by which",
    "import numpy as np\n",
    "Roses are red, violets are blue,",
    "The weather tomorrow will be",
    "List three animals that live in the ocean:",
    "Question: Which planet is closest to the Sun?\nAnswer:",
    "To be or not to be,",
    "The best way to learn a new language is",
    "SELECT name FROM users WHERE",
    "Breaking news:",
    "Here is a short poem about the sea:\n",
    "The answer to life, the universe and everything is",
)

# Pre-flight probes: short, and long enough that a faithful sampler varies at temperature 1.
SAMPLING_PROMPT = "Write one sentence about the sea:"
SAMPLING_TOKENS = 16
LENGTH_LIMIT = 4
COUNT_PROMPTS = ("The capital of France is", "Question: What is 2 + 2?\nAnswer:")
CHAT_MESSAGES = [{"role": "user", "content": "Name three colours."}]


class EndpointError(Exception):
    """The endpoint could not be asked: unreachable, refused the key, timed out, or gave an
    answer that is not an OpenAI-style JSON one. The message says which, in plain words."""


class NoChatTemplate(Exception):
    """The repo has no chat template, so its weights cannot be asked what a chat endpoint is."""

    def __init__(self) -> None:
        super().__init__(
            "the repo has no chat template, so the released weights cannot be asked the chats "
            "the endpoint answers: the equality test could not be run"
        )


@dataclass
class PreflightCheck:
    key: str  # "sampling" | "prompt-tokens" | "chat-template"
    title: str
    passed: bool | None  # None: inconclusive (nothing to compare with)
    detail: str


def sample_endpoint(
    base_url: str,
    *,
    model: str,
    api_key: str | None,
    prompts: Sequence[str],
    samples: int,
    temperature: float,
    max_tokens: int,
    seed: int,
    chat: bool = False,
) -> dict[str, list[str]]:
    """``samples`` completions of each prompt from the endpoint's /completions route, or with
    ``chat`` ``samples`` answers to each prompt sent as a user message to /chat/completions."""
    results: dict[str, list[str]] = {}
    with _client(api_key) as client:
        for position, prompt in enumerate(prompts):
            texts: list[str] = []
            # Some servers cap n; ask again for what is missing, with a fresh seed each time.
            for attempt in range(samples):
                route, body = _request(model, prompt, chat=chat)
                body |= {
                    "n": samples - len(texts),
                    "temperature": temperature,
                    "top_p": 1.0,
                    "max_tokens": max_tokens,
                    "seed": seed + position * 1000 + attempt,
                }
                answer = _post(client, base_url, route, body)
                texts += [_choice_text(choice) for choice in answer["choices"]]
                if len(texts) >= samples:
                    break
            results[prompt] = texts[:samples]
    return results


def sample_weights(
    model_dir: Path,
    *,
    prompts: Sequence[str],
    samples: int,
    temperature: float,
    max_tokens: int,
    seed: int,
    chat: bool = False,
) -> dict[str, list[str]]:
    """``samples`` completions of each prompt from the released weights in ``model_dir``,
    decoded as an honest endpoint decodes: the request's temperature, top_p 1, no top-k,
    no repetition penalty, the tokenizer's own encoding of the text prompt. With ``chat``,
    the prompt is one user message rendered with the repo's chat template (raises
    ``NoChatTemplate`` when the repo has none)."""
    import torch
    from transformers import GenerationConfig

    tokenizer, language_model = _load(model_dir)
    if chat and not tokenizer.chat_template:
        raise NoChatTemplate
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sampled = temperature > 0
    # A fresh config, not the repo's generation_config.json: an honest endpoint decodes with
    # what the request asks, nothing the repo adds (transformers ships no types for it).
    config = GenerationConfig(  # type: ignore[no-untyped-call]
        do_sample=sampled,
        temperature=temperature if sampled else None,
        top_p=1.0 if sampled else None,
        top_k=0 if sampled else None,
        max_new_tokens=max_tokens,
        num_return_sequences=samples if sampled else 1,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=pad,
    )
    results: dict[str, list[str]] = {}
    # A private random stream: the caller's torch generator is left as it was.
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(seed)
        for prompt in prompts:
            encoded = _encode(tokenizer, prompt, chat=chat).to(language_model.device)
            output = language_model.generate(**encoded, generation_config=config)
            new_tokens = output[:, encoded["input_ids"].shape[1] :]
            texts = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            results[prompt] = list(texts) * (1 if sampled else samples)
    return results


def preflight(
    base_url: str, *, model: str, api_key: str | None, model_dir: Path, chat: bool = False
) -> list[PreflightCheck]:
    """The endpoint's configuration checked against the repo: sampling parameters honoured,
    prompt tokens counted as the repo's tokenizer counts them, the repo's chat template.
    With ``chat`` the sampling is asked of the chat route (a chat endpoint may serve no
    other), and a missing completions route leaves only the token count inconclusive."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with _client(api_key) as client:
        return [
            _check_sampling(client, base_url, model, chat=chat),
            _check_prompt_tokens(client, base_url, model, tokenizer, chat=chat),
            _check_chat_template(client, base_url, model, tokenizer),
        ]


# --- the checks -------------------------------------------------------------------------


def _check_sampling(
    client: httpx.Client, base_url: str, model: str, *, chat: bool
) -> PreflightCheck:
    def texts(temperature: float, seeds: Sequence[int], max_tokens: int) -> list[dict[str, Any]]:
        answers = []
        for seed in seeds:
            route, body = _request(model, SAMPLING_PROMPT, chat=chat)
            body |= {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
            answers.append(_post(client, base_url, route, body))
        return answers

    problems = []
    greedy = {_choice_text(a["choices"][0]) for a in texts(0.0, (1, 2), SAMPLING_TOKENS)}
    if len(greedy) > 1:
        problems.append("temperature 0 gave two different completions of one prompt")
    sampled = {_choice_text(a["choices"][0]) for a in texts(1.0, (1, 2, 3, 4), SAMPLING_TOKENS)}
    if len(sampled) == 1:
        problems.append("temperature 1 with four seeds gave one completion four times")
    short = texts(0.0, (1,), LENGTH_LIMIT)[0]
    used = _usage(short, "completion_tokens")
    if used is not None and used > LENGTH_LIMIT:
        problems.append(f"max_tokens {LENGTH_LIMIT} gave {used} completion tokens")
    detail = "; ".join(problems) or (
        "temperature 0 repeats, temperature 1 varies with the seed, "
        f"max_tokens {LENGTH_LIMIT} is kept"
        + ("" if used is not None else " (length not reported; not checked)")
    )
    return PreflightCheck("sampling", "Sampling parameters honoured", not problems, detail)


def _check_prompt_tokens(
    client: httpx.Client, base_url: str, model: str, tokenizer: Any, *, chat: bool
) -> PreflightCheck:
    title = "Prompt tokens counted as the repo's tokenizer counts them"
    mismatches = []
    for prompt in COUNT_PROMPTS:
        body = {"model": model, "prompt": prompt, "max_tokens": 1, "temperature": 0.0}
        try:
            answer = _post(client, base_url, "completions", body)
        except _RouteRefused as refusal:
            if not chat:
                raise
            detail = (
                f"no completions route ({refusal}); a chat's prompt tokens are compared "
                "with the chat template's instead"
            )
            return PreflightCheck("prompt-tokens", title, None, detail)
        reported = _usage(answer, "prompt_tokens")
        if reported is None:
            return PreflightCheck("prompt-tokens", title, None, "the endpoint reports no usage")
        expected = len(tokenizer(prompt)["input_ids"])
        if reported != expected:
            mismatches.append(f"{prompt!r}: {reported} reported, {expected} by the tokenizer")
    if mismatches:
        detail = (
            "; ".join(mismatches)
            + " (another tokenizer, or text added before the prompt such as a system prompt)"
        )
        return PreflightCheck("prompt-tokens", title, False, detail)
    return PreflightCheck("prompt-tokens", title, True, f"{len(COUNT_PROMPTS)} prompts agree")


def _check_chat_template(
    client: httpx.Client, base_url: str, model: str, tokenizer: Any
) -> PreflightCheck:
    title = "Chats rendered with the repo's chat template"
    if not tokenizer.chat_template:
        return PreflightCheck("chat-template", title, None, "the repo has no chat template")
    body = {"model": model, "messages": CHAT_MESSAGES, "max_tokens": 1, "temperature": 0.0}
    try:
        answer = _post(client, base_url, "chat/completions", body)
    except _RouteRefused as refusal:
        return PreflightCheck("chat-template", title, None, f"no chat route: {refusal}")
    reported = _usage(answer, "prompt_tokens")
    if reported is None:
        return PreflightCheck("chat-template", title, None, "the endpoint reports no usage")
    rendered = tokenizer.apply_chat_template(
        CHAT_MESSAGES, tokenize=False, add_generation_prompt=True
    )
    expected = len(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    if reported != expected:
        detail = (
            f"a one-message chat is {reported} prompt tokens at the endpoint and {expected} "
            "with the repo's template (another template, or a system prompt added)"
        )
        return PreflightCheck("chat-template", title, False, detail)
    return PreflightCheck("chat-template", title, True, f"{expected} prompt tokens on both sides")


# --- one prompt, as text or as a chat -----------------------------------------------------


def _request(model: str, prompt: str, *, chat: bool) -> tuple[str, dict[str, Any]]:
    """The route and the body that ask the endpoint ``prompt``."""
    if chat:
        return "chat/completions", {"model": model, "messages": _chat(prompt)}
    return "completions", {"model": model, "prompt": prompt}


def _chat(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def _encode(tokenizer: Any, prompt: str, *, chat: bool) -> Any:
    """``prompt`` as a server encodes it: a text with the tokenizer's defaults; a chat
    rendered with the template, its special tokens written by the template alone (vLLM's
    chat route encodes so)."""
    if not chat:
        return tokenizer(prompt, return_tensors="pt")
    rendered = tokenizer.apply_chat_template(
        _chat(prompt), tokenize=False, add_generation_prompt=True
    )
    return tokenizer(rendered, add_special_tokens=False, return_tensors="pt")


# --- HTTP -------------------------------------------------------------------------------


class _RouteRefused(EndpointError):
    """A 4xx other than an authentication failure: the endpoint does not offer this."""


def _client(api_key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    # No redirects: the registered address is the one asked, nothing it points elsewhere.
    return httpx.Client(headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False)


def _post(client: httpx.Client, base_url: str, route: str, body: dict[str, Any]) -> Any:
    url = f"{base_url.rstrip('/')}/{route}"
    try:
        response = client.post(url, json=body)
    except httpx.TimeoutException as error:
        raise EndpointError(
            f"the endpoint did not answer within {TIMEOUT_SECONDS:.0f} s"
        ) from error
    except httpx.HTTPError as error:
        raise EndpointError(f"could not reach the endpoint at {url}: {error}") from error
    if response.status_code in (401, 403):
        raise EndpointError(
            f"the endpoint refused the API key (HTTP {response.status_code}): "
            f"{_error_message(response)}"
        )
    if 400 <= response.status_code < 500:
        raise _RouteRefused(f"HTTP {response.status_code} from {route}: {_error_message(response)}")
    if response.status_code != 200:
        raise EndpointError(
            f"the endpoint answered HTTP {response.status_code}: {_error_message(response)}"
        )
    try:
        answer = response.json()
    except ValueError as error:
        raise EndpointError(f"the endpoint's answer to {route} is not JSON") from error
    if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
        raise EndpointError(f"the endpoint's answer to {route} has no list of choices")
    if not answer["choices"]:
        raise EndpointError(f"the endpoint's answer to {route} has no choices")
    return answer


def _error_message(response: httpx.Response) -> str:
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text
    return str(message)[:300]


def _choice_text(choice: Any) -> str:
    if isinstance(choice, dict):
        text = choice.get("text")
        if text is None and isinstance(choice.get("message"), dict):
            text = choice["message"].get("content")
        if isinstance(text, str):
            return text
    raise EndpointError("the endpoint's answer has a choice without text")


def _usage(answer: Any, key: str) -> int | None:
    usage = answer.get("usage")
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _load(model_dir: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    language_model: Any = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32, use_safetensors=True, trust_remote_code=False
    )
    return tokenizer, language_model.to(device).eval()
