"""Whether a submitted repo may be evaluated: decided from model_info and a few small JSON files,
before any weights are downloaded. The refusals below run in the order ``inspect_repo`` makes
them."""

from __future__ import annotations

import importlib.util
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from huggingface_hub import HfApi
from huggingface_hub.errors import SafetensorsParsingError
from huggingface_hub.hf_api import ModelInfo

from evaluations.errors import EvaluationError
from workers.hub.connection import HUB_TIMEOUT_SECONDS, download, endpoint, hub_errors

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Real configs nest a few levels; far deeper ones only exhaust the loaders' recursion (json,
# transformers), and then the failure would read as ours.
MAX_CONFIG_DEPTH = 64
# quant_method -> the package that loads it with the hf backend (None: transformers itself).
# vLLM has all but bitsandbytes built in. Each needs CUDA kernels: a CPU worker loads none.
QUANT_PACKAGES: dict[str, str | None] = {
    "awq": "awq",
    "bitsandbytes": "bitsandbytes",
    "compressed-tensors": "compressed_tensors",
    "fp8": None,
    "gptq": "gptqmodel",
}
VLLM_BUILT_IN_QUANT_METHODS = frozenset(QUANT_PACKAGES) - {"bitsandbytes"}
MAX_CARD_TEXT = 64 * 1024  # bytes of the card's text kept for the model page
MAX_README_BYTES = 1 << 20  # a README larger than this is data, not a card: not read


@dataclass(frozen=True)
class RepoFile:
    path: str
    size: int
    sha256: str | None  # from the LFS metadata; None for small files kept in git
    blob_id: str | None = None  # git object id: checks small files, which have no sha256


@dataclass(frozen=True)
class RepoInspection:
    repo_id: str
    ref: str
    commit_sha: str
    files: tuple[RepoFile, ...]
    parameter_count: int | None
    dtype: str | None  # the safetensors dtype holding most parameters, e.g. "BF16"
    licence: str | None
    model_type: str | None
    card_data: dict[str, Any]
    card_text: str = ""  # the README's body (its front matter is ``card_data``), capped


def inspect_repo(
    repo_id: str,
    ref: str = "main",
    *,
    max_parameters: int | None,
    token: str | None = None,
    quant_methods: frozenset[str] | None = None,
) -> RepoInspection:
    """Resolve ``ref`` to a commit and decide whether the repo may be evaluated.

    ``quant_methods``: the quantisation methods the worker loads (None: this worker's, from
    its backend and device settings). Raises EvaluationError with a ``eval:user:*`` code when
    the repo is refused, or ``eval:infra:hub-unreachable`` when the hub cannot be asked.
    Downloads no weights.
    """
    api = HfApi(endpoint=endpoint(), token=token)
    with hub_errors(repo_id, ref):
        info = api.model_info(
            repo_id, revision=ref, files_metadata=True, timeout=HUB_TIMEOUT_SECONDS
        )
        commit_sha = info.sha
        if commit_sha is None:  # the hub names the commit of every answer
            detail = f"the hub named no commit for {repo_id}@{ref}"
            raise EvaluationError("eval:infra:hub-unreachable", detail)
        try:
            _refuse_hidden_or_gated(info)
            files = _repo_files(info)
            _refuse_unloadable_files(files)
            configs = _read_configs(repo_id, commit_sha, files, token)
            _refuse_auto_map(configs)
            model_type = configs["config.json"].get("model_type")
            _refuse_unregistered_model_type(model_type)
            _refuse_unsupported_quantisation(configs["config.json"], quant_methods)
            parameter_count, dtype = _parameters(api, info)
            _refuse_too_large(parameter_count, max_parameters)
            card_text = _card_text(repo_id, commit_sha, files, token)
        except EvaluationError as refusal:
            # A verdict holds for one commit (the next may differ): say which one.
            detail = f"{refusal.detail} (commit {commit_sha})".strip()
            raise EvaluationError(refusal.code, detail) from refusal
    # huggingface_hub leaves CardData.to_dict unannotated.
    card_data = info.card_data.to_dict() if info.card_data is not None else {}  # type: ignore[no-untyped-call]
    return RepoInspection(
        repo_id=repo_id,
        ref=ref,
        commit_sha=commit_sha,
        files=files,
        parameter_count=parameter_count,
        dtype=dtype,
        licence=_licence(card_data),
        model_type=model_type,
        card_data=card_data,
        card_text=card_text,
    )


def _card_text(
    repo_id: str, commit_sha: str, files: tuple[RepoFile, ...], token: str | None
) -> str:
    """The model card's text at the commit: README.md without its front matter (the hub
    parses that as ``card_data``), at most ``MAX_CARD_TEXT`` bytes. "" when there is none."""
    readme = next((f for f in files if f.path == "README.md"), None)
    if readme is None or readme.size > MAX_README_BYTES:
        return ""
    with tempfile.TemporaryDirectory() as scratch:
        local = Path(download(repo_id, commit_sha, readme.path, Path(scratch), token))
        text = local.read_text(encoding="utf-8", errors="replace")
    return card_body(text)


def card_body(text: str) -> str:
    """A README's text after its YAML front matter, cut at ``MAX_CARD_TEXT`` bytes of UTF-8
    (on a character boundary). NUL characters are dropped: no database keeps them as text."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[0].rstrip() == "---":
        closing = next(
            (n for n, line in enumerate(lines[1:], start=1) if line.rstrip() in ("---", "...")),
            None,
        )
        lines = lines[closing + 1 :] if closing is not None else lines
    body = "\n".join(lines).replace("\x00", "").strip()
    return body.encode()[:MAX_CARD_TEXT].decode("utf-8", errors="ignore")


# --- the decisions, in the order inspect_repo makes them --------------------------------------


def _refuse_hidden_or_gated(info: ModelInfo) -> None:
    # A token with access could show a private or gated repo; only open repos are evaluated.
    if info.private:
        raise EvaluationError("eval:user:repo-not-found", f"{info.id} is private")
    if info.gated:
        raise EvaluationError("eval:user:gated", f"{info.id} is gated ({info.gated})")


def _repo_files(info: ModelInfo) -> tuple[RepoFile, ...]:
    return tuple(
        RepoFile(
            path=sibling.rfilename,
            size=sibling.lfs.size if sibling.lfs else (sibling.size or 0),
            sha256=sibling.lfs.sha256 if sibling.lfs else None,
            blob_id=None if sibling.lfs else sibling.blob_id,
        )
        for sibling in info.siblings or ()
    )


def _refuse_unloadable_files(files: tuple[RepoFile, ...]) -> None:
    paths = [file.path for file in files]
    if "config.json" not in paths:
        raise EvaluationError("eval:user:no-config", "no config.json at the repo root")
    if not any(path.endswith(".safetensors") and "/" not in path for path in paths):
        pickles = [path for path in paths if path.lower().endswith(PICKLE_SUFFIXES)]
        found = f"found {', '.join(pickles)}" if pickles else "found no weight files"
        raise EvaluationError("eval:user:no-safetensors", f"{found}, no *.safetensors")
    python_files = [path for path in paths if path.endswith(".py")]
    if python_files:
        detail = f"found Python files: {', '.join(python_files)}"
        raise EvaluationError("eval:user:remote-code", detail)


def _config_paths(files: tuple[RepoFile, ...]) -> list[str]:
    """Every root-level ``*config.json``: config, tokenizer, processor, image processor, ..."""
    return sorted(
        file.path for file in files if "/" not in file.path and file.path.endswith("config.json")
    )


def _read_configs(
    repo_id: str, commit_sha: str, files: tuple[RepoFile, ...], token: str | None
) -> dict[str, dict[str, Any]]:
    """The JSON configs, downloaded at the commit into a throwaway folder."""
    configs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="hub-inspect-") as scratch:
        for path in _config_paths(files):
            local_path = download(repo_id, commit_sha, path, Path(scratch), token)
            configs[path] = _load_json_object(path, Path(local_path))
    return configs


def _load_json_object(path: str, local_path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(local_path.read_text(encoding="utf-8"))
    except RecursionError as error:  # json's own limit, near a thousand levels
        detail = f"{path} nests more than {MAX_CONFIG_DEPTH} levels deep"
        raise EvaluationError("eval:user:config-too-deep", detail) from error
    except (ValueError, UnicodeDecodeError) as error:
        if path == "config.json":
            detail = f"config.json is not JSON: {error}"
            raise EvaluationError("eval:user:no-config", detail) from error
        return {}  # a broken optional config fails the load later, with its own message
    if nesting_depth(loaded) > MAX_CONFIG_DEPTH:
        detail = f"{path} nests more than {MAX_CONFIG_DEPTH} levels deep"
        raise EvaluationError("eval:user:config-too-deep", detail)
    return loaded if isinstance(loaded, dict) else {}


def nesting_depth(value: Any) -> int:
    """How many objects and lists deep ``value`` goes; a loop, so no depth can exhaust it."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in item)
    return deepest


def _refuse_auto_map(configs: dict[str, dict[str, Any]]) -> None:
    for path, config in configs.items():
        for auto_map in _auto_maps(config):
            target = _first_code_reference(auto_map)
            if target is None:
                continue  # an empty auto_map asks for no code
            detail = f"auto_map in {path} points to {target}"
            if "--" in target:  # "org/other-repo--modeling_x.Class"
                detail += f" (code from another repo: {target.split('--', 1)[0]})"
            raise EvaluationError("eval:user:remote-code", detail)


def _auto_maps(value: Any) -> Iterator[Any]:
    """Every ``auto_map`` value, at any depth: composite configs nest sub-configs."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "auto_map":
                yield item
            else:
                yield from _auto_maps(item)
    elif isinstance(value, list):
        for item in value:
            yield from _auto_maps(item)


def _first_code_reference(auto_map: Any) -> str | None:
    """The first class an auto_map names; tokenizers map to ``[slow, fast]`` pairs."""
    values = auto_map.values() if isinstance(auto_map, dict) else [auto_map]
    for value in values:
        candidates = value if isinstance(value, list) else [value]
        for candidate in candidates:
            if isinstance(candidate, str) and candidate:
                return candidate
    return None


def _refuse_unregistered_model_type(model_type: Any) -> None:
    from transformers import CONFIG_MAPPING  # slow import: only once a repo gets this far

    if not isinstance(model_type, str) or not model_type:
        detail = "config.json has no model_type"
        raise EvaluationError("eval:user:unsupported-architecture", detail)
    if model_type not in CONFIG_MAPPING:
        detail = f"model_type {model_type!r} is not registered in the installed transformers"
        raise EvaluationError("eval:user:unsupported-architecture", detail)


def _refuse_unsupported_quantisation(
    config: dict[str, Any], quant_methods: frozenset[str] | None
) -> None:
    if "quantization_config" not in config:
        return
    method = _quant_method(config["quantization_config"])
    supported = worker_quant_methods() if quant_methods is None else quant_methods
    if method not in supported:
        offered = ", ".join(sorted(supported)) + " only" if supported else "no quantised weights"
        detail = f"config.json's quantization_config asks for {method}; this worker loads {offered}"
        raise EvaluationError("eval:user:unsupported-quantisation", detail)


def _quant_method(quantization_config: Any) -> str:
    """The method a quantization_config names; transformers reads bare load_in_4bit/8bit
    flags as bitsandbytes."""
    if not isinstance(quantization_config, dict):
        return "an unnamed method"
    method = quantization_config.get("quant_method")
    if isinstance(method, str) and method:
        return method
    if quantization_config.get("load_in_4bit") or quantization_config.get("load_in_8bit"):
        return "bitsandbytes"
    return "an unnamed method"


def worker_quant_methods() -> frozenset[str]:
    """The quantisation methods this worker's backend loads on its device."""
    if settings.WORKER_DEVICE != "cuda":
        return frozenset()
    return frozenset(
        method
        for method, package in QUANT_PACKAGES.items()
        if package is None
        or (settings.WORKER_BACKEND == "vllm" and method in VLLM_BUILT_IN_QUANT_METHODS)
        or importlib.util.find_spec(package) is not None
    )


def _parameters(api: HfApi, info: ModelInfo) -> tuple[int | None, str | None]:
    """Parameter count and dominant dtype: from model_info, else from the safetensors headers."""
    if info.safetensors is not None and info.safetensors.parameters:
        counts = dict(info.safetensors.parameters)
        total = info.safetensors.total or sum(counts.values())
    else:
        counts = _count_from_headers(api, info)
        total = sum(counts.values())
    if not counts:
        return None, None
    return total, max(counts, key=lambda dtype: counts[dtype])


def _count_from_headers(api: HfApi, info: ModelInfo) -> dict[str, int]:
    # Each file's header only, by Range request. Every root-level file rather than
    # get_safetensors_metadata, which knows only model.safetensors or an index file.
    counts: dict[str, int] = {}
    weight_files = [
        s.rfilename
        for s in info.siblings or ()
        if s.rfilename.endswith(".safetensors") and "/" not in s.rfilename
    ]
    for filename in weight_files:
        try:
            metadata = api.parse_safetensors_file_metadata(info.id, filename, revision=info.sha)
        except SafetensorsParsingError as error:
            detail = f"{filename} does not start with a valid safetensors header"
            raise EvaluationError("eval:user:no-safetensors", detail) from error
        for dtype, count in metadata.parameter_count.items():
            counts[dtype] = counts.get(dtype, 0) + count
    return counts


def _refuse_too_large(parameter_count: int | None, max_parameters: int | None) -> None:
    if max_parameters is not None and parameter_count is not None:
        if parameter_count > max_parameters:
            detail = (
                f"{parameter_count:,} parameters; this worker accepts at most {max_parameters:,}"
            )
            raise EvaluationError("eval:user:too-large", detail)


def _licence(card_data: dict[str, Any]) -> str | None:
    licence = card_data.get("license")
    if licence == "other" and card_data.get("license_name"):
        return f"other ({card_data['license_name']})"
    return licence if isinstance(licence, str) else None
