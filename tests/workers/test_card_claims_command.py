"""`manage.py card_claims`: what a card would import, before submitting."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from localdev.standin.hub_server import serve_in_thread
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
