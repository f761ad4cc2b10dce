"""Certificates made in the test: trustme for plain chains, cryptography where trustme cannot
set a date (an intermediate CA that expires before the leaf)."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def write_ca(ca: trustme.CA, directory: Path) -> str:
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def not_after(cert: trustme.LeafCert) -> datetime:
    return x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes()).not_valid_after_utc


def issue(
    ca: trustme.CA, *, expires_in: timedelta, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> trustme.LeafCert:
    now = datetime.now(UTC)
    return ca.issue_cert(*hosts, not_before=now - timedelta(days=100), not_after=now + expires_in)


@dataclass(frozen=True)
class Chain:
    """root → intermediate → leaf, built with cryptography (trustme cannot date a child CA)."""

    root_pem: bytes
    server_pem: bytes
    """Leaf key, leaf certificate and intermediate, as a server loads them."""
    intermediate_expires: datetime
    leaf_expires: datetime


def chain_with_intermediate(*, intermediate_days: int, leaf_days: int) -> Chain:
    now = datetime.now(UTC).replace(microsecond=0)

    def make(
        name: str,
        key: ec.EllipticCurvePrivateKey,
        issuer: x509.Name | None,
        signer: ec.EllipticCurvePrivateKey,
        days: int,
        ca: bool,
    ) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer or subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        else:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = make("probed test root", root_key, None, root_key, 3650, True)
    mid = make("probed test intermediate", mid_key, root.subject, root_key, intermediate_days, True)
    leaf = make("127.0.0.1", leaf_key, mid.subject, mid_key, leaf_days, False)
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Chain(
        root_pem=root.public_bytes(pem),
        server_pem=key_pem + leaf.public_bytes(pem) + mid.public_bytes(pem),
        intermediate_expires=mid.not_valid_after_utc,
        leaf_expires=leaf.not_valid_after_utc,
    )


@dataclass(frozen=True)
class Expiry:
    """A certificate ``lifetime`` days long, the monitor ``settings`` judging it, and the
    verdict expected: ``ok`` and ``reason`` with ``{days}`` for the whole days left."""

    lifetime: int
    settings: Mapping[str, object]
    ok: bool
    reason: str

    def verdict(self, cert: trustme.LeafCert, now: datetime) -> tuple[bool, str]:
        """(ok, reason) a probe at ``now`` should give for ``cert``, issued ``lifetime`` long."""
        days = (not_after(cert) - now).days
        # notAfter is stored in whole seconds, so "N days from now" may be a hair under N days.
        assert days in (self.lifetime - 1, self.lifetime)
        return self.ok, self.reason.format(days=days)


EXPIRIES = [
    pytest.param(
        Expiry(90, {}, True, "certificate valid for {days} days"),
        id="a certificate with plenty of time left is up",
    ),
    pytest.param(
        Expiry(10, {"ssl_expiry_days": 30}, False, "certificate expires in {days} days"),
        id="a certificate expiring within ssl_expiry_days is down",
    ),
]
"""The expiry cases every kind that reads certificates (ssl, tcp with tls) is judged on."""
