"""The tables the card reader decides with: benchmark names, leaderboard signatures, metric
aliases and the tasks of non-LLM cards.

Names are compared after ``names._normalise_name``: lower case, runs of space/_/- folded to "-",
any "(N-shot)" removed. Matching is exact, never by substring, so "Ko-MMLU" stays unknown.
"""

from __future__ import annotations

BENCHMARK_NAMES: dict[str, tuple[str, ...]] = {
    "mmlu": ("mmlu", "cais/mmlu", "hendrycks-test"),
    "gsm8k": ("gsm8k", "gsm-8k", "openai/gsm8k"),
    "math": (
        "math",
        "competition-math",
        "minerva-math",
        "hendrycks-math",
        "eleutherai/hendrycks-math",
    ),
    "math_hard": (
        "math-lvl-5",
        "math-level-5",
        "math-hard",
        "lighteval/math-hard",
        "leaderboard-math-hard",
    ),
    "ifeval": ("ifeval", "google/ifeval", "huggingfaceh4/ifeval", "instruction-following-eval"),
    "ifeval_v2": ("leaderboard-ifeval",),
    "arc_challenge": (
        "arc-challenge",
        "arc-c",
        "ai2-arc",
        "allenai/ai2-arc",
        "ai2-reasoning-challenge",
        "arc-(challenge)",
    ),
    "hellaswag": ("hellaswag", "rowan/hellaswag"),
    "truthfulqa_mc2": ("truthfulqa", "truthful-qa", "truthfulqa-mc2", "truthfulqa/truthful-qa"),
    "winogrande": ("winogrande", "allenai/winogrande"),
    "mmlu_pro": ("mmlu-pro", "tiger-lab/mmlu-pro", "leaderboard-mmlu-pro"),
    "bbh": (
        "bbh",
        "big-bench-hard",
        "bigbench-hard",
        "lukaemon/bbh",
        "saylortwift/bbh",
        "leaderboard-bbh",
    ),
    "gpqa": ("gpqa", "idavidrein/gpqa", "leaderboard-gpqa"),
    "musr": ("musr", "taur-lab/musr", "leaderboard-musr"),
    # The demo's local tasks, so that demo cards import like real ones.
    "smoke_arc": ("smoke-arc",),
    "smoke_gsm8k": ("smoke-gsm8k",),
}
# Names that several benchmarks share: never decide on them (MATH and MATH Lvl 5 share the type).
AMBIGUOUS_NAMES = frozenset({"hendrycks/competition-math", "text-generation"})
# A name that contains one of these words but is not in the table is a variant (MATH-500,
# MMLU-Redux, Ko-MMLU, ARC-Easy, TruthfulQA-mc1): another benchmark, so look no further.
VARIANT_WORDS = frozenset(
    {
        "mmlu",
        "gsm8k",
        "math",
        "ifeval",
        "arc",
        "hellaswag",
        "truthfulqa",
        "winogrande",
        "gpqa",
        "bbh",
        "musr",
    }
)

# The exact dataset names the Open LLM Leaderboards wrote into the cards they generated.
OLL_V1_NAMES = frozenset(
    {
        "ai2 reasoning challenge (25-shot)",
        "hellaswag (10-shot)",
        "mmlu (5-shot)",
        "truthfulqa (0-shot)",
        "winogrande (5-shot)",
        "gsm8k (5-shot)",
        "drop (3-shot)",
    }
)
OLL_V2_NAMES = frozenset(
    {
        "ifeval (0-shot)",
        "bbh (3-shot)",
        "math lvl 5 (4-shot)",
        "gpqa (0-shot)",
        "musr (0-shot)",
        "mmlu-pro (5-shot)",
    }
)
OLL_V1_URLS = (
    "huggingfaceh4/open_llm_leaderboard",
    "open-llm-leaderboard-old/open_llm_leaderboard",
)
OLL_V2_URLS = ("open-llm-leaderboard/open_llm_leaderboard",)
OLL_SOURCE_NAME = "open llm leaderboard"
V2_KEY = {"ifeval": "ifeval_v2"}  # the same benchmark, run with the v2 task definition

NOT_CONVERTIBLE_V2 = {
    "bbh": "BBH is normalised per sub-task on the Open LLM Leaderboard v2: its aggregate cannot "
    "be converted back to raw accuracy",
    "musr": "MuSR is normalised per sub-task on the Open LLM Leaderboard v2: its aggregate "
    "cannot be converted back to raw accuracy",
}

# Metric names accepted as the catalogue's metric. For generation tasks "accuracy" is the
# exact match of the final answer (the v1 leaderboard itself labelled GSM8K's exact match "acc").
_ACC = frozenset({"acc", "accuracy"})
_ACC_NORM = frozenset({"acc_norm", "normalized_accuracy", "normalised_accuracy", "accuracy_norm"})
_EXACT = frozenset({"exact_match", "em", "acc", "accuracy", "exact_match_accuracy"})
_PROMPT_STRICT = frozenset(
    {
        "prompt_level_strict_acc",
        "prompt_level_strict_accuracy",
        "strict_prompt_level_accuracy",
        "prompt_strict_acc",
    }
)
METRIC_ALIASES: dict[str, frozenset[str]] = {
    "acc": _ACC,
    "acc_norm": _ACC_NORM,
    "exact_match": _EXACT,
    "prompt_level_strict_acc": _PROMPT_STRICT,
}
EXTRA_METRIC_ALIASES = {"truthfulqa_mc2": frozenset({"mc2", "truthfulqa_mc2"})}

# Non-LLM model cards also carry model-index; their unknown benchmarks are skipped silently.
NON_LLM_TASKS = frozenset(
    {
        "automatic-speech-recognition",
        "audio-classification",
        "text-to-speech",
        "image-classification",
        "object-detection",
        "image-segmentation",
        "text-to-image",
        "image-to-text",
        "token-classification",
        "text-classification",
        "sentence-similarity",
        "feature-extraction",
        "translation",
        "summarization",
        "fill-mask",
        "zero-shot-classification",
        "depth-estimation",
        "video-classification",
        "reinforcement-learning",
        "tabular-classification",
    }
)
NON_LLM_METRICS = frozenset({"wer", "cer", "bleu", "rouge", "map", "miou", "sacrebleu"})

_NAME_TO_KEY = {name: key for key, names in BENCHMARK_NAMES.items() for name in names}

# Tasks that the hub's benchmark datasets define (their eval.yaml), keyed by (dataset id, task
# id) in lower case, where the task is the catalogue's benchmark as the catalogue runs it.
HUB_BENCHMARK_TASKS: dict[tuple[str, str], str] = {
    ("idavidrein/gpqa", "gpqa"): "gpqa",
    ("tiger-lab/mmlu-pro", "mmlu_pro"): "mmlu_pro",
    ("tiger-lab/mmlu-pro", "mmlu-pro"): "mmlu_pro",
    ("openai/gsm8k", "gsm8k"): "gsm8k",
    ("openai/gsm8k", "main"): "gsm8k",
    ("google/ifeval", "ifeval"): "ifeval",
    ("cais/mmlu", "mmlu"): "mmlu",
    ("cais/mmlu", "all"): "mmlu",
    ("allenai/ai2_arc", "arc_challenge"): "arc_challenge",
    ("allenai/ai2_arc", "arc-challenge"): "arc_challenge",
    ("rowan/hellaswag", "hellaswag"): "hellaswag",
    ("allenai/winogrande", "winogrande"): "winogrande",
    ("taur-lab/musr", "musr"): "musr",
}
