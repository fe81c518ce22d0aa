"""Password hashing in tests: still argon2id through the accounts service, at its cheapest.

The production parameters (64 MiB, 3 passes) cost up to a second a hash on a loaded CI
machine; a test that hashes a dozen passwords would spend most of its time there.
``test_accounts.py`` checks the production parameters once.
"""

from __future__ import annotations

import pytest

from mediacheck.accounts import service


@pytest.fixture
def cheap_password_hashing(monkeypatch):
    from argon2 import PasswordHasher, profiles

    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    service._dummy_hash.cache_clear()
    monkeypatch.setattr(service, "_hasher", lambda: hasher)
    yield
    service._dummy_hash.cache_clear()
