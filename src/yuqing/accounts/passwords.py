"""Password hashing with argon2id, a minimal password policy, and generated passwords."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from yuqing.errors import InputError

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_LENGTH = 10
MAX_LENGTH = 256
_ALPHABET = string.ascii_letters + string.digits


def check_policy(password: str) -> None:
    """Refuse passwords that are short, long, or lack letters or digits."""
    if len(password) < MIN_LENGTH:
        raise InputError("password", f"密码至少 {MIN_LENGTH} 个字符")
    if len(password) > MAX_LENGTH:
        raise InputError("password", f"密码最多 {MAX_LENGTH} 个字符")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise InputError("password", "密码须同时包含字母和数字")


def hash_password(password: str) -> str:
    check_policy(password)
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; a missing or corrupt hash never matches."""
    if not password_hash:
        _HASHER.hash(password)  # spend the same time as a real check
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def generate_password(length: int = 16) -> str:
    """A random password that meets the policy (letters and digits, no look-alike rules)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isalpha() for c in candidate) and any(c.isdigit() for c in candidate):
            return candidate
