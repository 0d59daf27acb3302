"""The SMS provider's door: Twilio posts each text's delivery status here, signed with the auth token."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from intake.audit import AuditAction, AuditEntry
from intake.notifications.sms_status import STATUS_ORDER, sms_status_record
from intake.throttles import sms_status_webhook_allowed

SMS_PROVIDER = "SMS provider (Twilio)"
MESSAGE_SID = re.compile(r"^(?:SM|MM)[0-9a-f]{32}$")
ERROR_CODE = re.compile(r"^\d{1,6}$")


def _called_url(request: HttpRequest) -> str:
    """The URL Twilio signed: the public origin from SITE_URL, not the Host header, which a proxy
    rewrites and a caller chooses; the path and query as they arrived."""
    origin = urlsplit(settings.SITE_URL)
    return f"{origin.scheme}://{origin.netloc}{request.get_full_path()}"


def _refuse(request: HttpRequest, why: str) -> JsonResponse:
    AuditEntry.of(request, actor_label=SMS_PROVIDER, description=f"SMS status webhook refused: {why}").record(
        AuditAction.DENIED, object_type="notification"
    )
    return JsonResponse({"detail": "This endpoint takes signed calls from the SMS provider only."}, status=403)


@csrf_exempt
@require_POST
def twilio_status_webhook(request: HttpRequest) -> JsonResponse:
    """Keep one text's delivery status; 200 also for a repeat, an older status or a message the
    pharmacy does not know (so Twilio does not report it as an error); 403 unsigned."""
    if not sms_status_webhook_allowed(request):
        return JsonResponse({"detail": "Too many calls. Try again later."}, status=429)
    token = settings.TWILIO_AUTH_TOKEN
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        # No auth token configured: nobody can prove the call comes from Twilio.
        return _refuse(request, "no auth token")
    # The SDK's own check: HMAC-SHA1 of the URL and the sorted form fields, compared in constant time.
    if not signature or not RequestValidator(token).validate(_called_url(request), request.POST, signature):
        return _refuse(request, "bad signature")
    message_id = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus", "")
    error_code = request.POST.get("ErrorCode", "")
    if not MESSAGE_SID.match(message_id):
        return JsonResponse({"MessageSid": ["Not a Twilio message SID."]}, status=400)
    if error_code and not ERROR_CODE.match(error_code):
        return JsonResponse({"ErrorCode": ["Not a Twilio error code."]}, status=400)
    if status not in STATUS_ORDER:
        return JsonResponse({"detail": "Ignored: not an outgoing message's status."})
    entry = AuditEntry.of(request, actor_label=SMS_PROVIDER, description=f"SMS provider: {status}")
    kept = sms_status_record(message_id=message_id, status=status, error_code=error_code, entry=entry)
    return JsonResponse({"detail": "Recorded." if kept is not None else "Nothing to change."})
