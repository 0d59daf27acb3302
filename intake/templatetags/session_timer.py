"""`{% session_timer %}` inside a long form: the time left before the session ends, as the server
counts it, a warning before the end with a way to stay signed in (static/js/session_timer.js), and
the form's owner, so that a form posted after the end is kept for that account (intake.web.drafts)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from intake.middleware import session_seconds_left
from intake.web.drafts import OWNER_FIELD, owner_token

register = template.Library()


@register.inclusion_tag("includes/session_timer.html", takes_context=True)
def session_timer(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    seconds_left = session_seconds_left(request.session)
    return {
        "seconds_left": seconds_left,
        "minutes_left": max(1, round(seconds_left / 60)),
        "warn_seconds": settings.SESSION_WARNING_SECONDS,
        "owner_field": OWNER_FIELD,
        "owner_token": owner_token(request.user.pk),
        "csrf_token": context.get("csrf_token", ""),
    }
