"""Which benchmark an entry names, in which setting, and from which source."""

from __future__ import annotations

import re
from typing import Any

from evaluations.cards.draft import Draft
from evaluations.cards.tables import (
    _NAME_TO_KEY,
    AMBIGUOUS_NAMES,
    OLL_SOURCE_NAME,
    OLL_V1_NAMES,
    OLL_V1_URLS,
    OLL_V2_NAMES,
    OLL_V2_URLS,
    VARIANT_WORDS,
)

_SHOTS = re.compile(r"\(?\s*\b(\d+|zero|one)\s*[-_ ]?\s*shots?\b\s*\)?", re.IGNORECASE)
_NUM_FEW_SHOT = re.compile(r"(?:num_?few_?shots?|n_?shots?|fewshot)\W*(\d+)", re.IGNORECASE)
_SETTING_NOTE = re.compile(r"\([^()]*\b(?:shots?|cot)\b[^()]*\)", re.IGNORECASE)
COT_PATTERN = re.compile(r"\bcot\b|chain[- _]of[- _]thought", re.IGNORECASE)

# --- names and benchmarks --------------------------------------------------------------------


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return text or None


def without_settings(name: str) -> str:
    """The name without "(8-shot, CoT)" or "5-shot": settings, not part of the benchmark."""
    return _SHOTS.sub(" ", _SETTING_NOTE.sub(" ", name)).strip() or name


def _normalise_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "-", without_settings(name.lower())).strip("-")


def real_name(value: Any) -> str | None:
    """The text of a name field; None for card-template placeholders such as "[Dataset Name]"."""
    text = as_text(value)
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


def resolve(
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


def shot_count(*texts: str | None) -> int | None:
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


def read_shots(args: Any, names: list[str | None], draft: Draft) -> None:
    from_args, from_name = _args_shots(args), shot_count(*names)
    if from_args is not None and from_name is not None and from_args != from_name:
        draft.problems.append(
            f"shots disagree: the name says {from_name}, num_few_shot says {from_args}"
        )
    draft.shots = from_args if from_args is not None else from_name


def chat_template_from(args: Any) -> bool | None:
    if isinstance(args, dict):
        for name in ("apply_chat_template", "chat_template"):
            value = args.get(name)
            if isinstance(value, bool):
                return value
    return None


# --- sources ---------------------------------------------------------------------------------


def leaderboard_kind(
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


def inherited_from_name(model_name: Any, repo_id: str) -> str | None:
    name = as_text(model_name)
    if not name:
        return None
    repo = repo_id.lower()
    if name.lower() in (repo, repo.rsplit("/", 1)[-1]):
        return None
    return name
