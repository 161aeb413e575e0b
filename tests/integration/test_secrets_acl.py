#!/usr/bin/python3
"""ACL policies of the secrets API, driven with hvac (Debian's
python3-hvac) against a dev server: policy CRUD on sys/policy and
sys/policies/acl, tokens limited by their policies on KV v2, parameter
limits, capabilities-self, and the Rego hook from the server config."""
import os
import tempfile
import unittest

import wardenlib
from wardenlib import Server

ROOT = "root-token-for-acl-tests"

APP_POLICY = """
# Read the app's secrets, list their names.
path "secret/data/app/*" {
  capabilities = ["read", "create", "update"]
}
path "secret/metadata/app/*" { capabilities = ["list"] }
path "secret/data/app/locked" { capabilities = ["deny"] }
path "secret/data/app/limited" {
  capabilities = ["create", "update"]
  denied_parameters = { "options" = [] }
}
"""

REGO_MODULE = """package warden.secrets

default allow := false

# Root may do anything; other tokens may not touch secret/data/frozen/.
allow if "root" in input.identity.policies

allow if {
	not startswith(input.path, "secret/data/frozen/")
}
"""


def import_hvac():
    try:
        import hvac
        return hvac
    except ImportError:
        print("python3-hvac is not installed")
        raise SystemExit(77)


class AclTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hvac = import_hvac()
        cls.server = Server(dev_root_token=ROOT)
        cls.root = cls.server.vault()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def token_with(self, *policies):
        auth = self.root.auth.token.create(policies=list(policies), ttl="1h")["auth"]
        return self.server.vault(token=auth["client_token"])

    def test_policy_crud_legacy_and_acl_paths(self):
        self.root.sys.create_or_update_policy("CRUD-Legacy", APP_POLICY)
        self.assertIn("crud-legacy", self.root.sys.list_policies()["data"]["policies"])
        self.assertEqual(self.root.get_policy("crud-legacy"), APP_POLICY)
        keys = self.root.sys.list_policies()["data"]["keys"]
        self.assertEqual(keys[-1], "root")
        self.assertEqual(keys[:-1], sorted(keys[:-1]))
        self.assertIn("default", keys)

        response = self.server.vault_raw("PUT", "/v1/sys/policies/acl/crud-acl",
                                         {"policy": 'path "kv/*" { capabilities = ["list"] }'})
        self.assertEqual(response.status, 204, response)
        response = self.server.vault_raw("GET", "/v1/sys/policies/acl/crud-acl")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"],
                         {"name": "crud-acl", "policy": 'path "kv/*" { capabilities = ["list"] }'})
        response = self.server.vault_raw("LIST", "/v1/sys/policies/acl")
        self.assertIn("crud-acl", response.json()["data"]["keys"])

        response = self.server.vault_raw("DELETE", "/v1/sys/policies/acl/crud-acl")
        self.assertEqual(response.status, 204, response)
        response = self.server.vault_raw("GET", "/v1/sys/policies/acl/crud-acl")
        self.assertEqual(response.status, 404, response)
        self.assertEqual(response.json(), {"errors": []})
        self.assertIsNone(self.root.get_policy("crud-acl"))

    def test_rejections(self):
        response = self.server.vault_raw(
            "PUT", "/v1/sys/policies/acl/bad",
            {"policy": 'path "a" {\n  capabilities = ["reed"]\n}'})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": [
            'failed to parse policy: unknown capability "reed" at line 2']})
        response = self.server.vault_raw("PUT", "/v1/sys/policy/root", {"policy": 'path "a" {}'})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ['cannot update "root" policy']})
        response = self.server.vault_raw("DELETE", "/v1/sys/policy/default")
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ['cannot delete "default" policy']})

    def test_token_limited_by_policy(self):
        self.root.sys.create_or_update_policy("app", APP_POLICY)
        self.root.secrets.kv.v2.create_or_update_secret("app/db", {"password": "s3cret"})
        self.root.secrets.kv.v2.create_or_update_secret("other/db", {"password": "x"})
        self.root.secrets.kv.v2.create_or_update_secret("app/locked", {"k": "v"})
        app = self.token_with("app")

        secret = app.secrets.kv.v2.read_secret_version("app/db")
        self.assertEqual(secret["data"]["data"], {"password": "s3cret"})
        app.secrets.kv.v2.create_or_update_secret("app/new", {"k": "v"})
        self.assertIn("db", app.secrets.kv.v2.list_secrets("app/")["data"]["keys"])
        with self.assertRaises(self.hvac.exceptions.Forbidden):
            app.secrets.kv.v2.read_secret_version("other/db")
        with self.assertRaises(self.hvac.exceptions.Forbidden):
            app.secrets.kv.v2.read_secret_version("app/locked")
        with self.assertRaises(self.hvac.exceptions.Forbidden):
            app.secrets.kv.v2.delete_metadata_and_all_versions("app/db")
        with self.assertRaises(self.hvac.exceptions.Forbidden):
            app.sys.create_or_update_policy("escalate", 'path "*" { capabilities = ["sudo"] }')

        # hvac always sends "options", which this rule denies.
        with self.assertRaises(self.hvac.exceptions.Forbidden):
            app.secrets.kv.v2.create_or_update_secret("app/limited", {"k": "v"})
        response = self.server.vault_raw("POST", "/v1/secret/data/app/limited",
                                          {"data": {"k": "v"}}, token=app.token)
        self.assertEqual(response.status, 200, response)

        # A policy change applies to the next request of the same token.
        self.root.sys.create_or_update_policy("app", 'path "secret/data/other/*" { capabilities = ["read"] }')
        self.assertEqual(app.secrets.kv.v2.read_secret_version("other/db")["data"]["data"],
                         {"password": "x"})
        with self.assertRaises(self.hvac.exceptions.Forbidden):
            app.secrets.kv.v2.read_secret_version("app/db")

    def test_default_policy(self):
        # Without policies a child of root inherits root, so name "default".
        plain = self.token_with("default")
        self.assertTrue(plain.is_authenticated())
        self.assertEqual(plain.auth.token.lookup_self()["data"]["policies"], ["default"])
        with self.assertRaises(self.hvac.exceptions.Forbidden):
            plain.secrets.kv.v2.read_secret_version("app/db")

    def test_capabilities_self(self):
        self.root.sys.create_or_update_policy("caps", APP_POLICY)
        caps = self.token_with("caps")
        response = self.server.vault_raw(
            "POST", "/v1/sys/capabilities-self",
            {"paths": ["secret/data/app/x", "secret/data/app/locked", "secret/data/other"]},
            token=caps.token)
        self.assertEqual(response.status, 200, response)
        data = response.json()["data"]
        self.assertEqual(data["secret/data/app/x"], ["create", "read", "update"])
        self.assertEqual(data["secret/data/app/locked"], ["deny"])
        self.assertEqual(data["secret/data/other"], ["deny"])
        response = self.server.vault_raw("POST", "/v1/sys/capabilities-self",
                                          {"path": "secret/data/app/x"})
        self.assertEqual(response.json()["data"]["capabilities"], ["root"])

        # Another token's capabilities, by the token or by its accessor.
        response = self.server.vault_raw("POST", "/v1/sys/capabilities",
                                          {"token": caps.token, "paths": ["secret/data/app/x"]})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"]["capabilities"], ["create", "read", "update"])
        accessor = caps.auth.token.lookup_self()["data"]["accessor"]
        response = self.server.vault_raw("POST", "/v1/sys/capabilities-accessor",
                                          {"accessor": accessor, "paths": "secret/data/app/locked"})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"]["capabilities"], ["deny"])
        response = self.server.vault_raw("POST", "/v1/sys/capabilities-accessor",
                                          {"accessor": "nope", "paths": "x"})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["invalid accessor"]})


class RegoHookTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hvac = import_hvac()
        directory = tempfile.mkdtemp(prefix="warden-rego-")
        cls.module = os.path.join(directory, "secrets.rego")
        with open(cls.module, "w") as f:
            f.write(REGO_MODULE)
        config = ("identity:\n  dns_names: [localhost]\n"
                  f"secrets:\n  rego_policy: {cls.module}\n")
        cls.server = Server(dev_root_token=ROOT, config=config)
        cls.root = cls.server.vault()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        os.unlink(cls.module)
        os.rmdir(os.path.dirname(cls.module))

    def test_rego_denies_after_acl_allows(self):
        self.root.sys.create_or_update_policy("all-secrets",
                                              'path "secret/*" { capabilities = ["read", "create", "update"] }')
        self.root.secrets.kv.v2.create_or_update_secret("frozen/a", {"k": "v"})
        self.root.secrets.kv.v2.create_or_update_secret("open/a", {"k": "v"})
        auth = self.root.auth.token.create(policies=["all-secrets"], ttl="1h")["auth"]
        user = self.server.vault(token=auth["client_token"])

        self.assertEqual(user.secrets.kv.v2.read_secret_version("open/a")["data"]["data"], {"k": "v"})
        response = self.server.vault_raw("GET", "/v1/secret/data/frozen/a", token=auth["client_token"])
        # The reply says only "permission denied", as for any refusal.
        self.assertEqual(response.status, 403, response)
        self.assertEqual(response.json(), {"errors": ["permission denied"]})
        self.assertEqual(self.root.secrets.kv.v2.read_secret_version("frozen/a")["data"]["data"],
                         {"k": "v"})


if __name__ == "__main__":
    wardenlib.main()
