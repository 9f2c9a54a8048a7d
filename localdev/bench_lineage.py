"""How often the lineage check rings falsely, how often it catches a false base, and what it
reads: ``python -m localdev.bench_lineage --seeds 20``.

For each seed, publishes on a stand-in hub two bases (both in the candidate catalogue) and:

- honest models whose card names their true base: a merged low-rank adapter (rank 1-16, size
  5-50 % of each matrix's norm), a full fine-tune (10-60 %), the base's own weights renamed;
- distorted ones: a model with its own weights that claims the base (expect "unrelated"), and
  one built on the second base whose card names the first (expect "closer-to-other").

Each goes through the worker's own check (``workers.lineage.compare_repo``: the real
huggingface_hub client, Range requests). Prints the false-alarm rate per honest kind, the
detection rate per distorted kind, and bytes read against the size of the weights; then the
bytes the same selection and caps would read from Llama-3.1-8B-shaped headers (16 GB of BF16).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-lineage-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{scratch / 'db.sqlite3'}")
    os.environ.setdefault("LEADERBOARD_VAR_DIR", str(scratch / "var"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings")
    import django

    django.setup()
    from localdev.standin.hub_server import serve_in_thread

    server, url = serve_in_thread(scratch / "hub")
    os.environ["HF_ENDPOINT"] = url
    try:
        outcomes, reads = _run(scratch / "hub", args.seeds)
    finally:
        server.shutdown()
    _report(outcomes, reads, args.seeds)
    _report_planned_8b()


EXPECTED = {
    "honest: low-rank adapter": "consistent",
    "honest: full fine-tune": "consistent",
    "honest: base renamed": "consistent",
    "distorted: unrelated claims the base": "unrelated",
    "distorted: built on another candidate": "closer-to-other",
}


def _run(root: Path, seeds: int) -> tuple[dict[str, Counter[str]], list[tuple[int, int]]]:
    import numpy as np

    from localdev.standin import lineage_repos as stand_ins
    from localdev.standin.repos import publish_repo
    from workers.lineage import compare_repo

    outcomes: dict[str, Counter[str]] = {kind: Counter() for kind in EXPECTED}
    reads: list[tuple[int, int]] = []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        base_a, base_b = f"bench{seed}/base-a", f"bench{seed}/base-b"
        a, b = stand_ins.base_tensors(seed * 7 + 1), stand_ins.base_tensors(seed * 7 + 2)
        low = stand_ins.with_low_rank_delta(
            a, seed, rank=int(rng.integers(1, 17)), scale=float(rng.uniform(0.05, 0.5))
        )
        full = stand_ins.with_full_delta(a, seed, scale=float(rng.uniform(0.1, 0.6)))
        models = {
            "honest: low-rank adapter": low,
            "honest: full fine-tune": full,
            "honest: base renamed": a,
            "distorted: unrelated claims the base": stand_ins.base_tensors(seed * 7 + 3),
            "distorted: built on another candidate": stand_ins.with_low_rank_delta(b, seed + 99),
        }
        publish_repo(root, base_a, stand_ins.repo_files(a))
        publish_repo(root, base_b, stand_ins.repo_files(b))
        for number, (kind, tensors) in enumerate(models.items()):
            repo_id = f"bench{seed}/model-{number}"
            sha = publish_repo(root, repo_id, stand_ins.repo_files(tensors, base_model=base_a))
            result = compare_repo(repo_id, sha, [base_a, base_b])
            outcomes[kind][result.outcome.verdict] += 1
            reads.append((result.bytes_read, result.weights_bytes))
    return outcomes, reads


def _report(outcomes: dict[str, Counter[str]], reads: list[tuple[int, int]], seeds: int) -> None:
    from evaluations.lineage import ALARMS

    print(f"lineage check over {seeds} seeds (stand-in hub, tiny Llama-shaped models)")
    for kind, counts in outcomes.items():
        total = sum(counts.values())
        if kind.startswith("honest"):
            alarms = sum(n for verdict, n in counts.items() if verdict in ALARMS)
            figure = f"false alarms {alarms}/{total} ({alarms / total:.0%})"
        else:
            hits = counts[EXPECTED[kind]]
            figure = f"detected {hits}/{total} ({hits / total:.0%})"
        print(f"  {kind:40} {figure:32} verdicts {dict(counts)}")
    read = sum(r for r, _ in reads) / len(reads)
    size = sum(w for _, w in reads) / len(reads)
    print(
        f"  bytes read per check: {read / 1024:.0f} KiB (model + 2 candidates: headers, configs,"
        f" slabs) for {size / 1024:.0f} KiB of weights: tiny models are read almost whole"
    )


def _report_planned_8b() -> None:
    """The same selection and caps on Llama-3.1-8B's real tensor names and shapes."""
    from django.conf import settings

    from evaluations.lineage import header_entries, select_tensors

    shapes = {"model.embed_tokens.weight": [128256, 4096], "lm_head.weight": [128256, 4096]}
    shapes["model.norm.weight"] = [4096]
    for layer in range(32):
        prefix = f"model.layers.{layer}."
        shapes |= {
            f"{prefix}self_attn.q_proj.weight": [4096, 4096],
            f"{prefix}self_attn.k_proj.weight": [1024, 4096],
            f"{prefix}self_attn.v_proj.weight": [1024, 4096],
            f"{prefix}self_attn.o_proj.weight": [4096, 4096],
            f"{prefix}mlp.gate_proj.weight": [14336, 4096],
            f"{prefix}mlp.up_proj.weight": [14336, 4096],
            f"{prefix}mlp.down_proj.weight": [4096, 14336],
            f"{prefix}input_layernorm.weight": [4096],
            f"{prefix}post_attention_layernorm.weight": [4096],
        }
    header, offset = {}, 0
    for name, shape in shapes.items():
        size = 2 * int(__import__("math").prod(shape))
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    entries = header_entries("model.safetensors", raw)
    cap = settings.LINEAGE_MAX_BYTES_PER_TENSOR
    chosen = select_tensors(entries, entries, limit=settings.LINEAGE_MAX_TENSORS, max_row_bytes=cap)
    slabs = sum(entries[name].slab(cap)[1] - entries[name].slab(cap)[0] + 1 for name in chosen)
    per_repo = slabs + 8 + len(raw) + 64 * 1024  # slabs, header, configs (generous)
    for candidates in (1, 2):
        total = per_repo * (1 + candidates)
        print(
            f"  Llama-3.1-8B shapes ({offset / 1e9:.1f} GB BF16), {len(chosen)} tensors at "
            f"{cap // 1024} KiB: {total / 2**20:.1f} MiB per check with {candidates} candidate(s)"
            f" = {total / offset:.2%} of the model's weights"
        )


if __name__ == "__main__":
    main()
