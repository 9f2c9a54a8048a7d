"""Reading a card's YAML, with messages that say where it is broken."""

from __future__ import annotations

from typing import Any

import yaml

from evaluations.cards.draft import CardError


def _load_yaml(text: str, what: str, *, line_offset: int = 0) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CardError(_yaml_message(what, error, line_offset=line_offset)) from error
    except (ValueError, RecursionError) as error:  # a bad date or !!int, nesting too deep
        raise CardError(f"{what} is not valid YAML: {error}") from error


def _yaml_message(what: str, error: yaml.YAMLError, *, line_offset: int = 0) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f" (line {mark.line + 1 + line_offset}, column {mark.column + 1})" if mark else ""
    return f"{what} is not valid YAML{where}: {problem}"
