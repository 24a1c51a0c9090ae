"""Self-signed certificate authority and server certificate for the simulator, made at start.

Uses the ``cryptography`` package (ECDSA P-256, which kubectl, helm and Python all accept) and
falls back to the ``openssl`` command when that package is not installed (it is only an indirect
dependency).  The server certificate names ``localhost``, ``127.0.0.1``, ``::1`` and the bind host.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Certificates:
    """PEM bytes of the CA certificate and of the server certificate/key it signed."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    def server_context(self) -> ssl.SSLContext:
        """An ``SSLContext`` for the server side (the key goes through a private temp file)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.set_alpn_protocols(["http/1.1"])
        fd, path = tempfile.mkstemp(prefix="tamer-sim-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.cert_pem + self.key_pem)
            ctx.load_cert_chain(path)
        finally:
            os.unlink(path)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """An ``SSLContext`` that trusts only this CA (for in-process clients and tests)."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())


def _extra_host(host: str) -> str | None:
    if host and host not in ("localhost", "127.0.0.1", "::1", "0.0.0.0", "::"):
        return host
    return None


def _san(host: str) -> list[Any]:
    from cryptography import x509

    names: list[Any] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    if _extra_host(host):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def generate(host: str = "127.0.0.1", name: str = "tamer-sim") -> Certificates:
    """A fresh CA plus a server certificate for ``host`` valid for one year."""
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return _generate_openssl(host, name)
    return _generate_cryptography(host, name)


def _generate_cryptography(host: str, name: str) -> Certificates:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}-ca")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(_san(host)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Certificates(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _generate_openssl(host: str, name: str) -> Certificates:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("tamer sim needs the 'cryptography' package or the 'openssl' command for TLS")
    sans = ["DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1"]
    extra = _extra_host(host)
    if extra:
        try:
            ipaddress.ip_address(extra)
            sans.append(f"IP:{extra}")
        except ValueError:
            sans.append(f"DNS:{extra}")
    with tempfile.TemporaryDirectory(prefix="tamer-sim-tls-") as tmp:
        d = Path(tmp)

        def run(*args: str) -> None:
            subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

        run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(d / "ca.key"))
        run(
            "req", "-x509", "-new", "-key", str(d / "ca.key"), "-sha256", "-days", "365",
            "-subj", f"/CN={name}-ca", "-out", str(d / "ca.crt"),
        )  # fmt: skip
        run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(d / "srv.key"))
        run("pkcs8", "-topk8", "-nocrypt", "-in", str(d / "srv.key"), "-out", str(d / "srv8.key"))
        run(
            "req",
            "-new",
            "-key",
            str(d / "srv.key"),
            "-subj",
            f"/CN={name}-apiserver",
            "-out",
            str(d / "srv.csr"),
        )
        (d / "ext.cnf").write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "extendedKeyUsage=serverAuth\n"
            f"subjectAltName={','.join(sans)}\n"
        )
        run(
            "x509", "-req", "-in", str(d / "srv.csr"), "-CA", str(d / "ca.crt"), "-CAkey", str(d / "ca.key"),
            "-CAcreateserial", "-days", "365", "-sha256", "-extfile", str(d / "ext.cnf"), "-out", str(d / "srv.crt"),
        )  # fmt: skip
        return Certificates(
            ca_pem=(d / "ca.crt").read_bytes(),
            cert_pem=(d / "srv.crt").read_bytes(),
            key_pem=(d / "srv8.key").read_bytes(),
        )
