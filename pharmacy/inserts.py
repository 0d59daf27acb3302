"""INSERTs whose SQL is written once per model, for the hot paths' writes.

Django builds the SQL of every INSERT anew (names quoted, placeholders and RETURNING clause joined)
and runs Model.save()'s machinery around it: on a submission, which writes ten rows, that cost more
than sending them. `insert()` keeps the text of a model's INSERT per row count and only adapts each
row's values, as Django's own compiler does (each field's `pre_save` for a new row, then
`get_db_prep_save`), then sets the primary keys that RETURNING gives back.

What it leaves out on purpose is `Model.save()` and its signals: a model whose `save()` does more
(Patient's identity key, simple-history's post_save) has that done by the caller, as
`prescription_create_signed` does. Values are plain values, not expressions.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model
from django.db.models.constants import OnConflict

M = TypeVar("M", bound=Model)


def insert(rows: Sequence[M], *, skip_conflict: bool = False, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Insert new rows of one model in one statement and give them their primary keys.

    With `skip_conflict` (one row only), a row that a unique constraint already holds is not
    written and False is returned (ON CONFLICT DO NOTHING); otherwise the database's error is raised.
    """
    if not rows:
        return True
    model = type(rows[0])
    if skip_conflict and len(rows) != 1:
        raise ValueError("skip_conflict inserts one row: RETURNING would not say which rows were skipped.")
    connection = connections[using]
    sql, fields = _insert_sql(model, using, len(rows), skip_conflict)
    for row in rows:
        # As save() and bulk_create() do: refuse an unsaved related object, and take the id of one
        # saved since it was assigned (a prescription's titration steps, made before its INSERT).
        row._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
    params = [field.get_db_prep_save(field.pre_save(row, True), connection) for row in rows for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchall()
    if not returned:
        return False
    for row, (pk,) in zip(rows, returned, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = using
    return True


@functools.cache
def _insert_sql(model: type[Model], using: str, count: int, skip_conflict: bool) -> tuple[str, list[Field[Any, Any]]]:
    meta = model._meta
    # The columns Model.save() writes for a new row whose primary key the database assigns.
    fields = [field for field in meta.local_concrete_fields if not field.generated and field is not meta.auto_field]
    if meta.auto_field is None or meta.parents:
        raise TypeError(f"{model.__name__}: insert() writes models with an auto primary key and no parents.")
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    row = f"({', '.join(['%s'] * len(fields))})"
    on_conflict = OnConflict.IGNORE if skip_conflict else None
    statement = connection.ops.insert_statement(on_conflict=on_conflict)
    conflict = connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None)
    returning, _ = connection.ops.return_insert_columns([meta.pk])
    if not returning:
        raise NotImplementedError(f"{connection.vendor}: this database version has no INSERT ... RETURNING.")
    values = ", ".join([row] * count)
    sql = " ".join(part for part in (f"{statement} {quote(meta.db_table)} ({columns}) VALUES {values}", conflict,
                                     returning) if part)  # fmt: skip
    return sql, fields
