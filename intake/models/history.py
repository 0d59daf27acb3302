"""django-simple-history's HistoricalRecords, with its manager class made once and only the
indexes that history is read by.

`Model.history` returns a manager of a class that simple-history builds on every access with
`Manager.from_queryset`, which lists the queryset class's members through `inspect` each time:
on a submission that cost more than writing the history rows. The class never changes, so it is
made once.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Field, Model
from simple_history import manager
from simple_history import models as simple_history


class HistoryManager(manager.HistoryManager):
    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class: type, class_name: str | None = None) -> Any:
        return super().from_queryset(queryset_class, class_name)


class HistoricalRecords(simple_history.HistoricalRecords):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("history_manager", HistoryManager)
        super().__init__(*args, **kwargs)

    def copy_fields(self, model: type[Model]) -> dict[str, Field[Any, Any]]:
        # History is read one record at a time, by the record's id (kept indexed, with history_date
        # and history_user). The copies of the record's own indexes (a prescription's reference,
        # token, prescriber, patient...) would be written with every change and never read.
        self.no_db_index = [field.name for field in model._meta.fields if not field.primary_key]
        return super().copy_fields(model)
