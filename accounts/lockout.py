"""Sign-in lockout, counted by django-axes on the web login, the Django admin and the API token alike.

Two counts, over the cool-off (AXES_COOLOFF_TIME): wrong passwords for one account, from wherever
they come (a guesser spreading over many addresses), and wrong passwords from one client address,
whichever accounts they name (one address locking many accounts). A sign-in clears its account's
count only: a colleague's sign-in behind the same address, or the guesser's own account, must not
clear the failures the address has run up against other accounts. An administrator clears an
account's count with sign_in_unlock.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User, normalise_email

if TYPE_CHECKING:
    from intake.audit import AuditEntry


def sign_in_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a sign-in names, as axes counts it: emails are stored lower-case, so every
    spelling of one address is one account and one count."""
    if credentials:
        raw = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
    else:
        raw = getattr(request, "data", request.POST).get(settings.AXES_USERNAME_FORM_FIELD)
    return normalise_email(raw) if isinstance(raw, str) else None


def account_failures(username: str, *, until: datetime | None = None) -> int:
    """Wrong passwords for this account within the cool-off before `until` (now by default)."""
    cool_off = get_cool_off()
    since = (until or timezone.now()) - cool_off if cool_off else None
    attempts = AccessAttempt.objects.filter(username=username)
    if since is not None:
        attempts = attempts.filter(attempt_time__gte=since)
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def failure_limit(request: HttpRequest, credentials: dict[str, Any] | None) -> int:
    """AXES_FAILURE_LIMIT. Axes compares one limit with the larger of the two counts (the
    account's, the address's), while the address may fail more often than one account: so the
    account's limit once the account has reached it, otherwise the address's. Either way the
    sign-in is locked exactly when the account or the address is over its own limit."""
    per_account: int = settings.LOCKOUT_FAILURES_PER_ACCOUNT
    username = sign_in_username(request, credentials)
    if username and account_failures(username, until=getattr(request, "axes_attempt_time", None)) >= per_account:
        return per_account
    return max(settings.LOCKOUT_FAILURES_PER_ADDRESS, per_account)


def clear_account_failures(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """On user_logged_in: a right password ends the account's run of wrong ones, wherever they came
    from, and nothing else (see the module's docstring)."""
    reset(username=user.get_username())


@transaction.atomic(durable=True)
def sign_in_unlock(*, user: User, audit_entry: AuditEntry) -> int:
    """An administrator lets the account sign in again before the cool-off ends, written to the
    audit trail as theirs. Returns how many failure records were cleared."""
    from intake.audit import AuditAction

    cleared = reset(username=user.get_username())
    entry = dataclasses.replace(audit_entry, description=f"Sign-in unlocked ({cleared} failure records cleared)")
    entry.record(AuditAction.UPDATE, object_type="user", object_id=user.pk)
    return cleared
