"""Reads for the pharmacy's work queue: filters, counts per status, search, one page at a time.

Built to stay fast with a million prescriptions: every list is one status (or a search that
narrows through a unique index), ordered oldest first on the (status, ..., submitted_at, id)
indexes of Prescription.Meta; counts are one GROUP BY over the open statuses. Pages are
keyset pages: "next" carries the (submitted_at, id) of the last row shown and the next page
starts right after it in the index, so page 400 costs what page 1 costs (an OFFSET would read
and throw away every row before it). A page is fetched as page_size + 1 rows, so no COUNT(*) of
the whole result is ever needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User, full_name
from intake.models import DosageFormCode, FlagLevel, Patient, Prescription, PrescriptionStatus
from intake.models.people import fold_name
from intake.models.prescriptions import OPEN_STATUSES, STAFF_STATUSES, overdue_before

S = PrescriptionStatus
PAGE_SIZE = 50
DEFAULT_STATUS = S.PENDING_REVIEW
# The statuses the pharmacy works on, in the order of the work; the tabs of the queue page.
WORK_STATUSES = (
    S.PENDING_REVIEW, S.IN_REVIEW, S.ON_HOLD, S.APPROVED, S.COMPOUNDING, S.FINAL_CHECK, S.READY, S.SHIPPED,
    S.AWAITING_QUESTIONNAIRE,
)  # fmt: skip
REFERENCE_RE = re.compile(r"^(RX-?)?[0-9A-HJKMNP-TV-Z]{7}$")
AGE_CHOICES = [("1", "Older than 1 day"), ("2", "Older than 2 days"), ("3", "Older than 3 days"),
               ("7", "Older than a week"), ("14", "Older than 2 weeks")]  # fmt: skip
FLAG_CHOICES = [(FlagLevel.HARD_STOP, "Hard stop"), (FlagLevel.WARNING, "Warning"), (FlagLevel.INFO, "Information"),
                ("none", "No flags")]  # fmt: skip
CLAIM_CHOICES = [("mine", "Claimed by me"), ("unclaimed", "Unclaimed"), ("others", "Claimed by others")]


COUNTS_CACHE_KEY = "queue:counts"


def queue_counts() -> dict[str, int]:
    """How many prescriptions wait in each working status: one GROUP BY query, cached.

    Every page and the htmx poll show the tabs; at a million prescriptions the GROUP BY over the
    open rows costs more than the rest of the page. The counts are kept QUEUE_COUNTS_SECONDS and
    forgotten when a status change commits (queue_counts_changed), so that staff see their own
    work at once; new prescriptions, which wait for their questionnaire, show within that time.
    With a per-process cache (no CACHE_URL) another process may show counts that old.
    """
    cached = cache.get(COUNTS_CACHE_KEY)
    if cached is not None:
        return dict(cached)
    # One range of a status-led rx_queue index per open status, read from the index alone once vacuumed.
    rows = (
        Prescription.objects.filter(status__in=sorted(OPEN_STATUSES)).values_list("status").annotate(n=Count("id"))
        .order_by()
    )  # fmt: skip
    counts: dict[str, int] = dict.fromkeys(WORK_STATUSES, 0)
    counts.update({status: n for status, n in rows})
    cache.set(COUNTS_CACHE_KEY, counts, settings.QUEUE_COUNTS_SECONDS)
    return counts


def queue_counts_changed() -> None:
    """Forget the cached counts once the current transaction commits (a status changed)."""
    transaction.on_commit(lambda: cache.delete(COUNTS_CACHE_KEY))


def _prefix_range(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, written as a range a plain B-tree index can serve whatever the
    collation (LIKE 'x%' only uses one under the C collation), plus the exact LIKE to be sure."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper, f"{field}__startswith": prefix})


def search_condition(text: str) -> Q | None:
    """Reference (RX-XXXXXXX; without the prefix when it holds a digit) or patient name: "Lovelace", "Ada
    Lovelace", "Lovelace, Ada" (prefixes work). Names go through Patient.name_key, whose unique
    index (name_key, date_of_birth) serves the prefix range."""
    text = " ".join(text.split())[:100]
    if not text:
        return None
    compact = text.upper().replace(" ", "")
    if REFERENCE_RE.match(compact) and (compact.startswith("RX") or any(ch.isdigit() for ch in compact)):
        # A reference alone, never OR-ed with names: the OR would keep the planner off the unique index.
        code = compact.removeprefix("RX-").removeprefix("RX")
        return Q(reference=f"RX-{code}")
    if "," in text:
        last, _, first = text.partition(",")
        keys = [Patient.identity_key(first, last).rstrip("|")]
    else:
        words = text.split(" ")
        if len(words) == 1:
            keys = [fold_name(words[0])]
        else:
            # "Ada Lovelace" or "Lovelace Ada": both orders, the last word as the last name first.
            keys = [
                Patient.identity_key(" ".join(words[:-1]), words[-1]),
                Patient.identity_key(" ".join(words[1:]), words[0]),
            ]
    keys = [key for key in keys if key and key != "|"]
    if not keys:
        return Q(pk__in=[])
    names = Q(pk__in=[])
    for key in keys:
        names |= _prefix_range("name_key", key)
    return Q(patient__in=Patient.objects.filter(names).values("pk"))


class QueueFilter(django_filters.FilterSet):
    """The queue's filters. An empty status with no search means the default, pending review."""

    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(attrs={"placeholder": "Reference or patient name"}),
    )
    status = django_filters.ChoiceFilter(
        choices=[(s, S(s).label) for s in (*WORK_STATUSES, S.COMPLETED, S.REJECTED, S.CANCELLED)],
        empty_label="Any status",
        method="filter_status",
    )
    dosage_form = django_filters.ChoiceFilter(choices=DosageFormCode.choices, empty_label="Any dosage form")
    flag_level = django_filters.ChoiceFilter(choices=FLAG_CHOICES, empty_label="Any flags", method="filter_flags",
                                             label="Flags")  # fmt: skip
    rush = django_filters.BooleanFilter(label="Rush only", method="filter_rush",
                                        widget=forms.CheckboxInput)  # fmt: skip
    age = django_filters.ChoiceFilter(choices=AGE_CHOICES, empty_label="Any age", method="filter_age", label="Age")
    overdue = django_filters.BooleanFilter(label="Overdue only", method="filter_overdue",
                                           widget=forms.CheckboxInput)  # fmt: skip
    claimed = django_filters.ChoiceFilter(choices=CLAIM_CHOICES, empty_label="Anyone", method="filter_claimed",
                                          label="Claimed")  # fmt: skip

    class Meta:
        model = Prescription
        fields = ["q", "status", "dosage_form", "flag_level", "rush", "age", "overdue", "claimed"]

    def __init__(self, data: Any = None, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        data = data.copy() if data is not None else {}
        # Without a search the queue shows one status (its index keeps the page fast); a search
        # looks across every status unless one is chosen.
        if "status" not in data and not (data.get("q") or "").strip():
            data["status"] = DEFAULT_STATUS
        super().__init__(data, *args, **kwargs)
        self.user = user

    def get_form_class(self) -> type[forms.Form]:
        # django-filter builds a new form class, with new fields, for every request; these fields
        # never depend on the request, so the class is built once.
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class  # type: ignore[no-any-return]

    def filter_status(self, queryset: QuerySet[Prescription], name: str, value: str) -> QuerySet[Prescription]:
        # The leading column of the rx_queue indexes: the page is one range of them, in the queue's order.
        return queryset.filter(status=value)

    def filter_search(self, queryset: QuerySet[Prescription], name: str, value: str) -> QuerySet[Prescription]:
        condition = search_condition(value or "")
        return queryset if condition is None else queryset.filter(condition)

    def filter_flags(self, queryset: QuerySet[Prescription], name: str, value: str) -> QuerySet[Prescription]:
        return queryset.filter(flag_level=FlagLevel.NONE if value == "none" else value)

    def filter_rush(self, queryset: QuerySet[Prescription], name: str, value: bool | None) -> QuerySet[Prescription]:
        return queryset.filter(rush=True) if value else queryset

    def filter_age(self, queryset: QuerySet[Prescription], name: str, value: str) -> QuerySet[Prescription]:
        return queryset.filter(submitted_at__lt=timezone.now() - timedelta(days=int(value)))

    def filter_overdue(self, queryset: QuerySet[Prescription], name: str, value: bool | None) -> QuerySet[Prescription]:
        if not value:
            return queryset
        return queryset.filter(status__in=sorted(STAFF_STATUSES), status_changed_at__lt=overdue_before())

    def filter_claimed(self, queryset: QuerySet[Prescription], name: str, value: str) -> QuerySet[Prescription]:
        if value == "unclaimed":
            return queryset.filter(claimed_by__isnull=True)
        if self.user is None:
            return queryset.none()
        if value == "mine":
            return queryset.filter(claimed_by=self.user)
        return queryset.filter(claimed_by__isnull=False).exclude(claimed_by=self.user)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_RE = re.compile(r"^(-?[0-9]{1,18})\.([0-9]{1,18})$")


@dataclass(frozen=True)
class Cursor:
    """A place in the queue's order: (submitted_at, id) of one row, written "<microseconds>.<id>"."""

    submitted_at: datetime
    pk: int

    @classmethod
    def of(cls, row: Prescription | QueueEntry) -> Cursor:
        return cls(submitted_at=row.submitted_at, pk=row.pk)

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """None for anything that is not a cursor this module wrote: a hand-edited link shows the first page."""
        match = _CURSOR_RE.match(text or "")
        if match is None:
            return None
        try:
            # Whole microseconds from the epoch: exact, unlike a float timestamp.
            submitted_at = _EPOCH + timedelta(microseconds=int(match[1]))
        except OverflowError:
            return None
        return cls(submitted_at=submitted_at, pk=int(match[2]))

    def __str__(self) -> str:
        delta = self.submitted_at - _EPOCH
        microseconds = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        return f"{microseconds}.{self.pk}"

    def after(self) -> Q:
        """The rows after this place in the queue's order."""
        # `submitted_at >= …` is implied by the OR beside it, and is there for the planner: it makes the
        # page one range of the (status, …, submitted_at, id) index, read in order from the cursor,
        # where the OR alone would be checked row by row from the start of the status.
        return Q(submitted_at__gte=self.submitted_at) & (
            Q(submitted_at__gt=self.submitted_at) | Q(submitted_at=self.submitted_at, pk__gt=self.pk)
        )

    def before(self) -> Q:
        """The rows before this place in the queue's order (the same range, read backwards)."""
        return Q(submitted_at__lte=self.submitted_at) & (
            Q(submitted_at__lt=self.submitted_at) | Q(submitted_at=self.submitted_at, pk__lt=self.pk)
        )


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One prescription as the queue shows it, read as values: fifty model instances, with the
    patient, prescriber and claimant of each, cost more to build than the query that fetched them."""

    pk: int
    reference: str
    status: str
    dosage_form: str
    strength_mg: Decimal
    rush: bool
    flags: list[dict[str, str]]
    submitted_at: datetime
    status_changed_at: datetime | None
    beyond_use_date: date | None
    fill_number: int
    patient_first_name: str
    patient_last_name: str
    prescriber_first_name: str
    prescriber_last_name: str
    prescriber_credential: str
    claimed_by_id: int | None
    claimed_by_first_name: str | None
    claimed_by_last_name: str | None
    claimed_by_email: str | None
    price_consent: str

    @property
    def claimed_by_name(self) -> str:
        # As str(User): the full name, else the email.
        return full_name(self.claimed_by_first_name or "", self.claimed_by_last_name or "") or (
            self.claimed_by_email or ""
        )

    @property
    def prescriber_name(self) -> str:
        # As Prescriber.display_name.
        return f"{full_name(self.prescriber_first_name, self.prescriber_last_name)}, {self.prescriber_credential}"


# The columns of a QueueEntry, in its order.
_ENTRY_COLUMNS = (
    "pk", "reference", "status", "dosage_form", "strength_mg", "rush", "flags", "submitted_at", "status_changed_at",
    "beyond_use_date", "fill_number", "patient__first_name", "patient__last_name", "prescriber__user__first_name",
    "prescriber__user__last_name", "prescriber__credential", "claimed_by_id", "claimed_by__first_name",
    "claimed_by__last_name", "claimed_by__email", "price_consent",
)  # fmt: skip


def _entries(queryset: QuerySet[Prescription]) -> list[QueueEntry]:
    return [QueueEntry(*row) for row in queryset.values_list(*_ENTRY_COLUMNS)]


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueEntry]
    has_next: bool
    has_previous: bool
    page_size: int

    @property
    def next_cursor(self) -> str:
        return str(Cursor.of(self.rows[-1])) if self.rows and self.has_next else ""

    @property
    def previous_cursor(self) -> str:
        return str(Cursor.of(self.rows[0])) if self.rows and self.has_previous else ""


def queue_base() -> QuerySet[Prescription]:
    # Oldest first; id breaks ties so pages never repeat or skip a row.
    return Prescription.objects.order_by("submitted_at", "id")


def queue_page(
    queryset: QuerySet[Prescription],
    *,
    after: str | None = None,
    before: str | None = None,
    page_size: int = PAGE_SIZE,
) -> QueuePage:
    """One keyset page of a filtered queue (ordered by submitted_at, id): the first, the one after
    the cursor `after`, or the one before the cursor `before`. One query of page_size + 1 rows."""
    after_cursor, before_cursor = Cursor.parse(after), Cursor.parse(before)
    if after_cursor is not None:
        rows = _entries(queryset.filter(after_cursor.after())[: page_size + 1])
        return QueuePage(rows=rows[:page_size], has_next=len(rows) > page_size, has_previous=True,
                         page_size=page_size)  # fmt: skip
    if before_cursor is not None:
        # Walk the index backwards from the cursor, then show the rows in the queue's order.
        backwards = queryset.filter(before_cursor.before()).order_by("-submitted_at", "-id")
        rows = _entries(backwards[: page_size + 1])
        if len(rows) > page_size:
            return QueuePage(rows=rows[:page_size][::-1], has_next=True, has_previous=True, page_size=page_size)
        # Back at the start: show a full first page rather than the few rows before the cursor.
    rows = _entries(queryset[: page_size + 1])
    return QueuePage(rows=rows[:page_size], has_next=len(rows) > page_size, has_previous=False, page_size=page_size)


def queue_for_staff(*, user: User, params: Any) -> tuple[QueueFilter, QueuePage]:
    """The filter form (bound to params) and the page it asks for (`after` / `before` cursors)."""
    queue_filter = QueueFilter(params, queryset=queue_base(), user=user)
    if not queue_filter.is_valid():
        return queue_filter, queue_page(queue_base().none())
    return queue_filter, queue_page(queue_filter.qs, after=params.get("after"), before=params.get("before"))
