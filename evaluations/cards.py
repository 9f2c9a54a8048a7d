"""Claims from model cards: turn a README's ``model-index`` or a hub ``.eval_results`` file into
claim drafts.

Pure: no Django, no network. Every draft says which benchmark it is (or that the catalogue does
not know it), the value as a raw fraction, how the unit was decided, and, when it cannot be
compared with a measurement, why. The design note MODEL_CARDS.md lists the shapes handled.

Choices: results of non-LLM tasks (speech, vision, classifiers) are skipped silently; other
leaderboards' blocks (Ko-ARC, ...) and variants (MATH-500, MMLU-Redux) are kept as unknown
benchmarks, never comparable.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from evaluations.catalogue import BENCHMARKS

# ---------------------------------------------------------------------------------------------
# Tables. Names are compared after _normalise_name: lower case, runs of space/_/- folded to "-",
# any "(N-shot)" removed. Matching is exact, never by substring, so "Ko-MMLU" stays unknown.
# ---------------------------------------------------------------------------------------------

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

_SHOTS = re.compile(r"\(?\s*\b(\d+|zero|one)\s*[-_ ]?\s*shots?\b\s*\)?", re.IGNORECASE)
_NUM_FEW_SHOT = re.compile(r"(?:num_?few_?shots?|n_?shots?|fewshot)\W*(\d+)", re.IGNORECASE)
_SETTING_NOTE = re.compile(r"\([^()]*\b(?:shots?|cot)\b[^()]*\)", re.IGNORECASE)
_COT = re.compile(r"\bcot\b|chain[- _]of[- _]thought", re.IGNORECASE)
_NUMBER = r"[-+]?(?:\d+(?:[.,]\d+)?|[.,]\d+)"
_VALUE = re.compile(
    rf"^(?P<number>{_NUMBER})\s*(?P<percent>%)?\s*"
    rf"(?:(?:\+/-|±|\+-)\s*(?P<stderr>{_NUMBER})\s*%?)?\s*(?:\([^()]*\))?$"
)


class CardError(ValueError):
    """A model card or results file whose YAML cannot be read."""


@dataclass(frozen=True)
class CardClaim:
    benchmark_key: str | None
    label: str
    metric: str | None
    value: float | None
    raw_value: str
    unit: str | None
    unit_reason: str
    shots: int | None
    chat_template: bool | None
    chain_of_thought: bool | None
    comparable: bool
    reason: str
    source_name: str | None
    source_url: str | None
    source_kind: str
    inherited_from: str | None = None
    reported_by: str | None = None
    stated_stderr: float | None = None  # the author's own ± as a fraction, when written


@dataclass
class _Draft:
    """What one entry says, before units and comparability are decided."""

    label: str
    benchmark_key: str | None
    source_kind: str
    raw: Any
    metric: str | None = None
    shots: int | None = None
    chat_template: bool | None = None
    chain_of_thought: bool | None = None
    source_name: str | None = None
    source_url: str | None = None
    inherited_from: str | None = None
    reported_by: str | None = None
    problems: list[str] = field(default_factory=list)


_NAME_TO_KEY = {name: key for key, names in BENCHMARK_NAMES.items() for name in names}


# --- names and benchmarks --------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _without_settings(name: str) -> str:
    """The name without "(8-shot, CoT)" or "5-shot": settings, not part of the benchmark."""
    return _SHOTS.sub(" ", _SETTING_NOTE.sub(" ", name)).strip() or name


def _normalise_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "-", _without_settings(name.lower())).strip("-")


def _real_name(value: Any) -> str | None:
    """The text of a name field; None for card-template placeholders such as "[Dataset Name]"."""
    text = _text(value)
    return None if text is None or re.fullmatch(r"\[.*\]", text) else text


def _is_variant(name: str) -> bool:
    return bool(VARIANT_WORDS.intersection(re.split(r"[-/.()]+", _normalise_name(name))))


def _subset_problem(key: str, config: str | None) -> str | None:
    """A config that picks another benchmark than the catalogue's (ARC-Easy, GPQA Diamond)."""
    lowered = (config or "").lower()
    if key == "arc_challenge" and "easy" in lowered:
        return f"config '{config}' is ARC-Easy, not ARC-Challenge"
    if key == "gpqa" and any(part in lowered for part in ("diamond", "main", "extended")):
        return f"GPQA subset '{config}': the catalogue's GPQA averages main, extended and diamond"
    if key == "truthfulqa_mc2" and "generation" in lowered:
        return "TruthfulQA generation, not the multiple-choice mc2 task"
    return None


def _resolve(
    candidates: list[str | None], config: str | None
) -> tuple[str | None, str | None, str | None]:
    """(label, benchmark key, problem) from the first candidate name the table knows."""
    names = [c for c in candidates if c]
    for position, name in enumerate(names):
        if _normalise_name(name) in AMBIGUOUS_NAMES:
            continue
        key = _NAME_TO_KEY.get(_normalise_name(name))
        if key:
            problem = _subset_problem(key, config)
            # A GPQA subset is still GPQA (kept, not comparable); ARC-Easy is another benchmark.
            return name, (None if problem and key != "gpqa" else key), problem
        if _is_variant(name) or (position == 0 and _SHOTS.search(name)):
            return name, None, None  # another benchmark, or another leaderboard's task
    label = next((n for n in names if _normalise_name(n) not in AMBIGUOUS_NAMES), None)
    return label or (names[0] if names else None), None, None


# --- shots and settings ----------------------------------------------------------------------


def _shot_count(*texts: str | None) -> int | None:
    """The "(N-shot)" written in the first text that has one."""
    for text in texts:
        match = _SHOTS.search(text or "")
        if match:
            word = match.group(1).lower()
            return int(word) if word.isdigit() else {"zero": 0, "one": 1}[word]
    return None


def _args_shots(args: Any) -> int | None:
    if isinstance(args, dict):
        for name, value in args.items():
            if re.fullmatch(r"num_?few_?shots?|n_?shots?|fewshot", str(name), re.IGNORECASE):
                return _int_or_none(value)
        return None
    match = _NUM_FEW_SHOT.search(str(args or ""))
    return int(match.group(1)) if match else None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return int(value) if isinstance(value, int) or str(value).strip().isdigit() else None


def _shots(args: Any, names: list[str | None], draft: _Draft) -> None:
    from_args, from_name = _args_shots(args), _shot_count(*names)
    if from_args is not None and from_name is not None and from_args != from_name:
        draft.problems.append(
            f"shots disagree: the name says {from_name}, num_few_shot says {from_args}"
        )
    draft.shots = from_args if from_args is not None else from_name


def _chat_template(args: Any) -> bool | None:
    if isinstance(args, dict):
        for name in ("apply_chat_template", "chat_template"):
            if isinstance(args.get(name), bool):
                return args[name]
    return None


# --- sources ---------------------------------------------------------------------------------


def _leaderboard_kind(
    dataset_name: str | None, source_name: str | None, source_url: str | None
) -> str | None:
    """Open LLM Leaderboard v1 or v2 from the dataset name first, then the source URL."""
    url = re.sub(r"\s+", "", source_url or "").lower()
    from_url = (
        "open-llm-leaderboard-v1"
        if any(u in url for u in OLL_V1_URLS)
        else "open-llm-leaderboard-v2"
        if any(u in url for u in OLL_V2_URLS)
        else None
    )
    named = (source_name or "").strip().lower() == OLL_SOURCE_NAME
    name = " ".join((dataset_name or "").lower().split())
    # The v1 leaderboard also lived at the v2 URL for a while: the generated names decide.
    if (from_url or named) and name in OLL_V1_NAMES:
        return "open-llm-leaderboard-v1"
    if (from_url or named) and name in OLL_V2_NAMES:
        return "open-llm-leaderboard-v2"
    return from_url


def _inherited_from(model_name: Any, repo_id: str) -> str | None:
    name = _text(model_name)
    if not name:
        return None
    repo = repo_id.lower()
    if name.lower() in (repo, repo.rsplit("/", 1)[-1]):
        return None
    return name


# --- values and units ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Number:
    value: float
    stderr: float | None
    percent_sign: bool


def _parse_value(raw: Any) -> _Number | str:
    """The number an entry states, or why it is not one."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return "value is empty"
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return f"value '{raw}' is not a number"
    if isinstance(raw, (int, float)):
        number = float(raw) if abs(raw) < 1e300 else math.inf  # a huge int would overflow
        return (
            _Number(number, None, False)
            if math.isfinite(number)
            else (f"value '{raw}' is not a number")
        )
    match = _VALUE.match(raw.strip())
    if not match:
        return f"value '{raw.strip()}' is not a number"
    stderr = match.group("stderr")
    return _Number(
        _decimal(match.group("number")),
        _decimal(stderr) if stderr else None,
        bool(match.group("percent")),
    )


def _decimal(text: str) -> float:
    return float(text.replace(",", "."))  # one comma, no dot: a decimal comma ("0,912")


@dataclass(frozen=True)
class _Converted:
    value: float | None
    stderr: float | None
    unit: str | None
    reason: str
    problem: str | None = None


def _convert(kind: str, key: str | None, number: _Number) -> _Converted:
    if kind == "open-llm-leaderboard-v1":
        return _percent(number, "Open LLM Leaderboard v1 block: raw accuracy in percent")
    if kind == "open-llm-leaderboard-v2":
        return _normalised(key, number)
    if number.percent_sign:
        return _percent(number, "the value is written with a percent sign")
    where = "hub results file" if kind.startswith("eval-results") else "self-reported value"
    if abs(number.value) > 1:
        return _percent(number, f"{where} above 1: read as a percent")
    return _fraction(number, f"{where} of at most 1: read as a fraction")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 12) + 0.0  # + 0.0 turns -0.0 into 0.0


def _in_range(value: float, top: float, unit: str) -> str | None:
    if value < 0:
        return f"value {value:g} is negative"
    return f"value {value:g} is above {top:g} for a {unit}" if value > top else None


def _percent(number: _Number, reason: str) -> _Converted:
    problem = _in_range(number.value, 100, "percent")
    stderr = None if number.stderr is None else _rounded(number.stderr / 100)
    value = None if problem else _rounded(number.value / 100)
    return _Converted(value, stderr, "percent", reason, problem)


def _fraction(number: _Number, reason: str) -> _Converted:
    problem = _in_range(number.value, 1, "fraction")
    value = None if problem else _rounded(number.value)
    return _Converted(value, _rounded(number.stderr), "fraction", reason, problem)


def _normalised(key: str | None, number: _Number) -> _Converted:
    reason = "Open LLM Leaderboard v2 block: 0-100 normalised above the random baseline"
    if key in NOT_CONVERTIBLE_V2:
        return _Converted(None, None, "normalised", reason, NOT_CONVERTIBLE_V2[key])
    if key is None:
        return _Converted(None, None, "normalised", reason, "no random baseline to convert with")
    problem = _in_range(number.value, 100, "normalised score")
    if problem:
        return _Converted(None, None, "normalised", reason, problem)
    baseline = BENCHMARKS[key].random_baseline
    value = baseline + number.value / 100 * (1 - baseline)
    stderr = None if number.stderr is None else number.stderr / 100 * (1 - baseline)
    reason += f" (baseline {baseline:g}), converted back to raw"
    return _Converted(_rounded(value), _rounded(stderr), "normalised", reason)


# --- metrics ---------------------------------------------------------------------------------


def _metric_problem(key: str, metric: str | None) -> str | None:
    expected = BENCHMARKS[key].metric
    if not metric:
        return "metric not stated"
    spelled = re.sub(r"[\s\-]+", "_", _without_settings(metric.strip().lower()))
    accepted = METRIC_ALIASES.get(expected, frozenset({expected}))
    if spelled in accepted | EXTRA_METRIC_ALIASES.get(key, frozenset()) | {expected}:
        return None
    if "inst_level" in spelled and "prompt_level" in spelled:
        return (
            f"metric '{metric}' is the mean of instruction- and prompt-level strict accuracy,"
            f" not {expected}"
        )
    return f"metric '{metric}' is not the catalogue's {expected}"


# --- assembling a claim ----------------------------------------------------------------------


def _claim(draft: _Draft) -> CardClaim:
    problems = list(draft.problems)
    if draft.benchmark_key is None and not problems:
        problems.append("benchmark not in the catalogue")
    parsed = _parse_value(draft.raw)
    if isinstance(parsed, str):
        converted = _Converted(None, None, None, "value could not be parsed", parsed)
    else:
        converted = _convert(draft.source_kind, draft.benchmark_key, parsed)
    if converted.problem:
        problems.append(converted.problem)
    if draft.benchmark_key is not None:
        if draft.shots is None:
            problems.append("shots not stated")
        metric_problem = _metric_problem(draft.benchmark_key, draft.metric)
        if metric_problem:
            problems.append(metric_problem)
    return CardClaim(
        benchmark_key=draft.benchmark_key,
        label=draft.label,
        metric=draft.metric,
        value=converted.value,
        raw_value="" if draft.raw is None else str(draft.raw),
        unit=converted.unit,
        unit_reason=converted.reason,
        shots=draft.shots,
        chat_template=draft.chat_template,
        chain_of_thought=draft.chain_of_thought,
        comparable=not problems,
        reason="; ".join(dict.fromkeys(problems)),
        source_name=draft.source_name,
        source_url=draft.source_url,
        source_kind=draft.source_kind,
        inherited_from=draft.inherited_from,
        reported_by=draft.reported_by,
        stated_stderr=converted.stderr,
    )


def _as_list(value: Any) -> list[dict[str, Any]]:
    """The mappings in a list (or a lone mapping); anything else is ignored."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- README model-index ----------------------------------------------------------------------


def claims_from_readme(text: str, *, repo_id: str) -> list[CardClaim]:
    """Claims in a README's YAML front matter; [] when it has none or no model-index."""
    front_matter = _front_matter(text)
    if front_matter is None:
        return []
    card_data = _load_yaml(front_matter, "README front matter", line_offset=1)
    if card_data is None:
        return []
    if not isinstance(card_data, dict):
        raise CardError("README front matter is not a mapping of keys to values")
    return claims_from_card_data(card_data, repo_id=repo_id)


def _front_matter(text: str) -> str | None:
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in ("---", "..."):
            return "\n".join(lines[1:number])
    raise CardError("README front matter opened with '---' on line 1 is never closed")


def _load_yaml(text: str, what: str, *, line_offset: int = 0) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CardError(_yaml_message(what, error, line_offset=line_offset)) from error
    except (ValueError, RecursionError) as error:  # a bad date or !!int, nesting too deep
        raise CardError(f"{what} is not valid YAML: {error}") from error


def _yaml_message(what: str, error: yaml.YAMLError, *, line_offset: int = 0) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f" (line {mark.line + 1 + line_offset}, column {mark.column + 1})" if mark else ""
    return f"{what} is not valid YAML{where}: {problem}"


def claims_from_card_data(card_data: dict[str, Any], *, repo_id: str) -> list[CardClaim]:
    """Claims in parsed card metadata (the hub's ``cardData``)."""
    if not isinstance(card_data, dict):
        return []
    model_index = card_data.get("model-index", card_data.get("model_index"))
    claims: list[CardClaim] = []
    for model in _as_list(model_index):
        inherited = _inherited_from(model.get("name"), repo_id)
        for result in _as_list(model.get("results")):
            claims.extend(_result_claims(result, inherited))
    return claims


def _result_claims(result: dict[str, Any], inherited: str | None) -> list[CardClaim]:
    task, dataset = _mapping(result.get("task")), _mapping(result.get("dataset"))
    source = _mapping(result.get("source"))
    claims = []
    for metric in _as_list(result.get("metrics")):
        draft = _readme_draft(task, dataset, source, metric)
        if draft is None:
            continue
        draft.inherited_from = inherited
        claims.append(_claim(draft))
    return claims


def _readme_draft(
    task: dict[str, Any], dataset: dict[str, Any], source: dict[str, Any], metric: dict[str, Any]
) -> _Draft | None:
    """One metric of one result, or None for placeholders and non-LLM results."""
    dataset_name, metric_type = _real_name(dataset.get("name")), _text(metric.get("type"))
    label, key, problem = _resolve(
        [dataset_name, _real_name(dataset.get("type")), _text(task.get("name")), metric_type],
        _text(dataset.get("config")),
    )
    if key is None and problem is None and _is_noise(task, dataset, metric_type):
        return None
    source_name, source_url = _text(source.get("name")), _text(source.get("url"))
    kind = _leaderboard_kind(dataset_name, source_name, source_url) or "self-reported"
    if kind == "open-llm-leaderboard-v2":
        key = V2_KEY.get(key or "", key)
    if metric_type and label == metric_type and key:  # the metric type names the benchmark
        metric_type = _text(metric.get("name"))
    draft = _Draft(
        label=label or "unnamed",
        benchmark_key=key,
        source_kind=kind,
        raw=metric.get("value"),
        metric=metric_type,
        source_name=source_name,
        source_url=source_url,
        problems=[problem] if problem else [],
    )
    _shots(
        dataset.get("args"),
        [dataset_name, label, _text(task.get("name")), _text(metric.get("name"))],
        draft,
    )
    _settings(draft, dataset, metric)
    return draft


def _is_noise(task: dict[str, Any], dataset: dict[str, Any], metric_type: str | None) -> bool:
    """Placeholder results (no dataset) and non-LLM tasks (speech, vision, classifiers)."""
    if not any(_real_name(dataset.get(field)) for field in ("name", "type")):
        return True
    task_type = (_text(task.get("type")) or "").lower()
    return task_type in NON_LLM_TASKS or (metric_type or "").lower() in NON_LLM_METRICS


def _settings(draft: _Draft, dataset: dict[str, Any], metric: dict[str, Any]) -> None:
    if draft.source_kind.startswith("open-llm-leaderboard"):
        # Neither leaderboard prompted for chain of thought; v1 never applied chat templates.
        draft.chain_of_thought = False
        draft.chat_template = False if draft.source_kind.endswith("v1") else None
        return
    words = " ".join(
        filter(
            None,
            (
                draft.label,
                _text(dataset.get("config")),
                _text(metric.get("name")),
                str(dataset.get("args") or ""),
            ),
        )
    )
    draft.chain_of_thought = True if _COT.search(words) else None
    draft.chat_template = _chat_template(dataset.get("args"))


# --- hub .eval_results files -----------------------------------------------------------------


def claims_from_eval_results(
    text: str, *, repo_id: str, repo_owner: str | None = None
) -> list[CardClaim]:
    """Claims in one ``.eval_results/*.yaml`` file: a list of entries."""
    entries = _load_yaml(text.replace("\r\n", "\n"), "eval results file")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise CardError("eval results file is not a list of entries")
    owner = (repo_owner or repo_id.split("/", 1)[0]).lower()
    return [
        _claim(_eval_results_draft(entry, owner)) for entry in entries if isinstance(entry, dict)
    ]


def _eval_results_draft(entry: dict[str, Any], owner: str) -> _Draft:
    dataset, source = _mapping(entry.get("dataset")), _mapping(entry.get("source"))
    task_id, notes = _text(dataset.get("task_id")), _text(entry.get("notes"))
    label, key, problem = _resolve([_text(dataset.get("id")), task_id], task_id)
    user = _text(source.get("user"))
    community = user is not None and user.lower() != owner
    draft = _Draft(
        label=label or "unnamed",
        benchmark_key=key,
        source_kind="eval-results-community" if community else "eval-results",
        raw=entry.get("value"),
        source_name=_text(source.get("name")),
        source_url=_text(source.get("url")),
        reported_by=user if community else None,
        problems=[problem] if problem else [],
    )
    draft.shots = _shot_count(notes)
    thinking = re.search(r"\b(reasoning|thinking)\b", notes or "", re.IGNORECASE)
    draft.chain_of_thought = True if _COT.search(notes or "") or thinking else None
    if notes and re.search(r"\btools?\b", notes, re.IGNORECASE):
        draft.problems.append(f"evaluated with tools (notes: '{notes}')")
    return draft


# --- JSON for the CLI ------------------------------------------------------------------------


def claims_to_json(claims: list[CardClaim]) -> list[dict[str, Any]]:
    return [
        {
            "benchmark": c.benchmark_key,
            "label": c.label,
            "metric": c.metric,
            "value": c.value,
            "raw_value": c.raw_value,
            "unit": c.unit,
            "unit_reason": c.unit_reason,
            "stated_stderr": c.stated_stderr,
            "shots": c.shots,
            "setting": {"chat_template": c.chat_template, "chain_of_thought": c.chain_of_thought},
            "comparable": c.comparable,
            "reason": c.reason,
            "source": {"name": c.source_name, "url": c.source_url, "kind": c.source_kind},
            "inherited_from": c.inherited_from,
            "reported_by": c.reported_by,
        }
        for c in claims
    ]
