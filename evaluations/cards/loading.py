"""Reading a card's YAML, with messages that say where it is broken.

Cards come from strangers, so the reader refuses two shapes before they cost anything: YAML
over ``MAX_YAML_BYTES``, and aliases that expand to more than ``MAX_ALIAS_NODES`` values (a
"billion laughs" bomb of 1.6 KB once made a million claims), and more than
``MAX_CARD_ENTRIES`` results in one card or file. Real cards rarely use aliases.
"""

from __future__ import annotations

from typing import Any

import yaml

from evaluations.cards.draft import CardError

MAX_YAML_BYTES = 512 * 1024
MAX_ALIAS_NODES = 10_000
# Parsed metadata (the hub's cardData is JSON, so no alias reaches it) is bounded by entries.
MAX_CARD_ENTRIES = 1_000


class _AliasBomb(yaml.YAMLError):
    """Aliases that expand past the bound, or refer to themselves."""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, counting what each alias would expand to as it composes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.expanded = 0
        self.sizes: dict[int, int] = {}  # id of a finished node -> its expanded size
        self.open_anchors: list[str | None] = []  # anchors of the nodes being composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # types-PyYAML leaves peek_event unannotated.
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event.anchor)
            return super().compose_node(parent, index)
        self.open_anchors.append(event.anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.open_anchors.pop()

    def _count_alias(self, anchor: str | None) -> None:
        if anchor in self.open_anchors:
            raise _AliasBomb(f"alias *{anchor} refers to the value that contains it")
        if anchor in self.anchors:  # else PyYAML itself reports the undefined alias
            self.expanded += self._size(self.anchors[anchor])
        if self.expanded > MAX_ALIAS_NODES:
            raise _AliasBomb(f"aliases expand to over {MAX_ALIAS_NODES:,} values")

    def _size(self, node: yaml.Node) -> int:
        if id(node) not in self.sizes:
            self.sizes[id(node)] = 1 + sum(self._size(child) for child in _children(node))
        return self.sizes[id(node)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_yaml(text: str, what: str, *, line_offset: int = 0) -> Any:
    _refuse_oversize(text, what)
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 (a SafeLoader subclass)
    except _AliasBomb as error:
        raise CardError(
            f"{what} is refused: its YAML {error}; write the entries out in full instead of "
            "through anchors (&) and aliases (*)"
        ) from error
    except yaml.YAMLError as error:
        raise CardError(_yaml_message(what, error, line_offset=line_offset)) from error
    except (ValueError, RecursionError) as error:  # a bad date or !!int, nesting too deep
        raise CardError(f"{what} is not valid YAML: {error}") from error


def _refuse_oversize(text: str, what: str) -> None:
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_YAML_BYTES:
        raise CardError(
            f"{what} is refused: its YAML is {size:,} bytes, over the {MAX_YAML_BYTES:,} bytes "
            "the importer reads; keep the scores in a shorter model-index or .eval_results file"
        )


def refuse_too_many(count: int, what: str) -> None:
    if count > MAX_CARD_ENTRIES:
        raise CardError(
            f"{what} is refused: it lists {count:,} results, over the {MAX_CARD_ENTRIES:,} the "
            "importer reads; keep one entry per benchmark and setting"
        )


def _yaml_message(what: str, error: yaml.YAMLError, *, line_offset: int = 0) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f" (line {mark.line + 1 + line_offset}, column {mark.column + 1})" if mark else ""
    return f"{what} is not valid YAML{where}: {problem}"
