"""The webhook is posted to the address the guard checked, over real TLS.

A local HTTPS server on 127.0.0.1 holds a certificate for `hooks.test` (a name no
DNS knows). The guard is told to allow loopback for this test only (`allow=`),
and the resolver answers 127.0.0.1 for the name once. A successful call proves
the connection went to the pinned address (the name resolves nowhere else) and
that TLS verified the certificate against the name, not the address (the
certificate names no address); a certificate for another name is refused.
"""

from __future__ import annotations

import datetime
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jobmatch.notifications.webhook import WebhookAddressError, post_webhook
from jobmatch.security.addresses import IPAddress

pytestmark = pytest.mark.integration


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"path": self.path, "host": self.headers["Host"], "body": body})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def https_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """An HTTPS server on 127.0.0.1 whose certificate names `request.param`."""
    cert, key = _certificate(tmp_path, request.param)
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trusting = httpx.Client(verify=ssl.create_default_context(cafile=str(cert)), trust_env=False)
    yield {"port": server.server_address[1], "received": received, "client": trusting}
    trusting.close()
    server.shutdown()
    server.server_close()


def _loopback_only(address: IPAddress) -> bool:
    return address.is_loopback


class _OnceResolver:
    """Answers 127.0.0.1 the first time and a private address after that: a second
    lookup (DNS rebinding) would go elsewhere."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return ["127.0.0.1"] if self.calls == 1 else ["10.9.9.9"]


@pytest.mark.parametrize("https_server", ["hooks.test"], indirect=True)
def test_the_callback_goes_to_the_checked_address_with_tls_for_the_name(
    https_server: dict[str, Any],
) -> None:
    resolver = _OnceResolver()
    port = https_server["port"]
    status = post_webhook(
        https_server["client"],
        f"https://hooks.test:{port}/cb?x=1",
        {"event": "matching.completed"},
        "key-1",
        "whsec",
        resolver=resolver,
        allow=_loopback_only,
    )
    assert status == 204
    assert resolver.calls == 1
    [call] = https_server["received"]
    assert call == {
        "path": "/cb?x=1",
        "host": f"hooks.test:{port}",
        "body": b'{"event":"matching.completed"}',
    }


@pytest.mark.parametrize("https_server", ["someone-else.test"], indirect=True)
def test_a_certificate_for_another_name_is_refused(https_server: dict[str, Any]) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        post_webhook(
            https_server["client"],
            f"https://hooks.test:{https_server['port']}/cb",
            {},
            "key-1",
            None,
            resolver=_OnceResolver(),
            allow=_loopback_only,
        )
    assert https_server["received"] == []


@pytest.mark.parametrize("https_server", ["hooks.test"], indirect=True)
def test_without_the_test_allowance_loopback_is_refused(https_server: dict[str, Any]) -> None:
    with pytest.raises(WebhookAddressError, match=r"non-public address \(127\.0\.0\.1\)"):
        post_webhook(
            https_server["client"],
            f"https://hooks.test:{https_server['port']}/cb",
            {},
            "key-1",
            None,
            resolver=_OnceResolver(),
        )
    assert https_server["received"] == []
