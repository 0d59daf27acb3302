"""`{{ record.object_type|audit_object }}`: what an audit record is about, in the pharmacy's words.

The audit trail stores short machine names (a view's own, or the admin's model name); the page
shows the words a privacy officer would use, and an unknown name with its underscores spaced.
"""

from __future__ import annotations

from django import template

register = template.Library()

OBJECT_WORDS = {
    "prescription": "Prescription",
    "patient": "Patient",
    "audit_trail": "Audit trail",
    "auditrecord": "Audit trail",
    "follow_up": "Follow-up check-in",
    "followup": "Follow-up check-in",
    "master_formulation": "Master formulation",
    "masterformulation": "Master formulation",
    "notification": "Notification",
    "renewal_request": "Renewal request",
    "renewalrequest": "Renewal request",
    "staff_page": "Staff page",
    "state_licence": "State licence",
    "statelicence": "State licence",
    "totp_device": "Authenticator app",
    "totpdevice": "Authenticator app",
    "compoundingrecord": "Compounding record",
    "prescriptionevent": "Prescription history",
    "user": "Account",
    "webhook_subscription": "Webhook subscription",
}


@register.filter
def audit_object(object_type: str) -> str:
    if not object_type:
        return ""
    return OBJECT_WORDS.get(object_type, object_type.replace("_", " ").capitalize())
