"""Secrets handed to people: invite tokens and share codes. Only hashes are stored
(share codes: salted and slow, see :func:`code_digest`).

Invite tokens go in a Telegram deep link (``?start=<token>``, at most 64
characters of ``A-Z a-z 0-9 _ -``). Share codes are read aloud or copied from
paper, so they use an alphabet without look-alikes (no 0/O, 1/I/L, 5/S, 8/B)
and are accepted in any case, with spaces or dashes.
"""

from __future__ import annotations

import hashlib
import re
import secrets

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXYZ234679"
CODE_LENGTH = 8
INVITE_PREFIX = "r_"
GROUP_PREFIX = "g_"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def digest(secret: str) -> str:
    """For invite and group tokens: 24 random bytes, which no one can guess, offline or not."""
    return hashlib.sha256(secret.encode()).hexdigest()


SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**12, 8, 1
"""scrypt's cost (4 MiB of memory per hash). A share code has only 27⁸ ≈ 2.8 × 10¹¹ values, so a
fast hash of it can be reversed offline from a stolen database (all codes in about 13.5 h on two
cores with unsalted SHA-256); at several milliseconds a hash, with a salt made for each database,
trying them all takes decades of CPU time, and nothing computed for one database helps with another."""


def code_digest(code: str, salt: bytes) -> str:
    """The stored form of a share code: scrypt with the database's salt (64 hex characters)."""
    return hashlib.scrypt(code.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32).hex()


def new_salt() -> str:
    return secrets.token_hex(16)


def new_token(prefix: str) -> str:
    """A deep-link payload: the prefix says what it is for (a role or a group)."""
    return prefix + secrets.token_urlsafe(24)


def looks_like_token(text: str) -> bool:
    return bool(_TOKEN_SHAPE.match(text))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The code as stored, or None if it cannot be a code at all."""
    cleaned = re.sub(r"[\s-]", "", text).upper()
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload}"
