"""The signed-in person as accounts.backends and the API's token check read them: with their
prescriber profile, their roles and whether they enrolled a second factor, each read once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from accounts.backends import PharmacyBackend
from accounts.models import Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_roles_read_with_the_user_are_the_groups_they_hold(django_assert_num_queries):
    # given: a pharmacist who is also the pharmacy's administrator, and a group that is no role
    user = UserFactory(role=Role.PHARMACIST)
    user.groups.add(Group.objects.get(name=Role.ADMIN), Group.objects.create(name="night shift"))

    # when: loaded as a signed-in request loads them, and asked about their roles three ways
    with django_assert_num_queries(2):
        signed_in = User.objects.signed_in(pk=user.pk)
        assert signed_in is not None
        roles, staff, prescriber = signed_in.roles, signed_in.is_pharmacy_staff, signed_in.is_prescriber

    # then: the groups that are roles, read once
    assert roles == {Role.PHARMACIST, Role.ADMIN} == User.objects.get(pk=user.pk).roles
    assert staff is True and prescriber is False


def test_a_user_without_a_role_has_none():
    user = UserFactory()
    signed_in = User.objects.signed_in(pk=user.pk)
    assert signed_in is not None and signed_in.roles == frozenset()
    assert signed_in.is_pharmacy_staff is False


@pytest.mark.parametrize(("confirmed", "expected"), [(True, True), (False, False)])
def test_second_factor_counts_only_a_confirmed_device(confirmed, expected):
    user = UserFactory(role=Role.PHARMACIST)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=confirmed)

    signed_in = User.objects.signed_in(pk=user.pk)

    assert signed_in is not None and signed_in.has_second_factor is expected


def test_second_factor_is_read_once_per_request(django_assert_num_queries):
    user = UserFactory(role=Role.PHARMACIST)
    signed_in = User.objects.signed_in(pk=user.pk)
    assert signed_in is not None
    with django_assert_num_queries(1):
        assert signed_in.has_second_factor is False
        assert signed_in.has_second_factor is False


def test_by_token_finds_the_tokens_owner_and_nobody_for_an_unknown_token():
    owner = UserFactory(role=Role.PRESCRIBER)
    UserFactory(role=Role.PRESCRIBER)  # another with a token of their own
    token = Token.objects.create(user=owner)
    Token.objects.create(user=User.objects.exclude(pk=owner.pk).get())

    found = User.objects.signed_in(token=token.key)

    assert found is not None and found.pk == owner.pk and found.roles == {Role.PRESCRIBER}
    assert User.objects.signed_in(token="0" * 40) is None
    assert User.objects.signed_in(pk=owner.pk + 1000) is None


def test_the_backend_refuses_an_inactive_user():
    active, inactive = UserFactory(role=Role.PHARMACIST), UserFactory(role=Role.PHARMACIST, is_active=False)
    backend = PharmacyBackend()
    assert backend.get_user(active.pk) == active
    assert backend.get_user(inactive.pk) is None
    assert backend.get_user(active.pk + 1000) is None


def test_a_prescribers_profile_comes_with_them(prescriber, django_assert_num_queries):
    # given: the prescriber's token, as an EHR sends it
    token = Token.objects.create(user=prescriber.user)

    # when: read as the API's token check reads them
    with django_assert_num_queries(1):
        signed_in = User.objects.signed_in(token=token.key)
        assert signed_in is not None
        profile = signed_in.prescriber
        back = profile.user

    # then: the whole profile, its user the same object, with no further query
    assert profile.pk == prescriber.pk
    assert (profile.npi, profile.license_state, profile.license_expires, profile.verified_at) == (
        prescriber.npi,
        prescriber.license_state,
        prescriber.license_expires,
        prescriber.verified_at,
    )
    assert back is signed_in
    assert profile.submission_blocker() == ""


def test_someone_without_a_prescriber_profile_has_none_and_asking_costs_no_query(pharmacist, django_assert_num_queries):
    signed_in = User.objects.signed_in(pk=pharmacist.pk)

    with django_assert_num_queries(0):
        assert not hasattr(signed_in, "prescriber")
    assert not any(name.startswith("signed_in_profile") for name in vars(signed_in))  # no stray columns
