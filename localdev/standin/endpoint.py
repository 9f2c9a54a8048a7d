"""A stand-in for a hosted, OpenAI-compatible inference endpoint, served from a local model.

It answers the routes a provider's server (vLLM, TGI and the like) answers and lm-eval's
``local-completions`` / ``local-chat-completions`` backends call: ``GET /v1/models``,
``POST /v1/completions`` (echo + logprobs for log-likelihoods, sampling with temperature,
top_p, seed, n, stop) and ``POST /v1/chat/completions``. The model runs with transformers on
the CPU in float32, so the honest stand-in gives the released weights' own numbers.

``Quirks`` make it misbehave the way a misconfigured or cost-cutting provider does, so the
product's pre-flight checks and equality test can be tested for a true and a false alarm.

    python -m localdev.standin.endpoint MODEL_DIR --port 0 [--served-name NAME] [--api-key KEY]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOG_ENV_VAR = "STANDIN_ENDPOINT_LOG"  # set to 1 to log every request to stderr
# What a server does when a request names no length or a quirk ignores it.
DEFAULT_MAX_TOKENS = 16
IGNORED_MAX_TOKENS = 48

# A ChatML-style template for tiny models, which ship none (tests add one to a model dir).
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass
class Quirks:
    """How the endpoint departs from serving the weights faithfully (all off by default)."""

    ignore_temperature: bool = False  # always samples at temperature 1
    ignore_max_tokens: bool = False  # always generates up to IGNORED_MAX_TOKENS
    prompt_token_offset: int = 0  # added to the prompt_tokens it reports
    chat_template: str | None = None  # used instead of the tokenizer's own
    system_prompt: str | None = None  # put before every prompt, unseen by the caller
    # Not a fault: serves chats only, as most hosted APIs do (/v1/completions is not found).
    chat_only: bool = False


class ApiError(Exception):
    """An answer given as an OpenAI-style JSON error."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


def write_chat_template(model_dir: Path, template: str = CHATML_TEMPLATE) -> Path:
    """Give the tokenizer in ``model_dir`` a chat template, as a chat model's repo has."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.chat_template = template
    tokenizer.save_pretrained(model_dir)
    return model_dir


# A token's log-probability (None for the first) and the likeliest alternatives there.
LogprobRow = tuple[float | None, dict[str, float]]


class LocalModel:
    """The weights of one model dir, run one request at a time."""

    def __init__(self, model_dir: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=torch.float32, use_safetensors=True, trust_remote_code=False
        ).eval()
        self.max_length = int(self.model.config.max_position_embeddings)
        self.eos_token_id = self.tokenizer.eos_token_id
        self.lock = threading.Lock()

    def encode(self, text: str) -> list[int]:
        # The tokenizer's own defaults, as vLLM encodes a text prompt.
        ids: list[int] = self.tokenizer(text)["input_ids"]
        return ids

    def decode(self, ids: list[int], *, skip_special: bool = False) -> str:
        text: str = self.tokenizer.decode(ids, skip_special_tokens=skip_special)
        return text

    def token_logprobs(
        self, ids: list[int], top: int
    ) -> list[tuple[float | None, dict[str, float]]]:
        """Each token's log-probability given those before it (None for the first), with the
        ``top`` likeliest alternatives at that place."""
        import torch

        with self.lock, torch.inference_mode():
            logits = self.model(input_ids=torch.tensor([ids])).logits[0]
            logprobs = torch.log_softmax(logits.float(), dim=-1)
        rows: list[LogprobRow] = [(None, {})]
        for position in range(1, len(ids)):
            row = logprobs[position - 1]
            values, indices = torch.topk(row, max(top, 1))
            alternatives: dict[str, float] = {}
            for value, index in zip(values.tolist(), indices.tolist(), strict=True):
                # Keys are token strings: two ids may share one, keep the likelier.
                alternatives.setdefault(self.piece(index), value)
            rows.append((float(row[ids[position]].item()), alternatives))
        return rows

    def piece(self, token_id: int) -> str:
        return self.decode([token_id])

    def sample(
        self,
        ids: list[int],
        *,
        n: int,
        max_tokens: int,
        temperature: float,
        top_p: float,
        generator: Any,
    ) -> list[list[int]]:
        """``n`` continuations of ``ids``, drawn side by side (each ends with EOS when it
        reached one): greedy at temperature 0, else sampled."""
        import torch

        rows: list[list[int]] = [[] for _ in range(n)]
        done = [False] * n
        with self.lock, torch.inference_mode():
            cache = None
            inputs = torch.tensor([ids] * n)
            for _ in range(max_tokens):
                output = self.model(input_ids=inputs, cache=cache, use_cache=True)
                cache = output.cache
                tokens = _choose(output.logits[:, -1].float(), temperature, top_p, generator)
                for row, token in enumerate(tokens):
                    if not done[row]:
                        rows[row].append(token)
                        done[row] = token == self.eos_token_id
                if all(done):
                    break
                inputs = torch.tensor([[token] for token in tokens])
        return rows


def _choose(logits: Any, temperature: float, top_p: float, generator: Any) -> list[int]:
    """One token per row of ``logits``."""
    import torch

    if temperature <= 0:
        return [int(token) for token in torch.argmax(logits, dim=-1).tolist()]
    probabilities = torch.softmax(logits / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probabilities, order = torch.sort(probabilities, descending=True, dim=-1)
        # Keep the smallest head whose mass reaches top_p (the first token always stays).
        outside = torch.cumsum(sorted_probabilities, dim=-1) - sorted_probabilities >= top_p
        sorted_probabilities[outside] = 0.0
        probabilities = torch.zeros_like(probabilities).scatter(-1, order, sorted_probabilities)
    drawn = torch.multinomial(probabilities, 1, generator=generator)[:, 0]
    return [int(token) for token in drawn.tolist()]


@dataclass
class Sampling:
    max_tokens: int
    temperature: float
    top_p: float
    seed: int | None
    n: int
    stop: list[str]


class EndpointServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        model: LocalModel,
        address: tuple[str, int],
        *,
        served_name: str,
        api_key: str | None,
        quirks: Quirks,
    ) -> None:
        super().__init__(address, EndpointRequestHandler)
        self.local_model = model
        self.served_name = served_name
        self.api_key = api_key
        self.quirks = quirks
        # Every request as received: {"path", "body", "authorization"}, for tests.
        self.requests: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self.requests.append(entry)


class EndpointRequestHandler(BaseHTTPRequestHandler):
    server: EndpointServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        if os.environ.get(LOG_ENV_VAR):
            super().log_message(format, *args)

    def _handle(self) -> None:
        body: Any = None
        try:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError as error:
                    raise ApiError(400, f"the body is not JSON: {error}") from error
            self.server.record(
                {
                    "path": self.path,
                    "body": body,
                    "authorization": self.headers.get("Authorization"),
                }
            )
            self._authorise()
            payload = self._route(body)
            self._send_json(200, payload)
        except ApiError as error:
            code = "invalid_api_key" if error.status == 401 else None
            payload = {"error": {"message": error.message, "type": error.kind, "code": code}}
            self._send_json(error.status, payload)
        except Exception as error:  # a stand-in bug still answers, as a server's 500 does
            traceback.print_exc()
            payload = {"error": {"message": repr(error), "type": "server_error", "code": None}}
            self._send_json(500, payload)

    def _authorise(self) -> None:
        expected = self.server.api_key
        if expected is None:
            return
        given = self.headers.get("Authorization") or ""
        if not secrets.compare_digest(given.encode(), f"Bearer {expected}".encode()):
            raise ApiError(401, "Incorrect or missing API key.", "authentication_error")

    def _route(self, body: Any) -> dict[str, Any]:
        path = self.path.split("?", 1)[0].rstrip("/")
        if self.command == "GET" and path == "/v1/models":
            return {
                "object": "list",
                "data": [{"id": self.server.served_name, "object": "model", "owned_by": "standin"}],
            }
        if self.command == "POST" and path in ("/v1/completions", "/v1/chat/completions"):
            if not isinstance(body, dict):
                raise ApiError(400, "the body must be a JSON object")
            if body.get("model") != self.server.served_name:
                raise ApiError(404, f"The model `{body.get('model')}` does not exist.", "NotFound")
            if path == "/v1/completions":
                if self.server.quirks.chat_only:
                    raise ApiError(404, "this endpoint serves chats only", "NotFound")
                return self._completions(body)
            return self._chat_completions(body)
        raise ApiError(404, f"no route {self.command} {path}", "NotFound")

    # --- completions --------------------------------------------------------------------

    def _completions(self, body: dict[str, Any]) -> dict[str, Any]:
        model, quirks = self.server.local_model, self.server.quirks
        prompts = self._prompt_ids(body.get("prompt"))
        sampling = self._sampling(body)
        echo = bool(body.get("echo", False))
        top = body.get("logprobs")
        if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top < 0):
            raise ApiError(400, "logprobs must be a non-negative integer")
        generator = _generator(sampling.seed)
        choices, prompt_tokens, completion_tokens = [], 0, 0
        for ids in prompts:
            if quirks.system_prompt:
                ids = model.encode(quirks.system_prompt + "\n\n") + ids
            self._check_length(ids, sampling.max_tokens)
            prompt_tokens += len(ids) + quirks.prompt_token_offset
            for generated in self._sample(ids, sampling, generator):
                text, generated, finish = self._stop(generated, sampling)
                completion_tokens += len(generated)
                choice: dict[str, Any] = {
                    "index": len(choices),
                    "text": (model.decode(ids) if echo else "") + text,
                    "finish_reason": finish,
                    "logprobs": None,
                }
                if top is not None:
                    choice["logprobs"] = self._logprobs(ids, generated, top, echo)
                choices.append(choice)
        return self._answer("text_completion", choices, prompt_tokens, completion_tokens)

    def _prompt_ids(self, prompt: Any) -> list[list[int]]:
        """The prompts as token ids: a text, a list of texts, ids, or a list of id lists."""
        model = self.server.local_model
        if isinstance(prompt, str):
            prompts: list[Any] = [prompt]
        elif isinstance(prompt, list) and prompt and all(_is_id(x) for x in prompt):
            prompts = [prompt]
        elif isinstance(prompt, list) and prompt:
            prompts = prompt
        else:
            raise ApiError(400, "prompt must be a text, a list of texts or token ids")
        result = []
        vocabulary = len(model.tokenizer)
        for item in prompts:
            if isinstance(item, str):
                ids = model.encode(item)
            elif isinstance(item, list) and all(_is_id(x) for x in item):
                if any(x >= vocabulary for x in item):
                    raise ApiError(400, f"token ids must be below {vocabulary}")
                ids = list(item)
            else:
                raise ApiError(400, "prompt must be a text, a list of texts or token ids")
            if not ids:
                raise ApiError(400, "the prompt is empty")
            result.append(ids)
        return result

    def _sampling(self, body: dict[str, Any]) -> Sampling:
        quirks = self.server.quirks
        max_tokens = _number(body, "max_tokens", int, DEFAULT_MAX_TOKENS, low=0)
        temperature = _number(body, "temperature", float, 1.0, low=0.0)
        top_p = _number(body, "top_p", float, 1.0, low=0.0)
        if not 0 < top_p <= 1:
            raise ApiError(400, "top_p must be in (0, 1]")
        n = _number(body, "n", int, 1, low=1)
        seed = body.get("seed")
        if seed is not None and not _is_id(seed):
            raise ApiError(400, "seed must be a non-negative integer")
        stop = body.get("stop") or []
        stop = [stop] if isinstance(stop, str) else stop
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise ApiError(400, "stop must be a text or a list of texts")
        if quirks.ignore_temperature:
            temperature = 1.0
        if quirks.ignore_max_tokens:
            max_tokens = IGNORED_MAX_TOKENS
        return Sampling(max_tokens, temperature, top_p, seed, n, [s for s in stop if s])

    def _sample(self, ids: list[int], sampling: Sampling, generator: Any) -> list[list[int]]:
        return self.server.local_model.sample(
            ids,
            n=sampling.n,
            max_tokens=sampling.max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            generator=generator,
        )

    def _check_length(self, ids: list[int], max_tokens: int) -> None:
        limit = self.server.local_model.max_length
        if len(ids) + max_tokens > limit:
            raise ApiError(
                400,
                f"This model's maximum context length is {limit} tokens; the prompt has "
                f"{len(ids)} and {max_tokens} more were asked for.",
            )

    def _stop(self, generated: list[int], sampling: Sampling) -> tuple[str, list[int], str]:
        """The completion text cut at EOS or the first stop text, the ids kept, and why."""
        model = self.server.local_model
        finish = "length"
        if generated and generated[-1] == model.eos_token_id:
            finish = "stop"
        text = model.decode(generated, skip_special=True)
        cuts = [text.find(stop) for stop in sampling.stop if stop in text]
        if not cuts:
            return text, generated, finish
        text = text[: min(cuts)]
        # Keep the tokens whose text lies before the cut (the token holding it stays too).
        kept = next(
            (
                i
                for i in range(1, len(generated) + 1)
                if len(model.decode(generated[:i], skip_special=True)) > len(text)
            ),
            len(generated),
        )
        return text, generated[:kept], "stop"

    def _logprobs(
        self, ids: list[int], generated: list[int], top: int, echo: bool
    ) -> dict[str, Any]:
        model = self.server.local_model
        sequence = ids + generated
        rows = model.token_logprobs(sequence, top)
        start = 0 if echo else len(ids)
        tokens = [model.piece(token) for token in sequence[start:]]
        offsets, position = [], 0 if echo else len(model.decode(ids))
        for token in tokens:
            offsets.append(position)
            position += len(token)
        return {
            "tokens": tokens,
            "token_logprobs": [logprob for logprob, _ in rows[start:]],
            "top_logprobs": [alternatives or None for _, alternatives in rows[start:]],
            "text_offset": offsets,
        }

    # --- chat ---------------------------------------------------------------------------

    def _chat_completions(self, body: dict[str, Any]) -> dict[str, Any]:
        model, quirks = self.server.local_model, self.server.quirks
        messages = body.get("messages")
        if (
            not isinstance(messages, list)
            or not messages
            or not all(_is_message(m) for m in messages)
        ):
            raise ApiError(400, "messages must be a list of {role, content} objects")
        if quirks.system_prompt and messages[0]["role"] != "system":
            messages = [{"role": "system", "content": quirks.system_prompt}, *messages]
        template = quirks.chat_template or model.tokenizer.chat_template
        if not template:
            raise ApiError(400, "this model has no chat template, so it cannot answer chats")
        rendered = model.tokenizer.apply_chat_template(
            messages, chat_template=template, tokenize=False, add_generation_prompt=True
        )
        ids = model.tokenizer(rendered, add_special_tokens=False)["input_ids"]
        sampling = self._sampling(body)
        self._check_length(ids, sampling.max_tokens)
        generator = _generator(sampling.seed)
        choices, completion_tokens = [], 0
        for index, generated in enumerate(self._sample(ids, sampling, generator)):
            text, generated, finish = self._stop(generated, sampling)
            completion_tokens += len(generated)
            message = {"role": "assistant", "content": text}
            choices.append({"index": index, "message": message, "finish_reason": finish})
        prompt_tokens = len(ids) + quirks.prompt_token_offset
        return self._answer("chat.completion", choices, prompt_tokens, completion_tokens)

    def _answer(
        self, kind: str, choices: list[dict[str, Any]], prompt_tokens: int, completion_tokens: int
    ) -> dict[str, Any]:
        return {
            "id": f"cmpl-{secrets.token_hex(8)}",
            "object": kind,
            "created": int(time.time()),
            "model": self.server.served_name,
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_message(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("role"), str)
        and isinstance(value.get("content"), str)
    )


def _number(body: dict[str, Any], key: str, kind: type, default: Any, *, low: float) -> Any:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiError(400, f"{key} must be a number")
    if kind is int and value != int(value):
        raise ApiError(400, f"{key} must be an integer")
    if value < low:
        raise ApiError(400, f"{key} must be at least {low}")
    return kind(value)


def _generator(seed: int | None) -> Any:
    import torch

    generator = torch.Generator()
    generator.manual_seed(seed if seed is not None else secrets.randbits(63))
    return generator


@contextlib.contextmanager
def serve_endpoint(
    model_dir: Path,
    *,
    served_name: str = "model",
    api_key: str | None = None,
    quirks: Quirks | None = None,
) -> Iterator[EndpointServer]:
    """Serve ``model_dir`` on a free loopback port for the ``with`` block.

    The server has ``base_url`` ("http://127.0.0.1:PORT/v1") and ``requests``."""
    model = LocalModel(Path(model_dir))
    server = EndpointServer(
        model,
        ("127.0.0.1", 0),
        served_name=served_name,
        api_key=api_key,
        quirks=quirks or Quirks(),
    )
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="standin-endpoint",
        daemon=True,
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stand-in OpenAI-compatible endpoint.")
    parser.add_argument("model_dir", type=Path, help="a model folder (safetensors + tokenizer)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--served-name", default="model", help="the model name requests give")
    parser.add_argument("--api-key", default=os.environ.get("STANDIN_ENDPOINT_API_KEY"))
    arguments = parser.parse_args(argv)
    server = EndpointServer(
        LocalModel(arguments.model_dir),
        ("127.0.0.1", arguments.port),  # loopback only: a test double is never public
        served_name=arguments.served_name,
        api_key=arguments.api_key,
        quirks=Quirks(),
    )
    print(f"LISTENING {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
