"""Claims imported from model cards, read from fixture cards modelled on real-world shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from evaluations.cards import (
    CardClaim,
    CardError,
    claims_from_card_data,
    claims_from_eval_results,
    claims_from_readme,
    claims_to_json,
)

CARDS = Path(__file__).parent / "cards"


def read_card(name: str, *, repo_id: str) -> list[CardClaim]:
    return claims_from_readme((CARDS / name).read_text(encoding="utf-8"), repo_id=repo_id)


def by_key(claims: list[CardClaim]) -> dict[str | None, CardClaim]:
    return {claim.benchmark_key: claim for claim in claims}


# --- Open LLM Leaderboard v1 ------------------------------------------------------------------


def test_it_reads_a_leaderboard_v1_block_as_raw_percent() -> None:
    claims = by_key(read_card("oll_v1.md", repo_id="lumen-lab/Lumen-7B-v0.3"))

    assert list(claims) == [
        "arc_challenge",
        "hellaswag",
        "mmlu",
        "truthfulqa_mc2",
        "winogrande",
        "gsm8k",
    ]
    assert claims["arc_challenge"].value == pytest.approx(0.6143, abs=1e-12)
    assert claims["mmlu"].value == pytest.approx(0.6207, abs=1e-12)
    assert all(c.source_kind == "open-llm-leaderboard-v1" for c in claims.values())
    assert all(c.unit == "percent" and c.comparable for c in claims.values())
    assert claims["mmlu"].unit_reason == "Open LLM Leaderboard v1 block: raw accuracy in percent"
    assert {k: c.shots for k, c in claims.items()} == {
        "arc_challenge": 25,
        "hellaswag": 10,
        "mmlu": 5,
        "truthfulqa_mc2": 0,
        "winogrande": 5,
        "gsm8k": 5,
    }


def test_it_keeps_a_tiny_gsm8k_score_in_percent() -> None:
    gsm8k = by_key(read_card("oll_v1.md", repo_id="lumen-lab/Lumen-7B-v0.3"))["gsm8k"]

    assert gsm8k.raw_value == "0.08"
    assert gsm8k.value == pytest.approx(0.0008, abs=1e-12)  # 0.08 %, not 8 %
    assert gsm8k.metric == "acc"  # the v1 leaderboard's name for GSM8K's exact match


def test_it_reads_a_folded_source_url_and_args_written_as_a_string() -> None:
    claims = by_key(read_card("oll_v1.md", repo_id="lumen-lab/Lumen-7B-v0.3"))

    assert claims["arc_challenge"].source_url == (
        "https://huggingface.co/spaces/HuggingFaceH4/open_llm_leaderboard"
        "?query=lumen-lab/Lumen-7B-v0.3"
    )
    assert claims["winogrande"].shots == 5  # args: 'num_few_shot: 5'


def test_it_states_the_leaderboard_v1_setting() -> None:
    mmlu = by_key(read_card("oll_v1.md", repo_id="lumen-lab/Lumen-7B-v0.3"))["mmlu"]

    assert (mmlu.chat_template, mmlu.chain_of_thought) == (False, False)
    assert mmlu.inherited_from is None


# --- Open LLM Leaderboard v2 ------------------------------------------------------------------


@pytest.fixture
def v2_claims() -> dict[str | None, CardClaim]:
    return by_key(read_card("oll_v2.md", repo_id="quantfolk/Orbit-3B-Instruct-GGUF"))


def test_it_converts_leaderboard_v2_gpqa_back_to_raw_accuracy(v2_claims) -> None:
    gpqa = v2_claims["gpqa"]

    # 0.67 is a normalised percent: 0.25 + 0.0067 * 0.75.
    assert gpqa.value == pytest.approx(0.255025, abs=1e-12)
    assert (gpqa.unit, gpqa.source_kind, gpqa.comparable) == (
        "normalised",
        "open-llm-leaderboard-v2",
        True,
    )
    assert "baseline 0.25" in gpqa.unit_reason


def test_it_converts_leaderboard_v2_mmlu_pro_with_ten_choices(v2_claims) -> None:
    assert v2_claims["mmlu_pro"].value == pytest.approx(0.1 + 0.2135 * 0.9, abs=1e-12)
    assert v2_claims["mmlu_pro"].value == pytest.approx(0.29215, abs=1e-12)


def test_it_reads_math_lvl_5_by_name_with_baseline_zero(v2_claims) -> None:
    math_hard = v2_claims["math_hard"]

    assert math_hard.value == pytest.approx(0.1269, abs=1e-12)
    assert math_hard.comparable
    assert "math" not in v2_claims  # the shared hendrycks/competition_math type did not decide


def test_it_refuses_to_convert_bbh_and_musr(v2_claims) -> None:
    for key, name in (("bbh", "BBH"), ("musr", "MuSR")):
        claim = v2_claims[key]
        assert claim.value is None
        assert not claim.comparable
        assert claim.reason == (
            f"{name} is normalised per sub-task on the Open LLM Leaderboard "
            "v2: its aggregate cannot be converted back to raw accuracy"
        )


def test_it_keeps_the_ifeval_mean_of_two_metrics_apart(v2_claims) -> None:
    ifeval = v2_claims["ifeval_v2"]

    assert ifeval.value == pytest.approx(0.7124, abs=1e-12)  # baseline 0
    assert not ifeval.comparable
    assert "mean of instruction- and prompt-level strict accuracy" in ifeval.reason


def test_it_marks_claims_inherited_from_the_base_model(v2_claims) -> None:
    assert {c.inherited_from for c in v2_claims.values()} == {"Orbit-3B-Instruct"}


def test_it_reads_crlf_line_endings() -> None:
    text = (CARDS / "oll_v2.md").read_text(encoding="utf-8").replace("\n", "\r\n")

    claims = claims_from_readme(text, repo_id="orbit-ai/Orbit-3B-Instruct")

    assert len(claims) == 6
    assert by_key(claims)["gpqa"].value == pytest.approx(0.255025, abs=1e-12)
    assert all(c.inherited_from is None for c in claims)


# --- both leaderboards and the author in one card ---------------------------------------------


def test_it_tells_v1_from_v2_in_one_card_by_dataset_name() -> None:
    claims = read_card("both_blocks.md", repo_id="kestrel-lab/Kestrel-8B")

    kinds = [(c.benchmark_key, c.source_kind) for c in claims]
    # The v1 block sits at the space's later address, which v2 took over: the names decide.
    assert kinds == [
        ("mmlu", "self-reported"),
        ("mmlu", "open-llm-leaderboard-v1"),
        ("gsm8k", "open-llm-leaderboard-v1"),
        ("gpqa", "open-llm-leaderboard-v2"),
        ("math_hard", "open-llm-leaderboard-v2"),
    ]
    assert by_key(claims)["gpqa"].value == pytest.approx(0.25 + 0.0839 * 0.75, abs=1e-12)
    assert all(c.inherited_from is None for c in claims)  # the name is the repo id


def test_it_keeps_the_same_number_claimed_twice() -> None:
    mmlu = [
        c
        for c in read_card("both_blocks.md", repo_id="kestrel-lab/Kestrel-8B")
        if c.benchmark_key == "mmlu"
    ]

    assert [(c.value, c.source_kind) for c in mmlu] == [
        (pytest.approx(0.641), "self-reported"),
        (pytest.approx(0.641), "open-llm-leaderboard-v1"),
    ]
    assert mmlu[0].unit_reason == "self-reported value above 1: read as a percent"
    assert mmlu[0].source_name == "Kestrel technical report"


# --- self-reported entries --------------------------------------------------------------------


@pytest.fixture
def self_reported() -> list[CardClaim]:
    return read_card("self_reported.md", repo_id="wren-lab/Wren-13B-Chat")


def test_it_reads_small_self_reported_values_as_fractions(self_reported) -> None:
    gsm8k = self_reported[0]

    assert (gsm8k.benchmark_key, gsm8k.value, gsm8k.unit) == ("gsm8k", 0.781, "fraction")
    assert gsm8k.unit_reason == "self-reported value of at most 1: read as a fraction"
    assert gsm8k.comparable and gsm8k.reason == ""
    assert gsm8k.source_kind == "self-reported" and gsm8k.source_url is None


def test_it_needs_shots_to_compare(self_reported) -> None:
    mmlu = self_reported[1]

    assert (mmlu.benchmark_key, mmlu.value, mmlu.shots) == ("mmlu", 0.652, None)
    assert not mmlu.comparable
    assert mmlu.reason == "shots not stated"


def test_it_reads_percent_and_settings_from_the_name(self_reported) -> None:
    gsm8k = self_reported[2]

    assert gsm8k.label == "GSM8K (8-shot, CoT)"
    assert (gsm8k.benchmark_key, gsm8k.value, gsm8k.unit) == ("gsm8k", 0.873, "percent")
    assert (gsm8k.shots, gsm8k.chain_of_thought) == (8, True)


def test_it_parses_a_percent_sign_and_a_decimal_comma(self_reported) -> None:
    hellaswag, winogrande = self_reported[3], self_reported[4]

    assert (hellaswag.raw_value, hellaswag.value, hellaswag.unit) == ("73.8%", 0.738, "percent")
    assert hellaswag.unit_reason == "the value is written with a percent sign"
    assert (winogrande.raw_value, winogrande.value, winogrande.unit) == ("0,912", 0.912, "fraction")


def test_it_keys_full_math_on_its_name(self_reported) -> None:
    math = self_reported[5]

    assert (math.benchmark_key, math.shots, math.comparable) == ("math", 4, True)


def test_it_finds_the_benchmark_in_the_metric_type_when_the_dataset_is_the_training_set(
    self_reported,
) -> None:
    mmlu = self_reported[6]

    assert (mmlu.benchmark_key, mmlu.label, mmlu.shots) == ("mmlu", "mmlu", 5)
    assert mmlu.metric == "accuracy (5-shot)"
    assert mmlu.comparable


def test_it_compares_only_the_catalogues_ifeval_metric(self_reported) -> None:
    ifeval = [c for c in self_reported if c.benchmark_key == "ifeval"]

    assert [(c.metric, c.comparable) for c in ifeval] == [
        ("prompt_level_strict_acc", True),
        ("prompt_level_loose_acc", False),
        ("inst_level_strict_acc", False),
        ("inst_level_loose_acc", False),
    ]
    assert ifeval[1].reason == (
        "metric 'prompt_level_loose_acc' is not the catalogue's prompt_level_strict_acc"
    )


def test_it_does_not_take_arc_easy_for_arc_challenge(self_reported) -> None:
    arc_easy = self_reported[11]

    assert (arc_easy.benchmark_key, arc_easy.label) == (None, "ai2_arc")
    assert arc_easy.reason == "config 'ARC-Easy' is ARC-Easy, not ARC-Challenge"


def test_it_keeps_a_gpqa_subset_apart_from_the_catalogues_gpqa(self_reported) -> None:
    diamond = self_reported[12]

    assert diamond.benchmark_key == "gpqa"
    assert not diamond.comparable
    assert "subset 'gpqa_diamond'" in diamond.reason


def test_it_refuses_a_metric_that_is_not_the_catalogues(self_reported) -> None:
    arc = self_reported[13]

    assert arc.benchmark_key == "arc_challenge"
    assert arc.reason == "metric 'accuracy' is not the catalogue's acc_norm"


# --- messy values -----------------------------------------------------------------------------


@pytest.fixture
def messy() -> list[CardClaim]:
    return read_card("messy_values.md", repo_id="someone/messy-model")


def test_it_never_crashes_on_messy_values(messy) -> None:
    rows = [(c.raw_value, c.value, c.unit, c.reason) for c in messy]

    assert rows == [
        ("xx.xx", None, None, "value 'xx.xx' is not a number"),
        ("", None, None, "value is empty"),
        ("-0.00 +/- 0.00", 0.0, "fraction", ""),
        ("65.2 ± 0.4", 0.652, "percent", ""),
        ("58.1 (our run)", 0.581, "percent", ""),
        ("142.0", None, "percent", "value 142 is above 100 for a percent"),
        ("True", None, None, "value 'True' is not a number"),
        ("[1, 2]", None, None, "value '[1, 2]' is not a number"),
        ("nan", None, None, "value 'nan' is not a number"),
        ("0.5%", 0.005, "percent", ""),
    ]


def test_it_keeps_a_stated_standard_error(messy) -> None:
    assert messy[2].stated_stderr == 0.0
    assert messy[3].stated_stderr == pytest.approx(0.004, abs=1e-12)
    assert messy[0].stated_stderr is None


def test_it_skips_placeholder_results(messy) -> None:
    # The dataset-less 0.0, the "[Dataset Name]" template and the bare string add nothing.
    assert {c.benchmark_key for c in messy} == {"mmlu"}
    assert read_card("placeholder.md", repo_id="someone/my-new-model") == []


# --- unknown benchmarks and other kinds of model ----------------------------------------------


def test_it_does_not_mistake_another_leaderboard_for_the_open_llm_leaderboard() -> None:
    claims = read_card("korean_leaderboard.md", repo_id="hanul/hanul-10.7B")

    assert [c.label for c in claims] == [
        "Ko-ARC (25-Shot)",
        "Ko-MMLU (5-Shot)",
        "KoBEST SentiNeg (25-Shot)",
    ]
    assert all(c.benchmark_key is None and not c.comparable for c in claims)
    assert all(c.reason == "benchmark not in the catalogue" for c in claims)
    assert all(c.source_kind == "self-reported" for c in claims)
    assert claims[0].source_name == "Open Ko-LLM Leaderboard"


def test_it_skips_speech_and_vision_cards_silently() -> None:
    assert read_card("speech_and_vision.md", repo_id="someone/whisperlike-small-en") == []


def test_it_returns_nothing_without_a_model_index() -> None:
    assert read_card("no_model_index.md", repo_id="someone/chat") == []
    assert claims_from_readme("# Just a README\n\nMMLU 70.1\n", repo_id="someone/chat") == []
    assert claims_from_readme("", repo_id="someone/chat") == []
    assert claims_from_readme("---\n---\n# empty metadata\n", repo_id="someone/chat") == []


def test_it_says_where_the_front_matter_is_broken() -> None:
    with pytest.raises(CardError, match=r"front matter is not valid YAML \(line 9, column \d+\)"):
        read_card("broken.md", repo_id="someone/broken-model")


def test_it_refuses_front_matter_that_is_never_closed_or_not_a_mapping() -> None:
    with pytest.raises(CardError, match="never closed"):
        claims_from_readme("---\nlicense: mit\n# Title\n", repo_id="someone/model")
    with pytest.raises(CardError, match="not a mapping"):
        claims_from_readme("---\n- a\n- b\n---\n", repo_id="someone/model")


def test_it_reads_card_data_as_the_hub_serves_it() -> None:
    card_data = yaml.safe_load((CARDS / "oll_v1.md").read_text(encoding="utf-8").split("---")[1])

    claims = claims_from_card_data(card_data, repo_id="lumen-lab/Lumen-7B-v0.3")

    assert claims == read_card("oll_v1.md", repo_id="lumen-lab/Lumen-7B-v0.3")
    assert claims_from_card_data({"license": "mit"}, repo_id="someone/model") == []
    assert claims_from_card_data({"model-index": "oops"}, repo_id="someone/model") == []


# --- the hub's .eval_results files ------------------------------------------------------------


@pytest.fixture
def eval_results() -> list[CardClaim]:
    text = (CARDS / "eval_results_gpqa.yaml").read_text(encoding="utf-8")
    return claims_from_eval_results(text, repo_id="ridge-ai/Ridge-32B")


def test_it_reads_the_authors_own_results_entry(eval_results) -> None:
    gpqa = eval_results[0]

    assert (gpqa.benchmark_key, gpqa.label, gpqa.value, gpqa.unit) == (
        "gpqa",
        "Idavidrein/gpqa",
        pytest.approx(0.462),
        "percent",
    )
    assert (gpqa.source_kind, gpqa.reported_by, gpqa.shots) == ("eval-results", None, 0)
    assert gpqa.reason == "metric not stated"  # the results file names no metric


def test_it_refuses_a_result_obtained_with_tools(eval_results) -> None:
    with_tools = eval_results[1]

    assert not with_tools.comparable
    assert "evaluated with tools (notes: 'With tools')" in with_tools.reason
    assert "shots not stated" in with_tools.reason


def test_it_reads_a_community_entry_as_a_third_party_claim(eval_results) -> None:
    community = eval_results[2]

    assert (community.benchmark_key, community.source_kind, community.reported_by) == (
        "mmlu_pro",
        "eval-results-community",
        "quill-reviewer",
    )
    assert (community.value, community.unit) == (0.583, "fraction")
    assert community.chain_of_thought is True  # "high reasoning"


def test_it_keeps_an_unknown_results_benchmark_as_not_comparable(eval_results) -> None:
    hle = eval_results[3]

    assert (hle.benchmark_key, hle.label, hle.reason) == (
        None,
        "cais/hle",
        "benchmark not in the catalogue",
    )
    assert len(eval_results) == 4  # the bare string entry is skipped


def test_it_takes_the_owner_from_the_argument_when_given() -> None:
    text = "- dataset: {id: openai/gsm8k}\n  value: 91.0\n  source: {user: ridge-ai}\n"

    claims = claims_from_eval_results(text, repo_id="ridge-ai/Ridge-32B", repo_owner="ridge-org")

    assert (claims[0].benchmark_key, claims[0].source_kind, claims[0].reported_by) == (
        "gsm8k",
        "eval-results-community",
        "ridge-ai",
    )


def test_it_refuses_a_results_file_that_is_not_a_list() -> None:
    with pytest.raises(CardError, match="not a list"):
        claims_from_eval_results("dataset: {id: cais/mmlu}\n", repo_id="a/b")
    with pytest.raises(CardError, match=r"not valid YAML \(line 2"):
        claims_from_eval_results("- dataset: {id: cais/mmlu\n- value: 1\n", repo_id="a/b")
    assert claims_from_eval_results("", repo_id="a/b") == []


# --- JSON for the CLI -------------------------------------------------------------------------


def test_it_writes_json_safe_dicts() -> None:
    claims = read_card("oll_v2.md", repo_id="quantfolk/Orbit-3B-Instruct-GGUF")

    rows = json.loads(json.dumps(claims_to_json(claims)))

    gpqa = next(row for row in rows if row["benchmark"] == "gpqa")
    assert gpqa["setting"] == {"chat_template": None, "chain_of_thought": False}
    assert gpqa["source"]["kind"] == "open-llm-leaderboard-v2"
    assert gpqa["source"]["url"].startswith("https://huggingface.co/spaces/open-llm-leaderboard/")
    assert set(gpqa) >= {
        "benchmark",
        "label",
        "value",
        "unit",
        "unit_reason",
        "shots",
        "setting",
        "comparable",
        "reason",
        "source",
        "inherited_from",
        "reported_by",
        "raw_value",
        "metric",
    }


# --- properties -------------------------------------------------------------------------------

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)


@given(value=values, name=st.text(max_size=30), metric=st.text(max_size=20))
def test_it_never_crashes_and_keeps_values_in_range(value, name, metric) -> None:
    card = {
        "model-index": [
            {
                "name": name,
                "results": [
                    {
                        "dataset": {"name": name or "MMLU", "args": name},
                        "metrics": [{"type": metric, "value": value}],
                    }
                ],
            }
        ]
    }

    for claim in claims_from_card_data(card, repo_id="someone/model"):
        assert claim.value is None or 0.0 <= claim.value <= 1.0
        assert claim.comparable == (claim.reason == "")


def self_reported_card(*datasets: dict) -> dict:
    return {
        "model-index": [
            {
                "name": "model",
                "results": [
                    {
                        "dataset": {**dataset, "args": {"num_few_shot": 0}},
                        "metrics": [{"type": "acc", "value": 0.5}],
                    }
                    for dataset in datasets
                ],
            }
        ]
    }


def test_it_does_not_mistake_a_variant_for_the_benchmark_it_is_named_after() -> None:
    card = self_reported_card(
        {"name": "MATH-500", "type": "competition_math"},
        {"name": "MMLU-Redux", "type": "cais/mmlu"},
        {"name": "TruthfulQA MC1", "type": "truthful_qa"},
        {"name": "MMLU-Pro (CoT)", "type": "TIGER-Lab/MMLU-Pro"},
    )

    claims = claims_from_card_data(card, repo_id="someone/model")

    assert [(c.label, c.benchmark_key) for c in claims] == [
        ("MATH-500", None),
        ("MMLU-Redux", None),
        ("TruthfulQA MC1", None),
        ("MMLU-Pro (CoT)", "mmlu_pro"),
    ]
    assert claims[3].chain_of_thought is True


def test_it_reports_shots_that_disagree() -> None:
    card = {
        "model-index": [
            {
                "name": "model",
                "results": [
                    {
                        "dataset": {"name": "MMLU (5-shot)", "args": {"num_few_shot": 0}},
                        "metrics": [{"type": "acc", "value": 0.5}],
                    }
                ],
            }
        ]
    }

    [claim] = claims_from_card_data(card, repo_id="someone/model")

    assert claim.shots == 0
    assert claim.reason == "shots disagree: the name says 5, num_few_shot says 0"


def test_it_survives_a_huge_integer_value() -> None:
    card = self_reported_card({"name": "MMLU"})
    card["model-index"][0]["results"][0]["metrics"][0]["value"] = 10**400

    [claim] = claims_from_card_data(card, repo_id="someone/model")

    assert claim.value is None and "not a number" in claim.reason


def test_it_turns_yaml_value_errors_into_card_errors() -> None:
    with pytest.raises(CardError, match="month must be in 1..12"):
        claims_from_readme("---\nlicense: mit\nrelease: 2024-13-45\n---\n", repo_id="a/b")
    with pytest.raises(CardError, match="not valid YAML"):
        claims_from_eval_results("- value: !!int abc\n", repo_id="a/b")
