from intake.models.audit import AuditAction, AuditRecord
from intake.models.compounding import (
    CheckItem,
    CompoundedContainer,
    CompoundingRecord,
    FinalCheck,
    FinalCheckItem,
    FinalCheckMethod,
    IngredientLot,
)
from intake.models.fills import (
    Fill,
    FollowUp,
    RenewalRequest,
    RenewalStatus,
    Requester,
    SymptomLevel,
    TimerFiring,
    TimerKind,
)
from intake.models.formulary import BudRuleName, DosageForm, DosageFormCode, MasterFormulation
from intake.models.licences import PrescriberLicence, StateLicence, licences_forget
from intake.models.notifications import (
    Audience,
    Channel,
    DeliveryStatus,
    Notification,
    NotificationEvent,
)
from intake.models.people import ContactPreference, Credential, Language, Patient, Prescriber, Sex, fold_name
from intake.models.prescriptions import (
    API_ACTIONS,
    CLOSED_STATUSES,
    OPEN_STATUSES,
    OWNER,
    PATIENT,
    SYSTEM,
    TRANSITIONS,
    Action,
    Clarification,
    DoseTiming,
    FlagLevel,
    IdempotencyKey,
    LiverCondition,
    Pregnancy,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    PriceConsent,
    Questionnaire,
    TitrationStep,
    Transition,
)
from intake.models.shipping import NEEDS_STAFF, CarrierStatus, TrackingEvent
from intake.models.shortcuts import DocumentKind, PrescriptionDocument, ProtocolTemplate
from intake.models.stock import (
    Batch,
    BatchLot,
    BatchStatus,
    Recall,
    RecallAffected,
    RecallClass,
    RecallOutcome,
    StockLot,
    StockUnit,
)
from intake.models.webhooks import WebhookDelivery, WebhookEvent, WebhookSubscription

__all__ = [
    "PATIENT", "SYSTEM", "Fill", "FollowUp", "RenewalRequest", "RenewalStatus", "Requester", "SymptomLevel",
    "TimerFiring", "TimerKind",
    "NEEDS_STAFF", "CarrierStatus", "TrackingEvent",
    "API_ACTIONS", "CLOSED_STATUSES", "OPEN_STATUSES", "OWNER", "TRANSITIONS", "Action", "Audience",
    "AuditAction", "AuditRecord", "BudRuleName", "Channel", "CheckItem", "Clarification", "CompoundedContainer",
    "CompoundingRecord", "FinalCheck", "FinalCheckItem", "FinalCheckMethod",
    "ContactPreference", "Credential", "DeliveryStatus", "DosageForm", "DosageFormCode", "DoseTiming", "Language",
    "FlagLevel", "IdempotencyKey", "IngredientLot", "LiverCondition", "MasterFormulation",
    "Notification", "NotificationEvent", "Patient", "Pregnancy", "Prescriber", "Prescription",
    "PrescriptionEvent", "PrescriptionStatus", "PriceConsent", "Questionnaire", "Sex", "StateLicence", "TitrationStep",
    "Transition", "Batch", "BatchLot", "BatchStatus", "Recall", "RecallAffected", "RecallClass", "RecallOutcome",
    "PrescriberLicence", "StockLot", "StockUnit", "WebhookDelivery", "WebhookEvent", "WebhookSubscription",
    "fold_name", "licences_forget", "DocumentKind", "PrescriptionDocument", "ProtocolTemplate",
]  # fmt: skip
