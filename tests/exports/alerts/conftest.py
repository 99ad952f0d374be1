"""A throwaway TLS certificate and loopback SMTP servers for the mail tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.exports.alerts.samples import PASSWORD, USERNAME
from tests.smtp_loopback import Certificate, SmtpLoopback, make_certificate


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server(certificate: Certificate) -> Iterator[SmtpLoopback]:
    """STARTTLS required, AUTH with USERNAME and PASSWORD."""
    with SmtpLoopback(certificate, username=USERNAME, password=PASSWORD) as server:
        yield server


@pytest.fixture
def plain_server() -> Iterator[SmtpLoopback]:
    """A local relay: no TLS, no AUTH."""
    with SmtpLoopback() as server:
        yield server
