"""django-simple-history for the pharmacy's records: who changed what, and when.

`history_of` declares a model's history through the library's public options: the history table
keeps only the indexes history is read by (the record's id, the date, the user), so a copy of each
of the model's own indexes is named in ``unindexed`` and not written with every change.
``makemigrations --check`` in the test command notices an index left out of that list.

`HistoryManager` makes its manager class once: simple-history builds it on every ``Model.history``
access with ``Manager.from_queryset``, which costs more than writing a submission's history row.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from simple_history.manager import HistoryManager as LibraryHistoryManager
from simple_history.models import HistoricalRecords


class HistoryManager(LibraryHistoryManager):
    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class: type, class_name: str | None = None) -> Any:
        return super().from_queryset(queryset_class, class_name)


def history_of(*, unindexed: Sequence[str] = (), excluded: Sequence[str] = ()) -> HistoricalRecords:
    return HistoricalRecords(
        excluded_fields=list(excluded), no_db_index=list(unindexed), history_manager=HistoryManager
    )
