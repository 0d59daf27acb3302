"""Model instances from rows that plain SQL read, as a query of the model's own would give them.

For the few hot reads written as SQL once (the signed-in person, the status lookup, a prescription's
refill facts): the ORM compiles a query anew on every call, which on those paths cost more than the
database took to answer. What the ORM would still have done is done here: the database's converters
(SQLite returns dates and times as text; PostgreSQL's values need none) and `Model.from_db`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def select_list(table: str, fields: Sequence[Field[Any, Any]], *, alias: str = DEFAULT_DB_ALIAS) -> str:
    """`t."a", t."b", …`: the columns of `fields` of the table named `table` in the query, quoted."""
    quote = connections[alias].ops.quote_name
    return ", ".join(f"{table}.{quote(field.column)}" for field in fields)


def converted(model: type[Model], fields: Sequence[Field[Any, Any]], values: Sequence[Any], *,
              alias: str = DEFAULT_DB_ALIAS) -> list[Any]:  # fmt: skip
    """Each value of a column of `model` read by plain SQL, as the model's field holds it."""
    return _reading(model, tuple(fields), alias).convert(values, connections[alias])


def instance(model: type[M], values: Sequence[Any], *, fields: Sequence[Field[Any, Any]] | None = None,
             alias: str = DEFAULT_DB_ALIAS) -> M | None:  # fmt: skip
    """The instance whose columns are `values`, in the order of `fields`: all concrete fields by
    default, or some of them in the model's order (the others are deferred, read on first use).
    None when its primary key is NULL, as for a LEFT JOIN that found no row."""
    reading = _reading(model, tuple(model._meta.concrete_fields if fields is None else fields), alias)
    if reading.pk_index is None:
        raise ValueError(f"{model.__name__}: an instance needs its primary key among the fields")
    values = reading.convert(values, connections[alias])
    if values[reading.pk_index] is None:
        return None
    return model.from_db(alias, reading.attnames, values)


@dataclass(frozen=True)
class _Reading:
    """What turning one model's columns into its values needs, worked out once per field list."""

    attnames: list[str]
    pk_index: int | None
    converters: list[tuple[Any, list[Callable[..., Any]]]]  # (column, its converters) per field

    def convert(self, values: Sequence[Any], connection: Any) -> list[Any]:
        result = []
        for (column, converters), value in zip(self.converters, values, strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            result.append(value)
        return result


# Kept per alias, not per thread's connection: the converters Django's backends give read only the
# alias's settings (its time zone), the same for every connection to it, and get the current
# connection as an argument.
@functools.cache
def _reading(model: type[Model], fields: tuple[Field[Any, Any], ...], alias: str) -> _Reading:
    every = list(model._meta.concrete_fields)
    positions = [every.index(field) for field in fields]
    if positions != sorted(positions):
        raise ValueError(f"{model.__name__}: fields in the model's order, as from_db() reads them")
    connection = connections[alias]
    converters = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        # The same list the ORM's compiler builds for each query.
        field_converters = field.get_db_converters(connection)  # type: ignore[attr-defined]
        converters.append((column, [*connection.ops.get_db_converters(column), *field_converters]))
    pk = model._meta.pk
    return _Reading(
        attnames=[field.attname for field in fields],
        pk_index=fields.index(pk) if pk in fields else None,
        converters=converters,
    )
