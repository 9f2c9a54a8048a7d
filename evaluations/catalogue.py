"""The benchmark catalogue: what each benchmark is, how lm-eval runs it, and how to read it.

This is data, not logic. Thresholds that the discrepancy rule needs (tolerance, the random
baseline) live here, per benchmark, so that changing them never means changing code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Benchmark:
    key: str
    display_name: str
    task: str  # lm-eval task or group name
    metric: str  # e.g. "acc", "exact_match"
    filter: str  # lm-eval filter name; "none" when the task has no filter
    shots: int
    chat_template: bool = False
    choices: int | None = None  # answer choices; None for generation tasks (baseline 0)
    higher_is_better: bool = True
    tolerance: float = 0.03  # practical margin, as a fraction (0.03 = 3 points)
    per_item_binary: bool = True  # the metric is a mean of 0/1 outcomes per item
    # The metric is a mean over items of per-item scores in [0, 1] (0/1 or not): the claim's
    # error then has a bound without the author's word (DISCREPANCY.md, "Inputs").
    bounded_mean: bool = True
    # Run health (DISCREPANCY.md, "Run health before any flag"): above these a measurement
    # cannot contradict a claim; a moderator decides.
    max_truncated: float = 0.05  # share of generations that stopped at max_gen_toks
    max_unparsed: float = 0.05  # share whose filter found no answer
    max_strict_flexible_gap: float = 0.10  # strict vs flexible filter, as a fraction

    @property
    def result_key(self) -> str:
        """The key lm-eval uses in ``results[task]``: ``"acc,none"``."""
        return f"{self.metric},{self.filter}"

    @property
    def random_baseline(self) -> float:
        return 1.0 / self.choices if self.choices else 0.0

    def normalise(self, value: float) -> float:
        """The score above the random baseline on a 0–100 scale, clipped at 0 (display only)."""
        return max(0.0, (value - self.random_baseline) / (1.0 - self.random_baseline)) * 100.0

    def normalise_stderr(self, stderr: float | None) -> float:
        """A standard error on the normalised scale (a shift does not move it; the stretch
        does). lm-eval's N/A counts as 0, as in the discrepancy rule."""
        return (stderr or 0.0) / (1.0 - self.random_baseline) * 100.0


BENCHMARKS: dict[str, Benchmark] = {
    b.key: b
    for b in [
        # classic: the Open LLM Leaderboard v1 settings plus MATH and IFEval.
        Benchmark("mmlu", "MMLU", "mmlu", "acc", "none", 5, choices=4),
        Benchmark("gsm8k", "GSM8K", "gsm8k", "exact_match", "strict-match", 5),
        Benchmark("math", "MATH", "minerva_math", "exact_match", "none", 4),
        Benchmark("ifeval", "IFEval", "ifeval", "prompt_level_strict_acc", "none", 0),
        Benchmark(
            "arc_challenge", "ARC-Challenge", "arc_challenge", "acc_norm", "none", 25, choices=4
        ),
        Benchmark("hellaswag", "HellaSwag", "hellaswag", "acc_norm", "none", 10, choices=4),
        Benchmark(
            "truthfulqa_mc2",
            "TruthfulQA (mc2)",
            "truthfulqa_mc2",
            "acc",
            "none",
            0,
            per_item_binary=False,
        ),
        Benchmark("winogrande", "Winogrande", "winogrande", "acc", "none", 5, choices=2),
        # leaderboard-v2: the Open LLM Leaderboard v2 task definitions.
        Benchmark("mmlu_pro", "MMLU-Pro", "leaderboard_mmlu_pro", "acc", "none", 5, choices=10),
        Benchmark("bbh", "BBH", "leaderboard_bbh", "acc_norm", "none", 3, per_item_binary=False),
        Benchmark("gpqa", "GPQA", "leaderboard_gpqa", "acc_norm", "none", 0, choices=4),
        Benchmark("math_hard", "MATH Lvl 5", "leaderboard_math_hard", "exact_match", "none", 4),
        Benchmark(
            "ifeval_v2", "IFEval (v2)", "leaderboard_ifeval", "prompt_level_strict_acc", "none", 0
        ),
        Benchmark("musr", "MuSR", "leaderboard_musr", "acc_norm", "none", 0, per_item_binary=False),
        # smoke: the real ARC and GSM8K task definitions on small local data (localdev/smoke).
        Benchmark("smoke_arc", "Smoke ARC", "smoke_arc", "acc", "none", 0, choices=4),
        Benchmark(
            "smoke_gsm8k", "Smoke GSM8K", "smoke_gsm8k", "exact_match", "flexible-extract", 0
        ),
    ]
}

SUITES: dict[str, tuple[str, ...]] = {
    "classic": (
        "mmlu",
        "gsm8k",
        "math",
        "ifeval",
        "arc_challenge",
        "hellaswag",
        "truthfulqa_mc2",
        "winogrande",
    ),
    "leaderboard-v2": ("mmlu_pro", "bbh", "gpqa", "math_hard", "ifeval_v2", "musr"),
    "smoke": ("smoke_arc", "smoke_gsm8k"),
}

SUITE_DESCRIPTIONS: dict[str, str] = {
    "classic": "Classic: MMLU, GSM8K, MATH, IFEval, ARC, HellaSwag, TruthfulQA, Winogrande",
    "leaderboard-v2": "Leaderboard v2: MMLU-Pro, BBH, GPQA, MATH Lvl 5, IFEval, MuSR",
    "smoke": "Smoke: small local ARC and GSM8K (minutes on a CPU)",
}


def suite_benchmarks(suite: str) -> list[Benchmark]:
    """The benchmarks of a suite, in display order. Raises KeyError for an unknown suite."""
    return [BENCHMARKS[key] for key in SUITES[suite]]


def benchmark_for_task(task: str) -> Benchmark | None:
    return next((b for b in BENCHMARKS.values() if b.task == task), None)
