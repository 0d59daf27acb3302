"""State licences: the pharmacy's own (where it may send medicine to a patient) and a prescriber's
further ones (where they may prescribe besides the licence they registered with)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.conf import settings
from django.db import models, transaction

from intake.models.history import history_of
from intake.models.people import US_STATES
from intake.validators import validate_single_line

# The active licences as this process last read them: (read at, state -> expiry).
_active: tuple[float, dict[str, date]] | None = None


class StateLicenceManager(models.Manager["StateLicence"]):
    def valid_states(self, today: date) -> frozenset[str]:
        """The states where the pharmacy holds an active licence that has not expired by `today`.

        Every screening reads this, and licences change a few times a year: each process reads them
        again only after LICENCE_CACHE_SECONDS (at once after a change it saved itself). Expiry is
        checked against `today` on every call, so a licence stops counting on its expiry date
        whatever the copy's age.
        """
        global _active
        if _active is None or time.monotonic() - _active[0] > settings.LICENCE_CACHE_SECONDS:
            _active = (time.monotonic(), dict(self.filter(active=True).values_list("state", "expires_on")))
        return frozenset(state for state, expires_on in _active[1].items() if expires_on >= today)


def licences_forget() -> None:
    """Read the licences again on next use (after a change)."""
    global _active
    _active = None


class StateLicence(models.Model):
    """A licence the pharmacy holds in one state; past its expiry it no longer counts."""

    state = models.CharField(max_length=2, choices=US_STATES, unique=True)
    licence_number = models.CharField(max_length=60, validators=[validate_single_line])
    expires_on = models.DateField("expires on", help_text="The last day the licence is valid.")
    active = models.BooleanField(default=True, help_text="Untick for a licence surrendered or suspended.")
    updated_at = models.DateTimeField(auto_now=True)
    history = history_of(unindexed=["state"], excluded=["updated_at"])

    objects = StateLicenceManager()

    class Meta:
        ordering = ("state",)
        verbose_name = "state licence"

    def __str__(self) -> str:
        return f"{self.state} {self.licence_number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Now, for the rest of this transaction, and again after the commit, for reads made meanwhile.
        licences_forget()
        transaction.on_commit(licences_forget)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        deleted = super().delete(*args, **kwargs)
        licences_forget()
        transaction.on_commit(licences_forget)
        return deleted

    def is_valid_on(self, day: date) -> bool:
        return self.active and self.expires_on >= day


class PrescriberLicence(models.Model):
    """A licence a prescriber holds in a state other than the one they registered with: telehealth
    prescribers often hold several. The registered licence stays on Prescriber."""

    prescriber = models.ForeignKey("intake.Prescriber", on_delete=models.CASCADE, related_name="licences")
    state = models.CharField(max_length=2, choices=US_STATES)
    licence_number = models.CharField(max_length=40, validators=[validate_single_line])
    expires_on = models.DateField("expires on", help_text="The last day the licence is valid.")
    history = history_of(unindexed=["prescriber", "state"])

    class Meta:
        ordering = ("state",)
        verbose_name = "prescriber's licence"
        constraints = [
            models.UniqueConstraint(fields=["prescriber", "state"], name="prescriber_licence_one_per_state"),
        ]

    def __str__(self) -> str:
        return f"{self.state} {self.licence_number}"
