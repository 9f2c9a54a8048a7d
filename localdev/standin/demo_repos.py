"""The repos the demo and the tests publish on the stand-in hub.

Three tiny models that evaluate (one briefly trained on the smoke data, two with random
weights) and one repo for each refusal: custom code, pickle-only weights, too large, gated.
``replace_weights`` re-uploads a repo's weights on main after it was evaluated (the re-upload
watch's case). The Reflection-style repo and its two bases are in ``reflection_repo``.
``publish_chat_repo`` publishes a chat model, for the chat endpoint's check.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from localdev.standin.endpoint import write_chat_template
from localdev.standin.reflection_repo import (
    REFLECTION,
    REFLECTION_CLAIMS,
    publish_reflection_repos,
)
from localdev.standin.repos import RepoStore, publish_repo
from localdev.tiny_models import build_tiny_model

TRAINED = "demo-org/tiny-trained"
RANDOM_A = "demo-org/tiny-random"
RANDOM_B = "other-lab/tiny-random-b"
CUSTOM_CODE = "demo-org/tiny-custom-code"
PICKLE_ONLY = "demo-org/tiny-pickle-only"
TOO_LARGE = "demo-org/huge-70b"
GATED = "gated-org/tiny-gated"
REUPLOADED = "demo-org/tiny-reuploaded"  # published like RANDOM_A; main replaced later
# vLLM's CPU attention needs a head size of at least 32: hidden 128 over 4 heads. Published on
# request (the vLLM tests), not by the demo, whose workers run the hf backend.
WIDE = "demo-org/tiny-wide"
WIDE_HIDDEN_SIZE = 128
# TRAINED's weights with a chat template (ChatML), as a chat model's repo ships one. Published
# on request (the chat endpoint's tests).
CHAT = "demo-org/tiny-chat"

EVALUABLE = (TRAINED, RANDOM_A, RANDOM_B)
# What each demo author claims when submitting (percent, shots): TRAINED's claims are in its
# card and hold; RANDOM_A over-claims; RANDOM_B claims a setting we do not run by default;
# REFLECTION over-claims, and more (see reflection_repo).
SUBMITTED_CLAIMS = {
    TRAINED: [],
    RANDOM_A: [("smoke_arc", 92.0, 0), ("smoke_gsm8k", 65.0, 0)],
    RANDOM_B: [("smoke_arc", 41.0, 5)],
    REFLECTION: REFLECTION_CLAIMS,
}
TRAIN_STEPS = 60


# The honest author states its scores in the model card, as many authors do.
TRAINED_CARD_INDEX = """model-index:
- name: tiny-trained
  results:
  - task: {type: text-generation}
    dataset: {name: Smoke ARC, type: smoke_arc, args: {num_few_shot: 0}}
    metrics: [{type: acc, value: 97.0}]
    source: {name: self-reported, url: "https://example.org/tiny-trained/report"}
  - task: {type: text-generation}
    dataset: {name: Smoke GSM8K, type: smoke_gsm8k, args: {num_few_shot: 0}}
    metrics: [{type: exact_match, value: 30.0}]
    source: {name: self-reported, url: "https://example.org/tiny-trained/report"}
"""


def model_card(repo_id: str, licence: str = "apache-2.0", model_index: str = "") -> bytes:
    return (
        f"---\nlicense: {licence}\nlibrary_name: transformers\ntags:\n- tiny\n- demo\n"
        f"{model_index}---\n"
        f"# {repo_id}\n\nA tiny Llama-architecture model built for the leaderboard's demo.\n"
    ).encode()


def model_files(model_dir: Path, repo_id: str) -> dict[str, bytes | Path]:
    files: dict[str, bytes | Path] = {
        path.name: path for path in sorted(model_dir.iterdir()) if path.is_file()
    }
    files["README.md"] = model_card(
        repo_id, model_index=TRAINED_CARD_INDEX if repo_id == TRAINED else ""
    )
    return files


def build_models(cache_dir: Path) -> dict[str, Path]:
    """Build (once) the three evaluable models; returns repo id → model directory."""
    specs = {TRAINED: (1, TRAIN_STEPS), RANDOM_A: (2, 0), RANDOM_B: (3, 0)}
    dirs = {}
    for repo_id, (seed, steps) in specs.items():
        target = cache_dir / repo_id.replace("/", "--")
        if not (target / "model.safetensors").exists():
            build_tiny_model(target, seed=seed, train_steps=steps)
        dirs[repo_id] = target
    return dirs


def publish_wide_repo(hub_root: Path, cache_dir: Path) -> tuple[str, Path]:
    """Publish (once) ``WIDE``, a trained model vLLM's CPU build can run; returns its commit
    SHA and model directory."""
    target = cache_dir / WIDE.replace("/", "--")
    if not (target / "model.safetensors").exists():
        build_tiny_model(target, seed=4, train_steps=TRAIN_STEPS, hidden_size=WIDE_HIDDEN_SIZE)
    return publish_repo(hub_root, WIDE, model_files(target, WIDE)), target


def publish_chat_repo(hub_root: Path, cache_dir: Path) -> tuple[str, Path]:
    """Publish ``CHAT``: TRAINED's model with a chat template; returns its commit SHA and
    model directory."""
    target = cache_dir / CHAT.replace("/", "--")
    if not (target / "model.safetensors").exists():
        trained = build_models(cache_dir)[TRAINED]
        shutil.copytree(trained, target, dirs_exist_ok=True)
        write_chat_template(target)
    return publish_repo(hub_root, CHAT, model_files(target, CHAT)), target


def publish_demo_hub(hub_root: Path, cache_dir: Path) -> dict[str, str]:
    """Publish every demo repo on the hub at ``hub_root``; returns repo id → commit SHA."""
    models = build_models(cache_dir)
    shas = {
        repo_id: publish_repo(hub_root, repo_id, model_files(model_dir, repo_id))
        for repo_id, model_dir in models.items()
    }
    base = model_files(models[RANDOM_A], RANDOM_A)
    config = json.loads(Path(models[RANDOM_A] / "config.json").read_text())

    custom = dict(base)
    custom["config.json"] = json.dumps(
        {**config, "auto_map": {"AutoModelForCausalLM": "modeling_tiny.TinyForCausalLM"}}
    ).encode()
    custom["modeling_tiny.py"] = b"import os  # a submitted repo's code is never run\n"
    shas[CUSTOM_CODE] = publish_repo(hub_root, CUSTOM_CODE, custom)

    pickled = {name: data for name, data in base.items() if not name.endswith(".safetensors")}
    pickled["pytorch_model.bin"] = b"PK\x03\x04 pickle archive stand-in"
    shas[PICKLE_ONLY] = publish_repo(hub_root, PICKLE_ONLY, pickled)

    shas[TOO_LARGE] = publish_repo(
        hub_root,
        TOO_LARGE,
        base,
        metadata_overrides={
            "safetensors": {"parameters": {"BF16": 70_553_706_496}, "total": 70_553_706_496}
        },
    )
    shas[GATED] = publish_repo(hub_root, GATED, base, gated="manual")
    # RANDOM_A's weights for now; ``replace_weights`` re-uploads others after evaluation.
    reuploaded = model_files(models[RANDOM_A], REUPLOADED)
    shas[REUPLOADED] = publish_repo(hub_root, REUPLOADED, reuploaded)
    return shas | publish_reflection_repos(hub_root, models[TRAINED])


def replace_weights(hub_root: Path, repo_id: str, weights: bytes | Path) -> str:
    """Publish a new commit on main of ``repo_id`` with ``model.safetensors`` replaced and every
    other file kept; returns the new commit's SHA. Metadata and bytes both change, as after a
    real re-upload."""
    store = RepoStore(hub_root)
    repo = store.repo(repo_id)
    if repo is None or "main" not in repo.branches:
        raise KeyError(f"{repo_id} has no main branch on the stand-in hub")
    commit = store.commit(repo, repo.branches["main"])
    files: dict[str, bytes | Path] = {
        path: store.blob_path(repo, stored.sha256) for path, stored in commit.files.items()
    }
    files["model.safetensors"] = weights
    return publish_repo(hub_root, repo_id, files, card_data=commit.card_data)
