"""Passwords are stored with Argon2."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import identify_hasher

from accounts.models import User
from pharmacy import settings as production_settings


def test_argon2_is_the_hasher_for_new_passwords():
    # The production setting (tests swap in a cheaper Argon2 through tests/conftest.py).
    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_new_passwords_are_hashed_with_argon2(db):
    user = User.objects.create_user("new.person@example.test", "a long enough passphrase")

    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password("a long enough passphrase")


def test_a_changed_password_is_hashed_with_argon2(pharmacist):
    pharmacist.set_password("another long passphrase")
    pharmacist.save()

    pharmacist.refresh_from_db()
    assert identify_hasher(pharmacist.password).algorithm == "argon2"
