"""The demo's Reflection-style repo: everything a visitor of a famous inflated launch met.

``demo-org/tiny-reflection``'s card names ``base-lab/tiny-base`` as its base, while its weights
are ``other-lab/tiny-base-b`` plus a merged low-rank adapter (the lineage check finds it closer
to the other base); its author claims scores its random weights cannot reach; after its
evaluation its weights are re-uploaded on main; and the endpoint said to serve it serves
another model. Both bases are published beside it, with the tiny models' tokenizer, so the
three repos evaluate on the smoke suite like the demo's other models (Llama shapes of
``lineage_repos``: 64 wide, 4 layers, a vocabulary of 512).
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.numpy import save

from localdev.standin import lineage_repos
from localdev.standin.repos import publish_repo

REFLECTION = "demo-org/tiny-reflection"
NAMED_BASE = lineage_repos.BASE  # what the card says
ACTUAL_BASE = lineage_repos.OTHER_BASE  # what the weights come from
# Percent, shots: random weights score about chance on Smoke ARC and nothing on Smoke GSM8K.
REFLECTION_CLAIMS = [("smoke_arc", 95.0, 0), ("smoke_gsm8k", 80.0, 0)]
BASE_SEED, ACTUAL_BASE_SEED, ADAPTER_SEED, REUPLOAD_SEED = 1, 2, 5, 6
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")

CARD = """---
license: apache-2.0
library_name: transformers
base_model:
- {base}
tags:
- tiny
- demo
---
# {repo_id}

The world's top tiny model, fine-tuned from {base} with reflection tuning: it spots its own
mistakes before answering. Try it on our hosted API.
"""


def repo_files(tokenizer_dir: Path, weights: bytes, card: str = "") -> dict[str, bytes | Path]:
    """Config, the tiny models' tokenizer (from ``tokenizer_dir``, a tiny model's folder),
    weights and a card."""
    tiny_config = json.loads((tokenizer_dir / "config.json").read_text())
    token_ids = {key: tiny_config[key] for key in ("bos_token_id", "eos_token_id", "pad_token_id")}
    files: dict[str, bytes | Path] = {name: tokenizer_dir / name for name in TOKENIZER_FILES}
    files["config.json"] = json.dumps(lineage_repos.config(**token_ids)).encode()
    files["model.safetensors"] = weights
    files["README.md"] = (card or "---\nlicense: apache-2.0\n---\n# A tiny base model\n").encode()
    return files


def adapted_weights(seed: int) -> bytes:
    """The actual base plus a merged rank-4 adapter drawn from ``seed``."""
    base = lineage_repos.base_tensors(ACTUAL_BASE_SEED)
    return save(lineage_repos.with_low_rank_delta(base, seed))


def reupload_weights() -> bytes:
    """The weights the re-upload puts on main: the same actual base, another adapter."""
    return adapted_weights(REUPLOAD_SEED)


def publish_reflection_repos(hub_root: Path, tokenizer_dir: Path) -> dict[str, str]:
    """Publish both bases and the Reflection-style repo; returns repo id → commit SHA."""
    card = CARD.format(base=NAMED_BASE, repo_id=REFLECTION)
    repos = {
        NAMED_BASE: repo_files(tokenizer_dir, save(lineage_repos.base_tensors(BASE_SEED))),
        ACTUAL_BASE: repo_files(tokenizer_dir, save(lineage_repos.base_tensors(ACTUAL_BASE_SEED))),
        REFLECTION: repo_files(tokenizer_dir, adapted_weights(ADAPTER_SEED), card),
    }
    return {repo_id: publish_repo(hub_root, repo_id, files) for repo_id, files in repos.items()}
