#!/usr/bin/python3
"""JWT-SVIDs verified by PyJWT against the JWKS that the server publishes in
its SPIFFE bundle, for each key type and RSA algorithm."""
import json
import time
import unittest

import jwt

import wardenlib
from wardenlib import Server


def jwks_from_bundle(server):
    bundle = server.admin("GET", "/v1/bundle").json()
    keys = [k for k in bundle["keys"] if k["use"] == "jwt-svid"]
    # PyJWT's JWK parser rejects the SPIFFE "use" value, so it gets the
    # key material only.
    return {k["kid"]: jwt.PyJWK({key: value for key, value in k.items() if key != "use"})
            for k in keys}


def decode(server, token, audience):
    header = jwt.get_unverified_header(token)
    key = jwks_from_bundle(server)[header["kid"]]
    return header, jwt.decode(token, key.key, algorithms=[header["alg"]], audience=audience)


class JwtSvidTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("example.org")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_minted_token_verifies(self):
        before = int(time.time())
        response = self.server.admin("POST", "/v1/svid/jwt/mint",
                                     {"spiffe_id": "spiffe://example.org/web",
                                      "audience": ["spiffe://example.org/db"], "ttl": 120})
        self.assertEqual(response.status, 200, response)
        token = response.json()["token"]
        header, claims = decode(self.server, token, "spiffe://example.org/db")

        self.assertEqual(header["alg"], "ES256")
        self.assertEqual(header["typ"], "JWT")
        self.assertEqual(set(header), {"alg", "kid", "typ"})
        self.assertEqual(claims["sub"], "spiffe://example.org/web")
        self.assertEqual(claims["aud"], "spiffe://example.org/db")
        self.assertTrue(before <= claims["iat"] <= before + 2)
        self.assertEqual(claims["exp"] - claims["iat"], 120)
        self.assertEqual(response.json()["expires_at"], claims["exp"])

    def test_wrong_audience_rejected(self):
        token = self.server.admin("POST", "/v1/svid/jwt/mint",
                                  {"spiffe_id": "spiffe://example.org/web",
                                   "audience": ["a"]}).json()["token"]
        with self.assertRaises(jwt.InvalidAudienceError):
            decode(self.server, token, "b")

    def test_default_ttl_is_five_minutes(self):
        token = self.server.admin("POST", "/v1/svid/jwt/mint",
                                  {"spiffe_id": "spiffe://example.org/web",
                                   "audience": ["a", "b"]}).json()["token"]
        _, claims = decode(self.server, token, "b")
        self.assertEqual(claims["exp"] - claims["iat"], 300)
        self.assertEqual(claims["aud"], ["a", "b"])

    def test_agent_fetches_token_for_entry(self):
        agent_id, node_cert, node_key = self.server.new_agent()
        entry = self.server.create_entry("spiffe://example.org/jwt-workload", agent_id,
                                         jwt_svid_ttl=60)
        response = self.server.tls("POST", "/v1/svid/jwt",
                                   {"entry_id": entry["id"], "audience": ["vault"]},
                                   cert=node_cert, key=node_key)
        self.assertEqual(response.status, 200, response)
        _, claims = decode(self.server, response.json()["token"], "vault")
        self.assertEqual(claims["sub"], "spiffe://example.org/jwt-workload")
        self.assertEqual(claims["exp"] - claims["iat"], 60)

    def test_tampered_token_rejected(self):
        token = self.server.admin("POST", "/v1/svid/jwt/mint",
                                  {"spiffe_id": "spiffe://example.org/web",
                                   "audience": ["a"]}).json()["token"]
        header, payload, signature = token.split(".")
        forged_claims = jwt.utils.base64url_encode(json.dumps(
            {"sub": "spiffe://example.org/admin", "aud": "a", "exp": 4102444800}).encode()).decode()
        with self.assertRaises(jwt.InvalidSignatureError):
            decode(self.server, f"{header}.{forged_claims}.{signature}", "a")


class RsaJwtTest(unittest.TestCase):
    def check_alg(self, alg):
        server = Server("rsa.example",
                        config=f"identity:\n  ca_key_type: rsa-2048\n  jwt_rsa_alg: {alg}\n")
        try:
            token = server.admin("POST", "/v1/svid/jwt/mint",
                                 {"spiffe_id": "spiffe://rsa.example/w",
                                  "audience": ["x"]}).json()["token"]
            header, claims = decode(server, token, "x")
            self.assertEqual(header["alg"], alg)
            self.assertEqual(claims["sub"], "spiffe://rsa.example/w")
        finally:
            server.cleanup()

    def test_rs256(self):
        self.check_alg("RS256")

    def test_ps256(self):
        self.check_alg("PS256")


if __name__ == "__main__":
    wardenlib.main()
