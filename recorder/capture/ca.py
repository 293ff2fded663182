"""recorder's CA: mitmproxy's certificate store, kept under RECORDER_HOME/ca (key 0600)."""

from __future__ import annotations

from pathlib import Path

import certifi
from mitmproxy import certs

from recorder.errors import UsageError
from recorder.home import recorder_home

BASENAME = "mitmproxy"  # mitmproxy's own file names, so its tools find the same CA


def ca_dir() -> Path:
    path = recorder_home() / "ca"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def ensure_ca() -> Path:
    """Create the CA if needed; return the path of its public certificate (PEM)."""
    folder = ca_dir()
    certs.CertStore.from_store(folder, BASENAME, 2048)
    return folder / f"{BASENAME}-ca-cert.pem"


def upstream_trust_bundle(extra_ca: Path) -> Path:
    """The public roots plus one private CA, so `--upstream-ca` adds trust, not replaces it."""
    try:
        pem = extra_ca.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --upstream-ca {extra_ca}: {exc}",
                         "give a PEM file with the CA certificate") from exc
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise UsageError(f"--upstream-ca {extra_ca} holds no PEM certificate",
                         "give a PEM file with the CA certificate") from None
    bundle = ca_dir() / "upstream-trust.pem"
    bundle.write_text(Path(certifi.where()).read_text() + "\n" + pem)
    return bundle
