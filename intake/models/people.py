"""Prescribers (who sign in) and patients (who never do)."""

from __future__ import annotations

import unicodedata
from datetime import date

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from intake.models.history import history_of
from intake.validators import validate_npi, validate_single_line
from intake.when import date_words

US_STATES = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"), ("CA", "California"),
    ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"), ("DC", "District of Columbia"),
    ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"),
    ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"),
    ("ME", "Maine"), ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"),
    ("MN", "Minnesota"), ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"),
    ("NE", "Nebraska"), ("NV", "Nevada"), ("NH", "New Hampshire"), ("NJ", "New Jersey"),
    ("NM", "New Mexico"), ("NY", "New York"), ("NC", "North Carolina"), ("ND", "North Dakota"),
    ("OH", "Ohio"), ("OK", "Oklahoma"), ("OR", "Oregon"), ("PA", "Pennsylvania"),
    ("RI", "Rhode Island"), ("SC", "South Carolina"), ("SD", "South Dakota"), ("TN", "Tennessee"),
    ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"), ("VA", "Virginia"), ("WA", "Washington"),
    ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"), ("PR", "Puerto Rico"),
    ("GU", "Guam"), ("VI", "U.S. Virgin Islands"),
]  # fmt: skip

postal_code_validator = RegexValidator(r"^\d{5}(-\d{4})?$", "Enter a ZIP code such as 78701 or 78701-1234.")
phone_validator = RegexValidator(r"^\+?[0-9 ()\-.]{7,20}$", "Enter a phone number such as +1 512 555 0123.")


class Credential(models.TextChoices):
    MD = "MD", "MD (Doctor of Medicine)"
    DO = "DO", "DO (Doctor of Osteopathic Medicine)"
    NP = "NP", "NP (Nurse Practitioner)"
    PA = "PA", "PA (Physician Assistant)"
    ND = "ND", "ND (Naturopathic Doctor)"
    DDS = "DDS", "DDS (Dentist)"
    DPM = "DPM", "DPM (Podiatrist)"
    CNM = "CNM", "CNM (Certified Nurse Midwife)"


class Prescriber(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="prescriber")
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    credential = models.CharField(max_length=8, choices=Credential.choices)
    license_number = models.CharField("state licence number", max_length=40, validators=[validate_single_line])
    license_state = models.CharField("licence state", max_length=2, choices=US_STATES)
    license_expires = models.DateField("licence expires")
    practice_name = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    address_line1 = models.CharField("practice address", max_length=200, validators=[validate_single_line])
    address_line2 = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    city = models.CharField(max_length=100, validators=[validate_single_line])
    state = models.CharField(max_length=2, choices=US_STATES)
    postal_code = models.CharField("ZIP code", max_length=10, validators=[validate_single_line, postal_code_validator])
    phone = models.CharField(max_length=25, validators=[validate_single_line, phone_validator])
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Whether any webhook subscription is active: a status change of a prescriber without one (most)
    # reads nothing more. Kept by intake/services/webhooks.py under this row's lock.
    has_webhooks = models.BooleanField(default=False, editable=False)
    history = history_of(unindexed=["user", "npi", "verified_by"], excluded=["has_webhooks"])

    class Meta:
        ordering = ("user__last_name", "user__first_name")

    def __str__(self) -> str:
        return f"{self.user.get_full_name()}, {self.credential} (NPI {self.npi})"

    @property
    def display_name(self) -> str:
        return f"{self.user.get_full_name()}, {self.credential}"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def submission_blocker(self, today: date | None = None) -> str:
        """Why this prescriber may not submit now, in words for them; "" when they may."""
        today = today or timezone.localdate()
        if not self.is_verified:
            return (
                "Your account has not been verified by the pharmacy yet. We check your NPI and state "
                "licence before accepting prescriptions; call the pharmacy if this takes more than a day."
            )
        if self.license_expires < today:
            return (
                f"Your {self.license_state} licence expired on {date_words(self.license_expires)}. "
                "Send the pharmacy your renewed licence before submitting prescriptions."
            )
        return ""


def fold_name(name: str) -> str:
    """A name as compared for identity: case, accents, spacing and punctuation ignored."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in letters if ch.isalnum())


def age_on(born: date, day: date) -> int:
    """Whole years of age on a day."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    OTHER = "X", "Other / not specified"


class ContactPreference(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    BOTH = "both", "Email and text message"


class Language(models.TextChoices):
    """The languages the pharmacy writes to patients in (settings.LANGUAGES holds the same codes)."""

    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "postal_code")
ADDRESS_CHECK_FIELDS = ("address_checked_at", "address_deliverable", "address_problem")


class Patient(models.Model):
    first_name = models.CharField(max_length=100, validators=[validate_single_line])
    last_name = models.CharField(max_length=100, validators=[validate_single_line])
    # Identity key: a returning patient (same name and birth date whatever the case or accents)
    # is the same record.
    name_key = models.CharField(max_length=220, editable=False)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    email = models.EmailField(blank=True, validators=[validate_single_line])
    phone = models.CharField(max_length=25, blank=True, validators=[validate_single_line, phone_validator])
    weight_kg = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0.5)]
    )
    address_line1 = models.CharField(max_length=200, validators=[validate_single_line])
    address_line2 = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    city = models.CharField(max_length=100, validators=[validate_single_line])
    state = models.CharField(max_length=2, choices=US_STATES)
    postal_code = models.CharField(max_length=10, validators=[validate_single_line, postal_code_validator])
    contact_preference = models.CharField(
        max_length=5, choices=ContactPreference.choices, default=ContactPreference.EMAIL
    )
    # What the patient reads: their pages, messages and label directions (CONTRACT "Patients' languages").
    language = models.CharField(max_length=5, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The carrier's check of the address above (SHIPPING_BACKEND=easypost): when it answered for
    # this address (None: not yet, or the address changed since), whether it can deliver there, and
    # its words when not. intake/services/addresses.py keeps them.
    address_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    address_deliverable = models.BooleanField(null=True, editable=False)
    address_problem = models.CharField(max_length=300, blank=True, editable=False)
    history = history_of()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name_key", "date_of_birth"], name="patient_identity_unique"),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="patient_name_idx"),
            # The carrier's periodic check reads only the addresses it has not answered for.
            models.Index(fields=["id"], condition=Q(address_checked_at__isnull=True), name="patient_address_unchecked"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.name_key = self.identity_key(self.first_name, self.last_name)
        if getattr(self, "_address_as_read", None) not in (None, self.address()):
            # Another address: the carrier's answer about the old one no longer holds.
            self.address_checked_at, self.address_deliverable, self.address_problem = None, None, ""
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *ADDRESS_CHECK_FIELDS}
        super().save(*args, **kwargs)
        self._address_as_read = self.address()

    @classmethod
    def from_db(cls, db, field_names, values):  # type: ignore[no-untyped-def]
        # Django's documented hook: remember the address as read, so save() knows it changed.
        # Only when the whole address was read: a deferred field would cost a query of its own.
        patient = super().from_db(db, field_names, values)
        if set(ADDRESS_FIELDS) <= set(field_names):
            patient._address_as_read = patient.address()
        return patient

    def address(self) -> tuple[str, ...]:
        return tuple(str(getattr(self, name)).strip().upper() for name in ADDRESS_FIELDS)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @staticmethod
    def identity_key(first_name: str, last_name: str) -> str:
        return f"{fold_name(last_name)}|{fold_name(first_name)}"

    def age_on(self, day: date) -> int:
        return age_on(self.date_of_birth, day)
