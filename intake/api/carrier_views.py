"""The carrier's door: EasyPost posts its tracking events here, signed with the shared secret."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from easypost.errors import SignatureVerificationError
from easypost.util import validate_webhook

from intake.audit import AuditAction, AuditEntry
from intake.services.tracking import CARRIER, carrier_news_read, tracking_event_receive
from intake.throttles import carrier_webhook_allowed

MAX_BODY = 256 * 1024


@csrf_exempt
@require_POST
def easypost_webhook(request: HttpRequest) -> JsonResponse:
    """Keep one tracker update (200 also for a repeat or another kind of event); 403 unsigned."""
    if not carrier_webhook_allowed(request):
        return JsonResponse({"detail": "Too many calls. Try again later."}, status=429)
    secret = settings.EASYPOST_WEBHOOK_SECRET
    body = request.body
    if not secret or len(body) > MAX_BODY:
        # No secret configured: nobody can prove the call comes from the carrier.
        AuditEntry.of(request, actor_label=CARRIER, description="carrier webhook refused: no secret").record(
            AuditAction.DENIED, object_type="tracking event"
        )
        return JsonResponse({"detail": "This endpoint takes signed calls from the carrier only."}, status=403)
    try:
        # The SDK's own check, on the raw bytes: "hmac-sha256-hex=" + HMAC-SHA256, compared in constant time.
        payload = validate_webhook(body, request.headers, secret)  # type: ignore[arg-type]
    except (SignatureVerificationError, TypeError, UnicodeError):
        # TypeError: a signature with characters outside ASCII cannot be compared, so it cannot match.
        AuditEntry.of(request, actor_label=CARRIER, description="carrier webhook: bad signature").record(
            AuditAction.DENIED, object_type="tracking event"
        )
        return JsonResponse({"detail": "The signature does not match."}, status=403)
    except (ValueError, RecursionError):
        return JsonResponse({"detail": "The body is not JSON."}, status=400)
    if not isinstance(payload, dict):
        return JsonResponse({"detail": "The body is not an event."}, status=400)
    try:
        news = carrier_news_read(payload)
    except ValidationError as exc:
        return JsonResponse(exc.message_dict, status=400)
    if news is None:
        return JsonResponse({"detail": "Ignored: not a tracker update."})
    entry = AuditEntry.of(request, actor_label=CARRIER, description=f"carrier: {news.status}")
    kept = tracking_event_receive(news=news, entry=entry)
    return JsonResponse({"detail": "Recorded." if kept is not None else "Already recorded."})
