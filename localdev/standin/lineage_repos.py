"""Stand-in repos for the lineage check: a tiny base, models derived from it, and models that
claim it falsely. Weights are built with numpy (Llama names and shapes, no training), so a
test or a benchmark can publish many seeds in a moment.

- ``base_tensors(seed)``: a base model's weights.
- ``with_low_rank_delta``: base plus a rank-r update on some matrices (an adapter merged in).
- ``with_full_delta``: base plus a full-rank update on every matrix (a full fine-tune).
- ``repo_files(tensors, base_model=...)``: config, tokenizer config, safetensors, a card
  whose ``base_model`` names the base (or claims it falsely).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save

from localdev.standin.repos import publish_repo

BASE = "base-lab/tiny-base"
OTHER_BASE = "other-lab/tiny-base-b"
DERIVED = "demo-org/tiny-derived"
UNRELATED = "demo-org/tiny-unrelated"
MISNAMED = "demo-org/tiny-misnamed"  # derived from OTHER_BASE, its card names BASE
CATALOGUE = [BASE, OTHER_BASE]

HIDDEN, LAYERS, VOCAB, INTERMEDIATE, HEADS = 64, 4, 512, 128, 4
ADAPTED = ("q_proj", "v_proj", "down_proj")
Tensors = dict[str, np.ndarray]


def config(**extra: object) -> dict[str, object]:
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": HIDDEN,
        "intermediate_size": INTERMEDIATE,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": HEADS,
        "vocab_size": VOCAB,
        "max_position_embeddings": 2048,
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "torch_dtype": "float32",
        **extra,
    }


def base_tensors(seed: int) -> Tensors:
    rng = np.random.default_rng(seed)

    def matrix(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) * 0.02).astype(np.float32)

    tensors = {"model.embed_tokens.weight": matrix(VOCAB, HIDDEN)}
    tensors["model.norm.weight"] = np.ones(HIDDEN, dtype=np.float32)
    for layer in range(LAYERS):
        prefix = f"model.layers.{layer}."
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            tensors[f"{prefix}self_attn.{name}.weight"] = matrix(HIDDEN, HIDDEN)
        tensors[f"{prefix}mlp.gate_proj.weight"] = matrix(INTERMEDIATE, HIDDEN)
        tensors[f"{prefix}mlp.up_proj.weight"] = matrix(INTERMEDIATE, HIDDEN)
        tensors[f"{prefix}mlp.down_proj.weight"] = matrix(HIDDEN, INTERMEDIATE)
        tensors[f"{prefix}input_layernorm.weight"] = np.ones(HIDDEN, dtype=np.float32)
        tensors[f"{prefix}post_attention_layernorm.weight"] = np.ones(HIDDEN, dtype=np.float32)
    return tensors


def with_low_rank_delta(base: Tensors, seed: int, *, rank: int = 4, scale: float = 0.2) -> Tensors:
    """Base plus ``U @ V`` of rank ``rank`` on the adapted matrices, its norm ``scale`` times
    the matrix's: what merging a LoRA adapter gives."""
    rng = np.random.default_rng(seed)
    derived = dict(base)
    for name, matrix in base.items():
        if matrix.ndim == 2 and any(part in name for part in ADAPTED):
            update = rng.standard_normal((matrix.shape[0], rank)) @ rng.standard_normal(
                (rank, matrix.shape[1])
            )
            derived[name] = _add(matrix, update, scale)
    return derived


def with_full_delta(base: Tensors, seed: int, *, scale: float = 0.3) -> Tensors:
    """Base plus a full-rank update on every matrix, ``scale`` times its norm."""
    rng = np.random.default_rng(seed)
    return {
        name: _add(matrix, rng.standard_normal(matrix.shape), scale) if matrix.ndim == 2 else matrix
        for name, matrix in base.items()
    }


def _add(matrix: np.ndarray, update: np.ndarray, scale: float) -> np.ndarray:
    factor = scale * np.linalg.norm(matrix) / np.linalg.norm(update)
    return (matrix + factor * update).astype(np.float32)


def repo_files(
    tensors: Tensors, *, base_model: str | list[str] | None = None, **config_extra: object
) -> dict[str, bytes | Path]:
    card = "---\nlicense: apache-2.0\nlibrary_name: transformers\n"
    if base_model is not None:
        names = [base_model] if isinstance(base_model, str) else base_model
        card += "base_model:\n" + "".join(f"- {name}\n" for name in names)
    card += "---\n# A tiny model for the lineage check\n"
    special = {"0": {"content": "<unk>", "special": True}, "1": {"content": "<s>", "special": True}}
    return {
        "config.json": json.dumps(config(**config_extra)).encode(),
        "tokenizer_config.json": json.dumps({"added_tokens_decoder": special}).encode(),
        "model.safetensors": save(tensors),
        "README.md": card.encode(),
    }


def publish_lineage_repos(root: Path, seed: int = 0) -> dict[str, str]:
    """The two bases, an honest derived model, an unrelated one claiming BASE, and one derived
    from OTHER_BASE whose card names BASE; returns repo id -> commit SHA."""
    base, other = base_tensors(seed * 10 + 1), base_tensors(seed * 10 + 2)
    repos = {
        BASE: repo_files(base),
        OTHER_BASE: repo_files(other),
        DERIVED: repo_files(with_low_rank_delta(base, seed * 10 + 3), base_model=BASE),
        UNRELATED: repo_files(base_tensors(seed * 10 + 4), base_model=BASE),
        MISNAMED: repo_files(with_low_rank_delta(other, seed * 10 + 5), base_model=BASE),
    }
    return {repo_id: publish_repo(root, repo_id, files) for repo_id, files in repos.items()}
