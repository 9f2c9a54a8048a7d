"""The lineage signal's pure logic: config diffs, tensor selection, measures and verdicts."""

from __future__ import annotations

import numpy as np

from evaluations.lineage import (
    CandidateResult,
    TensorComparison,
    Verdict,
    compare_slabs,
    config_diff,
    decide,
    decode,
    named_bases,
    select_tensors,
)
from evaluations.lineage.tensors import TensorEntry

LLAMA_3 = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "max_position_embeddings": 8192,
    "rope_theta": 500000.0,
    "rope_scaling": None,
}
LLAMA_3_1 = {
    **LLAMA_3,
    "max_position_embeddings": 131072,
    "rope_scaling": {
        "rope_type": "llama3",
        "factor": 8.0,
        "low_freq_factor": 1.0,
        "high_freq_factor": 4.0,
        "original_max_position_embeddings": 8192,
    },
}


def test_it_shows_a_llama_3_config_against_llama_3_1_as_a_context_difference() -> None:
    rows = {row.field: row for row in config_diff(LLAMA_3, LLAMA_3_1)}
    assert rows["max_position_embeddings"].differs
    assert (rows["max_position_embeddings"].model, rows["max_position_embeddings"].base) == (
        8192,
        131072,
    )
    assert rows["rope_scaling"].differs and rows["rope_scaling"].kind == "context"
    assert rows["rope_scaling"].base["rope_type"] == "llama3"
    assert not rows["hidden_size"].differs and rows["hidden_size"].kind == "shape"


def test_it_lists_special_tokens_added_over_the_base() -> None:
    base = {"added_tokens_decoder": {"0": {"content": "<s>", "special": True}}}
    model = {
        "added_tokens_decoder": {
            "0": {"content": "<s>", "special": True},
            "9": {"content": "<|im_start|>", "special": True},
        }
    }
    (row,) = [r for r in config_diff({}, {}, model_tokenizer=model, base_tokenizer=base)]
    assert row.differs and row.model == "<|im_start|>" and row.base == ""


def test_it_reads_the_base_from_the_card_as_a_string_or_a_list() -> None:
    assert named_bases({"base_model": "meta-llama/Llama-3.1-8B"}, {}) == ["meta-llama/Llama-3.1-8B"]
    card = {"base_model": ["a/one", "b/two", "a/one", "not a repo", 7]}
    assert named_bases(card, {}) == ["a/one", "b/two"]
    assert named_bases({}, {"base_model": "c/three"}) == ["c/three"]
    assert named_bases({}, {}) == []


def entry(name: str, shape: tuple[int, ...], dtype: str = "BF16") -> TensorEntry:
    size = 2
    for dimension in shape:
        size *= dimension
    return TensorEntry(name, dtype, shape, "model.safetensors", 100, 100 + size)


def test_it_picks_embeddings_and_the_first_middle_and_last_layers_matrices() -> None:
    names = {"model.embed_tokens.weight": (100, 8), "model.norm.weight": (8,)}
    for layer in range(10):
        for part in ("self_attn.q_proj", "self_attn.o_proj", "mlp.down_proj"):
            names[f"model.layers.{layer}.{part}.weight"] = (8, 8)
        names[f"model.layers.{layer}.input_layernorm.weight"] = (8,)
    model = {name: entry(name, shape) for name, shape in names.items()}
    base = dict(model)
    base["model.embed_tokens.weight"] = entry("model.embed_tokens.weight", (90, 8))  # fewer tokens
    base["model.layers.9.mlp.down_proj.weight"] = entry("x", (8, 4))  # another shape: skipped
    chosen = select_tensors(model, base, limit=100, max_row_bytes=1024)
    assert chosen[0] == "model.embed_tokens.weight"
    assert {name.split(".")[2] for name in chosen[1:]} == {"0", "5", "9"}
    assert "model.layers.9.mlp.down_proj.weight" not in chosen
    assert not any("layernorm" in name for name in chosen)
    assert len(select_tensors(model, base, limit=4, max_row_bytes=1024)) == 4


def test_it_never_reads_a_tensor_whose_header_disagrees_with_itself_or_is_too_wide() -> None:
    lying = TensorEntry("model.layers.0.mlp.up_proj.weight", "F32", (8, 8), "m", 100, 120)
    wide = entry("model.layers.0.self_attn.q_proj.weight", (2, 1_000_000))
    quantised = entry("model.layers.0.self_attn.k_proj.weight", (8, 8), dtype="I8")
    tensors = {t.name: t for t in (lying, wide, quantised)}
    assert select_tensors(tensors, tensors, limit=10, max_row_bytes=4096) == []


def test_nan_weights_and_zero_tensors_give_finite_measures() -> None:
    zeros = np.zeros((4, 4), dtype=np.float32)
    nans = np.full((4, 4), np.nan, dtype=np.float32)
    same = compare_slabs("w", (4, 4), nans, zeros)
    assert (same.cosine, same.relative_difference, same.effective_rank) == (0.0, 0.0, 0)
    assert compare_slabs("w", (4, 4), np.ones((4, 4), np.float32), zeros).relative_difference == 1


def test_it_decodes_bf16_as_the_upper_half_of_float32() -> None:
    values = np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float32)
    raw = (values.view(np.uint32) >> 16).astype("<u2").tobytes()
    assert np.array_equal(decode(raw, "BF16", (2, 2)), values)
    assert np.array_equal(decode(values.astype("<f2").tobytes(), "F16", (2, 2)), values)


def test_a_low_rank_update_has_a_low_effective_rank_and_a_full_one_does_not() -> None:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((64, 64)).astype(np.float32)
    low = base + 0.1 * (rng.standard_normal((64, 2)) @ rng.standard_normal((2, 64)))
    full = base + 0.3 * rng.standard_normal((64, 64))
    low_rank = compare_slabs("w", (64, 64), low.astype(np.float32), base)
    full_rank = compare_slabs("w", (64, 64), full.astype(np.float32), base)
    unrelated = compare_slabs("w", (64, 64), rng.standard_normal((64, 64)).astype(np.float32), base)
    assert low_rank.effective_rank <= 2 and low_rank.cosine > 0.9
    assert full_rank.rank_fraction > 0.5 and full_rank.cosine > 0.9
    assert abs(unrelated.cosine) < 0.1 and unrelated.relative_difference > 1.2


def candidate(hub_id: str, named: bool, cosine: float, difference: float) -> CandidateResult:
    tensors = [TensorComparison(f"t{i}", [8, 8], 8, cosine, difference, 8, 1.0) for i in range(3)]
    return CandidateResult(hub_id=hub_id, named=named, tensors=tensors)


def test_the_verdicts() -> None:
    named_close = candidate("a/base", True, 0.99, 0.1)
    named_far = candidate("a/base", True, 0.01, 1.4)
    other_close = candidate("b/base", False, 0.999, 0.01)
    other_far = candidate("b/base", False, 0.0, 1.4)
    assert decide([named_close, other_far]).verdict == Verdict.CONSISTENT
    assert decide([named_far, other_far]).verdict == Verdict.UNRELATED
    closer = decide([named_far, other_close])
    assert closer.verdict == Verdict.CLOSER_TO_OTHER and closer.closer_to == "b/base"
    # Both share an origin, the other only a little closer: no accusation.
    assert decide([named_close, candidate("b/base", False, 0.99, 0.08)]).verdict == "consistent"
    assert decide([candidate("a/base", True, 0.3, 0.9)]).verdict == Verdict.INCONCLUSIVE
    unreadable = CandidateResult("a/base", True, status="unreadable", detail="gated")
    assert decide([unreadable, other_far]).verdict == Verdict.INCONCLUSIVE
    assert decide([other_close]).verdict == Verdict.NO_NAMED_BASE
    too_few = CandidateResult("a/base", True, tensors=named_far.tensors[:2])
    assert decide([too_few]).verdict == Verdict.INCONCLUSIVE
