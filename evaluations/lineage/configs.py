"""What the card and the config say about a model's base, and how two configs differ.

Pure: no Django, no network. A config diff is a list of rows (one per field that decides the
tensors' shapes, the context or the vocabulary), each saying whether the two values differ and
what kind of difference it is: ``shape`` (the weights cannot line up tensor by tensor),
``context`` (rope scaling, positions: e.g. Llama 3.1's ``llama3`` rope with factor 8 and 131,072
positions against Llama 3's 8,192 and none), ``tokens`` (vocabulary, special tokens).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

REPO_ID_MAX = 200
SHAPE_FIELDS = (
    "model_type",
    "architectures",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
)
CONTEXT_FIELDS = ("max_position_embeddings", "rope_scaling", "rope_theta", "sliding_window")
TOKEN_FIELDS = ("vocab_size", "bos_token_id", "eos_token_id", "tie_word_embeddings")
# The fields whose equality lets two models' tensors line up name by name and shape by shape.
SHAPE_DEFINING = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads")
MAX_TOKENS_LISTED = 10


@dataclass(frozen=True)
class ConfigRow:
    field: str
    kind: str  # "shape", "context", "tokens"
    model: Any
    base: Any
    differs: bool

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def named_bases(card_data: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    """The bases the card's ``base_model`` names (a string or a list), else the config's
    ``base_model``; repo ids only, in order, without repeats."""
    names: list[str] = []
    for source in (card_data.get("base_model"), config.get("base_model")):
        values = source if isinstance(source, list) else [source]
        names += [value.strip() for value in values if is_repo_id(value)]
        if names:
            break
    return list(dict.fromkeys(names))


def is_repo_id(value: Any) -> bool:
    if not isinstance(value, str) or not 3 <= len(value.strip()) <= REPO_ID_MAX:
        return False
    owner, _, name = value.strip().partition("/")
    return bool(owner and name and "/" not in name and " " not in value.strip())


def text_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config's own fields, with a nested ``text_config``'s where the top level has none
    (multimodal models keep the language model's sizes there)."""
    nested = config.get("text_config")
    merged = dict(nested) if isinstance(nested, dict) else {}
    merged.update({key: value for key, value in config.items() if key != "text_config"})
    return merged


def same_shapes(model_config: Mapping[str, Any], base_config: Mapping[str, Any]) -> bool:
    """Whether the shape-defining fields agree (fields absent from either are not held
    against it): a candidate base whose shapes differ cannot be the model's origin tensor by
    tensor, so its weights are not read."""
    model, base = text_config(model_config), text_config(base_config)
    return all(
        model.get(name) == base.get(name)
        for name in SHAPE_DEFINING
        if model.get(name) is not None and base.get(name) is not None
    )


def config_diff(
    model_config: Mapping[str, Any],
    base_config: Mapping[str, Any],
    *,
    model_tokenizer: Mapping[str, Any] | None = None,
    base_tokenizer: Mapping[str, Any] | None = None,
) -> list[ConfigRow]:
    """One row per field either config sets, shape fields first; then the special tokens the
    model's tokenizer adds over the base's, when both tokenizer configs are given."""
    model, base = text_config(model_config), text_config(base_config)
    rows = [
        ConfigRow(name, kind, model.get(name), base.get(name), model.get(name) != base.get(name))
        for kind, names in (
            ("shape", SHAPE_FIELDS),
            ("context", CONTEXT_FIELDS),
            ("tokens", TOKEN_FIELDS),
        )
        for name in names
        if name in model or name in base
    ]
    if model_tokenizer is not None and base_tokenizer is not None:
        added = sorted(special_tokens(model_tokenizer) - special_tokens(base_tokenizer))
        removed = sorted(special_tokens(base_tokenizer) - special_tokens(model_tokenizer))
        rows.append(
            ConfigRow(
                "added special tokens",
                "tokens",
                _listed(added),
                _listed(removed),
                bool(added or removed),
            )
        )
    return rows


def special_tokens(tokenizer_config: Mapping[str, Any]) -> set[str]:
    """The contents of the special tokens a ``tokenizer_config.json`` declares."""
    declared = tokenizer_config.get("added_tokens_decoder")
    if not isinstance(declared, dict):
        return set()
    return {
        str(token["content"])
        for token in declared.values()
        if isinstance(token, dict) and token.get("special") and "content" in token
    }


def _listed(tokens: list[str]) -> str:
    shown = ", ".join(tokens[:MAX_TOKENS_LISTED])
    more = len(tokens) - MAX_TOKENS_LISTED
    return f"{shown} (+{more} more)" if more > 0 else shown
