"""The backend's LM wrapped so that the child can report progress as requests finish.

Imported by ``workers.evaluate_child`` after it has set up its process (lm-eval is heavy).
"""

from __future__ import annotations

from typing import IO, Any, Protocol

from lm_eval.api.model import LM, CacheHook


class ModelRunFailed(Exception):
    """The model failed before it produced its first result: on its first forward pass."""


class WrappedLM(Protocol):
    """What ProgressLM asks of the backend's LM (lm-eval ships no types of its own)."""

    rank: int
    world_size: int
    device: Any
    tokenizer_name: str
    cache_hook: CacheHook

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str: ...
    def chat_template(self, chat_template: bool | str = False) -> str | None: ...
    def all_gather(self, tensor: Any) -> Any: ...
    def gather_object(self, obj: Any, dst: int = 0) -> Any: ...
    def barrier(self) -> None: ...
    def set_cache_hook(self, cache_hook: CacheHook) -> None: ...


class ProgressLM(LM):  # type: ignore[misc]  # lm-eval ships no types: LM is Any to mypy
    """The real LM, with ``PROGRESS <done> <total>`` lines as requests finish.

    Requests are handed to the real model whole, one call per request type, as in a direct
    simple_evaluate call. Feeding them in chunks would change results: hf sorts each call's
    requests by length and pads each batch to its longest member, and reuses logits across
    requests that share a context, so chunks change batch shapes and with them the last bits
    of the log-likelihoods (vLLM's continuous batching likewise). Progress is instead counted
    through the cache hook, which hf and vLLM call once per finished request.
    """

    def __init__(self, model: WrappedLM, tasks: list[Any], report: IO[str]) -> None:
        super().__init__()
        self._model = model
        self._tasks = tasks
        self._report = report
        self._done = 0
        self._total: int | None = None
        self._last_reported = -1
        self._inner_hook = model.cache_hook
        model.set_cache_hook(_CountingHook(self))

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class lacks: tokenizer, config, batch_sizes,
        # get_model_info, eot_token_id, max_length, ...
        if name == "_model":
            raise AttributeError(name)
        return getattr(self._model, name)

    def loglikelihood(self, requests: list[Any], **kwargs: Any) -> list[Any]:
        return self._run("loglikelihood", requests, kwargs)

    def loglikelihood_rolling(self, requests: list[Any], **kwargs: Any) -> list[Any]:
        return self._run("loglikelihood_rolling", requests, kwargs)

    def generate_until(self, requests: list[Any], **kwargs: Any) -> list[Any]:
        return self._run("generate_until", requests, kwargs)

    def _run(self, method: str, requests: list[Any], kwargs: dict[str, Any]) -> list[Any]:
        if self._total is None:
            # Every task has built all its requests before the first call, so this is exact.
            self._total = sum(
                instance.repeats for task in self._tasks for instance in task.instances
            )
            self._emit()
        start = self._done
        try:
            responses: list[Any] = getattr(self._model, method)(requests, **kwargs)
        except Exception as error:
            # hf reports each finished request, vLLM each call's at its end: a failure before
            # any is the model's own (an engine that cannot run it), not the harness's.
            if self._done == 0:
                raise ModelRunFailed(f"{type(error).__name__}: {error}") from error
            raise
        # Whatever the hook counted, the call is now finished.
        self._done = max(self._done, start + len(requests))
        self._emit()
        return responses

    def request_finished(self) -> None:
        self._done += 1
        total = self._total or 0
        # About a hundred lines per run, not one per request.
        if self._done - self._last_reported >= max(1, total // 100):
            self._emit()

    def _emit(self) -> None:
        total = max(self._total or 0, self._done)
        if self._done == self._last_reported:
            return
        self._last_reported = self._done
        print(f"PROGRESS {min(self._done, total)} {total}", file=self._report, flush=True)

    # LM defines these itself, so __getattr__ would never see them: forward them by hand.
    @property
    def rank(self) -> int:
        return self._model.rank

    @property
    def world_size(self) -> int:
        return self._model.world_size

    @property
    def device(self) -> Any:
        return self._model.device

    @property
    def tokenizer_name(self) -> str:
        return self._model.tokenizer_name

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        return self._model.apply_chat_template(chat_history, add_generation_prompt)

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return self._model.chat_template(chat_template)

    def all_gather(self, tensor: Any) -> Any:
        return self._model.all_gather(tensor)

    def gather_object(self, obj: Any, dst: int = 0) -> Any:
        return self._model.gather_object(obj, dst)

    def barrier(self) -> None:
        self._model.barrier()

    def set_cache_hook(self, cache_hook: CacheHook) -> None:
        # lm-eval's request cache (use_cache) installs its hook here; keep counting.
        self._inner_hook = cache_hook


class _CountingHook(CacheHook):  # type: ignore[misc]  # lm-eval ships no types
    def __init__(self, proxy: ProgressLM) -> None:
        super().__init__(None)
        self._proxy = proxy

    def add_partial(self, attr: str, req: Any, res: Any) -> None:
        self._proxy._inner_hook.add_partial(attr, req, res)
        self._proxy.request_finished()
