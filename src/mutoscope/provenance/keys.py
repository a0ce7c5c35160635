"""Signing keys for C2PA: a local root CA and an ES256 end-entity certificate it issues.

c2pa-python 0.38 accepts an end-entity certificate with AKI, ``digitalSignature`` key usage and
the ``emailProtection`` EKU (it rejects ``documentSigning`` and the C2PA claim-signing EKU with
"certificate missing required EKU"). Keys are written with 0600 permissions; nothing here needs
the network. Operators can point ``MUTOSCOPE_SIGNING_CERT``/``MUTOSCOPE_SIGNING_KEY`` at their
own chain instead.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mutoscope.config import Settings
from mutoscope.errors import InvalidRequest

ROOT_CERT = "c2pa-root.pem"
ROOT_KEY = "c2pa-root.key"
SIGNING_CERT = "c2pa-signing-chain.pem"
SIGNING_KEY = "c2pa-signing.key"

_create_lock = threading.Lock()


@dataclass(frozen=True)
class SigningMaterial:
    """What ``c2pa.C2paSignerInfo`` needs (as bytes) plus the anchors verify trusts."""

    cert_chain: bytes
    private_key: bytes
    trust_anchors: bytes
    timestamp_url: str | None


def key_paths(keys_dir: Path) -> dict[str, Path]:
    return {name: keys_dir / name for name in (ROOT_CERT, ROOT_KEY, SIGNING_CERT, SIGNING_KEY)}


def init_signing(keys_dir: Path, *, force: bool = False, org: str = "Mutoscope") -> dict[str, Path]:
    """Create the local root CA and signing certificate under ``keys_dir`` (0600 files).

    Leaves existing keys alone unless ``force``; returns the four paths.
    """
    paths = key_paths(keys_dir)
    with _create_lock:
        if not force and all(p.exists() for p in paths.values()):
            return paths
        keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(keys_dir, 0o700)
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(f"{org} Local Root CA", org)
        root = (
            _builder(root_name, root_name, root_key.public_key(), now, days=3650)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .sign(root_key, hashes.SHA256())
        )
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = (
            _builder(
                _name(f"{org} Content Signer", org), root_name, leaf_key.public_key(), now, days=730
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        _write_private(paths[ROOT_CERT], _pem(root))
        _write_private(paths[ROOT_KEY], _key_pem(root_key))
        _write_private(paths[SIGNING_CERT], _pem(leaf) + _pem(root))
        _write_private(paths[SIGNING_KEY], _key_pem(leaf_key))
        return paths


def load_signing(settings: Settings) -> SigningMaterial:
    """The operator's chain and key when configured, else ours (created on first use).

    Configured means PEM values (``MUTOSCOPE_SIGNING_CERT_PEM``/``..._KEY_PEM``, e.g. from a
    secret store) or files (``MUTOSCOPE_SIGNING_CERT``/``..._KEY``). Every process of a
    deployment must get the same pair so that all videos are signed by the same operator;
    ``mutoscope keys init-signing`` writes one to distribute.
    """
    chain, key = _configured(settings)
    if chain is None or key is None:
        paths = init_signing(settings.keys_dir)
        chain, key = paths[SIGNING_CERT].read_bytes(), paths[SIGNING_KEY].read_bytes()
    return SigningMaterial(chain, key, trust_anchors(settings, chain), settings.timestamp_url)


def signing_configured(settings: Settings) -> bool:
    """Whether the signing identity comes from settings (not from this machine's keys)."""
    return _configured(settings)[0] is not None


def _configured(settings: Settings) -> tuple[bytes | None, bytes | None]:
    chain = (
        settings.signing_cert_pem.get_secret_value().encode()
        if settings.signing_cert_pem is not None
        else settings.signing_cert.read_bytes()
        if settings.signing_cert is not None
        else None
    )
    key = (
        settings.signing_key_pem.get_secret_value().encode()
        if settings.signing_key_pem is not None
        else settings.signing_key.read_bytes()
        if settings.signing_key is not None
        else None
    )
    if (chain is None) != (key is None):
        raise InvalidRequest(
            "set both the signing certificate chain and its private key "
            "(MUTOSCOPE_SIGNING_CERT and MUTOSCOPE_SIGNING_KEY as files, or "
            "MUTOSCOPE_SIGNING_CERT_PEM and MUTOSCOPE_SIGNING_KEY_PEM as values), or neither "
            "to use the local keys from `mutoscope keys init-signing`"
        )
    return chain, key


def trust_anchors(settings: Settings, chain: bytes | None = None) -> bytes:
    """PEM roots verify trusts: our local root, ``MUTOSCOPE_TRUST_ANCHORS_FILE``, and any CA
    certificate in the operator's chain."""
    pems: list[bytes] = []
    local = settings.keys_dir / ROOT_CERT
    if local.exists():
        pems.append(local.read_bytes())
    anchors = settings.trust_anchors_file
    if anchors is not None and anchors.exists():
        pems.extend(_pem(cert) for cert in x509.load_pem_x509_certificates(anchors.read_bytes()))
    if chain is None:
        try:
            chain = _configured(settings)[0]
        except (OSError, InvalidRequest):  # verify still works without a signing identity
            chain = None
    if chain:
        for cert in x509.load_pem_x509_certificates(chain):
            if _is_ca(cert):
                pems.append(_pem(cert))
    return b"".join(dict.fromkeys(pems))


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _name(common_name: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: dt.datetime,
    *,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    """Write with 0600 from the start (no window where the key is world-readable)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
