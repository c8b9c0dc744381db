"""Fixtures for the alert tests: the robot receiver, real SMTP servers (STARTTLS and implicit
TLS, both with AUTH, on a certificate made for the test), and a small organization."""

from __future__ import annotations

import socket
import ssl
import subprocess
import warnings
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from alert_receiver import Receiver
from alert_smtp import Certificate, Mailbox


@pytest.fixture(scope="session")
def _receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def receiver(_receiver: Receiver) -> Iterator[Receiver]:
    """The local robot/webhook receiver, empty and without secrets for this test."""
    _receiver.reset()
    yield _receiver
    _receiver.reset()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made with openssl for this run."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_context(certificate: Certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    return context


@pytest.fixture
def starttls_server(certificate: Certificate) -> Iterator[Mailbox]:
    """SMTP that requires STARTTLS before anything, and AUTH before mail."""
    mailbox = Mailbox(_free_port())
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=mailbox.port,
        tls_context=_server_context(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=mailbox.authenticate,
    )
    controller.start()
    yield mailbox
    controller.stop()


@pytest.fixture
def smtps_server(certificate: Certificate) -> Iterator[Mailbox]:
    """SMTP over implicit TLS (port 465 style) that requires AUTH before mail."""
    mailbox = Mailbox(_free_port())
    with warnings.catch_warnings():
        # aiosmtpd cannot tell that an implicit-TLS socket is encrypted, and says so.
        warnings.simplefilter("ignore", UserWarning)
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=mailbox.port,
            ssl_context=_server_context(certificate),
            auth_required=True,
            auth_require_tls=False,
            authenticator=mailbox.authenticate,
        )
        controller.start()
    yield mailbox
    controller.stop()
