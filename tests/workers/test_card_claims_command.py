"""`manage.py card_claims`: what a card would import, before submitting."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from localdev.standin.hub_server import serve_in_thread
from localdev.standin.pulls import publish_pull_request
from localdev.standin.repos import publish_repo

CARDS = Path(__file__).resolve().parent.parent / "evaluations" / "cards"


def run(*args: str) -> list[dict]:
    out = StringIO()
    call_command("card_claims", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def test_it_prints_the_claims_of_a_card_file_as_json() -> None:
    claims = run(str(CARDS / "oll_v1.md"), "--repo-id", "lumen-lab/Lumen-7B-v0.3")
    arc = next(c for c in claims if c["benchmark"] == "arc_challenge")
    assert arc["value"] == pytest.approx(0.6143) and arc["unit"] == "percent"
    assert arc["shots"] == 25 and arc["comparable"] is True and arc["unit_reason"]


def test_a_broken_card_exits_non_zero_with_the_parse_error() -> None:
    with pytest.raises(CommandError, match="not valid YAML"):
        run(str(CARDS / "broken.md"))


def test_it_reads_a_repo_card_from_the_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (CARDS / "oll_v2.md").read_bytes()
    publish_repo(tmp_path, "lab/model", {"README.md": readme, "config.json": b"{}"})
    server, url = serve_in_thread(tmp_path)
    monkeypatch.setenv("HF_ENDPOINT", url)
    try:
        claims = run("lab/model")
    finally:
        server.shutdown()
    assert {c["benchmark"] for c in claims} >= {"gpqa", "mmlu_pro", "bbh"}
    assert next(c for c in claims if c["benchmark"] == "bbh")["comparable"] is False


def _served_run(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[dict]:
    server, url = serve_in_thread(root)
    monkeypatch.setenv("HF_ENDPOINT", url)
    try:
        return run(*args)
    finally:
        server.shutdown()
        server.server_close()


def test_it_reads_a_repos_results_files_and_its_open_pull_requests_as_a_run_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_results = (CARDS / "eval_results_gpqa.yaml").read_bytes()
    files = {
        "README.md": (CARDS / "oll_v1.md").read_bytes(),
        "config.json": b"{}",
        ".eval_results/gpqa.yaml": own_results,
    }
    publish_repo(tmp_path, "ridge-ai/Ridge-32B", files)
    added = b"- dataset: {id: TIGER-Lab/MMLU-Pro, task_id: mmlu_pro}\n  value: 57.0\n"
    changed = {".eval_results/gpqa.yaml": own_results + added}
    publish_pull_request(tmp_path, "ridge-ai/Ridge-32B", changed, author="quill-reviewer")
    closed = {".eval_results/closed.yaml": added.replace(b"57.0", b"99.0")}
    publish_pull_request(tmp_path, "ridge-ai/Ridge-32B", closed, author="x", status="closed")

    claims = _served_run(tmp_path, monkeypatch, "ridge-ai/Ridge-32B")

    assert any(c["benchmark"] == "arc_challenge" for c in claims)  # the README's
    gpqa = next(c for c in claims if c["raw_value"] == "46.2")
    assert gpqa["benchmark"] == "gpqa" and gpqa["source"]["kind"] == "eval-results"
    from_pull = [c for c in claims if (c["hub_result"] or {}).get("source_ref") == "refs/pr/1"]
    assert [(c["raw_value"], c["source"]["kind"], c["reported_by"]) for c in from_pull] == [
        ("57.0", "eval-results-community", "pull request refs/pr/1")
    ]
    assert not any(c["raw_value"] == "99.0" for c in claims)  # a closed pull request


def test_a_repos_broken_results_file_exits_non_zero_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"config.json": b"{}", ".eval_results/broken.yaml": b"- dataset: [unclosed\n"}
    publish_repo(tmp_path, "lab/model", files)

    with pytest.raises(CommandError, match=r"\.eval_results/broken\.yaml: .*not valid YAML"):
        _served_run(tmp_path, monkeypatch, "lab/model")


def test_a_pull_requests_broken_results_file_is_left_out_and_said_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = (CARDS / "eval_results_gpqa.yaml").read_bytes()
    publish_repo(
        tmp_path, "ridge-ai/Ridge-32B", {"config.json": b"{}", ".eval_results/a.yaml": own}
    )
    broken = {".eval_results/b.yaml": b"- dataset: [unclosed\n"}
    publish_pull_request(tmp_path, "ridge-ai/Ridge-32B", broken, author="mallory")
    server, url = serve_in_thread(tmp_path)
    monkeypatch.setenv("HF_ENDPOINT", url)
    out, err = StringIO(), StringIO()
    try:
        call_command("card_claims", "ridge-ai/Ridge-32B", stdout=out, stderr=err)
    finally:
        server.shutdown()
        server.server_close()

    assert any(c["benchmark"] == "gpqa" for c in json.loads(out.getvalue()))
    assert "Not imported: .eval_results/b.yaml (refs/pr/1): " in err.getvalue()


def test_it_refuses_an_alias_bomb_with_a_message_instead_of_expanding_it(tmp_path: Path) -> None:
    from tests.evaluations.test_card_loading import alias_bomb

    card = tmp_path / "README.md"
    card.write_text(alias_bomb())
    with pytest.raises(CommandError, match=r"could not be read: .*aliases expand to over"):
        run(str(card), "--repo-id", "ridge-ai/Ridge-32B")


def test_it_refuses_a_results_file_over_the_size_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluations.cards import loading

    results = tmp_path / "gpqa.yaml"
    results.write_bytes((CARDS / "eval_results_gpqa.yaml").read_bytes())
    monkeypatch.setattr(loading, "MAX_YAML_BYTES", results.stat().st_size - 1)
    with pytest.raises(CommandError, match=r"its YAML is [\d,]+ bytes, over the"):
        run(str(results), "--repo-id", "ridge-ai/Ridge-32B")
    monkeypatch.setattr(loading, "MAX_YAML_BYTES", results.stat().st_size)
    assert {c["benchmark"] for c in run(str(results), "--repo-id", "ridge-ai/Ridge-32B")} >= {
        "gpqa"
    }
