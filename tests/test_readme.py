"""The README names the run states as the pages and the API do."""

from __future__ import annotations

from pathlib import Path

from evaluations.models import RunState

README = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text().split())
LIFE = [RunState.QUEUED, RunState.FETCHING, RunState.RUNNING, RunState.RECORDING]


def test_the_readme_gives_a_run_s_life_in_the_pages_words() -> None:
    words = " → ".join(str(state.label) for state in [*LIFE, RunState.FINISHED])
    assert f'"{words}"' in README


def test_the_readme_gives_the_api_s_short_names_too() -> None:
    names = ", ".join(f"`{state.value}`" for state in [*LIFE, RunState.FINISHED])
    assert names in README
