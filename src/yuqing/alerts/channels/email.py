"""Email through SMTP: STARTTLS (default on port 587) or implicit TLS (465), with login.

Each message has a plain-text part and an HTML alternative in which crawled text is escaped.
Certificates are always verified: `ca_file` adds a CA (or a self-signed server certificate)
to trust, it never turns checking off. smtplib runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Annotated, ClassVar

import httpx
from pydantic import AfterValidator, Field, model_validator

from yuqing.alerts.channels.base import AlertMeta, ChannelConfig, SendResult, send_parts
from yuqing.alerts.messages import html_document, one_line
from yuqing.alerts.split import char_size, split_message


def _address(value: str) -> str:
    value = value.strip()
    _, address = parseaddr(value)
    if "@" not in address or any(c in value for c in "\r\n") or len(value) > 320:
        raise ValueError(f"邮箱地址 {value[:60]!r} 无效，应形如 name@example.cn")
    return value


def _host(value: str) -> str:
    value = value.strip()
    if not value or any(c.isspace() for c in value) or "/" in value:
        raise ValueError(f"邮件服务器 {value[:60]!r} 无效，应为主机名或 IP，如 smtp.example.cn")
    return value


Address = Annotated[str, AfterValidator(_address)]


class EmailConfig(ChannelConfig):
    """SMTP server, sign-in, sender and recipients.

    `starttls` defaults to on for port 587, `ssl` (implicit TLS) to on for port 465; a
    password is never sent over a connection without TLS.
    """

    host: Annotated[str, AfterValidator(_host)]
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool | None = None
    ssl: bool | None = None
    username: str | None = None
    password: str | None = None
    sender: Address = Field(alias="from")
    to: list[Address] = Field(min_length=1, max_length=100)
    ca_file: str | None = None

    @property
    def use_ssl(self) -> bool:
        return self.ssl if self.ssl is not None else self.port == 465

    @property
    def use_starttls(self) -> bool:
        if self.use_ssl:
            return False
        return self.starttls if self.starttls is not None else self.port == 587

    @model_validator(mode="after")
    def _consistent(self) -> EmailConfig:
        if self.ssl and self.starttls:
            raise ValueError("ssl 与 starttls 只能开启一个（465 端口用 ssl，587 端口用 starttls）")
        if (self.username is None) != (self.password is None):
            raise ValueError("username 与 password 要么都填，要么都不填")
        if self.username and not (self.use_ssl or self.use_starttls):
            raise ValueError("不能在未加密的连接上发送密码：请开启 starttls 或 ssl")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"ca_file：找不到证书文件 {self.ca_file}")
        return self


def _login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """smtplib's login, and AUTH PLAIN in UTF-8 (RFC 4616) for credentials smtplib would
    refuse to encode (a Chinese password)."""
    if (username + password).isascii():
        smtp.login(username, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, response = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, response)


class EmailChannel:
    kind: ClassVar[str] = "email"
    label: ClassVar[str] = "电子邮件"
    Config = EmailConfig
    limit = 100_000
    """Characters of body per email."""

    def __init__(self, name: str, config: EmailConfig, timeout: float) -> None:
        self.name = name
        self.config = config
        self.timeout = timeout

    def messages(self, title: str, body: str) -> list[EmailMessage]:
        """One email per part of the body: plain text plus an escaped HTML alternative."""
        title = one_line(title, 200)
        parts = split_message(title, body, self.limit, measure=char_size)
        messages = []
        for part in parts:
            subject, _, text = part.partition("\n\n")
            message = EmailMessage()
            message["Subject"] = subject
            message["From"] = self.config.sender
            message["To"] = ", ".join(self.config.to)
            message["Date"] = formatdate(localtime=True)
            message["Message-ID"] = make_msgid(domain="yuqing")
            message.set_content(text)
            message.add_alternative(html_document(subject, text), subtype="html")
            messages.append(message)
        return messages

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.ca_file)

    def _deliver(self, message: EmailMessage) -> SendResult:
        config = self.config
        where = f"{config.host}:{config.port}"
        try:
            smtp: smtplib.SMTP
            if config.use_ssl:
                smtp = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=self.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=self.timeout)
            with smtp:
                if config.use_starttls:
                    smtp.starttls(context=self._context())
                if config.username and config.password is not None:
                    _login(smtp, config.username, config.password)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult(
                False,
                exc.smtp_code,
                f"邮件服务器 {where} 拒绝登录（{exc.smtp_code}）：请核对用户名和密码",
            )
        except smtplib.SMTPRecipientsRefused as exc:
            refused = "、".join(exc.recipients)
            return SendResult(False, None, f"邮件服务器 {where} 拒收收件人：{refused}")
        except smtplib.SMTPNotSupportedError as exc:
            return SendResult(
                False, None, f"邮件服务器 {where} 不支持所需功能（STARTTLS 或登录）：{exc}"
            )
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            return SendResult(
                False, exc.smtp_code, f"邮件服务器 {where} 返回错误 {exc.smtp_code}：{text}"
            )
        except ssl.SSLCertVerificationError as exc:
            return SendResult(
                False,
                None,
                f"邮件服务器 {where} 的证书校验失败：{exc.verify_message}；"
                "如为自签名证书，请在 ca_file 中指定其证书",
            )
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            return SendResult(
                False, None, f"邮件服务器 {where} 连接超时或中断（{self.timeout:g} 秒）：{exc}"
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, None, f"无法通过邮件服务器 {where} 发送：{exc}")
        return SendResult(True, 250)

    async def send(
        self, client: httpx.AsyncClient, title: str, body: str, *, meta: AlertMeta | None = None
    ) -> SendResult:
        async def one(message: EmailMessage) -> SendResult:
            return await asyncio.to_thread(self._deliver, message)

        return await send_parts(self.messages(title, body), one)
