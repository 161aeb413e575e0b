#!/usr/bin/python3
"""X.509-SVIDs and the trust bundle, checked with Python's cryptography
against every rule of the X.509-SVID and SPIFFE bundle standards."""
import base64
import datetime
import json
import time
import unittest

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

import wardenlib
from wardenlib import Server, csr_pem, load_certs


def uri_sans(cert):
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.UniformResourceIdentifier)


def verify_signed_by(cert, issuer):
    public_key = issuer.public_key()
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                          cert.signature_hash_algorithm)
    else:
        public_key.verify(cert.signature, cert.tbs_certificate_bytes,
                          ec.ECDSA(cert.signature_hash_algorithm))


class SvidProfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def assert_leaf_profile(self, cert, spiffe_id, dns_names=()):
        self.assertEqual(cert.version, x509.Version.v3)
        self.assertEqual(uri_sans(cert), [spiffe_id])
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        self.assertEqual(san.get_values_for_type(x509.DNSName), list(dns_names))

        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        self.assertTrue(basic.critical)
        self.assertFalse(basic.value.ca)

        key_usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
        self.assertTrue(key_usage.critical)
        self.assertTrue(key_usage.value.digital_signature)
        self.assertFalse(key_usage.value.key_cert_sign)
        self.assertFalse(key_usage.value.crl_sign)

        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        self.assertEqual(set(eku), {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH})

        self.assertGreater(cert.serial_number, 0)
        self.assertLessEqual(cert.serial_number.bit_length(), 128)

    def test_minted_svid_profile(self):
        before = int(time.time())
        reply = self.server.mint("spiffe://example.org/web", ttl=600,
                                 dns_names=["web.example.org"])
        leaf = load_certs(reply["svid"])[0]
        ca = load_certs(self.server.bundle_pem)[0]

        self.assert_leaf_profile(leaf, "spiffe://example.org/web", ["web.example.org"])
        verify_signed_by(leaf, ca)
        self.assertEqual(leaf.issuer, ca.subject)
        self.assertEqual(reply["serial"], format(leaf.serial_number, "x"))

        not_before = int(leaf.not_valid_before_utc.timestamp()) if hasattr(leaf, "not_valid_before_utc") \
            else int(leaf.not_valid_before.replace(tzinfo=datetime.timezone.utc).timestamp())
        not_after = int(leaf.not_valid_after_utc.timestamp()) if hasattr(leaf, "not_valid_after_utc") \
            else int(leaf.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp())
        # notBefore is backdated by the 10 s clock-skew allowance.
        self.assertTrue(before - 12 <= not_before <= before - 8, (before, not_before))
        self.assertEqual(not_after - not_before, 610)
        self.assertEqual(reply["expires_at"], not_after)

    def test_serials_are_unique(self):
        serials = {load_certs(self.server.mint(f"spiffe://example.org/s{i}")["svid"])[0].serial_number
                   for i in range(20)}
        self.assertEqual(len(serials), 20)

    def test_ca_certificate_profile(self):
        ca = load_certs(self.server.bundle_pem)[0]
        basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
        self.assertTrue(basic.critical)
        self.assertTrue(basic.value.ca)
        key_usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
        self.assertTrue(key_usage.critical)
        self.assertTrue(key_usage.value.key_cert_sign)
        self.assertTrue(key_usage.value.crl_sign)
        self.assertFalse(key_usage.value.digital_signature)
        # The signing authority's SPIFFE ID has no path.
        self.assertEqual(uri_sans(ca), ["spiffe://example.org"])
        self.assertIsInstance(ca.public_key(), ec.EllipticCurvePublicKey)
        self.assertEqual(ca.public_key().curve.name, "secp256r1")

    def test_spiffe_bundle_format(self):
        response = self.server.admin("GET", "/v1/bundle")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        bundle = response.json()
        self.assertIsInstance(bundle["spiffe_sequence"], int)
        self.assertEqual(bundle["spiffe_refresh_hint"], 300)

        x509_keys = [k for k in bundle["keys"] if k["use"] == "x509-svid"]
        jwt_keys = [k for k in bundle["keys"] if k["use"] == "jwt-svid"]
        self.assertEqual(len(x509_keys), 1)
        self.assertEqual(len(jwt_keys), 1)
        self.assertNotIn("kid", x509_keys[0])
        self.assertEqual(len(x509_keys[0]["x5c"]), 1)
        der = base64.b64decode(x509_keys[0]["x5c"][0])
        self.assertEqual(x509.load_der_x509_certificate(der), load_certs(self.server.bundle_pem)[0])
        self.assertTrue(jwt_keys[0]["kid"])
        self.assertEqual(jwt_keys[0]["kty"], "EC")
        self.assertEqual(jwt_keys[0]["crv"], "P-256")

    def test_workload_svid_through_agent(self):
        agent_id, node_cert, node_key = self.server.new_agent()
        with open(node_cert) as f:
            node = load_certs(f.read())[0]
        self.assert_leaf_profile(node, agent_id)
        self.assertTrue(agent_id.startswith("spiffe://example.org/warden/agent/join_token/"))

        entry = self.server.create_entry("spiffe://example.org/api", agent_id,
                                         dns_names=["api.internal"], x509_svid_ttl=120)
        key = ec.generate_private_key(ec.SECP256R1())
        response = self.server.tls("POST", "/v1/svid/x509",
                                   {"entry_id": entry["id"], "csr": csr_pem(key, "ignored")},
                                   cert=node_cert, key=node_key)
        self.assertEqual(response.status, 200, response)
        reply = response.json()
        leaf = load_certs(reply["svid"])[0]
        self.assert_leaf_profile(leaf, "spiffe://example.org/api", ["api.internal"])
        self.assertEqual(leaf.public_key().public_numbers(), key.public_key().public_numbers())
        not_before = leaf.not_valid_before_utc if hasattr(leaf, "not_valid_before_utc") else leaf.not_valid_before
        not_after = leaf.not_valid_after_utc if hasattr(leaf, "not_valid_after_utc") else leaf.not_valid_after
        self.assertEqual(int((not_after - not_before).total_seconds()), 130)
        self.assertEqual(reply["entry_id"], entry["id"])


class KeyTypeTest(unittest.TestCase):
    def check_key_type(self, key_type, expected_cls, curve=None, key_size=None):
        server = Server("keys.example", config=f"identity:\n  ca_key_type: {key_type}\n")
        try:
            ca = load_certs(server.bundle_pem)[0]
            self.assertIsInstance(ca.public_key(), expected_cls)
            if curve:
                self.assertEqual(ca.public_key().curve.name, curve)
            if key_size:
                self.assertEqual(ca.public_key().key_size, key_size)
            leaf = load_certs(server.mint("spiffe://keys.example/w")["svid"])[0]
            verify_signed_by(leaf, ca)
        finally:
            server.cleanup()

    def test_ec_p384(self):
        self.check_key_type("ec-p384", ec.EllipticCurvePublicKey, curve="secp384r1")

    def test_rsa_2048(self):
        self.check_key_type("rsa-2048", rsa.RSAPublicKey, key_size=2048)


if __name__ == "__main__":
    wardenlib.main()
