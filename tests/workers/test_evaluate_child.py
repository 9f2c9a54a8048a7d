"""The evaluation child: one process, real lm-eval, the smoke suite on tiny local models.

The central promise: the numbers the child writes are exactly those of a direct
``lm_eval.simple_evaluate`` call with the same arguments.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from evaluations.catalogue import suite_benchmarks
from localdev.smoke import smoke_task_dir
from localdev.tiny_models import build_tiny_model
from workers.evaluate_child import ChildSpec, evaluate, load_model, simple_evaluate_arguments
from workers.results import parse_scores, parse_versions

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = 1234
BATCH_SIZE = 8
# Enough for the model to have memorised the smoke answers (~3 s on two cores).
TRAIN_STEPS = 80


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("evaluate_child")


@pytest.fixture(scope="module")
def tasks_dir(workdir: Path) -> Path:
    return smoke_task_dir(workdir / "smoke_tasks")


@pytest.fixture(scope="module")
def trained_model(workdir: Path) -> Path:
    return build_tiny_model(workdir / "trained", seed=3, train_steps=TRAIN_STEPS)


@pytest.fixture(scope="module")
def random_model(workdir: Path) -> Path:
    return build_tiny_model(workdir / "random", seed=3)


def smoke_spec(model_dir: Path, tasks_dir: Path, **changes: Any) -> dict[str, Any]:
    return {
        "backend": "hf",
        "model_dir": str(model_dir),
        "commit_sha": "0" * 40,
        "dtype": "float32",
        "device": "cpu",
        "tasks": [{"task": "smoke_arc", "shots": 0}, {"task": "smoke_gsm8k", "shots": 0}],
        "include_path": str(tasks_dir),
        "batch_size": BATCH_SIZE,
        "apply_chat_template": False,
        "seed": SEED,
        "limit": None,
        **changes,
    }


def run_child(
    spec: dict[str, Any], workdir: Path, name: str
) -> tuple[subprocess.CompletedProcess, Path]:
    spec_path = workdir / f"{name}.json"
    spec_path.write_text(json.dumps(spec))
    out_dir = workdir / name
    # What the parent hands down: no secrets, never the hub.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(workdir)),
        "PYTHONPATH": str(REPO_ROOT),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "workers.evaluate_child", str(spec_path), str(out_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return completed, out_dir


@pytest.fixture(scope="module")
def child_run(
    trained_model: Path, tasks_dir: Path, workdir: Path
) -> tuple[subprocess.CompletedProcess, Path]:
    completed, out_dir = run_child(smoke_spec(trained_model, tasks_dir), workdir, "trained-run")
    assert completed.returncode == 0, completed.stderr[-4000:]
    return completed, out_dir


def direct_simple_evaluate(model_dir: Path, tasks_dir: Path, tasks: list[str]) -> dict[str, Any]:
    import lm_eval
    from lm_eval.tasks import TaskManager

    return lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model_dir},dtype=float32,trust_remote_code=False",
        tasks=tasks,
        device="cpu",
        batch_size=BATCH_SIZE,
        log_samples=True,
        task_manager=TaskManager(include_path=str(tasks_dir), include_defaults=False),
        random_seed=SEED,
        numpy_random_seed=SEED,
        torch_random_seed=SEED,
        fewshot_random_seed=SEED,
    )


@pytest.fixture(scope="module")
def direct_run(trained_model: Path, tasks_dir: Path) -> dict[str, Any]:
    return direct_simple_evaluate(trained_model, tasks_dir, ["smoke_arc", "smoke_gsm8k"])


def test_it_reports_progress_rising_to_the_total(child_run: tuple) -> None:
    completed, _ = child_run
    lines = completed.stdout.splitlines()
    progress = [tuple(map(int, line.split()[1:])) for line in lines if line.startswith("PROGRESS ")]

    totals = {total for _, total in progress}
    assert totals == {40 * 4 + 20}  # four loglikelihoods per ARC item, one generation each
    done = [count for count, _ in progress]
    assert done[0] == 0
    assert done == sorted(done)
    assert done[-1] == 180
    assert lines[-1] == "DONE"
    assert all(line.startswith(("PROGRESS ", "DONE")) for line in lines)


def test_it_writes_results_and_samples_for_both_tasks(child_run: tuple) -> None:
    _, out_dir = child_run
    results = json.loads((out_dir / "results.json").read_text())
    samples = [json.loads(line) for line in (out_dir / "samples.jsonl").read_text().splitlines()]

    assert set(results["results"]) == {"smoke_arc", "smoke_gsm8k"}
    assert "samples" not in results
    assert results["config"]["model"] == "hf"
    assert results["config"]["model_args"]["trust_remote_code"] is False
    assert results["config"]["commit_sha"] == "0" * 40
    assert results["environment"]["torch"]
    assert {sample["task"] for sample in samples} == {"smoke_arc", "smoke_gsm8k"}
    assert sum(sample["task"] == "smoke_arc" for sample in samples) == 40


def test_it_records_the_arguments_of_its_simple_evaluate_call(
    child_run: tuple, trained_model: Path, tasks_dir: Path
) -> None:
    _, out_dir = child_run
    spec = ChildSpec.from_dict(smoke_spec(trained_model, tasks_dir))

    setting = parse_versions(json.loads((out_dir / "results.json").read_text()))["setting"]

    assert setting["tasks"] == [
        {"task": "smoke_arc", "shots": 0},
        {"task": "smoke_gsm8k", "shots": 0},
    ]
    assert setting["model_args"] == {"dtype": "float32", "trust_remote_code": False}
    assert setting | simple_evaluate_arguments(spec) == setting
    assert setting["backend"] == "hf" and setting["include_path"] is True


def test_the_catalogue_reads_the_smoke_results(child_run: tuple) -> None:
    _, out_dir = child_run
    results = json.loads((out_dir / "results.json").read_text())

    arc, gsm8k = parse_scores(results, suite_benchmarks("smoke"))

    assert (arc.n_samples, gsm8k.n_samples) == (40, 20)
    assert arc.stderr is not None


def test_its_numbers_equal_a_direct_simple_evaluate(
    child_run: tuple, direct_run: dict[str, Any]
) -> None:
    _, out_dir = child_run
    results = json.loads((out_dir / "results.json").read_text())

    for task in ("smoke_arc", "smoke_gsm8k"):
        assert results["results"][task] == direct_run["results"][task]
    assert results["n-samples"] == direct_run["n-samples"]
    assert results["n-shot"] == direct_run["n-shot"]


def test_its_per_item_responses_equal_a_direct_simple_evaluate(
    child_run: tuple, direct_run: dict[str, Any]
) -> None:
    _, out_dir = child_run
    samples = [json.loads(line) for line in (out_dir / "samples.jsonl").read_text().splitlines()]

    for task in ("smoke_arc", "smoke_gsm8k"):
        ours = [
            [s["doc_id"], s["resps"], s["filtered_resps"]] for s in samples if s["task"] == task
        ]
        theirs = [
            (s["doc_id"], s["resps"], s["filtered_resps"]) for s in direct_run["samples"][task]
        ]
        # Through JSON, as the child wrote them: tuples become lists, floats stay exact.
        assert ours == json.loads(json.dumps(theirs))


def test_a_trained_model_beats_chance_and_a_random_one_does_not(
    direct_run: dict[str, Any], random_model: Path, tasks_dir: Path
) -> None:
    random_results = direct_simple_evaluate(random_model, tasks_dir, ["smoke_arc"])

    assert direct_run["results"]["smoke_arc"]["acc,none"] >= 0.6
    assert random_results["results"]["smoke_arc"]["acc,none"] <= 0.45
    assert random_results["results"]["smoke_arc"]["acc_norm,none"] <= 0.45


def test_each_task_runs_with_its_own_number_of_shots(trained_model: Path, tasks_dir: Path) -> None:
    spec = ChildSpec.from_dict(
        smoke_spec(
            trained_model,
            tasks_dir,
            limit=3,
            tasks=[{"task": "smoke_arc", "shots": 2}, {"task": "smoke_gsm8k", "shots": 1}],
        )
    )
    report = io.StringIO()

    results = evaluate(spec, load_model(spec), report)

    assert results["n-shot"] == {"smoke_arc": 2, "smoke_gsm8k": 1}
    arc_prompt = results["samples"]["smoke_arc"][0]["arguments"][0][0]
    gsm8k_prompt = results["samples"]["smoke_gsm8k"][0]["arguments"][0][0]
    assert arc_prompt.count("Question:") == 3
    assert gsm8k_prompt.count("Question:") == 2
    assert report.getvalue().splitlines()[-1] == "PROGRESS 15 15"


def test_the_smoke_task_dir_is_stable_and_absolute(tasks_dir: Path) -> None:
    before = {path.name: path.read_text() for path in tasks_dir.iterdir()}

    again = smoke_task_dir(tasks_dir)

    assert again == tasks_dir
    assert {path.name: path.read_text() for path in tasks_dir.iterdir()} == before
    assert set(before) == {"smoke_arc.yaml", "smoke_gsm8k.yaml"}
    gsm8k = yaml.safe_load(before["smoke_gsm8k.yaml"])
    assert Path(gsm8k["include"]).is_absolute()
    assert Path(gsm8k["dataset_kwargs"]["data_files"]["test"]).is_file()
    assert gsm8k["generation_kwargs"]["until"][0] == "Question:"


def test_it_exits_3_when_the_model_cannot_load(tmp_path: Path, tasks_dir: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "llama", "hidden_size": "many"}')

    completed, out_dir = run_child(smoke_spec(broken, tasks_dir), tmp_path, "broken-run")

    assert completed.returncode == 3
    assert "Traceback" in completed.stderr
    assert "DONE" not in completed.stdout
    assert not out_dir.exists()


def test_it_exits_2_on_a_bad_spec(tmp_path: Path, tasks_dir: Path) -> None:
    completed, _ = run_child({"backend": "gguf", "tasks": []}, tmp_path, "bad-spec")

    assert completed.returncode == 2
