"""The templates stay readable: no line runs on past MAX_TEMPLATE_LINE, and every one compiles.

A line that carries a whole table row or a long fragment goes into an ``{% include %}`` partial
or is wrapped where the markup allows (between attributes, or where the text already has a space).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.template.loader import get_template

MAX_TEMPLATE_LINE = 160  # characters; lines are wrapped at 120 where the markup allows
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


def long_lines(path: Path, root: Path = TEMPLATES) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        f"{path.relative_to(root)}:{number}: {len(line)} characters"
        for number, line in enumerate(lines, start=1)
        if len(line) > MAX_TEMPLATE_LINE
    ]


def test_it_finds_the_templates() -> None:
    assert TEMPLATES / "base.html" in TEMPLATE_FILES
    assert TEMPLATES / "leaderboard" / "partials" / "evidence.html" in TEMPLATE_FILES


def test_no_template_line_is_over_the_limit() -> None:
    too_long = [found for path in TEMPLATE_FILES for found in long_lines(path)]
    assert not too_long, "wrap these lines or move them into a partial:\n" + "\n".join(too_long)


def test_the_check_sees_a_long_line(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    at_the_limit, over_it = "x" * MAX_TEMPLATE_LINE, "y" * (MAX_TEMPLATE_LINE + 1)
    page.write_text(f"<p>short</p>\n{at_the_limit}\n{over_it}\n", encoding="utf-8")
    assert long_lines(page, root=tmp_path) == [f"page.html:3: {MAX_TEMPLATE_LINE + 1} characters"]


@pytest.mark.parametrize(
    "name", [str(path.relative_to(TEMPLATES)) for path in TEMPLATE_FILES], ids=str
)
def test_every_template_compiles(name: str) -> None:
    assert get_template(name).template.name == name
