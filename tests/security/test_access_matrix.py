"""The access matrix: every URL, every persona, the expected answer.

One row per URL (and method), one column per persona. Prescription A is prescriber A's, for
patient A, driven to `ready` so that its PDFs exist; prescription B is prescriber B's, for
patient B. Every id in a URL is A's (or the notification / master formulation that goes with
it); "patient B" uses B's own private link and birth date against A's resources.

Answers are classes, not only codes:

- OK: 200/201/204, or a redirect that is not to a login page (the person's own next page);
- ALLOWED: the role may take the action; the answer (400, 409, a redirect with a message) is
  not a refusal of access: anything but 401/403/404 or a server error;
- UNCHANGED: staff who may open the page but whose role may not take the action; the web page
  answers with its message (a redirect back), and nothing changed;
- LOGIN: a redirect to a login page; DENIED: 401 or 403; NOT_FOUND: 404; INVALID: 400;
- GATE: the private link's neutral page that asks for the birth date and shows nothing else.

Every answer that is not OK/ALLOWED must change nothing (status, events, clarifications,
questionnaire, notification) and, UNCHANGED aside, show none of patient A's data; where the URL
takes an id, an unknown id must answer like A's id does for everyone who may not see A.

Each persona's request runs in a savepoint that is rolled back, so one row's world is built once.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from intake.audit import AuditEntry
from intake.models import (
    Batch,
    FollowUp,
    MasterFormulation,
    Notification,
    Prescription,
    PrescriptionDocument,
    ProtocolTemplate,
    Questionnaire,
    Recall,
    RecallAffected,
    RenewalRequest,
    Requester,
    StateLicence,
    StockLot,
    TrackingEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from intake.models.notifications import DeliveryStatus
from intake.services.protocols import protocol_template_save
from intake.services.recalls import recall_open
from intake.services.uploads import document_upload
from tests.conftest import api_client_for
from tests.factories import api_payload, clean_answers, make_prescription, prescribed_content
from tests.fhir.bundles import transaction_bundle
from tests.security.url_inventory import Route, all_routes
from tests.workflow_helpers import advance, capsule_formulation, default_lots

OK, ALLOWED, UNCHANGED, LOGIN, DENIED, NOT_FOUND, INVALID, GATE = (
    "ok", "allowed", "unchanged", "login", "denied", "not_found", "invalid", "gate",
)  # fmt: skip

PERSONAS = (
    "anonymous", "prescriber_a", "prescriber_b", "technician", "pharmacist", "admin", "patient_a", "patient_b",
)  # fmt: skip
# Shorthands for the table: a group sets each persona in it, a persona named on its own wins.
GROUPS = {
    "everyone": PERSONAS,
    "outsiders": ("anonymous", "patient_a", "patient_b"),  # no account: the patients have none either
    "prescribers": ("prescriber_a", "prescriber_b"),
    "staff": ("technician", "pharmacist", "admin"),
    "not_pharmacist": ("technician", "admin"),
    "patients": ("patient_a", "patient_b"),
}

# The Django admin has its own gate (staff_member_required around every ModelAdmin view); one row
# probes it, the rest of /admin/ is left to Django's own tests.
EXCLUDED_PREFIXES = {"/admin/": "Django admin: every view sits behind admin_view(); the admin:index row checks it"}

PATIENT_A = {"first_name": "Zephyrine", "last_name": "Quillfeather", "date_of_birth": date(1971, 3, 14),
             "email": "zephyrine@example.com"}  # fmt: skip
PATIENT_B = {"first_name": "Barnaby", "last_name": "Oakenshield", "date_of_birth": date(1985, 11, 2),
             "email": "barnaby@example.com"}  # fmt: skip
# What patient A's data looks like on a page or in JSON.
PATIENT_A_TRACES = ("Zephyrine", "Quillfeather", "zephyrine@", "1971-03-14", "03/14/1971", "March 14, 1971",
                    "Mar. 14, 1971", "14 March 1971")  # fmt: skip
UNKNOWN_ID = 987654321
NEW = "awaiting_questionnaire"  # rows that need no more of A than its submission
# Who may see prescription A at all. A role refusal for them (403) may differ from an unknown id
# (404): they may know it exists. For everyone else A's id must answer like an id that does not exist.
SEES_A = frozenset({"prescriber_a", "technician", "pharmacist", "admin", "superuser"})
GATE_MARKER = "we show nothing until you confirm your date of birth"


@dataclass(frozen=True)
class Row:
    route: str  # the URL's name, as url_inventory gives it
    method: str
    expect: dict[str, str]
    body: str = ""  # which request body (see _body); "" for none
    at: str = "ready"  # prescription A's status: one the action is taken from, so a refusal is the role's

    @property
    def id(self) -> str:
        return f"{self.method} {self.route}"


def row(route: str, method: str = "GET", *, body: str = "", at: str = "ready", **answers: str) -> Row:
    expect: dict[str, str] = {}
    for key in sorted(answers, key=lambda name: name not in GROUPS):  # groups first, then single personas
        for persona in GROUPS.get(key, (key,)):
            expect[persona] = answers[key]
    missing = set(PERSONAS) - set(expect)
    assert not missing, f"{route}: no answer for {sorted(missing)}"
    return Row(route=route, method=method, expect=expect, body=body, at=at)


def staff_page(route: str, method: str = "GET", **answers: str) -> Row:
    """A pharmacy page: staff in, prescribers refused, no account to the login page."""
    return row(route, method, outsiders=LOGIN, prescribers=DENIED, staff=OK, **answers)


def staff_action(route: str, *, at: str, allowed: tuple[str, ...] = GROUPS["staff"]) -> Row:
    """A pharmacy page's button (POST): the service refuses the roles it does not allow, with a message."""
    answers = {persona: ALLOWED if persona in allowed else UNCHANGED for persona in GROUPS["staff"]}
    return row(route, "POST", at=at, outsiders=LOGIN, prescribers=DENIED, **answers)


def prescriber_action(route: str, *, at: str) -> Row:
    """A prescriber page's button (POST) on A: A's prescriber only; B cannot see A (404)."""
    return row(route, "POST", at=at, outsiders=LOGIN, prescriber_a=ALLOWED, prescriber_b=NOT_FOUND, staff=DENIED)


def api_action(action: str, *, at: str, allowed: tuple[str, ...], owner: bool = False) -> Row:
    """A workflow action on the API: another role 403, prescriber B (who cannot see A) 404."""
    answers = {persona: ALLOWED if persona in allowed else DENIED for persona in GROUPS["staff"]}
    return row(f"api-{action}", "POST", body="json", at=at, outsiders=DENIED,
               prescriber_a=ALLOWED if owner else DENIED, prescriber_b=NOT_FOUND, **answers)  # fmt: skip


PHARMACIST = ("pharmacist",)
STAFF_ROLES = ("pharmacist", "technician")

TABLE: tuple[Row, ...] = (
    # Sign-in and the start page.
    row("home", outsiders=LOGIN, prescribers=OK, staff=OK),
    row("login", everyone=OK),
    row("logout", "POST", everyone=LOGIN),  # signed out, or never in: back to the sign-in page
    row("session_extend", "POST", outsiders=DENIED, prescribers=OK, staff=OK),  # a long form's "Stay signed in"
    row("admin:index", everyone=LOGIN, superuser=OK),
    # What operators read: nothing about a patient, open to the load balancer and Prometheus.
    row("health", everyone=OK),
    # The carrier's webhook: only a call signed with the shared secret is taken (none is set here).
    row("easypost-webhook", "POST", everyone=DENIED),
    # The SMS provider's status callbacks: only a call signed with the Twilio auth token (none is set here).
    row("twilio-status", "POST", everyone=DENIED),
    row("health-live", everyone=OK),
    row("health-ready", everyone=OK),  # database, cache and broker only: what a readiness probe asks
    # Metrics: with DEBUG off and neither METRICS_BEARER_TOKEN nor METRICS_ALLOWED_IPS set, refused to all.
    row("metrics", everyone=DENIED),
    row("security:totp_enrol", outsiders=LOGIN, prescribers=DENIED, staff=OK),
    row("security:totp_verify", outsiders=LOGIN, prescribers=DENIED, staff=OK),
    # The prescriber's pages.
    row("prescriber:home", outsiders=LOGIN, prescribers=OK, staff=DENIED),
    row("prescriber:new", outsiders=LOGIN, prescribers=OK, staff=DENIED),
    row("prescriber:detail", outsiders=LOGIN, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=DENIED),
    row("prescriber:submitted", outsiders=LOGIN, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=DENIED),
    prescriber_action("prescriber:respond", at="on_hold"),
    prescriber_action("prescriber:cancel", at="in_review"),
    prescriber_action("prescriber:refill", at="completed"),
    prescriber_action("prescriber:renew", at="completed"),
    row("prescriber:renewal", outsiders=LOGIN, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=DENIED),
    prescriber_action("prescriber:renewal_approve", at="completed"),
    prescriber_action("prescriber:renewal_deny", at="completed"),
    # The prescriber's webhooks: A's subscription is prescriber A's only.
    row("prescriber:webhooks", at=NEW, outsiders=LOGIN, prescribers=OK, staff=DENIED),
    row("prescriber:webhook_add", "POST", at=NEW, outsiders=LOGIN, prescribers=ALLOWED, staff=DENIED),
    prescriber_action("prescriber:webhook_ping", at=NEW),
    row("prescriber:webhook_remove", at=NEW, outsiders=LOGIN, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=DENIED),
    prescriber_action("prescriber:webhook_remove", at=NEW),
    # The prescriber's shortcuts: A's template and A's documents are prescriber A's only.
    row("prescriber:templates", at=NEW, outsiders=LOGIN, prescribers=OK, staff=DENIED),
    row("prescriber:template_save", "POST", at=NEW, outsiders=LOGIN, prescribers=ALLOWED, staff=DENIED),
    prescriber_action("prescriber:template_delete", at=NEW),
    prescriber_action("prescriber:template_from_prescription", at=NEW),
    prescriber_action("prescriber:document_add", at=NEW),
    # The patient's pages: A's private link opens for the browser that confirmed A's birth date only.
    row("patient:questionnaire", everyone=GATE, patient_a=OK),
    row("patient:questionnaire", "POST", body="dob", everyone=GATE, patient_a=ALLOWED),
    row("patient:questionnaire_thanks", everyone=GATE, patient_a=OK),
    row("patient:status_link", everyone=GATE, patient_a=OK),
    row("patient:status", everyone=OK),
    row("patient:status", "POST", body="lookup", everyone=NOT_FOUND, patient_a=OK),
    # The status page's buttons: A's link, or the order number with a session that proved A's birth date.
    row("patient:status_link_refill", "POST", at="completed", everyone=GATE, patient_a=ALLOWED),
    row("patient:status_link_renewal", "POST", at="completed", everyone=GATE, patient_a=ALLOWED),
    row("patient:status_refill", "POST", body="reference", at="completed", everyone=NOT_FOUND, patient_a=ALLOWED),
    row("patient:status_renewal", "POST", body="reference", at="completed", everyone=NOT_FOUND, patient_a=ALLOWED),
    row("patient:status_link_price", "POST", at="approved", everyone=GATE, patient_a=ALLOWED),
    row("patient:status_price", "POST", body="reference", at="approved", everyone=NOT_FOUND, patient_a=ALLOWED),
    # The side-effect check-in at its own link (A's is answered: the thanks again, nothing kept).
    row("patient:check_in", everyone=GATE, patient_a=OK),
    row("patient:check_in", "POST", body="check_in", everyone=GATE, patient_a=ALLOWED),
    row("patient:check_in_thanks", everyone=GATE, patient_a=OK),
    # Pharmacy pages.
    staff_page("staff:queue"),
    staff_page("staff:queue_counts"),
    staff_action("staff:claim_next", at="pending_review", allowed=STAFF_ROLES),
    staff_page("staff:review"),
    # A document prescriber A attached: the pharmacy's to read, not even its prescriber's.
    staff_page("staff:document", at=NEW),
    staff_action("staff:claim", at="pending_review", allowed=STAFF_ROLES),
    staff_action("staff:release", at="in_review", allowed=STAFF_ROLES),
    staff_action("staff:approve", at="in_review", allowed=PHARMACIST),
    staff_action("staff:reject", at="in_review", allowed=PHARMACIST),
    staff_action("staff:request_clarification", at="in_review", allowed=PHARMACIST),
    staff_action("staff:cancel", at="in_review", allowed=PHARMACIST),
    staff_action("staff:verify_flag", at="in_review", allowed=PHARMACIST),
    staff_action("staff:request_rescreen", at="in_review", allowed=PHARMACIST),
    staff_action("staff:start_compounding", at="approved", allowed=STAFF_ROLES),
    staff_page("staff:compounding"),
    staff_action("staff:final_check", at="final_check", allowed=PHARMACIST),
    staff_action("staff:ship", at="ready", allowed=STAFF_ROLES),
    staff_action("staff:complete", at="ready", allowed=STAFF_ROLES),
    staff_page("staff:label_pdf"),
    staff_page("staff:worksheet_pdf"),
    staff_page("staff:fill_label_pdf"),
    staff_page("staff:fill_worksheet_pdf"),
    staff_action("staff:recompound", at="ready", allowed=PHARMACIST),
    staff_action("staff:refill_start", at="completed", allowed=STAFF_ROLES),
    staff_action("staff:renewal_ask", at="completed"),
    staff_page("staff:follow_ups"),
    staff_action("staff:follow_up_review", at="ready", allowed=PHARMACIST),
    staff_page("staff:licences"),
    staff_page("staff:licence_new", not_pharmacist=DENIED),
    staff_page("staff:licence_edit", not_pharmacist=DENIED),
    # Ingredient stock: the people at the bench; a count corrected by a pharmacist.
    staff_page("staff:stock", admin=DENIED),
    # The carrier's failed deliveries and returns: the people at the bench.
    staff_page("staff:shipping_problems", admin=DENIED),
    row(
        "staff:shipping_problem_handled",
        "POST",
        at="shipped",
        outsiders=LOGIN,
        prescribers=DENIED,
        technician=ALLOWED,
        pharmacist=ALLOWED,
        admin=DENIED,
    ),  # fmt: skip
    staff_page("staff:stock_receive", admin=DENIED),
    staff_page("staff:stock_lot", admin=DENIED),
    staff_page("staff:stock_correct", not_pharmacist=DENIED),
    staff_page("staff:formulary"),
    staff_page("staff:formulation"),
    staff_page("staff:formulation_new", not_pharmacist=DENIED),
    staff_page("staff:formulation_edit", not_pharmacist=DENIED),
    # Batches: made by staff, released by a pharmacist who did not make them (the technician made A's batch).
    staff_page("staff:batches"),
    staff_page("staff:batch_new"),
    staff_page("staff:batch"),
    staff_action("staff:batch_release", at=NEW, allowed=PHARMACIST),
    staff_action("staff:fill_from_batch", at="approved", allowed=STAFF_ROLES),
    # Lots and recalls: staff trace and read; a pharmacist opens and closes a recall.
    staff_page("staff:lot_trace", at="shipped"),
    staff_page("staff:lot_trace_csv", at="shipped"),
    staff_page("staff:recalls"),
    staff_page("staff:recall_new", not_pharmacist=DENIED),
    row(
        "staff:recall_new",
        "POST",
        at="shipped",
        outsiders=LOGIN,
        prescribers=DENIED,
        not_pharmacist=DENIED,
        pharmacist=ALLOWED,
    ),
    staff_page("staff:recall", at="shipped"),
    row(
        "staff:recall_close",
        "POST",
        at="shipped",
        outsiders=LOGIN,
        prescribers=DENIED,
        not_pharmacist=DENIED,
        pharmacist=ALLOWED,
    ),
    staff_action("staff:recall_resolve", at="shipped"),
    staff_page("notifications:list"),
    staff_action("notifications:resend", at="ready"),
    staff_page("dashboard:index"),
    staff_page("dashboard:status"),
    staff_page("audit:list", technician=DENIED, pharmacist=DENIED),
    # A patient's access report: for a pharmacist or the pharmacy's administrator (the privacy officer).
    staff_page("staff:patient_search", technician=DENIED),
    staff_page("staff:patient_access", technician=DENIED),
    staff_page("staff:patient_access_csv", technician=DENIED),
    # The JSON API: a token, not a session; no token answers 401.
    row("api-schema", everyone=OK),
    row("api-docs", everyone=OK),
    row("api-token", "POST", body="json", everyone=INVALID),
    row("api-not-found", everyone=NOT_FOUND),
    row("api-prescriptions", outsiders=DENIED, prescribers=OK, staff=OK),
    row("api-prescriptions", "POST", body="prescription", outsiders=DENIED, prescribers=OK, staff=DENIED),
    row("api-prescription", outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=OK),
    row("api-documents", at=NEW, outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=OK),
    # A JSON body: the prescriber gets as far as the parser (415); staff are refused before it.
    row(
        "api-documents", "POST", at=NEW, outsiders=DENIED, prescriber_a=ALLOWED, prescriber_b=NOT_FOUND, staff=DENIED
    ),  # fmt: skip
    row(
        "api-access-log",
        outsiders=DENIED,
        prescriber_a=DENIED,
        prescriber_b=NOT_FOUND,
        not_pharmacist=DENIED,
        pharmacist=OK,
    ),  # fmt: skip
    api_action("claim", at="pending_review", allowed=STAFF_ROLES),
    api_action("request_clarification", at="in_review", allowed=PHARMACIST),
    api_action("respond", at="on_hold", allowed=(), owner=True),
    api_action("approve", at="in_review", allowed=PHARMACIST),
    api_action("reject", at="in_review", allowed=PHARMACIST),
    api_action("start_compounding", at="approved", allowed=STAFF_ROLES),
    api_action("record_compounding", at="compounding", allowed=STAFF_ROLES),
    api_action("final_check", at="final_check", allowed=PHARMACIST),
    api_action("ship", at="ready", allowed=STAFF_ROLES),
    api_action("complete", at="ready", allowed=STAFF_ROLES),
    api_action("cancel", at="in_review", allowed=PHARMACIST, owner=True),
    api_action("verify_flag", at="in_review", allowed=PHARMACIST),
    api_action("request_rescreen", at="in_review", allowed=PHARMACIST),
    api_action("fill_from_batch", at="approved", allowed=STAFF_ROLES),
    row("api-batches", at=NEW, outsiders=DENIED, prescribers=DENIED, staff=OK),
    row("api-batches", "POST", body="json", at=NEW, outsiders=DENIED, prescribers=DENIED, staff=ALLOWED, admin=DENIED),
    row("api-batch", at=NEW, outsiders=DENIED, prescribers=DENIED, staff=OK),
    row(
        "api-batch-release",
        "POST",
        body="json",
        at=NEW,
        outsiders=DENIED,
        prescribers=DENIED,
        not_pharmacist=DENIED,
        pharmacist=ALLOWED,
    ),  # fmt: skip
    # Refills and renewals: the prescriber, or the pharmacy; only A's prescriber decides a renewal.
    api_action("refill", at="completed", allowed=STAFF_ROLES, owner=True),
    api_action("renewal-request", at="completed", allowed=GROUPS["staff"], owner=True),
    row("api-renewals", outsiders=DENIED, prescribers=OK, staff=OK),
    row(
        "api-renewal-approve",
        "POST",
        body="json",
        at="completed",
        outsiders=DENIED,
        prescriber_a=ALLOWED,
        prescriber_b=NOT_FOUND,
        staff=NOT_FOUND,
    ),  # fmt: skip
    row(
        "api-renewal-deny",
        "POST",
        body="json",
        at="completed",
        outsiders=DENIED,
        prescriber_a=ALLOWED,
        prescriber_b=NOT_FOUND,
        staff=NOT_FOUND,
    ),  # fmt: skip
    # Webhooks: prescribers only, each their own subscriptions.
    row("api-lot", at="shipped", outsiders=DENIED, prescribers=DENIED, staff=OK),
    row("api-recalls", outsiders=DENIED, prescribers=DENIED, staff=OK),
    row(
        "api-recalls",
        "POST",
        body="json",
        at="shipped",
        outsiders=DENIED,
        prescribers=DENIED,
        not_pharmacist=DENIED,
        pharmacist=OK,
    ),
    row("api-recall", at="shipped", outsiders=DENIED, prescribers=DENIED, staff=OK),
    row(
        "api-recall-close",
        "POST",
        body="json",
        at="shipped",
        outsiders=DENIED,
        prescribers=DENIED,
        not_pharmacist=DENIED,
        pharmacist=OK,
    ),
    row("api-webhooks", at=NEW, outsiders=DENIED, prescribers=OK, staff=DENIED),
    row("api-webhooks", "POST", body="json", at=NEW, outsiders=DENIED, prescribers=OK, staff=DENIED),
    row("api-webhook", "DELETE", at=NEW, outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=DENIED),
    row(
        "api-webhook-ping", "POST", at=NEW, outsiders=DENIED, prescriber_a=ALLOWED, prescriber_b=NOT_FOUND, staff=DENIED
    ),  # fmt: skip
    # The patient's API: the token and the birth date are the key; anyone else's date changes nothing.
    row("api-questionnaire", "POST", body="answers", everyone=INVALID, patient_a=ALLOWED),
    row("api-status", body="lookup", everyone=NOT_FOUND, patient_a=OK),
    row("api-status-refill", "POST", body="lookup", at="completed", everyone=NOT_FOUND, patient_a=ALLOWED),
    row("api-status-renewal", "POST", body="lookup", at="completed", everyone=NOT_FOUND, patient_a=ALLOWED),
    row("api-status-consent", "POST", body="lookup", at="approved", everyone=NOT_FOUND, patient_a=ALLOWED),
    row("api-check-in", "POST", body="check_in", everyone=INVALID, patient_a=ALLOWED),
    # FHIR R4: the JSON API's accounts and rules; a search names A in its query.
    row("fhir-metadata", everyone=OK),
    row("fhir-not-found", everyone=NOT_FOUND),
    row("fhir-transaction", "POST", body="bundle", outsiders=DENIED, prescribers=OK, staff=DENIED),
    row("fhir-medicationrequests", outsiders=DENIED, prescribers=OK, staff=OK),
    row("fhir-medicationrequest", outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=OK),
    row(
        "fhir-detectedissues", body="implicated", outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=OK
    ),  # fmt: skip
    row("fhir-dispenses", body="dispensed", outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=OK),
    row("fhir-detectedissue", outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=OK),
    row("fhir-dispense", outsiders=DENIED, prescriber_a=OK, prescriber_b=NOT_FOUND, staff=OK),
    row("fhir-questionnaire", outsiders=DENIED, prescribers=OK, staff=OK),
    row("fhir-questionnaireresponse", outsiders=DENIED, prescribers=DENIED, staff=OK),
    row("fhir-questionnaireresponses", body="based_on", outsiders=DENIED, prescribers=DENIED, staff=OK),
)

# The clients that speak JSON with a token rather than a browser's session.
TOKEN_ROUTES = ("api-", "fhir-")


# --- Running a row ------------------------------------------------------------------------------

_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")
ID_PARAMETERS = (
    "prescription_id", "pk", "notification_id", "formulation_id", "licence_id", "stock_lot_id", "batch_id",
    "event_id", "patient_id",
)  # fmt: skip


def fill(route: Route, values: dict[str, Any]) -> str:
    """Route.fill for path converters, and the same for re_path's named groups."""
    path = _REGEX_GROUP.sub(lambda match: str(values[match.group("name")]), route.path)
    return Route(path=path, name=route.name, has_parameters=route.has_parameters).fill(**values)


def routes_by_name() -> dict[str, Route]:
    return {route.name or route.path: route for route in all_routes(include_admin=True)}


@dataclass
class World:
    users: dict[str, Any]
    a: Prescription
    b: Prescription
    notification: Notification
    formulation: MasterFormulation
    birth_dates: dict[str, date] = field(default_factory=dict)
    follow_up_id: int = 0  # A's answered check-in that needs a pharmacist
    renewal_id: int = 0  # A's renewal request waiting for prescriber A (only for the rows that decide one)
    subscription_id: int = 0  # prescriber A's webhook subscription
    stock_lot_id: int = 0  # a received naltrexone lot
    batch_id: int = 0  # a batch made by the technician (released for the rows that fill from it)
    recall_id: int = 0  # a recall of A's naltrexone lot (only for the rows about a recall)
    affected_id: int = 0  # A's fill on that recall
    tracking_event_id: int = 0  # a failed delivery of A's parcel, waiting for the staff
    template_id: int = 0  # prescriber A's protocol template
    document_id: int = 0  # a document prescriber A attached to A

    def ids(self, *, unknown: bool = False) -> dict[str, Any]:
        return {
            "prescription_id": UNKNOWN_ID if unknown else self.a.pk,
            "pk": UNKNOWN_ID if unknown else self.a.pk,
            "notification_id": UNKNOWN_ID if unknown else self.notification.pk,
            "formulation_id": UNKNOWN_ID if unknown else self.formulation.pk,
            "token": self.a.questionnaire_token,
            "number": 1,  # A's first fill
            "follow_up_id": UNKNOWN_ID if unknown else self.follow_up_id,
            "renewal_id": UNKNOWN_ID if unknown else self.renewal_id,
            "subscription_id": UNKNOWN_ID if unknown else self.subscription_id,
            "webhook_id": UNKNOWN_ID if unknown else self.subscription_id,
            "batch_id": UNKNOWN_ID if unknown else self.batch_id,
            "licence_id": UNKNOWN_ID if unknown else StateLicence.objects.values_list("pk", flat=True).first(),
            "stock_lot_id": UNKNOWN_ID if unknown else self.stock_lot_id,
            "recall_id": UNKNOWN_ID if unknown else self.recall_id,
            "affected_id": UNKNOWN_ID if unknown else self.affected_id,
            "event_id": UNKNOWN_ID if unknown else self.tracking_event_id,
            "template_id": UNKNOWN_ID if unknown else self.template_id,
            "document_id": UNKNOWN_ID if unknown else self.document_id,
            "patient_id": UNKNOWN_ID if unknown else self.a.patient_id,
            "lot": "NO-SUCH-LOT" if unknown else RECALL_LOT,
            "questionnaire_id": "ldn-screening",
            "unknown": "Patient/1",
            "position": 1,  # A's first flag, A's first fill
            "answers_id": UNKNOWN_ID
            if unknown
            else (Questionnaire.objects.filter(prescription=self.a).values_list("pk", flat=True).first() or UNKNOWN_ID),
            # The check-in's JSON twin takes the check-in's own token (A's, like "token" above).
            "check_in_token": FollowUp.objects.filter(pk=self.follow_up_id).values_list("token", flat=True).first(),
        }

    def snapshot(self) -> tuple[Any, ...]:
        a = Prescription.objects.get(pk=self.a.pk)
        questionnaire = Questionnaire.objects.filter(prescription=a).values_list("submitted_at", flat=True).first()
        return (
            a.status, a.events.count(), a.clarifications.count(), questionnaire,
            Prescription.objects.get(pk=self.b.pk).status, Prescription.objects.count(),
            Notification.objects.get(pk=self.notification.pk).status,
            FollowUp.objects.filter(reviewed_at__isnull=False).count(),
            WebhookSubscription.objects.filter(ended_at__isnull=True).count(), WebhookDelivery.objects.count(),
            tuple(Batch.objects.order_by("pk").values_list("status", "units_left")),
            Recall.objects.count(), Recall.objects.filter(closed_at__isnull=True).count(),
            RecallAffected.objects.filter(resolved_at__isnull=False).count(),
            TrackingEvent.objects.count(), TrackingEvent.objects.filter(handled_at__isnull=False).count(),
            ProtocolTemplate.objects.count(), PrescriptionDocument.objects.count(),
        )  # fmt: skip


@pytest.fixture
def world(request, prescriber, other_prescriber, pharmacist, technician, pharmacy_admin, superuser) -> World:
    table_row = request.node.callspec.params["row"]
    a = make_prescription(prescriber, patient=PATIENT_A)
    if table_row.at != "awaiting_questionnaire":
        # A flag to read for the row that reads one (a warning, approved with a reason).
        answers = clean_answers(thyroid_medication=True) if table_row.route in WITH_FLAG else None
        a = advance(a, table_row.at, pharmacist=pharmacist, technician=technician, answers=answers)
    b = make_prescription(other_prescriber, patient=PATIENT_B)
    notification = Notification.objects.filter(prescription=a).first()
    assert notification is not None, "the workflow wrote no notification for A"
    Notification.objects.filter(pk=notification.pk).update(status=DeliveryStatus.FAILED)
    return World(
        users={
            "prescriber_a": prescriber.user,
            "prescriber_b": other_prescriber.user,
            "technician": technician,
            "pharmacist": pharmacist,
            "admin": pharmacy_admin,
            "superuser": superuser,
        },
        a=a,
        b=b,
        notification=notification,
        formulation=MasterFormulation.objects.order_by("pk").first(),
        birth_dates={"patient_a": a.patient.date_of_birth, "patient_b": b.patient.date_of_birth},
        follow_up_id=_answered_follow_up(a).pk,
        renewal_id=_waiting_renewal(a).pk if table_row.route in WITH_RENEWAL else 0,
        # Made before A's lot is recalled: a batch is never made from a lot under recall.
        batch_id=_batch(technician, pharmacist, released=table_row.route in FILL_FROM_BATCH).pk,
        # Made directly (its URL is public, nothing is sent: the test's transaction never commits).
        **(_recall_of_a(a, pharmacist) if table_row.route in WITH_RECALL else {}),
        subscription_id=WebhookSubscription.objects.create(
            prescriber=prescriber, url="https://93.184.215.14/a", secret="prescriber-a-secret-0123"
        ).pk,
        template_id=protocol_template_save(prescriber=prescriber, name="A's protocol", content=prescribed_content()).pk,
        document_id=_document_of(a, prescriber).pk,
        tracking_event_id=TrackingEvent.objects.create(
            event_id="evt_matrix",
            tracking_code="9400MATRIX",
            prescription=a,
            status="failure",
            message="Addressee not available",
            occurred_at=timezone.now(),
            received_at=timezone.now(),
            needs_staff=True,
        ).pk,
        stock_lot_id=StockLot.objects.create(
            ingredient="Naltrexone HCl USP",
            manufacturer="Medisca",
            lot="NTX-STOCK",
            unit="g",
            expires=timezone.localdate() + timedelta(days=365),
            quantity_received=10,
            quantity_on_hand=10,
            received_at=timezone.now(),
            received_by=technician,
        ).pk,  # fmt: skip
    )


FILL_FROM_BATCH = frozenset({"staff:fill_from_batch", "api-fill_from_batch"})


def _document_of(prescription: Prescription, prescriber: Any) -> PrescriptionDocument:
    """Prior labs prescriber A attached to A (a PDF, stored in the run's own directory)."""
    return document_upload(
        actor=prescriber.user, prescription_id=prescription.pk, kind="labs",
        upload=SimpleUploadedFile("labs.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf"),
        audit=AuditEntry(actor=None, actor_label="test", method="", path="", ip_address=None, user_agent=""),
    )  # fmt: skip


def _batch(technician: Any, pharmacist: Any, *, released: bool) -> Batch:
    """A batch of 4.5 mg capsules made by the technician; released by the pharmacist when asked."""
    from intake.services.batches import batch_make, batch_release

    made = batch_make(actor=technician, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                      quantity_made=100, lots=default_lots())  # fmt: skip
    if released:
        return batch_release(batch_id=made.pk, actor=pharmacist, note="Record and lots checked against the formula.")
    return made


WITH_FLAG = frozenset({"fhir-detectedissue"})
# The rows about a renewal request on A (made only for them, so the other rows' A has none).
WITH_RENEWAL = frozenset({"prescriber:renewal", "prescriber:renewal_approve", "prescriber:renewal_deny",
                          "api-renewals", "api-renewal-approve", "api-renewal-deny"})  # fmt: skip


# A's naltrexone lot (tests.workflow_helpers.default_lots), and the rows about a recall of it.
RECALL_LOT = "NTX-24001"
WITH_RECALL = frozenset({"staff:recall", "staff:recall_close", "staff:recall_resolve", "api-recall",
                         "api-recall-close"})  # fmt: skip


def _recall_of_a(prescription: Prescription, pharmacist: Any) -> dict[str, int]:
    """A recall of A's lot: A, handed over, is a patient asked to call the pharmacy."""
    recall = recall_open(actor=pharmacist, ingredient="Naltrexone HCl USP", lot=RECALL_LOT, recall_class="II",
                         reason="Supplier notice: the lot failed its assay for potency.")  # fmt: skip
    affected = RecallAffected.objects.get(recall=recall, prescription=prescription)
    return {"recall_id": recall.pk, "affected_id": affected.pk}


def _waiting_renewal(prescription: Prescription) -> RenewalRequest:
    """A patient's renewal request on A, waiting for prescriber A (made directly: A may still have refills)."""
    return RenewalRequest.objects.create(
        prescription=prescription, requested_by=Requester.PATIENT, requested_at=timezone.now()
    )


def _answered_follow_up(prescription: Prescription) -> FollowUp:
    """A's side-effect check-in, answered with a symptom that needs a pharmacist."""
    now = timezone.now()
    return FollowUp.objects.create(
        prescription=prescription, token=secrets.token_urlsafe(32), sent_at=now, expires_at=now + timedelta(days=30),
        answered_at=now, sleep_problems="bothersome", vivid_dreams="none", nausea="none", headache="none",
        needs_pharmacist=True, reasons=["Sleep problems: bothers the patient"],
    )  # fmt: skip


def _birth_date(world: World, persona: str) -> str:
    # Only patient A knows A's birth date; everyone else tries the one they know (patient B's).
    return world.birth_dates["patient_a" if persona == "patient_a" else "patient_b"].isoformat()


# A valid body for each action: a refusal must then be the role's, not the form's.
_REASON = "Patient asked to stop."
_LOT = {"ingredient": "Naltrexone HCl USP", "lot": "NTX-1", "expires": "2099-01-01"}
ACTION_BODIES: dict[str, dict[str, Any]] = {
    "prescriber:respond": {"respond-message": "Strength confirmed."},
    "prescriber:cancel": {"cancel-reason": _REASON},
    "staff:reject": {"reject-reason": _REASON},
    "staff:request_clarification": {"clarify-message": "Please confirm the strength."},
    "staff:cancel": {"cancel-reason": _REASON},
    "staff:verify_flag": {
        "verify-code": "alcohol",
        "verify-method": "patient_interview",
        "verify-note": "Spoke with the patient: two drinks a week.",
    },
    "staff:request_rescreen": {"rescreen-message": "The patient says the opioid answer was a mistake."},
    "staff:ship": {"ship-carrier": "UPS", "ship-tracking_number": "1Z999AA10123456784"},
    "staff:recompound": {"recompound-reason": "Vial dropped and cracked."},
    "staff:follow_up_review": {"note": "Called the patient; moved the dose to the morning."},
    "prescriber:renewal_approve": {
        "approve-refills": "1",
        "approve-signature_name": "Grace Hopper",
        "approve-signature_attestation": "on",
    },  # fmt: skip
    "prescriber:renewal_deny": {"deny-reason": "Needs a visit first."},
    "api-renewal-approve": {"signature_name": "Grace Hopper", "attestation": True, "refills": 1},
    "api-renewal-deny": {"reason": "Needs a visit first."},
    "api-request_clarification": {"message": "Please confirm the strength."},
    "api-respond": {"message": "Strength confirmed."},
    "api-reject": {"reason": _REASON},
    "api-verify_flag": {
        "code": "alcohol",
        "method": "patient_interview",
        "note": "Spoke with the patient: two drinks a week.",
    },
    "api-request_rescreen": {"message": "The patient says the opioid answer was a mistake."},
    "api-cancel": {"reason": _REASON},
    "api-record_compounding": {"lots": [_LOT], "quantity_made": 30},
    "api-ship": {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
    "prescriber:webhook_add": {"hook-url": "https://93.184.215.14/b", "hook-secret": "a-secret-of-the-practice"},
    "api-webhooks": {"url": "https://93.184.215.14/b", "secret": "a-secret-of-the-practice"},
    "staff:batch_release": {"release-note": "Record and lots checked against the formula."},
    "api-batch-release": {"note": "Record and lots checked against the formula."},
    "staff:lot_trace": {"lot": RECALL_LOT},
    "staff:lot_trace_csv": {"lot": RECALL_LOT},
    "staff:patient_search": {"last_name": PATIENT_A["last_name"], "date_of_birth": PATIENT_A["date_of_birth"]},
    "staff:recall_new": {
        "recall-ingredient": "Microcrystalline cellulose NF",
        "recall-lot": "MCC-7781",
        "recall-recall_class": "III",
        "recall-reason": "Supplier notice: mislabelled drums.",
    },
    "staff:recall_close": {"close-note": "Supplier withdrew the notice after retesting."},
    "api-recalls": {
        "ingredient": "Microcrystalline cellulose NF",
        "lot": "MCC-7781",
        "recall_class": "III",
        "reason": "Supplier notice: mislabelled drums.",
    },
    "api-recall-close": {"note": "Supplier withdrew the notice after retesting."},
}


def _body(row: Row, persona: str, world: World) -> dict[str, Any]:
    if row.route in FILL_FROM_BATCH:
        return {"batch": world.batch_id}
    if row.route in ACTION_BODIES:
        return ACTION_BODIES[row.route]
    if row.body == "prescription":
        return api_payload()
    if row.body == "answers":
        return clean_answers(date_of_birth=_birth_date(world, persona))
    if row.body in ("dob",):
        return {"date_of_birth": _birth_date(world, persona)}
    if row.body == "lookup":
        return {"reference": world.a.reference, "date_of_birth": _birth_date(world, persona)}
    if row.body == "reference":  # a status page's button: the order number, the proof is the session's
        return {"reference": world.a.reference}
    if row.body == "bundle":
        return transaction_bundle()
    if row.body == "implicated":
        return {"implicated": f"MedicationRequest/{world.a.pk}"}
    if row.body == "dispensed":
        return {"prescription": world.a.pk}
    if row.body == "based_on":
        return {"based-on": f"MedicationRequest/{world.a.pk}"}
    if row.body == "check_in":
        return {"date_of_birth": _birth_date(world, persona), "sleep_problems": "mild", "vivid_dreams": "none",
                "nausea": "none", "headache": "none", "other_effects": "", "wants_call": False}  # fmt: skip
    return {}


def _client(row: Row, persona: str, world: World) -> Client:
    if row.route.startswith(TOKEN_ROUTES):
        return api_client_for(world.users.get(persona)) if persona in world.users else APIClient()
    client = Client()
    if persona in world.users:
        client.force_login(world.users[persona], backend="accounts.backends.PharmacyBackend")
    elif persona in world.birth_dates:
        # The patient's own browser: their private link, unlocked with their birth date.
        prescription = world.a if persona == "patient_a" else world.b
        unlocked = client.post(f"/status/{prescription.questionnaire_token}/",
                               {"date_of_birth": world.birth_dates[persona].isoformat()})  # fmt: skip
        assert unlocked.status_code == 302, f"{persona}: the private link did not open"
    return client


def _request(client: Client, row: Row, path: str, body: dict[str, Any]) -> Any:
    if row.method == "GET":
        return client.get(path, body)
    if row.method == "DELETE":
        return client.delete(path)
    if row.route.startswith(TOKEN_ROUTES):
        return client.post(path, body, format="json")
    return client.post(path, body)


def classify(response: Any) -> str:
    code = response.status_code
    if code in (301, 302, 303):
        return LOGIN if "/login/" in response["Location"] else OK
    if code == 200 and GATE_MARKER in _text(response):
        return GATE
    return {200: OK, 201: OK, 204: OK, 400: INVALID, 401: DENIED, 403: DENIED, 404: NOT_FOUND}.get(code, str(code))


def matches(expected: str, response: Any) -> bool:
    code = response.status_code
    if code >= 500:
        return False
    if expected == ALLOWED:
        return code not in (401, 403, 404)
    if expected == UNCHANGED:
        return True  # what matters is checked apart: nothing changed
    return classify(response) == expected


def _text(response: Any) -> str:
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode(errors="replace")


def _run(row: Row, persona: str, world: World, path: str) -> tuple[Any, tuple[Any, ...], tuple[Any, ...]]:
    """One request inside a savepoint that is rolled back: the next persona finds the same world."""
    cache.clear()  # throttles count per client address, which every test client shares
    block = transaction.atomic()
    # The services' durable=True blocks refuse to nest in anything but a test case's own atomic;
    # this savepoint stands in for one (it is rolled back like one).
    block._from_testcase = True
    with block:
        before = world.snapshot()
        response = _request(_client(row, persona, world), row, path, _body(row, persona, world))
        after = world.snapshot()
        transaction.set_rollback(True)
    return response, before, after


@pytest.mark.parametrize("row", TABLE, ids=[r.id for r in TABLE])
def test_access_matrix(row: Row, world: World) -> None:
    route = routes_by_name()[row.route]
    path = fill(route, world.ids())
    unknown_path = fill(route, world.ids(unknown=True))
    problems: list[str] = []
    for persona, expected in row.expect.items():
        response, before, after = _run(row, persona, world, path)
        answer = f"{response.status_code} ({classify(response)})"
        if not matches(expected, response):
            problems.append(f"{persona}: expected {expected}, got {answer}")
        if expected in (OK, ALLOWED):
            continue
        if before != after:
            problems.append(f"{persona}: {answer} but something changed: {before} -> {after}")
        leaked = [trace for trace in PATIENT_A_TRACES if trace in _text(response)]
        if leaked and expected != UNCHANGED:  # staff refused an action are sent back to A's page, theirs to see
            problems.append(f"{persona}: {answer} shows patient data {leaked}")
        if unknown_path != path and persona not in SEES_A:
            other, _, _ = _run(row, persona, world, unknown_path)
            same = other.status_code == response.status_code and (
                not row.route.startswith(TOKEN_ROUTES) or other.content == response.content)  # fmt: skip
            if not same:
                problems.append(f"{persona}: A's id answers {answer}, an unknown id {other.status_code}")
    assert not problems, f"{row.id} {path}:\n  " + "\n  ".join(problems)


def test_every_url_has_a_row() -> None:
    in_table = {r.route for r in TABLE}
    routes = routes_by_name()
    excluded = {name for name, route in routes.items() if route.path.startswith(tuple(EXCLUDED_PREFIXES))}
    unnamed = [route.path for name, route in routes.items() if not route.name and name not in excluded]
    assert not unnamed, f"URL patterns without a name cannot be given a row: {unnamed}"
    missing = sorted(set(routes) - excluded - in_table)
    assert not missing, f"URLs without a row in the access matrix: {missing}"
    stale = sorted(in_table - set(routes))
    assert not stale, f"Rows for URLs that no longer exist: {stale}"
