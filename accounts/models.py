"""People who sign in: prescribers and pharmacy staff. Patients never sign in (they use a link)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from intake.validators import validate_single_line


class Role(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    PHARMACIST = "pharmacist", "Pharmacist"
    TECHNICIAN = "technician", "Pharmacy technician"
    ADMIN = "admin", "Pharmacy administrator"


PHARMACY_STAFF_ROLES = frozenset({Role.PHARMACIST, Role.TECHNICIAN, Role.ADMIN})


def normalise_email(email: str) -> str:
    """An account's email as it is stored and looked up: every spelling of one address is one
    account (and one lockout count)."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def signed_in(self, *, pk: Any = None, token: str | None = None) -> User | None:
        """The person as every signed-in request reads them (by id from the session, or by API
        token), with their prescriber profile, which every submission and prescriber page checks."""
        people = self.select_related("prescriber")
        # get(), not first(): both keys are unique, and first() would add an ORDER BY to compile.
        try:
            if token is not None:
                # With the token itself: its age decides whether it is still good.
                return people.select_related("auth_token").get(auth_token__key=token)
            return people.get(pk=pk)
        except self.model.DoesNotExist:
            return None


def full_name(first_name: str, last_name: str) -> str:
    """A person's name as every page shows it (User.get_full_name), also for names read as values."""
    return f"{first_name} {last_name}".strip()


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True)
    first_name = models.CharField(max_length=100, blank=True, validators=[validate_single_line])
    last_name = models.CharField(max_length=100, blank=True, validators=[validate_single_line])
    is_active = models.BooleanField(default=True)
    # Django admin access; pharmacy roles are groups (see Role).
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        # Sign-in lower-cases what is typed: an email saved in capitals (the admin's forms) could never sign in.
        super().clean()
        self.email = normalise_email(self.email)

    def get_full_name(self) -> str:
        return full_name(self.first_name, self.last_name)

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @cached_property
    def roles(self) -> frozenset[str]:
        """The pharmacy roles (Role) this person holds, from their groups; read once per request."""
        return frozenset(self.groups.filter(name__in=Role.values).values_list("name", flat=True))

    @cached_property
    def has_second_factor(self) -> bool:
        """Whether they enrolled a confirmed second factor (a TOTP device); read once per request."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        return TOTPDevice.objects.filter(user=self, confirmed=True).exists()

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_prescriber(self) -> bool:
        return Role.PRESCRIBER in self.roles

    @property
    def is_pharmacist(self) -> bool:
        return Role.PHARMACIST in self.roles

    @property
    def is_technician(self) -> bool:
        return Role.TECHNICIAN in self.roles

    @property
    def is_pharmacy_admin(self) -> bool:
        return Role.ADMIN in self.roles or self.is_superuser

    @property
    def is_pharmacy_staff(self) -> bool:
        return bool(self.roles & PHARMACY_STAFF_ROLES) or self.is_superuser
