"""Querysets whose SQL Django builds once per process, then runs again with a new value.

Building a query's SQL costs Django's ORM more than PostgreSQL takes to answer it. At 10,000
models the model page's read of its repo (eight ``EXISTS`` subqueries) spent 1.9 ms of its
2.7 ms building the SQL, and its read of the runs 1.3 ms of 1.9 ms; the database answered
each in a quarter of a millisecond. The pages every visitor opens run the same few queries
with another id each time.

A ``PreparedQuery`` builds its queryset once, with a stand-in for the value that changes, and
keeps the SQL and the compiler that built it (which knows the columns: the model's, those of
``select_related`` and the annotations). Each call copies the queryset and hands Django that
compiler, with the value in the stand-in's place among the SQL's parameters: Django's own
iterable then reads the rows, so they come back as the queryset would give them (model
instances, values or tuples, related rows, annotations, deferred fields), and the
``prefetch_related`` lookups given to the call run as usual.

Only for querysets whose SQL is the same whatever the value: an exact lookup on it (``pk``,
a foreign key, a unique name) or an ``__in`` of a fixed number of them, the rest of the
queryset fixed when the module loads, no clock in it. Each stand-in must appear among the
parameters (the query is refused when it is first built otherwise), and every parameter
equal to it is replaced.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

Row = TypeVar("Row")

# Values no query is ever asked for: a negative primary key, a name the hub cannot hold.
ID_STAND_IN = -918_273_645
NAME_STAND_IN = "\x00prepared-stand-in\x00"


class PreparedQuery(Generic[Row]):
    """``PreparedQuery(lambda value: Model.objects.filter(pk=value)..., ID_STAND_IN)``; then
    ``query.rows(42)`` is ``list(Model.objects.filter(pk=42)...)``. Several stand-ins stand
    for as many values (``filter(pk__in=[...])`` of a given length); with none, the queryset
    has no value that changes: ``query.rows()``."""

    def __init__(self, build: Callable[..., QuerySet[Any, Row]], *stand_ins: Any) -> None:
        self._queryset = build(*stand_ins)
        self._stand_ins = stand_ins
        self._compiled: dict[str, tuple[SQLCompiler, str, tuple[Any, ...], Places]] = {}

    def rows(self, *values: Any, prefetch: Sequence[Any] = ()) -> list[Row]:
        if len(values) != len(self._stand_ins):
            raise TypeError(f"{len(self._stand_ins)} values expected, {len(values)} given")
        queryset = self._queryset.all()  # a copy: the prepared one is never run
        if prefetch:
            queryset = queryset.prefetch_related(*prefetch)
        compiler = self._compiler_for(queryset.db, values)
        # ``ModelIterable`` and the values iterables ask the query for its compiler.
        queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
        return list(queryset)

    def _compiler_for(self, alias: str, values: tuple[Any, ...]) -> SQLCompiler:
        if alias not in self._compiled:
            self._compiled[alias] = self._compile(alias)
        compiled, sql, params, places = self._compiled[alias]
        if places:
            given = list(params)
            for position, index in places:
                given[position] = values[index]
            params = tuple(given)
        compiler = copy.copy(compiled)  # its column lists are shared, never changed
        compiler.connection = connections[alias]  # this thread's connection
        compiler.as_sql = lambda *args, **kwargs: (sql, params)  # type: ignore[method-assign]
        return compiler

    def _compile(self, alias: str) -> tuple[SQLCompiler, str, tuple[Any, ...], Places]:
        compiler = self._queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()  # also sets the compiler's columns
        index_of = {stand_in: index for index, stand_in in enumerate(self._stand_ins)}
        places = [
            (position, index_of[param])
            for position, param in enumerate(params)
            if isinstance(param, Hashable) and param in index_of
        ]
        missing = set(index_of.values()) - {index for _, index in places}
        if missing:
            stand_ins = [self._stand_ins[index] for index in sorted(missing)]
            raise ValueError(f"the stand-ins {stand_ins!r} are not parameters of {sql}")
        return compiler, sql, tuple(params), places


Places = list[tuple[int, int]]  # (position among the SQL's parameters, index of the value)


def id_stand_ins(count: int) -> list[int]:
    """``count`` distinct stand-ins for ids (``filter(id__in=...)`` of that many)."""
    return [ID_STAND_IN - index for index in range(count)]
