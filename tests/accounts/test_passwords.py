"""Passwords: the policy, argon2id hashes, generated passwords, re-hashing on sign-in."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from orgdata import PASSWORD
from sqlalchemy import select

from yuqing.accounts.login import authenticate
from yuqing.accounts.passwords import (
    MIN_LENGTH,
    check_policy,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from yuqing.errors import InputError
from yuqing.settings import Settings
from yuqing.store.db import Database
from yuqing.store.tables import User


@pytest.mark.parametrize(
    ("password", "words"),
    [
        ("short1", f"至少 {MIN_LENGTH} 个字符"),
        ("x1" * 200, "最多 256 个字符"),
        ("onlyletters-here", "字母和数字"),
        ("1234567890123", "字母和数字"),
    ],
)
def test_the_policy_refuses_with_words(password: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        check_policy(password)
    assert caught.value.where == "password" and words in caught.value.reason
    with pytest.raises(InputError):
        hash_password(password)


def test_hashes_are_argon2id_salted_and_verify() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, PASSWORD) and verify_password(second, PASSWORD)
    assert not verify_password(first, PASSWORD + "x")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not-a-hash", PASSWORD)
    assert not needs_rehash(first)
    assert needs_rehash("not-a-hash")


def test_generated_passwords_meet_the_policy_and_differ() -> None:
    made = {generate_password() for _ in range(50)}
    assert len(made) == 50
    for password in made:
        check_policy(password)
        assert len(password) == 16


def test_a_weak_old_hash_is_replaced_at_sign_in(org_db: Database, login_settings: Settings) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)
    now = datetime.now(UTC)
    with org_db.session() as session:
        user = session.scalars(select(User).where(User.username == "viewer")).one()
        user.password_hash = weak
    with org_db.session() as session:
        authenticate(session, login_settings, "viewer", PASSWORD, "127.0.0.1", now)
    with org_db.session() as session:
        stored = session.scalars(select(User.password_hash).where(User.username == "viewer")).one()
        assert stored != weak and stored is not None and not needs_rehash(stored)
        assert verify_password(stored, PASSWORD)
