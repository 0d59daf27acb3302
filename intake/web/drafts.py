"""A long form posted after its session ended is kept, and given back after signing in again.

The page that holds the form carries its owner (a signed user id, `owner_token`), since the ended
session no longer says who filled it. The posted fields go into the new anonymous session, which
survives the sign-in (login() keeps its data under a new key); they never travel in a URL. They
are given back to that same account only, once, within KEPT_FOR_SECONDS, and never with a
signature, an attestation or a form token: what is sent to the pharmacy is signed anew.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.core import signing
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse

OWNER_FIELD = "session_draft_owner"
KEPT_FOR_SECONDS = 30 * 60
# A page left open all day is still the same person's; a week-old page is not trusted.
OWNER_TOKEN_MAX_AGE_SECONDS = 24 * 60 * 60
# Kept forms per browser: one per page, a few pages at most.
MOST_KEPT = 3
# Given anew after signing in: the signature, the attestation, a dose confirmed outside the usual
# range, and every token (CSRF, a one-time form token).
SIGNING_FIELDS = frozenset({"signature_name", "signature_attestation", "dose_confirmed"})

_SESSION_KEY = "kept_forms"
_SALT = "intake.web.drafts.owner"

SIGNED_OUT_MESSAGE = (
    "Your session ended, so nothing was sent. Sign in again and your form will be waiting, to check and sign anew."
)
RESTORED_MESSAGE = (
    "Your form was kept when your session ended. Nothing reached the pharmacy: check every field, "
    "then sign and send it again."
)
RESTORED_RECORD_MESSAGE = (
    "Your form was kept when your session ended. Nothing was recorded: check every field, then record it again."
)

View = Callable[..., HttpResponse]


def owner_token(user_id: int) -> str:
    """The signed id of the account filling the form, for the page to post back."""
    return signing.dumps(user_id, salt=_SALT)


def _owner(token: str) -> int | None:
    try:
        owner = signing.loads(token, salt=_SALT, max_age=OWNER_TOKEN_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    return owner if isinstance(owner, int) else None


def _kept(name: str) -> bool:
    field = name.rsplit("-", 1)[-1]
    return field not in SIGNING_FIELDS and not field.endswith("token") and name != OWNER_FIELD


def keep_form_when_signed_out(page: str) -> Callable[[View], View]:
    """Wrap a view whose POST is a long form: posted without a session, the form is kept for the
    page named `page` (reversed with the view's own arguments) and the browser sent to sign in."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST" and not request.user.is_authenticated:
                owner = _owner(request.POST.get(OWNER_FIELD, ""))
                if owner is not None:
                    url = reverse(page, kwargs=kwargs)
                    form_keep(request.session, url=url, owner=owner, posted=request.POST)
                    messages.info(request, SIGNED_OUT_MESSAGE)
                    return redirect_to_login(url)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def form_keep(session: SessionBase, *, url: str, owner: int, posted: QueryDict) -> None:
    fields = {name: posted.getlist(name) for name in posted if _kept(name)}
    kept = _fresh(session.get(_SESSION_KEY, {}))
    kept[url] = {"owner": owner, "kept_at": int(time.time()), "fields": fields}
    newest = sorted(kept.items(), key=lambda item: item[1]["kept_at"], reverse=True)[:MOST_KEPT]
    session[_SESSION_KEY] = dict(newest)


def form_restore(request: HttpRequest, *, notice: str = RESTORED_MESSAGE) -> QueryDict | None:
    """The form kept for this page and this account, taken out of the session (once), with a notice."""
    kept = _fresh(request.session.get(_SESSION_KEY, {}))
    entry = kept.pop(request.path, None)
    _store(request.session, kept)
    if entry is None or entry["owner"] != request.user.pk:
        return None
    restored = QueryDict(mutable=True)
    for name, values in entry["fields"].items():
        restored.setlist(name, values)
    messages.info(request, notice)
    return restored


def forms_kept_drop_others(session: SessionBase, *, user_id: int) -> None:
    """At sign-in: another account's kept forms leave this browser's session."""
    kept = session.get(_SESSION_KEY)
    if kept is not None:
        _store(session, {url: entry for url, entry in _fresh(kept).items() if entry["owner"] == user_id})


def _fresh(kept: dict[str, Any]) -> dict[str, Any]:
    oldest = int(time.time()) - KEPT_FOR_SECONDS
    return {url: entry for url, entry in kept.items() if entry["kept_at"] >= oldest}


def _store(session: SessionBase, kept: dict[str, Any]) -> None:
    if kept:
        session[_SESSION_KEY] = kept
    elif _SESSION_KEY in session:
        del session[_SESSION_KEY]
