"""The import rules of ARCHITECTURE.md: the domain imports neither the site nor the workers,
pages import no worker code, and the product never imports the local tooling; and the modules
of ``evaluations.models`` import each other one way only.

The contracts live in pyproject.toml ([tool.importlinter]); import-linter reads them and
follows indirect imports too (a chain through a third module breaks a contract as well)."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

import evaluations

ROOT = Path(__file__).resolve().parent.parent


def test_the_checked_packages_are_this_checkouts() -> None:
    assert Path(evaluations.__file__).resolve().parent == ROOT / "evaluations"


def test_every_import_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)

    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "0 broken" in report
