"""People who sign in: prescribers and pharmacy staff. Patients never sign in (they use a link)."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import DEFAULT_DB_ALIAS, models
from django.utils import timezone
from django.utils.functional import cached_property

from pharmacy.rows import instance


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

    def signed_in(self, *, pk: Any = None, token: str | None = None) -> User | None:
        """The person as every signed-in request reads them (by id from the session, or by API
        token), with their roles and whether they enrolled a second factor, in one query instead
        of three. Plain SQL, written once: the ORM spent longer building five EXISTS subqueries on
        each request than the database spent answering them."""
        sql = _signed_in_sql(by_token=token is not None)
        found = list(self.raw(sql, [*Role.values, pk if token is None else token]))
        if not found:
            return None
        user = found[0]
        _attach_profiles(user)
        return user


# The one-to-one profiles read with the person (a prescriber's NPI and licence, which every
# submission and prescriber page checks): the reverse accessors on User, by name.
SIGNED_IN_PROFILES = ("prescriber",)
_PROFILE_COLUMN = "signed_in_profile__"


def _profile_relations() -> list[Any]:
    return [User._meta.get_field(name) for name in SIGNED_IN_PROFILES]


@functools.cache
def _signed_in_sql(*, by_token: bool) -> str:
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from rest_framework.authtoken.models import Token

    # Table names from the models; every value is a parameter.
    memberships, groups = User.groups.through._meta.db_table, Group._meta.db_table
    facts = [
        f"EXISTS (SELECT 1 FROM {memberships} m JOIN {groups} g ON g.id = m.group_id "  # noqa: S608
        f"WHERE m.user_id = u.id AND g.name = %s) AS {_ROLE_FACT}{role}"
        for role in Role.values
    ]
    device = TOTPDevice._meta.db_table
    facts.append(f"EXISTS (SELECT 1 FROM {device} d WHERE d.user_id = u.id AND d.confirmed) AS {_SECOND_FACTOR_FACT}")  # noqa: S608
    joins = []
    for n, relation in enumerate(_profile_relations()):
        profile = relation.related_model._meta
        facts += [f"p{n}.{field.column} AS {_PROFILE_COLUMN}{n}__{field.attname}" for field in profile.concrete_fields]
        joins.append(f"LEFT JOIN {profile.db_table} p{n} ON p{n}.{relation.field.column} = u.id")
    where = f"(SELECT t.user_id FROM {Token._meta.db_table} t WHERE t.key = %s)" if by_token else "%s"  # noqa: S608
    return f"SELECT u.*, {', '.join(facts)} FROM {User._meta.db_table} u {' '.join(joins)} WHERE u.id = {where}"  # noqa: S608


def _attach_profiles(user: User) -> None:
    """Move each profile's columns off the user into the profile, cached where the reverse accessor
    looks (`user.prescriber`, None: `hasattr` is False), so that reading it costs no query."""
    for n, relation in enumerate(_profile_relations()):
        model = relation.related_model
        fields = model._meta.concrete_fields
        values = [user.__dict__.pop(f"{_PROFILE_COLUMN}{n}__{field.attname}") for field in fields]
        profile = instance(model, values, fields=fields, alias=user._state.db or DEFAULT_DB_ALIAS)
        if profile is not None:
            relation.field.set_cached_value(profile, user)
        relation.set_cached_value(user, profile)


def full_name(first_name: str, last_name: str) -> str:
    """A person's name as every page shows it (User.get_full_name), also for names read as values."""
    return f"{first_name} {last_name}".strip()


_ROLE_FACT = "signed_in_role_"
_SECOND_FACTOR_FACT = "signed_in_has_second_factor"


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
        return full_name(self.first_name, self.last_name)

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @cached_property
    def roles(self) -> frozenset[str]:
        """The pharmacy roles (Role) this person holds: read with the user when it came from
        `User.objects.signed_in()`, else from their groups."""
        if hasattr(self, f"{_ROLE_FACT}{Role.PRESCRIBER}"):
            return frozenset(role for role in Role.values if getattr(self, f"{_ROLE_FACT}{role}"))
        return frozenset(self.groups.filter(name__in=Role.values).values_list("name", flat=True))

    @property
    def has_second_factor(self) -> bool | None:
        """Whether they enrolled a confirmed second factor, when read with the user (signed_in());
        None when not known (the caller asks django-otp)."""
        known = getattr(self, _SECOND_FACTOR_FACT, None)
        return None if known is None else bool(known)  # SQLite answers EXISTS with 0 or 1

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
