"""Figures for the hosted-endpoint signal: how often the Model Equality Test raises a false
alarm on an honest endpoint, and how often it detects one that serves something else.

    python -m localdev.bench_endpoint --seeds 20 [--chat]

For each seed, completions of the probe prompts are sampled from the released weights and
from four stand-in endpoints: one serving the released weights (a rejection there is a false
alarm), one serving another tiny model, one serving the released weights quantised, and one
that puts a system prompt before every prompt. Each endpoint sample is tested against the
weights sample (MMD, Hamming kernel, permutation p-value) at alpha 0.05. With ``--chat`` the
models get a chat template, the endpoints serve chats only, and each probe prompt is asked as
one user message (the weights answer it through the template, as the check does).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from evaluations.endpoint_stats import mmd_test
from localdev.standin.endpoint import EndpointServer, Quirks, serve_endpoint, write_chat_template
from localdev.tiny_models import build_tiny_model
from workers.endpoint_probe import PROBE_PROMPTS, sample_endpoint, sample_weights

ALPHA = 0.05
SYSTEM_PROMPT = "You are a helpful assistant. Answer briefly."


def quantised_copy(model_dir: Path, dest: Path, *, bits: int) -> Path:
    """A copy of ``model_dir`` whose matrices are rounded to ``bits``-bit integers per row
    (symmetric, absolute maximum scale) and stored back as floats: what a provider serving a
    quantised checkpoint computes with."""
    import torch
    from safetensors.torch import load_file, save_file

    shutil.copytree(model_dir, dest)
    tensors = load_file(dest / "model.safetensors")
    levels = 2 ** (bits - 1) - 1
    for name, tensor in tensors.items():
        if tensor.dim() == 2:
            scale = tensor.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / levels
            tensors[name] = (torch.round(tensor / scale) * scale).contiguous()
    save_file(tensors, dest / "model.safetensors", metadata={"format": "pt"})
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--samples", type=int, default=10, help="completions per prompt")
    parser.add_argument("--max-tokens", type=int, default=12)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--permutations", type=int, default=200)
    parser.add_argument("--train-steps", type=int, default=30)
    parser.add_argument("--bits", type=int, default=4, help="quantised variant's bits")
    parser.add_argument("--chat", action="store_true", help="ask chats of chat-only endpoints")
    arguments = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as scratch:
        root = Path(scratch)
        released = build_tiny_model(root / "released", seed=3, train_steps=arguments.train_steps)
        other = build_tiny_model(root / "other", seed=5, train_steps=arguments.train_steps)
        if arguments.chat:
            released, other = write_chat_template(released), write_chat_template(other)
        quantised = quantised_copy(released, root / "quantised", bits=arguments.bits)
        chat_only = arguments.chat
        variants = {
            "honest (released weights)": (released, Quirks(chat_only=chat_only)),
            "another tiny model": (other, Quirks(chat_only=chat_only)),
            f"released weights, {arguments.bits}-bit": (quantised, Quirks(chat_only=chat_only)),
            "released weights + system prompt": (
                released,
                Quirks(system_prompt=SYSTEM_PROMPT, chat_only=chat_only),
            ),
        }
        with ExitStack() as stack:
            servers = {
                name: stack.enter_context(serve_endpoint(model_dir, quirks=quirks))
                for name, (model_dir, quirks) in variants.items()
            }
            rejections, seconds = _run(servers, released, arguments)

    _report(rejections, seconds, arguments)
    return 0


def _run(
    servers: dict[str, EndpointServer], released: Path, arguments: argparse.Namespace
) -> tuple[dict[str, list[bool]], float]:
    decoding = {
        "prompts": PROBE_PROMPTS,
        "samples": arguments.samples,
        "temperature": arguments.temperature,
        "max_tokens": arguments.max_tokens,
        "chat": arguments.chat,
    }
    rejections: dict[str, list[bool]] = {name: [] for name in servers}
    started = time.perf_counter()
    for seed in range(arguments.seeds):
        reference = sample_weights(released, seed=seed, **decoding)
        for name, server in servers.items():
            served = sample_endpoint(
                server.base_url, model="model", api_key=None, seed=10_000 + seed, **decoding
            )
            result = mmd_test(served, reference, permutations=arguments.permutations, seed=seed)
            rejections[name].append(result.p_value <= ALPHA)
        print(f"seed {seed}: {_line(rejections)}", file=sys.stderr, flush=True)
    return rejections, time.perf_counter() - started


def _line(rejections: dict[str, list[bool]]) -> str:
    return ", ".join(f"{name} {sum(flags)}/{len(flags)}" for name, flags in rejections.items())


def _report(
    rejections: dict[str, list[bool]], seconds: float, arguments: argparse.Namespace
) -> None:
    print(
        f"Model Equality Test (MMD, Hamming kernel){' on chats' if arguments.chat else ''}, "
        f"{len(PROBE_PROMPTS)} prompts x "
        f"{arguments.samples} samples per side, temperature {arguments.temperature}, "
        f"{arguments.max_tokens} tokens, {arguments.permutations} permutations, alpha {ALPHA}, "
        f"{arguments.seeds} seeds:"
    )
    for index, (name, flags) in enumerate(rejections.items()):
        kind = "false-alarm rate" if index == 0 else "detection rate"
        rate = sum(flags) / len(flags)
        print(f"  {name:<36} {kind:<16} {rate:6.1%} ({sum(flags)}/{len(flags)})")
    print(f"  {seconds:.0f} s in all, {seconds / arguments.seeds:.1f} s per seed")


if __name__ == "__main__":
    sys.exit(main())
