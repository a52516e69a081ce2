"""Registry credentials and auth challenges (placeholder; implementation follows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    identity_token: str | None = None


CredentialSource = Callable[[str], Credentials | None]
