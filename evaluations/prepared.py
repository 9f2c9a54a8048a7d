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
a foreign key, a unique name), the rest of the queryset fixed when the module loads, no
clock in it. The stand-in must appear among the parameters (it is refused when it is first
built otherwise), and every parameter equal to it is replaced.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
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
    ``query.rows(42)`` is ``list(Model.objects.filter(pk=42)...)``. Without a stand-in the
    queryset has no value that changes: ``query.rows()``."""

    def __init__(self, build: Callable[[Any], QuerySet[Any, Row]], stand_in: Any = None) -> None:
        self._queryset = build(stand_in)
        self._stand_in = stand_in
        self._compiled: dict[str, tuple[SQLCompiler, str, tuple[Any, ...], list[int]]] = {}

    def rows(self, value: Any = None, *, prefetch: Sequence[Any] = ()) -> list[Row]:
        queryset = self._queryset.all()  # a copy: the prepared one is never run
        if prefetch:
            queryset = queryset.prefetch_related(*prefetch)
        compiler = self._compiler_for(queryset.db, value)
        # ``ModelIterable`` and the values iterables ask the query for its compiler.
        queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
        return list(queryset)

    def _compiler_for(self, alias: str, value: Any) -> SQLCompiler:
        if alias not in self._compiled:
            self._compiled[alias] = self._compile(alias)
        compiled, sql, params, positions = self._compiled[alias]
        if positions:
            given = list(params)
            for position in positions:
                given[position] = value
            params = tuple(given)
        compiler = copy.copy(compiled)  # its column lists are shared, never changed
        compiler.connection = connections[alias]  # this thread's connection
        compiler.as_sql = lambda *args, **kwargs: (sql, params)  # type: ignore[method-assign]
        return compiler

    def _compile(self, alias: str) -> tuple[SQLCompiler, str, tuple[Any, ...], list[int]]:
        compiler = self._queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()  # also sets the compiler's columns
        if self._stand_in is None:
            return compiler, sql, tuple(params), []
        positions = [index for index, param in enumerate(params) if param == self._stand_in]
        if not positions:
            raise ValueError(f"the stand-in {self._stand_in!r} is not a parameter of {sql}")
        return compiler, sql, tuple(params), positions
