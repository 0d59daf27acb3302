"""Filters of the audit trail viewer."""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

import django_filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q, QuerySet
from django.utils import timezone

from intake.audit import CHANNELS, Channel
from intake.models import AuditAction, AuditRecord

# Far dates would overflow when turned into UTC datetimes (9999-12-31 in Chicago is year 10000 in UTC).
_SENSIBLE_DATES = [MinValueValidator(dt.date(2000, 1, 1)), MaxValueValidator(dt.date(2999, 12, 31))]


def _start_of_day(day: dt.date) -> dt.datetime:
    # Days are the pharmacy's local days; comparing aware datetimes keeps created_at's index usable.
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class IPAddressFilter(django_filters.Filter):
    # The form field validates the address: an unchecked string would be a database error on
    # PostgreSQL, where the column is of type inet.
    field_class = forms.GenericIPAddressField


class AuditDatesFilter(django_filters.FilterSet):
    """A range of the pharmacy's local days, both ends included."""

    date_from = django_filters.DateFilter(
        method="filter_date_from", label="From (date)", widget=forms.DateInput(attrs={"type": "date"}),
        validators=_SENSIBLE_DATES,
    )  # fmt: skip
    date_to = django_filters.DateFilter(
        method="filter_date_to", label="To (date, inclusive)", widget=forms.DateInput(attrs={"type": "date"}),
        validators=_SENSIBLE_DATES,
    )  # fmt: skip

    class Meta:
        model = AuditRecord
        fields: list[str] = []

    def filter_date_from(self, queryset: QuerySet[AuditRecord], name: str, value: dt.date) -> QuerySet[AuditRecord]:
        return queryset.filter(created_at__gte=_start_of_day(value))

    def filter_date_to(self, queryset: QuerySet[AuditRecord], name: str, value: dt.date) -> QuerySet[AuditRecord]:
        return queryset.filter(created_at__lt=_start_of_day(value + dt.timedelta(days=1)))


class AuditRecordFilter(AuditDatesFilter):
    actor = django_filters.CharFilter(
        field_name="actor__email", lookup_expr="icontains", label="Actor email (or part of it)"
    )
    action = django_filters.ChoiceFilter(choices=AuditAction.choices, empty_label="Any action")
    object_type = django_filters.CharFilter(lookup_expr="iexact", label="Object type")
    prescription_reference = django_filters.CharFilter(
        method="filter_reference", label="Prescription reference", max_length=12
    )
    ip_address = IPAddressFilter(label="IP address")

    class Meta:
        model = AuditRecord
        fields: list[str] = []

    def filter_reference(self, queryset: QuerySet[AuditRecord], name: str, value: str) -> QuerySet[AuditRecord]:
        return queryset.filter(prescription_reference=value.strip().upper())


def _channel_condition(channel: str) -> Q:
    """The records of one channel, by their path as intake.audit.channel_of reads it."""
    if channel == Channel.SYSTEM:
        return Q(path="")
    prefixes = [prefix for prefix, named in CHANNELS if named == channel]
    if prefixes:
        return reduce(operator.or_, (Q(path__startswith=prefix) for prefix in prefixes))
    elsewhere = reduce(operator.or_, (Q(path__startswith=prefix) for prefix, _ in CHANNELS), Q(path=""))
    return ~elsewhere


class PatientAccessFilter(AuditDatesFilter):
    """The patient's access report: a date range, and where the request came in."""

    channel = django_filters.ChoiceFilter(
        choices=Channel.choices, empty_label="Any channel", method="filter_channel", label="Channel"
    )

    class Meta:
        model = AuditRecord
        fields: list[str] = []

    def filter_channel(self, queryset: QuerySet[AuditRecord], name: str, value: str) -> QuerySet[AuditRecord]:
        return queryset.filter(_channel_condition(value))
