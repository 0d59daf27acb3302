"""Model instances from rows that plain SQL read, as a query of the model's own would give them.

For the few hot reads written as SQL once (the signed-in person, a prescription's refill facts):
the ORM compiles a query anew on every call, which on those paths cost more than the database took
to answer. What the ORM would still have done is done here: the database's converters (SQLite
returns dates and times as text; PostgreSQL's values need none) and `Model.from_db`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def converted(model: type[Model], fields: Sequence[Any], values: Sequence[Any], *,
              alias: str = DEFAULT_DB_ALIAS) -> list[Any]:  # fmt: skip
    """Each value of a column of `model` read by plain SQL, as the model's field holds it."""
    connection = connections[alias]
    result = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for convert in [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]:
            value = convert(value, column, connection)
        result.append(value)
    return result


def instance(model: type[M], values: Sequence[Any], *, fields: Sequence[Field[Any, Any]] | None = None,
             alias: str = DEFAULT_DB_ALIAS) -> M | None:  # fmt: skip
    """The instance whose columns are `values`, in the order of `fields`: all concrete fields by
    default, or some of them in the model's order (the others are deferred, read on first use).
    None when its primary key is NULL, as for a LEFT JOIN that found no row."""
    every = list(model._meta.concrete_fields)
    fields = every if fields is None else list(fields)
    if fields != sorted(fields, key=every.index):
        raise ValueError(f"{model.__name__}: fields in the model's order, as from_db() reads them")
    values = converted(model, fields, values, alias=alias)
    if values[fields.index(model._meta.pk)] is None:
        return None
    return model.from_db(alias, [field.attname for field in fields], values)
