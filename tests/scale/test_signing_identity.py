"""Every process signs as the same operator when the identity comes from settings."""

from __future__ import annotations

import pytest
from cryptography import x509

from mutoscope.config import Settings
from mutoscope.errors import InvalidRequest
from mutoscope.provenance.keys import (
    init_signing,
    load_signing,
    signing_configured,
    trust_anchors,
)


@pytest.fixture
def operator_keys(tmp_path):
    return init_signing(tmp_path / "operator")


def test_two_homes_with_the_same_pem_values_sign_alike(tmp_path, operator_keys):
    chain = operator_keys["c2pa-signing-chain.pem"].read_text()
    key = operator_keys["c2pa-signing.key"].read_text()
    machines = [
        Settings(home=tmp_path / f"gpu{n}", signing_cert_pem=chain, signing_key_pem=key)
        for n in range(2)
    ]
    a, b = (load_signing(s) for s in machines)
    assert a.cert_chain == b.cert_chain == chain.encode() and a.private_key == key.encode()
    assert all(signing_configured(s) for s in machines)
    assert not (tmp_path / "gpu0" / "keys").exists()  # no machine-local key was made
    root = x509.load_pem_x509_certificate(operator_keys["c2pa-root.pem"].read_bytes())
    anchors = x509.load_pem_x509_certificates(a.trust_anchors)
    assert root in anchors


def test_paths_work_as_well_as_values(tmp_path, operator_keys):
    settings = Settings(
        home=tmp_path / "api",
        signing_cert=operator_keys["c2pa-signing-chain.pem"],
        signing_key=operator_keys["c2pa-signing.key"],
    )
    assert load_signing(settings).cert_chain == operator_keys["c2pa-signing-chain.pem"].read_bytes()


def test_half_an_identity_is_refused_with_a_clear_message(tmp_path, operator_keys):
    settings = Settings(home=tmp_path / "x", signing_cert=operator_keys["c2pa-signing-chain.pem"])
    with pytest.raises(InvalidRequest, match="set both"):
        load_signing(settings)


def test_extra_trust_anchors_come_from_a_file(tmp_path, operator_keys):
    other = init_signing(tmp_path / "partner")["c2pa-root.pem"]
    settings = Settings(home=tmp_path / "verifier", trust_anchors_file=other)
    anchors = x509.load_pem_x509_certificates(trust_anchors(settings))
    assert anchors == [x509.load_pem_x509_certificate(other.read_bytes())]
