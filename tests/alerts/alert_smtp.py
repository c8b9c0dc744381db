"""The SMTP side of the email tests: who may sign in, and the handler that keeps the mail."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

SMTP_USER = "alerts@yuqing.test"
SMTP_PASSWORD = "s3cret-口令"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@dataclass
class Mailbox:
    """What the SMTP handler received: envelopes, and who signed in."""

    port: int
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def authenticate(
        self, server: SMTPServer, session: Any, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == SMTP_USER
            and data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            self.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # a refusal is answered "535"
