#!/usr/bin/python3
"""Tests of the KV secrets engine on a dev-mode server. hvac (Debian's
python3-hvac 0.11) drives KV v2 at secret/ (versions, check-and-set, soft
delete, undelete, destroy, metadata, lists) and a KV v1 mount at kv1/.
Then `warden kv` runs against both, and its output is compared exactly."""
import json
import os
import subprocess
import unittest

import hvac

import wardenlib
from wardenlib import Server

ROOT_TOKEN = "kv-test-root"
SERVER = None


def setUpModule():
    global SERVER
    SERVER = Server(dev_root_token=ROOT_TOKEN)


def tearDownModule():
    SERVER.cleanup()


class KvV2Test(unittest.TestCase):
    def setUp(self):
        self.client = SERVER.vault()
        self.kv = self.client.secrets.kv.v2

    def test_write_then_read_versions(self):
        written = self.kv.create_or_update_secret(path="v2/app", secret={"user": "admin", "n": 3})
        self.assertEqual(sorted(written["data"]), ["created_time", "custom_metadata",
                                                   "deletion_time", "destroyed", "version"])
        self.assertEqual(written["data"]["version"], 1)
        self.assertEqual(written["data"]["deletion_time"], "")
        self.assertIs(written["data"]["destroyed"], False)
        self.assertIsNone(written["data"]["custom_metadata"])
        self.assertRegex(written["data"]["created_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")
        self.assertEqual(written["lease_id"], "")

        second = self.kv.create_or_update_secret(path="v2/app", secret={"user": "root"})
        self.assertEqual(second["data"]["version"], 2)

        latest = self.kv.read_secret_version(path="v2/app")
        self.assertEqual(latest["data"]["data"], {"user": "root"})
        self.assertEqual(latest["data"]["metadata"], second["data"])
        first = self.kv.read_secret_version(path="v2/app", version=1)
        self.assertEqual(first["data"]["data"], {"user": "admin", "n": 3})
        self.assertEqual(first["data"]["metadata"], written["data"])
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path="v2/app", version=7)

    def test_missing_key_is_empty_404(self):
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path="v2/none")
        response = SERVER.vault_raw("GET", "/v1/secret/data/v2/none")
        self.assertEqual(response.status, 404, response)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        self.assertEqual(response.json(), {"errors": []})

    def test_cas_mismatch_is_invalid_request(self):
        self.kv.create_or_update_secret(path="v2/cas", secret={"a": "1"}, cas=0)
        with self.assertRaises(hvac.exceptions.InvalidRequest) as caught:
            self.kv.create_or_update_secret(path="v2/cas", secret={"a": "2"}, cas=0)
        self.assertEqual(caught.exception.errors,
                         ["check-and-set parameter did not match the current version"])
        updated = self.kv.create_or_update_secret(path="v2/cas", secret={"a": "2"}, cas=1)
        self.assertEqual(updated["data"]["version"], 2)

        # hvac's patch reads, merges and writes back with cas.
        patched = self.kv.patch(path="v2/cas", secret={"b": "3"})
        self.assertEqual(patched["data"]["version"], 3)
        self.assertEqual(self.kv.read_secret_version(path="v2/cas")["data"]["data"],
                         {"a": "2", "b": "3"})

    def test_delete_undelete_destroy(self):
        self.kv.create_or_update_secret(path="v2/del", secret={"v": "1"})
        self.kv.create_or_update_secret(path="v2/del", secret={"v": "2"})

        self.assertEqual(self.kv.delete_latest_version_of_secret(path="v2/del").status_code, 204)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path="v2/del")
        response = SERVER.vault_raw("GET", "/v1/secret/data/v2/del")
        self.assertEqual(response.status, 404, response)
        body = response.json()
        self.assertIsNone(body["data"]["data"])
        self.assertEqual(body["data"]["metadata"]["version"], 2)
        self.assertNotEqual(body["data"]["metadata"]["deletion_time"], "")
        self.assertIs(body["data"]["metadata"]["destroyed"], False)
        self.assertNotIn("errors", body)

        self.assertEqual(self.kv.undelete_secret_versions(path="v2/del", versions=[2]).status_code,
                         204)
        restored = self.kv.read_secret_version(path="v2/del")
        self.assertEqual(restored["data"]["data"], {"v": "2"})
        self.assertEqual(restored["data"]["metadata"]["deletion_time"], "")

        self.assertEqual(self.kv.delete_secret_versions(path="v2/del", versions=[1]).status_code,
                         204)
        self.assertEqual(SERVER.vault_raw("GET", "/v1/secret/data/v2/del?version=1").status, 404)

        self.assertEqual(self.kv.destroy_secret_versions(path="v2/del", versions=[1]).status_code,
                         204)
        response = SERVER.vault_raw("GET", "/v1/secret/data/v2/del?version=1")
        self.assertEqual(response.status, 404, response)
        self.assertIs(response.json()["data"]["metadata"]["destroyed"], True)
        # A destroyed version cannot come back.
        self.kv.undelete_secret_versions(path="v2/del", versions=[1])
        self.assertEqual(SERVER.vault_raw("GET", "/v1/secret/data/v2/del?version=1").status, 404)

        # hvac checks the list itself, so send an empty one raw.
        response = SERVER.vault_raw("POST", "/v1/secret/destroy/v2/del", {"versions": []})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["no version number provided"]})
        response = SERVER.vault_raw("POST", "/v1/secret/undelete/v2/del", {})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["No version number provided"]})

    def test_metadata_read_update_and_delete(self):
        self.kv.create_or_update_secret(path="v2/meta", secret={"a": "1"})
        metadata = self.kv.read_secret_metadata(path="v2/meta")["data"]
        self.assertEqual(sorted(metadata), ["cas_required", "created_time", "current_version",
                                            "custom_metadata", "delete_version_after",
                                            "max_versions", "oldest_version", "updated_time",
                                            "versions"])
        self.assertEqual(metadata["current_version"], 1)
        self.assertEqual(metadata["oldest_version"], 0)
        self.assertEqual(metadata["max_versions"], 0)
        self.assertEqual(metadata["delete_version_after"], "0s")
        self.assertIs(metadata["cas_required"], False)
        self.assertEqual(list(metadata["versions"]), ["1"])
        self.assertEqual(metadata["versions"]["1"]["deletion_time"], "")

        self.assertEqual(self.kv.update_metadata(path="v2/meta", max_versions=2).status_code, 204)
        for value in ("2", "3", "4"):
            self.kv.create_or_update_secret(path="v2/meta", secret={"a": value})
        metadata = self.kv.read_secret_metadata(path="v2/meta")["data"]
        self.assertEqual(metadata["max_versions"], 2)
        self.assertEqual(metadata["current_version"], 4)
        self.assertEqual(metadata["oldest_version"], 3)
        self.assertEqual(sorted(metadata["versions"]), ["3", "4"])
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path="v2/meta", version=2)

        self.assertEqual(self.kv.delete_metadata_and_all_versions(path="v2/meta").status_code, 204)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_metadata(path="v2/meta")
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret_version(path="v2/meta")

    def test_list_secrets(self):
        for path in ("v2list/a", "v2list/b/c", "v2list/b/d"):
            self.kv.create_or_update_secret(path=path, secret={"x": "1"})
        self.assertEqual(self.kv.list_secrets(path="v2list")["data"], {"keys": ["a", "b/"]})
        self.assertEqual(self.kv.list_secrets(path="v2list/b")["data"], {"keys": ["c", "d"]})
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.list_secrets(path="v2list/none")
        # The ?list=true form lists too.
        response = SERVER.vault_raw("GET", "/v1/secret/metadata/v2list?list=true")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"], {"keys": ["a", "b/"]})

    def test_list_mount_root(self):
        # hvac strips the trailing '/' of the folder; the server adds it.
        self.kv.create_or_update_secret(path="rootlist", secret={"x": "1"})
        self.assertIn("rootlist", self.kv.list_secrets(path="")["data"]["keys"])

    def test_engine_configuration(self):
        self.kv.configure(max_versions=5, cas_required=False, mount_point="secret")
        config = self.kv.read_configuration()["data"]
        self.assertEqual(config, {"max_versions": 5, "cas_required": False,
                                  "delete_version_after": "0s"})
        self.kv.configure(max_versions=0, cas_required=False)
        self.assertEqual(self.kv.read_configuration()["data"]["max_versions"], 0)

    def test_patch_is_a_merge_patch(self):
        self.kv.create_or_update_secret(path="v2/patch", secret={"a": "1", "b": {"c": "2"}})
        response = SERVER.vault_raw("PATCH", "/v1/secret/data/v2/patch",
                                    {"data": {"b": {"c": None, "d": "3"}}},
                                    headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"]["version"], 2)
        self.assertEqual(self.kv.read_secret_version(path="v2/patch")["data"]["data"],
                         {"a": "1", "b": {"d": "3"}})

        response = SERVER.vault_raw("GET", "/v1/secret/subkeys/v2/patch")
        self.assertEqual(response.status, 200, response)
        self.assertEqual(response.json()["data"]["subkeys"], {"a": None, "b": {"d": None}})

    def test_create_needs_create_capability(self):
        # A token that may create but not update: the existence check makes
        # a first write a create and the second one an update.
        self.client.sys.create_or_update_policy(
            name="kv-create-only",
            policy='path "secret/data/v2create/*" { capabilities = ["create", "read"] }')
        token = self.client.auth.token.create(policies=["kv-create-only"])["auth"]["client_token"]
        limited = SERVER.vault(token=token).secrets.kv.v2

        limited.create_or_update_secret(path="v2create/x", secret={"a": "1"})
        with self.assertRaises(hvac.exceptions.Forbidden):
            limited.create_or_update_secret(path="v2create/x", secret={"a": "2"})
        self.assertEqual(limited.read_secret_version(path="v2create/x")["data"]["data"],
                         {"a": "1"})

    def test_bad_requests_are_rejected(self):
        response = SERVER.vault_raw("POST", "/v1/secret/data/v2/../x", {"data": {"a": "1"}})
        self.assertEqual(response.status, 400, response)
        response = SERVER.vault_raw("POST", "/v1/secret/data/v2/" + "k" * 1100, {"data": {}})
        self.assertEqual(response.status, 400, response)
        response = SERVER.vault_raw("POST", "/v1/secret/data/v2/nodata", {"options": {}})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["no data provided"]})


class KvV1Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        client = SERVER.vault()
        client.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})

    def setUp(self):
        self.kv = SERVER.vault().secrets.kv.v1

    def test_write_read_list_delete(self):
        response = self.kv.create_or_update_secret(path="app/db", mount_point="kv1",
                                                   secret={"user": "admin", "ttl": "30m"})
        self.assertEqual(response.status_code, 204)
        read = self.kv.read_secret(path="app/db", mount_point="kv1")
        self.assertEqual(read["data"], {"user": "admin", "ttl": "30m"})
        self.assertEqual(read["lease_duration"], 1800)
        self.assertEqual(read["lease_id"], "")
        self.assertIs(read["renewable"], False)

        self.kv.create_or_update_secret(path="app/plain", mount_point="kv1", secret={"k": "v"})
        self.assertEqual(self.kv.read_secret(path="app/plain", mount_point="kv1")["lease_duration"],
                         2764800)
        self.assertEqual(self.kv.list_secrets(path="app", mount_point="kv1")["data"],
                         {"keys": ["db", "plain"]})

        self.assertEqual(self.kv.delete_secret(path="app/db", mount_point="kv1").status_code, 204)
        with self.assertRaises(hvac.exceptions.InvalidPath):
            self.kv.read_secret(path="app/db", mount_point="kv1")

    def test_empty_write_is_rejected(self):
        response = SERVER.vault_raw("PUT", "/v1/kv1/empty", {})
        self.assertEqual(response.status, 400, response)
        self.assertEqual(response.json(), {"errors": ["missing data fields"]})


class KvCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        client = SERVER.vault()
        if "kvcli1/" not in client.sys.list_mounted_secrets_engines()["data"]:
            client.sys.enable_secrets_engine("kv", path="kvcli1", options={"version": "1"})

    def setUp(self):
        self.client = SERVER.vault()
        self.env = dict(os.environ, VAULT_ADDR=SERVER.vault_url, VAULT_CACERT=SERVER.bundle_path,
                        VAULT_TOKEN=ROOT_TOKEN)

    def kv(self, *args, stdin=None):
        return subprocess.run([wardenlib.WARDEN, "kv", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=30)

    def assert_output(self, result, stdout, stderr="", code=0):
        self.assertEqual(result.stdout, stdout)
        self.assertEqual(result.stderr, stderr)
        self.assertEqual(result.returncode, code)

    def test_put_and_get_v2_tables(self):
        password = SERVER.write("password.txt", "hunter2")
        result = self.kv("put", "secret/cli/app", "user=admin", f"password=@{password}")
        metadata = self.client.secrets.kv.v2.read_secret_metadata(path="cli/app")["data"]
        created = metadata["versions"]["1"]["created_time"]
        self.assert_output(result,
                           "=== Secret Path ===\n"
                           "secret/data/cli/app\n"
                           "\n"
                           "======= Metadata =======\n"
                           "Key                Value\n"
                           "---                -----\n"
                           f"created_time       {created}\n"
                           "custom_metadata    <nil>\n"
                           "deletion_time      n/a\n"
                           "destroyed          false\n"
                           "version            1\n")

        self.assert_output(self.kv("get", "secret/cli/app"),
                           "=== Secret Path ===\n"
                           "secret/data/cli/app\n"
                           "\n"
                           "======= Metadata =======\n"
                           "Key                Value\n"
                           "---                -----\n"
                           f"created_time       {created}\n"
                           "custom_metadata    <nil>\n"
                           "deletion_time      n/a\n"
                           "destroyed          false\n"
                           "version            1\n"
                           "\n"
                           "====== Data ======\n"
                           "Key         Value\n"
                           "---         -----\n"
                           "password    hunter2\n"
                           "user        admin\n")

        # --mount with the key, and the vault CLI's single-dash spelling.
        self.assertEqual(self.kv("get", "-mount=secret", "cli/app").stdout,
                         self.kv("get", "secret/cli/app").stdout)

    def test_get_json_format(self):
        self.client.secrets.kv.v2.create_or_update_secret(path="cli/json", secret={"k": "<v>"})
        result = self.kv("get", "-format=json", "secret/cli/json")
        self.assertEqual(result.returncode, 0, result.stderr)
        pairs = json.loads(result.stdout, object_pairs_hook=lambda items: items)
        self.assertEqual([key for key, _ in pairs],
                         ["request_id", "lease_id", "lease_duration", "renewable", "data",
                          "warnings"])
        body = json.loads(result.stdout)
        self.assertEqual(body["data"]["data"], {"k": "<v>"})
        self.assertEqual(body["data"]["metadata"]["version"], 1)
        self.assertIsNone(body["warnings"])
        # Go's encoder escapes <, > and &, and indents by two spaces.
        self.assertIn('      "k": "\\u003cv\\u003e"\n', result.stdout)

    def test_versions_commands(self):
        kv2 = self.client.secrets.kv.v2
        kv2.create_or_update_secret(path="cli/ver", secret={"v": "1"})
        kv2.create_or_update_secret(path="cli/ver", secret={"v": "2"})

        self.assert_output(self.kv("delete", "secret/cli/ver"),
                           "Success! Data deleted (if it existed) at: secret/data/cli/ver\n")
        deleted = kv2.read_secret_metadata(path="cli/ver")["data"]["versions"]["2"]
        self.assertNotEqual(deleted["deletion_time"], "")

        # A deleted version prints its metadata only, as vault kv get does.
        result = self.kv("get", "secret/cli/ver")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"deletion_time      {deleted['deletion_time']}\n", result.stdout)
        self.assertNotIn("Data", result.stdout)

        self.assert_output(self.kv("undelete", "--versions", "2", "secret/cli/ver"),
                           "Success! Data written to: secret/undelete/cli/ver\n")
        self.assertEqual(kv2.read_secret_version(path="cli/ver")["data"]["data"], {"v": "2"})

        self.assert_output(self.kv("destroy", "-versions=1", "secret/cli/ver"),
                           "Success! Data written to: secret/destroy/cli/ver\n")
        self.assertIs(kv2.read_secret_metadata(path="cli/ver")["data"]["versions"]["1"]["destroyed"],
                      True)

        self.assert_output(self.kv("undelete", "secret/cli/ver"), "",
                           "warden kv undelete: missing --versions: name the versions to "
                           "undelete\nRun 'warden kv undelete --help' for its options.\n", 2)

    def test_list_and_metadata(self):
        kv2 = self.client.secrets.kv.v2
        kv2.create_or_update_secret(path="cli/list/a", secret={"x": "1"})
        kv2.create_or_update_secret(path="cli/list/sub/b", secret={"x": "1"})
        self.assert_output(self.kv("list", "secret/cli/list"), "Keys\n----\na\nsub/\n")
        self.assert_output(self.kv("list", "-format=json", "secret/cli/list/"),
                           '[\n  "a",\n  "sub/"\n]\n')
        self.assert_output(self.kv("list", "secret/cli/none"), "",
                           "warden kv list: no value found at secret/metadata/cli/none/\n", 1)

        self.assert_output(self.kv("metadata", "put", "--max-versions", "3", "--custom-metadata",
                                   "owner=ops", "secret/cli/list/a"),
                           "Success! Data written to: secret/metadata/cli/list/a\n")
        metadata = kv2.read_secret_metadata(path="cli/list/a")["data"]
        self.assertEqual(metadata["custom_metadata"], {"owner": "ops"})
        created = metadata["created_time"]
        updated = metadata["updated_time"]
        self.assert_output(self.kv("metadata", "get", "secret/cli/list/a"),
                           "====== Metadata Path ======\n"
                           "secret/metadata/cli/list/a\n"
                           "\n"
                           "========== Metadata ==========\n"
                           "Key                     Value\n"
                           "---                     -----\n"
                           "cas_required            false\n"
                           f"created_time            {created}\n"
                           "current_version         1\n"
                           "custom_metadata         map[owner:ops]\n"
                           "delete_version_after    0s\n"
                           "max_versions            3\n"
                           "oldest_version          0\n"
                           f"updated_time            {updated}\n"
                           "\n"
                           "====== Version 1 ======\n"
                           "Key              Value\n"
                           "---              -----\n"
                           f"created_time     {created}\n"
                           "deletion_time    n/a\n"
                           "destroyed        false\n")

        self.assert_output(self.kv("metadata", "delete", "secret/cli/list/a"),
                           "Success! Data deleted (if it existed) at: secret/metadata/cli/list/a\n")
        self.assert_output(self.kv("metadata", "get", "secret/cli/list/a"), "",
                           "warden kv metadata get: no value found at "
                           "secret/metadata/cli/list/a\n", 1)

    def test_errors(self):
        self.assert_output(self.kv("get", "secret/cli/missing"), "",
                           "warden kv get: no value found at secret/data/cli/missing\n", 1)
        self.client.secrets.kv.v2.create_or_update_secret(path="cli/cas", secret={"a": "1"})
        self.assert_output(self.kv("put", "--cas", "0", "secret/cli/cas", "a=2"), "",
                           "warden kv put: the server returned 400: check-and-set parameter "
                           "did not match the current version\n", 1)
        self.assert_output(self.kv("get", "nomount/x"), "",
                           "warden kv get: no mount at nomount/x\n", 1)
        self.assert_output(self.kv("get", "sys/x"), "",
                           "warden kv get: sys/ is a system mount, not a KV mount\n", 1)
        self.assert_output(self.kv("put", "secret/cli/bad", "novalue"), "",
                           "warden kv put: invalid data argument 1: expected key=value, "
                           "key=@file, key=-, @file or -\n"
                           "Run 'warden kv put --help' for its options.\n", 2)
        self.assert_output(self.kv("put", "secret/cli/bad"), "",
                           "warden kv put: missing data: give KEY=VALUE, KEY=@FILE, @FILE or - "
                           "after PATH\nRun 'warden kv put --help' for its options.\n", 2)
        self.assert_output(self.kv("get", "--token", "bad-token", "secret/cli/cas"), "",
                           "warden kv get: the server returned 403: permission denied\n", 1)

    def test_kv_version_skips_mount_lookup(self):
        # A token that may read the secret but not sys/mounts.
        self.client.sys.create_or_update_policy(
            name="kv-cli-reader", policy='path "secret/data/cli/lim" { capabilities = ["read"] }')
        token = self.client.auth.token.create(policies=["kv-cli-reader"])["auth"]["client_token"]
        self.client.secrets.kv.v2.create_or_update_secret(path="cli/lim", secret={"a": "1"})
        self.env["VAULT_TOKEN"] = token

        self.assert_output(self.kv("get", "secret/cli/lim"), "",
                           "warden kv get: the server returned 403: permission denied\n", 1)
        result = self.kv("get", "--kv-version", "2", "secret/cli/lim")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.endswith("== Data ==\nKey    Value\n---    -----\na      1\n"),
                        result.stdout)
        result = self.kv("get", "--kv-version", "2", "--mount", "secret", "cli/lim")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_put_from_stdin(self):
        result = self.kv("put", "secret/cli/stdin", "-", stdin='{"a": "1", "b": {"c": 2}}')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(
            self.client.secrets.kv.v2.read_secret_version(path="cli/stdin")["data"]["data"],
            {"a": "1", "b": {"c": 2}})
        result = self.kv("get", "secret/cli/stdin")
        self.assertTrue(result.stdout.endswith("== Data ==\n"
                                               "Key    Value\n"
                                               "---    -----\n"
                                               "a      1\n"
                                               "b      map[c:2]\n"), result.stdout)

    def test_v1_mount(self):
        self.assert_output(self.kv("put", "kvcli1/app", "a=b", "ttl=1h"),
                           "Success! Data written to: kvcli1/app\n")
        self.assert_output(self.kv("get", "kvcli1/app"),
                           "=== Data ===\n"
                           "Key    Value\n"
                           "---    -----\n"
                           "a      b\n"
                           "ttl    1h\n")
        result = self.kv("get", "--format", "json", "kvcli1/app")
        self.assertEqual(json.loads(result.stdout)["lease_duration"], 3600)
        self.assert_output(self.kv("list", "kvcli1"), "Keys\n----\napp\n")
        self.assert_output(self.kv("delete", "kvcli1/app"),
                           "Success! Data deleted (if it existed) at: kvcli1/app\n")
        self.assert_output(self.kv("get", "kvcli1/app"), "",
                           "warden kv get: no value found at kvcli1/app\n", 1)
        self.assert_output(self.kv("destroy", "--versions", "1", "kvcli1/app"), "",
                           "warden kv destroy: kvcli1/ is a KV v1 mount, which keeps no "
                           "versions\n", 1)


if __name__ == "__main__":
    wardenlib.main()
