"""Tiny Llama models: safetensors only, loadable without remote code, the same for a seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file

from localdev.tiny_models import build_tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=7)


def test_it_saves_safetensors_and_no_pickle(model_dir: Path) -> None:
    names = {path.name for path in model_dir.iterdir()}

    assert "model.safetensors" in names
    assert "config.json" in names
    assert "tokenizer.json" in names
    assert not [name for name in names if name.endswith((".bin", ".pt", ".pth", ".pkl"))]


def test_transformers_loads_it_from_safetensors(model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(
        model_dir, use_safetensors=True, trust_remote_code=False
    )
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    assert model.config.model_type == "llama"
    assert model.config.max_position_embeddings >= 512
    assert model.dtype == torch.float32
    assert len(tokenizer) <= 512 + 4
    for token in ("bos_token", "eos_token", "unk_token", "pad_token"):
        assert getattr(tokenizer, token) is not None
    ids = tokenizer("Question: What is frozen water called?\nAnswer: ice")["input_ids"]
    assert tokenizer.decode(ids) == "Question: What is frozen water called?\nAnswer: ice"
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits
    assert logits.shape == (1, len(ids), model.config.vocab_size)


def test_it_is_deterministic_for_a_seed(model_dir: Path, tmp_path: Path) -> None:
    again = build_tiny_model(tmp_path / "again", seed=7)
    other = build_tiny_model(tmp_path / "other", seed=8)

    weights = load_file(model_dir / "model.safetensors")
    same = load_file(again / "model.safetensors")
    different = load_file(other / "model.safetensors")
    assert weights.keys() == same.keys()
    assert all(weights[name].equal(same[name]) for name in weights)
    assert not all(weights[name].equal(different[name]) for name in weights)
    assert (again / "tokenizer.json").read_text() == (model_dir / "tokenizer.json").read_text()


def test_training_is_deterministic_and_changes_the_weights(model_dir: Path, tmp_path: Path) -> None:
    first = load_file(build_tiny_model(tmp_path / "a", seed=7, train_steps=3) / "model.safetensors")
    second = load_file(
        build_tiny_model(tmp_path / "b", seed=7, train_steps=3) / "model.safetensors"
    )
    untrained = load_file(model_dir / "model.safetensors")

    assert all(first[name].equal(second[name]) for name in first)
    assert not all(first[name].equal(untrained[name]) for name in first)


def test_it_takes_extra_config(tmp_path: Path) -> None:
    import json

    path = build_tiny_model(
        tmp_path / "wide", seed=1, hidden_size=32, num_layers=1, extra_config={"rms_norm_eps": 1e-5}
    )

    config = json.loads((path / "config.json").read_text())
    assert config["hidden_size"] == 32
    assert config["num_hidden_layers"] == 1
    assert config["rms_norm_eps"] == 1e-5
