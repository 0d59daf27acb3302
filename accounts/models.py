"""People who sign in: prescribers and pharmacy staff. Patients never sign in (they use a link)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property


class Role(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    PHARMACIST = "pharmacist", "Pharmacist"
    TECHNICIAN = "technician", "Pharmacy technician"
    ADMIN = "admin", "Pharmacy administrator"


PHARMACY_STAFF_ROLES = frozenset({Role.PHARMACIST, Role.TECHNICIAN, Role.ADMIN})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
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

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.groups.values_list("name", flat=True))

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
