"""Cards from strangers are hostile input: the reader refuses bombs and oversize cards with a
message that says what to change, and reads ordinary cards as before."""

from __future__ import annotations

import time

import pytest

from evaluations.cards import CardError, claims_from_card_data, claims_from_eval_results, loading
from evaluations.cards import claims_from_readme as read

REPO = "ridge-ai/Ridge-32B"


def alias_bomb(width: int = 100) -> str:
    """1.6 KB that a plain YAML loader expands into width³ claims: models × results × metrics."""

    def aliases(name: str) -> str:
        return "[" + ", ".join([f"*{name}"] * width) + "]"

    return (
        "---\nm: &m {type: acc, value: 50.0}\n"
        f"r: &r {{dataset: {{name: GSM8K}}, metrics: {aliases('m')}}}\n"
        f"x: &x {{results: {aliases('r')}}}\n"
        f"model-index: {aliases('x')}\n---\n"
    )


def entry(value: float) -> str:
    return f"- dataset: {{id: Idavidrein/gpqa, task_id: gpqa}}\n  value: {value}\n"


def test_it_refuses_an_alias_bomb_quickly_and_says_what_to_do() -> None:
    assert len(alias_bomb()) < 1700
    started = time.monotonic()
    with pytest.raises(CardError, match=r"aliases expand to over 10,000 values.*in full"):
        read(alias_bomb(), repo_id=REPO)
    assert time.monotonic() - started < 2


def test_it_refuses_an_alias_that_contains_itself() -> None:
    with pytest.raises(CardError, match=r"alias \*x refers to the value that contains it"):
        claims_from_eval_results("- &x {dataset: {id: gpqa}, notes: [*x]}\n", repo_id=REPO)


def test_it_still_reads_a_card_that_reuses_a_block_through_aliases() -> None:
    card = (
        "---\nsource: &oll {name: Open LLM Leaderboard, url: https://huggingface.co/spaces/"
        "open-llm-leaderboard/open_llm_leaderboard}\nmodel-index:\n- name: Ridge-32B\n  results:\n"
        "  - {dataset: {name: GPQA (0-shot)}, metrics: [{type: acc_norm, value: 10.0}], "
        "source: *oll}\n"
        "  - {dataset: {name: MMLU-PRO (5-shot)}, metrics: [{type: acc, value: 20.0}], "
        "source: *oll}\n---\n"
    )
    claims = read(card, repo_id=REPO)
    assert [c.benchmark_key for c in claims] == ["gpqa", "mmlu_pro"]
    assert {c.source_kind for c in claims} == {"open-llm-leaderboard-v2"}


def test_it_refuses_yaml_over_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    text = entry(46.2) * 20
    monkeypatch.setattr(loading, "MAX_YAML_BYTES", len(text.encode()) - 1)
    with pytest.raises(CardError, match=r"over the [\d,]+ bytes the importer reads; keep"):
        claims_from_eval_results(text, repo_id=REPO)


def test_it_reads_yaml_at_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    text = entry(46.2) * 20
    monkeypatch.setattr(loading, "MAX_YAML_BYTES", len(text.encode()))
    assert len(claims_from_eval_results(text, repo_id=REPO)) == 20


def test_the_size_limit_counts_only_the_front_matter(monkeypatch: pytest.MonkeyPatch) -> None:
    card = "---\nlicense: mit\n---\n" + "A long model card body.\n" * 1000
    monkeypatch.setattr(loading, "MAX_YAML_BYTES", 100)
    assert read(card, repo_id=REPO) == []
    with pytest.raises(CardError, match="README front matter is refused"):
        read("---\nlicense: mit\n" + "# padding\n" * 20 + "---\n", repo_id=REPO)


def model_index(results: int) -> dict:
    metric = {"type": "acc", "value": 50.0}
    entries = [{"dataset": {"name": "GSM8K"}, "metrics": [metric]} for _ in range(results)]
    return {"model-index": [{"name": "Ridge-32B", "results": entries}]}


def test_it_refuses_parsed_card_data_with_more_entries_than_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loading, "MAX_CARD_ENTRIES", 5)
    with pytest.raises(CardError, match=r"lists 6 results, over the 5 the importer reads"):
        claims_from_card_data(model_index(6), repo_id=REPO)
    assert len(claims_from_card_data(model_index(5), repo_id=REPO)) == 5


def test_it_refuses_a_results_file_with_more_entries_than_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loading, "MAX_CARD_ENTRIES", 3)
    with pytest.raises(CardError, match="eval results file is refused: it lists 4 results"):
        claims_from_eval_results(entry(1.0) * 4, repo_id=REPO)
    assert len(claims_from_eval_results(entry(1.0) * 3, repo_id=REPO)) == 3
