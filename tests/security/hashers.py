"""A cheap Argon2 for tests that sign in many times; hashes it writes are real Argon2 hashes."""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    # Production parameters cost ~0.5 s a hash here; the lockout tests hash dozens of times.
    time_cost = 1
    memory_cost = 1024
    parallelism = 1
