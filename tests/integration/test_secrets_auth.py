#!/usr/bin/python3
"""Tokens and login on the secrets API, driven with hvac (Debian's
python3-hvac 0.11) against a dev server. The tests cover token create,
lookup, renew and revoke (a child goes with its parent), rejection of bad
and missing tokens, cert login with an X.509-SVID the server mints, and JWT
login with a JWT-SVID it mints."""
import time
import unittest

import hvac

import wardenlib
from wardenlib import Server

ROOT = "root-integration"

# Lets a token create children, on top of the default policy.
CREATOR_POLICY = 'path "auth/token/create" { capabilities = ["update"] }\n'


class TokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(dev_root_token=ROOT)
        cls.root = cls.server.vault()
        cls.root.sys.create_or_update_policy("creator", CREATOR_POLICY)

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def create(self, client=None, **fields):
        reply = (client or self.root).auth.token.create(**fields)
        self.assertIsNone(reply["data"])
        return reply["auth"]

    def test_create_lookup_renew_revoke_self(self):
        auth = self.create(policies=["web"], ttl="1h", meta={"team": "shop"})
        self.assertTrue(auth["client_token"].startswith("hvs."))
        self.assertEqual(len(auth["client_token"]), 28)
        self.assertEqual(auth["policies"], ["default", "web"])
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertIs(auth["renewable"], True)
        self.assertEqual(auth["metadata"], {"team": "shop"})

        client = self.server.vault(token=auth["client_token"])
        self.assertIs(client.is_authenticated(), True)
        data = client.auth.token.lookup_self()["data"]
        self.assertEqual(data["id"], auth["client_token"])
        self.assertEqual(data["accessor"], auth["accessor"])
        # hvac sends display_name "token", which Vault prefixes with "token-".
        self.assertEqual(data["display_name"], "token-token")
        self.assertEqual(data["path"], "auth/token/create")
        self.assertEqual(data["policies"], ["default", "web"])
        self.assertEqual(data["meta"], {"team": "shop"})
        self.assertEqual(data["creation_ttl"], 3600)
        self.assertGreater(data["ttl"], 3590)
        self.assertLessEqual(data["ttl"], 3600)
        self.assertIs(data["orphan"], False)
        self.assertEqual(data["type"], "service")

        renewed = client.auth.token.renew_self(increment=7200)["auth"]
        self.assertEqual(renewed["client_token"], auth["client_token"])
        self.assertEqual(renewed["lease_duration"], 7200)
        self.assertGreater(client.auth.token.lookup_self()["data"]["ttl"], 7190)

        response = client.auth.token.revoke_self()
        self.assertEqual(response.status_code, 204)
        self.assertIs(client.is_authenticated(), False)
        with self.assertRaises(hvac.exceptions.Forbidden):
            client.auth.token.lookup_self()

    def test_child_revoked_with_parent(self):
        parent = self.create(policies=["creator", "web"])["client_token"]
        parent_client = self.server.vault(token=parent)
        child = self.create(parent_client, policies=["web"])["client_token"]
        child_client = self.server.vault(token=child)
        self.assertEqual(child_client.auth.token.lookup_self()["data"]["policies"],
                         ["default", "web"])

        self.root.auth.token.revoke(parent)
        self.assertIs(parent_client.is_authenticated(), False)
        self.assertIs(child_client.is_authenticated(), False)

    def test_child_policies_must_be_subset(self):
        parent = self.create(policies=["creator", "web"])["client_token"]
        with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
            self.server.vault(token=parent).auth.token.create(policies=["admin"])
        self.assertEqual(caught.exception.errors, ["child policies must be subset of parent"])

    def lookup_self_raw(self, token):
        """GET lookup-self with exactly this token header (None: no header)."""
        saved = self.server.root_token
        self.server.root_token = None
        try:
            return self.server.vault_raw("GET", "/v1/auth/token/lookup-self", token=token)
        finally:
            self.server.root_token = saved

    def test_bad_and_missing_tokens(self):
        for token in ("hvs.000000000000000000000000", None):
            with self.subTest(token=token):
                response = self.lookup_self_raw(token)
                self.assertEqual(response.status, 403, response)
                self.assertEqual(response.json(), {"errors": ["permission denied"]})

    def test_expired_token_refused(self):
        token = self.create(ttl=1)["client_token"]
        client = self.server.vault(token=token)
        self.assertIs(client.is_authenticated(), True)
        time.sleep(2.1)
        with self.assertRaises(hvac.exceptions.Forbidden):
            client.auth.token.lookup_self()


class LoginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server(dev_root_token=ROOT)
        cls.root = cls.server.vault()
        cls.root.sys.enable_auth_method("cert")
        cls.root.sys.enable_auth_method("jwt")
        cls.root.write("auth/cert/certs/web", allowed_uri_sans="spiffe://example.org/web/*",
                       token_policies="web", token_ttl="1h")
        cls.root.write("auth/jwt/role/web", role_type="jwt", user_claim="sub",
                       bound_audiences="vault", token_policies="web", token_ttl=600)
        cls.root.write("auth/jwt/role/no-audience", role_type="jwt", user_claim="sub",
                       bound_subject="spiffe://example.org/web")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def svid_files(self, spiffe_id, name):
        minted = self.server.mint(spiffe_id)
        return (self.server.write(f"{name}.pem", minted["svid"]),
                self.server.write(f"{name}.key", minted["private_key"]))

    def jwt_svid(self, spiffe_id, audience):
        response = self.server.admin("POST", "/v1/svid/jwt/mint",
                                     {"spiffe_id": spiffe_id, "audience": [audience], "ttl": 120})
        self.assertEqual(response.status, 200, response)
        return response.json()["token"]

    def test_cert_login(self):
        cert, key = self.svid_files("spiffe://example.org/web/frontend", "frontend")
        client = self.server.vault(token="")
        auth = client.auth.cert.login(cert_pem=cert, key_pem=key)["auth"]
        self.assertEqual(auth["policies"], ["default", "web"])
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertEqual(auth["metadata"]["cert_name"], "web")
        self.assertEqual(auth["metadata"]["spiffe_id"], "spiffe://example.org/web/frontend")

        # The client now uses the new token.
        data = client.auth.token.lookup_self()["data"]
        self.assertEqual(data["display_name"], "cert-web")
        self.assertEqual(data["path"], "auth/cert/login")
        self.assertIs(data["orphan"], True)

    def test_cert_login_rejections(self):
        cert, key = self.svid_files("spiffe://example.org/db", "db")
        with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
            self.server.vault(token="").auth.cert.login(cert_pem=cert, key_pem=key)
        self.assertEqual(caught.exception.errors, [
            "no chain matching all constraints could be found for this login certificate"])

        response = self.server.vault_raw("POST", "/v1/auth/cert/login", {})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json()["errors"],
                         ["invalid certificate or no client certificate supplied"])

    def test_jwt_login(self):
        client = self.server.vault(token="")
        jwt = self.jwt_svid("spiffe://example.org/web", "vault")
        auth = client.auth.jwt.jwt_login(role="web", jwt=jwt)["auth"]
        self.assertEqual(auth["policies"], ["default", "web"])
        self.assertEqual(auth["lease_duration"], 600)
        # spiffe_id names the JWT-SVID's identity, by which the server
        # finds the tokens of a workload whose identity it revokes.
        self.assertEqual(auth["metadata"], {"role": "web", "sub": "spiffe://example.org/web",
                                            "spiffe_id": "spiffe://example.org/web"})
        data = client.auth.token.lookup_self()["data"]
        self.assertEqual(data["display_name"], "jwt-spiffe://example.org/web")
        self.assertEqual(data["path"], "auth/jwt/login")

    def test_jwt_login_rejections(self):
        client = self.server.vault(token="")
        cases = [
            ("web", self.jwt_svid("spiffe://example.org/web", "other"),
             "error validating token: invalid audience (aud) claim: audience claim does not "
             "match any expected audience"),
            ("no-audience", self.jwt_svid("spiffe://example.org/web", "vault"),
             "audience claim found in JWT but no audiences bound to the role"),
            ("missing", self.jwt_svid("spiffe://example.org/web", "vault"),
             'role "missing" could not be found'),
        ]
        for role, jwt, message in cases:
            with self.subTest(role=role):
                with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
                    client.auth.jwt.jwt_login(role=role, jwt=jwt)
                self.assertEqual(caught.exception.errors, [message])


if __name__ == "__main__":
    wardenlib.main()
