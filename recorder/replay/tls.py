"""TLS interception for proxy-mode replay: certificates for any host, signed by recorder's CA.

Leaf certificates come from mitmproxy's certificate store (the same CA `recorder capture`
uses, so clients trust one certificate for both). Python's ssl module loads keys only from
files, so each host's key lives in a private (0700) temporary folder, removed on close.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from recorder.capture.ca import BASENAME, ca_dir, ensure_ca


class Interceptor:
    def __init__(self) -> None:
        from mitmproxy import certs  # only proxy mode pays for importing mitmproxy

        ensure_ca()
        self.store = certs.CertStore.from_store(ca_dir(), BASENAME, 2048)
        self.folder = Path(tempfile.mkdtemp(prefix="recorder-tls-"))  # mode 0700
        self.contexts: dict[str, ssl.SSLContext] = {}

    def context(self, host: str) -> ssl.SSLContext:
        context = self.contexts.get(host)
        if context is not None:
            return context
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            san = x509.DNSName(host)
        entry = self.store.get_cert(host, [san])
        pem = self.folder / f"{len(self.contexts)}.pem"
        pem.touch(mode=0o600)
        pem.write_bytes(entry.privatekey.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()) + entry.cert.to_pem())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pem)
        context.set_alpn_protocols(["http/1.1"])
        self.contexts[host] = context
        return context

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
