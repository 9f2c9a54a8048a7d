from evaluations.catalogue import BENCHMARKS, SUITES, benchmark_for_task, suite_benchmarks


def test_every_suite_names_known_benchmarks() -> None:
    for suite, keys in SUITES.items():
        assert keys, suite
        assert all(key in BENCHMARKS for key in keys)


def test_the_classic_suite_uses_the_open_llm_leaderboard_shots() -> None:
    shots = {b.key: b.shots for b in suite_benchmarks("classic")}
    assert shots == {
        "mmlu": 5,
        "gsm8k": 5,
        "math": 4,
        "ifeval": 0,
        "arc_challenge": 25,
        "hellaswag": 10,
        "truthfulqa_mc2": 0,
        "winogrande": 5,
    }


def test_leaderboard_v2_suite_has_its_six_tasks() -> None:
    assert {b.task for b in suite_benchmarks("leaderboard-v2")} == {
        "leaderboard_mmlu_pro",
        "leaderboard_bbh",
        "leaderboard_gpqa",
        "leaderboard_math_hard",
        "leaderboard_ifeval",
        "leaderboard_musr",
    }


def test_random_baseline_comes_from_the_number_of_choices() -> None:
    assert BENCHMARKS["mmlu_pro"].random_baseline == 0.1
    assert BENCHMARKS["winogrande"].random_baseline == 0.5
    assert BENCHMARKS["gsm8k"].random_baseline == 0.0


def test_result_key_is_what_lm_eval_writes() -> None:
    assert BENCHMARKS["mmlu"].result_key == "acc,none"
    assert BENCHMARKS["gsm8k"].result_key == "exact_match,strict-match"
    assert benchmark_for_task("leaderboard_gpqa").key == "gpqa"
    assert benchmark_for_task("no_such_task") is None


def test_a_score_is_normalised_above_the_random_baseline_and_clipped_at_zero() -> None:
    winogrande = BENCHMARKS["winogrande"]  # two choices: a coin scores 0.5
    assert winogrande.normalise(0.75) == 50.0
    assert winogrande.normalise(0.4) == 0.0
    assert BENCHMARKS["gsm8k"].normalise(0.3) == 30.0


def test_a_standard_error_is_stretched_like_the_score_and_na_counts_as_zero() -> None:
    assert BENCHMARKS["winogrande"].normalise_stderr(0.01) == 2.0
    assert BENCHMARKS["winogrande"].normalise_stderr(None) == 0.0
