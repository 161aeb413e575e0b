#!/usr/bin/python3
"""Integration tests of `warden scan` against a database directory of OSV
records that the test writes. One fixture root filesystem has a dpkg status
whose binary packages are built from differently named or versioned source
packages, and a second one also has a Python and an npm package. The other
targets are SBOM files with deb, pypi and npm purls as warden and Syft
write them. The tests assert the exact table, JSON and SARIF output, the
exit codes of --fail-on, and the ignore file with entries in force and
expired.

SARIF_SCHEMA_FILE may name the official SARIF 2.1.0 JSON schema; without it
the SARIF log is checked against the required fields only, and the test of
the full schema skips with the reason."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import jsonschema

WARDEN = os.path.abspath(os.environ.get("WARDEN", "build/warden"))
SARIF_SCHEMA_FILE = os.environ.get("SARIF_SCHEMA_FILE", "")

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'

STATUS = """Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: bash
Status: install ok installed
Architecture: amd64
Source: bash (5.2.15-2)
Version: 5.2.15-2+b8

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2

Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5
"""

CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
MEDIUM_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"

# path under the database directory -> record
RECORDS = {
    # zlib1g is built from zlib: matched by the source name, fix known.
    "debian/DEBIAN-CVE-2023-45853.json": {
        "schema_version": "1.6.0", "id": "DEBIAN-CVE-2023-45853",
        "modified": "2024-01-10T00:00:00Z", "aliases": ["CVE-2023-45853"],
        "summary": "zlib: integer overflow in zipOpenNewFileInZip4_6",
        "severity": [{"type": "CVSS_V3", "score": CRITICAL_VECTOR}],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "0"}, {"fixed": "1:1.2.13.dfsg-2"}]}]}],
    },
    # bash 5.2.15-2+b8 is a rebuild of source 5.2.15-2: last_affected
    # matches the source version, which the binary version is above.
    "debian/DEBIAN-CVE-2022-3715.json": {
        "id": "DEBIAN-CVE-2022-3715", "modified": "2024-01-10T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "bash"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "0"}, {"last_affected": "5.2.15-2"}]}],
                      "ecosystem_specific": {"urgency": "unimportant"}}],
    },
    # Debian 11 only.
    "debian/DEBIAN-CVE-2099-0001.json": {
        "id": "DEBIAN-CVE-2099-0001", "modified": "2024-01-10T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:11", "name": "openssl"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
    },
    # Fixed in exactly the installed version.
    "debian/DEBIAN-CVE-2099-0002.json": {
        "id": "DEBIAN-CVE-2099-0002", "modified": "2024-01-10T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]}],
    },
    # Withdrawn: never matched.
    "debian/DEBIAN-CVE-2099-0003.json": {
        "id": "DEBIAN-CVE-2099-0003", "modified": "2024-01-10T00:00:00Z",
        "withdrawn": "2024-01-11T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "base-files"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
    },
    "pypi/GHSA-test-pyyaml.json": {
        "id": "GHSA-test-pyyaml", "modified": "2024-01-10T00:00:00Z",
        "aliases": ["CVE-2020-14343"], "summary": "PyYAML full_load runs arbitrary code",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "pyyaml"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "0"}, {"fixed": "5.4"}]}]}],
        "database_specific": {"severity": "CRITICAL"},
    },
    "npm/GHSA-test-semver.json": {
        "id": "GHSA-test-semver", "modified": "2024-01-10T00:00:00Z",
        "summary": "semver regular expression denial of service",
        "severity": [{"type": "CVSS_V3", "score": MEDIUM_VECTOR}],
        "affected": [{"package": {"ecosystem": "npm", "name": "semver"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [
                          {"introduced": "7.0.0"}, {"fixed": "7.5.2"}]}]}],
    },
    # Only a GIT range: counted, nothing to match.
    "oss-fuzz/OSV-2099-1.json": {
        "id": "OSV-2099-1", "modified": "2024-01-10T00:00:00Z",
        "affected": [{"package": {"ecosystem": "OSS-Fuzz", "name": "zlib"},
                      "ranges": [{"type": "GIT", "repo": "https://example.org/zlib.git",
                                  "events": [{"introduced": "a" * 40}]}]}],
    },
}

# Language packages the Python and npm catalogers find in a root.
PYYAML_METADATA = "Metadata-Version: 2.1\nName: PyYAML\nVersion: 5.3\nLicense: MIT\n\nYAML parser\n"
SEMVER_PACKAGE = {"name": "semver", "version": "7.5.1", "license": "ISC"}

BAD_RECORD = '{"id": "BAD-1", "modified": "2024-01-10T00:00:00Z", "affected": {}}'

# A CycloneDX document the way Syft writes one: components with purls and
# syft:location properties, and the distribution as an operating-system
# component.
SYFT_CYCLONEDX = {
    "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
    "serialNumber": "urn:uuid:6b5a1b5e-0000-4000-8000-000000000000",
    "metadata": {"timestamp": "2024-01-10T00:00:00Z",
                 "tools": {"components": [{"type": "application", "author": "anchore",
                                           "name": "syft", "version": "1.0.0"}]},
                 "component": {"bom-ref": "t", "type": "container", "name": "image"}},
    "components": [
        {"bom-ref": "pkg:pypi/PyYAML@5.3?package-id=1", "type": "library", "name": "PyYAML",
         "version": "5.3", "purl": "pkg:pypi/PyYAML@5.3",
         "properties": [{"name": "syft:package:type", "value": "python"},
                        {"name": "syft:location:0:path",
                         "value": "/usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA"}]},
        {"bom-ref": "pkg:npm/semver@7.5.1?package-id=2", "type": "library", "name": "semver",
         "version": "7.5.1", "purl": "pkg:npm/semver@7.5.1",
         "properties": [{"name": "syft:location:0:path",
                         "value": "/app/node_modules/semver/package.json"}]},
        {"bom-ref": "pkg:npm/semver@7.5.2?package-id=3", "type": "library", "name": "semver",
         "version": "7.5.2", "purl": "pkg:npm/semver@7.5.2"},
        {"bom-ref": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?package-id=4", "type": "library",
         "name": "zlib1g", "version": "1:1.2.13.dfsg-1",
         "purl": "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib&distro=debian-12"},
        {"bom-ref": "cargo", "type": "library", "name": "smallvec", "version": "1.6.0",
         "purl": "pkg:cargo/smallvec@1.6.0"},
        {"bom-ref": "os", "type": "operating-system", "name": "debian", "version": "12"},
    ],
}

# The required fields of a SARIF 2.1.0 log, result and rule, plus the
# shapes warden promises. The official schema is not in this repository,
# so SARIF_SCHEMA_FILE adds it when it names a copy.
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs", "$schema"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {
                    "driver": {"type": "object", "required": ["name", "rules"], "properties": {
                        "name": {"type": "string"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id", "shortDescription"],
                            "properties": {"id": {"type": "string"},
                                           "shortDescription": {"type": "object",
                                                                "required": ["text"]}}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["ruleId", "ruleIndex", "level", "message", "locations"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": 0},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": {"type": "object", "required": ["text"]},
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"],
                            "properties": {"physicalLocation": {
                                "type": "object", "required": ["artifactLocation"],
                                "properties": {"artifactLocation": {
                                    "type": "object", "required": ["uri"],
                                    "properties": {"uri": {"type": "string"}}}}}}}}}}},
            }}},
    },
}


def warden_version():
    return subprocess.run([WARDEN, "version"], capture_output=True, text=True,
                          check=True).stdout.split()[1]


def make_root(root, with_apps):
    """Write a Debian 12 root with the dpkg status, and with a Python and an
    npm package when with_apps is set."""
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(os.path.join(root, "var", "lib", "dpkg"))
    with open(os.path.join(root, "etc", "os-release"), "w") as f:
        f.write(OS_RELEASE)
    with open(os.path.join(root, "var", "lib", "dpkg", "status"), "w") as f:
        f.write(STATUS)
    if not with_apps:
        return
    dist_info = os.path.join(root, "usr", "lib", "python3", "dist-packages", "PyYAML-5.3.dist-info")
    os.makedirs(dist_info)
    with open(os.path.join(dist_info, "METADATA"), "w") as f:
        f.write(PYYAML_METADATA)
    package_dir = os.path.join(root, "app", "node_modules", "semver")
    os.makedirs(package_dir)
    with open(os.path.join(package_dir, "package.json"), "w") as f:
        json.dump(SEMVER_PACKAGE, f)


class ScanTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wd-scan-")
        make_root(os.path.join(self.tmp, "rootfs"), False)
        make_root(os.path.join(self.tmp, "rootfs-apps"), True)
        for path, record in RECORDS.items():
            full = os.path.join(self.tmp, "db", path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                json.dump(record, f)
        with open(os.path.join(self.tmp, "db", "debian", "bad.json"), "w") as f:
            f.write(BAD_RECORD)
        with open(os.path.join(self.tmp, "syft.cdx.json"), "w") as f:
            json.dump(SYFT_CYCLONEDX, f)
        self.version = warden_version()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def scan(self, *args, expect=0):
        """Run warden scan in the temporary directory; return (stdout, stderr)."""
        result = subprocess.run([WARDEN, "scan", *args], cwd=self.tmp, capture_output=True,
                                text=True, check=False)
        if result.returncode != expect:
            raise AssertionError("warden scan %s exited %d, expected %d: %s" % (
                " ".join(args), result.returncode, expect, result.stderr))
        return result.stdout, result.stderr

    def write_ignore(self, expires):
        path = os.path.join(self.tmp, "ignore.json")
        with open(path, "w") as f:
            json.dump({"ignore": [{"id": "CVE-2023-45853", "package": "zlib",
                                   "reason": "minizip is not built", "expires": expires}]}, f)
        return "ignore.json"

    # -- the directory target -------------------------------------------

    def test_table(self):
        out, err = self.scan("rootfs", "--db", "db")
        self.assertEqual(out,
                         "NAME    INSTALLED        FIXED-IN         TYPE  VULNERABILITY          SEVERITY\n"
                         "bash    5.2.15-2+b8                       deb   DEBIAN-CVE-2022-3715   negligible\n"
                         "zlib1g  1:1.2.13.dfsg-1  1:1.2.13.dfsg-2  deb   DEBIAN-CVE-2023-45853  critical\n")
        self.assertEqual(err, "warden scan: warning: db/debian/bad.json: record skipped: "
                              "affected: expected an array\n")

    def test_json(self):
        out, _ = self.scan("rootfs", "--db", "db", "-o", "json")
        zlib_purl = "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib"
        bash_purl = ("pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12"
                     "&upstream=bash%405.2.15-2")
        expected = {
            "tool": {"name": "warden", "version": self.version},
            "target": {"name": "rootfs", "kind": "directory",
                       "distro": {"id": "debian", "version_id": "12"},
                       "packages": 4, "packages_queried": 4},
            "database": {
                "path": "db", "files": 9, "records": 8, "withdrawn": 1, "skipped": 1,
                "superseded": 0, "git_ranges_ignored": 1, "unusable_ranges": 0,
                "problems": [{"path": "debian/bad.json", "message": "affected: expected an array",
                              "skipped": True}],
                "problems_total": 1,
            },
            "matches": [
                {
                    "vulnerability": {
                        "id": "DEBIAN-CVE-2022-3715", "aliases": [], "summary": None,
                        "modified": "2024-01-10T00:00:00Z",
                        "source": "debian/DEBIAN-CVE-2022-3715.json",
                        "severity": "negligible", "cvss_score": None, "cvss_vector": None,
                        "severity_source": "ecosystem_specific.urgency",
                    },
                    "package": {"name": "bash", "version": "5.2.15-2+b8", "type": "deb",
                                "purl": bash_purl, "location": "/var/lib/dpkg/status"},
                    "matched": {"ecosystem": "Debian:12", "name": "bash", "version": "5.2.15-2",
                                "by": "range"},
                    "fixed_version": None,
                },
                {
                    "vulnerability": {
                        "id": "DEBIAN-CVE-2023-45853", "aliases": ["CVE-2023-45853"],
                        "summary": "zlib: integer overflow in zipOpenNewFileInZip4_6",
                        "modified": "2024-01-10T00:00:00Z",
                        "source": "debian/DEBIAN-CVE-2023-45853.json",
                        "severity": "critical", "cvss_score": 9.8, "cvss_vector": CRITICAL_VECTOR,
                        "severity_source": "severity CVSS_V3",
                    },
                    "package": {"name": "zlib1g", "version": "1:1.2.13.dfsg-1", "type": "deb",
                                "purl": zlib_purl, "location": "/var/lib/dpkg/status"},
                    "matched": {"ecosystem": "Debian:12", "name": "zlib",
                                "version": "1:1.2.13.dfsg-1", "by": "range"},
                    "fixed_version": "1:1.2.13.dfsg-2",
                },
            ],
            "ignored": [],
            "expired_ignores": [],
            "warnings": [],
            "warnings_total": 0,
        }
        self.assertEqual(json.loads(out), expected)
        # Keys sorted and indented, numbers short.
        self.assertIn('  "database": {\n    "files": 9,', out)
        self.assertIn('"cvss_score": 9.8,', out)

    def test_sarif(self):
        out, _ = self.scan("rootfs", "--db", "db", "-o", "sarif")
        log = json.loads(out)
        jsonschema.validate(log, SARIF_REQUIRED)
        expected_rules = [
            {"id": "DEBIAN-CVE-2022-3715",
             "shortDescription": {"text": "DEBIAN-CVE-2022-3715"},
             "helpUri": "https://osv.dev/vulnerability/DEBIAN-CVE-2022-3715",
             "defaultConfiguration": {"level": "note"},
             "properties": {"tags": ["security", "vulnerability", "negligible"]}},
            {"id": "DEBIAN-CVE-2023-45853",
             "shortDescription": {"text": "zlib: integer overflow in zipOpenNewFileInZip4_6"},
             "helpUri": "https://osv.dev/vulnerability/DEBIAN-CVE-2023-45853",
             "defaultConfiguration": {"level": "error"},
             "properties": {"tags": ["security", "vulnerability", "critical"],
                            "security-severity": "9.8"}},
        ]

        def location(name, purl):
            return [{"physicalLocation": {"artifactLocation": {"uri": "var/lib/dpkg/status"}},
                     "logicalLocations": [{"name": name, "kind": "package",
                                           "fullyQualifiedName": purl}]}]

        expected_results = [
            {"ruleId": "DEBIAN-CVE-2022-3715", "ruleIndex": 0, "level": "note",
             "message": {"text": "bash 5.2.15-2+b8 (deb) is affected by DEBIAN-CVE-2022-3715 "
                                 "(negligible); no fix is known."},
             "locations": location("bash", "pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&"
                                           "distro=debian-12&upstream=bash%405.2.15-2")},
            {"ruleId": "DEBIAN-CVE-2023-45853", "ruleIndex": 1, "level": "error",
             "message": {"text": "zlib1g 1:1.2.13.dfsg-1 (deb) is affected by "
                                 "DEBIAN-CVE-2023-45853 (critical); fixed in 1:1.2.13.dfsg-2."},
             "locations": location("zlib1g", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&"
                                             "distro=debian-12&upstream=zlib")},
        ]
        self.assertEqual(log, {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "warden", "version": self.version,
                                          "semanticVersion": self.version,
                                          "rules": expected_rules}},
                      "results": expected_results}],
        })

    def test_language_packages_in_root(self):
        out, _ = self.scan("rootfs-apps", "--db", "db", "--fail-on", "critical", expect=1)
        self.assertEqual(out,
                         "NAME    INSTALLED        FIXED-IN         TYPE    VULNERABILITY          SEVERITY\n"
                         "PyYAML  5.3              5.4              python  GHSA-test-pyyaml       critical\n"
                         "bash    5.2.15-2+b8                       deb     DEBIAN-CVE-2022-3715   negligible\n"
                         "semver  7.5.1            7.5.2            npm     GHSA-test-semver       medium\n"
                         "zlib1g  1:1.2.13.dfsg-1  1:1.2.13.dfsg-2  deb     DEBIAN-CVE-2023-45853  critical\n")
        report = json.loads(self.scan("rootfs-apps", "--db", "db", "-o", "json")[0])
        self.assertEqual(report["target"]["packages"], 6)
        pyyaml, semver = report["matches"][0], report["matches"][2]
        self.assertEqual(pyyaml["package"], {
            "name": "PyYAML", "version": "5.3", "type": "python", "purl": "pkg:pypi/pyyaml@5.3",
            "location": "/usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA"})
        # The record names "pyyaml": PyPI names compare after PEP 503
        # normalization.
        self.assertEqual(pyyaml["matched"], {"ecosystem": "PyPI", "name": "PyYAML",
                                             "version": "5.3", "by": "range"})
        self.assertEqual(semver["package"]["location"], "/app/node_modules/semver/package.json")
        self.assertEqual(semver["vulnerability"]["cvss_score"], 5.3)
        sarif = json.loads(self.scan("rootfs-apps", "--db", "db", "-o", "sarif")[0])
        jsonschema.validate(sarif, SARIF_REQUIRED)
        self.assertEqual([(r["ruleId"], r["ruleIndex"]) for r in sarif["runs"][0]["results"]],
                         [("GHSA-test-pyyaml", 2), ("DEBIAN-CVE-2022-3715", 0),
                          ("GHSA-test-semver", 3), ("DEBIAN-CVE-2023-45853", 1)])

    def test_sarif_official_schema(self):
        if not SARIF_SCHEMA_FILE:
            self.skipTest("SARIF_SCHEMA_FILE does not name the SARIF 2.1.0 JSON schema")
        with open(SARIF_SCHEMA_FILE) as f:
            schema = json.load(f)
        out, _ = self.scan("rootfs", "--db", "db", "-o", "sarif")
        jsonschema.validate(json.loads(out), schema)

    def test_fail_on_exit_codes(self):
        self.scan("rootfs", "--db", "db", "--fail-on", "critical", expect=1)
        self.scan("rootfs", "--db", "db", "--fail-on", "HIGH", expect=1)
        self.scan("rootfs", "--db", "db", "--fail-on", "negligible", expect=1)
        # Without the zlib match, only bash's negligible one is left.
        ignore = self.write_ignore("2999-12-31")
        self.scan("rootfs", "--db", "db", "--ignore", ignore, "--fail-on", "low", expect=0)
        self.scan("rootfs", "--db", "db", "--ignore", ignore, "--fail-on", "negligible",
                  expect=1)
        _, err = self.scan("rootfs", "--db", "db", "--fail-on", "severe", expect=2)
        self.assertEqual(err, 'warden scan: --fail-on: unknown severity "severe": expected '
                              'negligible, low, medium, high or critical\n')

    def test_ignore_in_force(self):
        ignore = self.write_ignore("2999-12-31")
        out, err = self.scan("rootfs", "--db", "db", "--ignore", ignore)
        self.assertEqual(out,
                         "NAME  INSTALLED    FIXED-IN  TYPE  VULNERABILITY         SEVERITY\n"
                         "bash  5.2.15-2+b8            deb   DEBIAN-CVE-2022-3715  negligible\n")
        self.assertNotIn("expired", err)
        report = json.loads(self.scan("rootfs", "--db", "db", "--ignore", ignore, "-o",
                                      "json")[0])
        self.assertEqual([m["vulnerability"]["id"] for m in report["matches"]],
                         ["DEBIAN-CVE-2022-3715"])
        self.assertEqual(len(report["ignored"]), 1)
        self.assertEqual(report["ignored"][0]["vulnerability"]["id"], "DEBIAN-CVE-2023-45853")
        self.assertEqual(report["ignored"][0]["ignored_by"],
                         {"id": "CVE-2023-45853", "package": "zlib",
                          "reason": "minizip is not built", "expires": "2999-12-31"})
        sarif = json.loads(self.scan("rootfs", "--db", "db", "--ignore", ignore, "-o",
                                     "sarif")[0])
        self.assertEqual([r["ruleId"] for r in sarif["runs"][0]["results"]],
                         ["DEBIAN-CVE-2022-3715"])

    def test_ignore_expired(self):
        ignore = self.write_ignore("2000-01-01")
        out, err = self.scan("rootfs", "--db", "db", "--ignore", ignore, "--fail-on", "high",
                             expect=1)
        self.assertIn("DEBIAN-CVE-2023-45853  critical\n", out)
        self.assertIn("warden scan: warning: ignore rule 0 (CVE-2023-45853, package zlib) "
                      "expired on 2000-01-01; its matches are reported\n", err)
        report = json.loads(self.scan("rootfs", "--db", "db", "--ignore", ignore, "-o",
                                      "json")[0])
        self.assertEqual(report["ignored"], [])
        self.assertEqual(report["expired_ignores"],
                         [{"id": "CVE-2023-45853", "package": "zlib",
                           "reason": "minizip is not built", "expires": "2000-01-01"}])
        self.assertEqual(report["matches"][1]["expired_ignore"]["expires"], "2000-01-01")

    def test_ignore_file_errors(self):
        path = os.path.join(self.tmp, "ignore.json")
        with open(path, "w") as f:
            json.dump({"ignore": [{"id": "CVE-1", "expires": "2030-01-01"}]}, f)
        _, err = self.scan("rootfs", "--db", "db", "--ignore", "ignore.json", expect=2)
        self.assertEqual(err, "warden scan: ignore file ignore.json: ignore[0].reason: missing\n")
        _, err = self.scan("rootfs", "--db", "db", "--ignore", "missing.json", expect=2)
        self.assertIn("missing.json", err)

    # -- SBOM targets ---------------------------------------------------

    def test_spdx_of_warden_sbom(self):
        spdx = subprocess.run([WARDEN, "sbom", "rootfs", "-o", "spdx-json"], cwd=self.tmp,
                              capture_output=True, check=True).stdout
        with open(os.path.join(self.tmp, "rootfs.spdx.json"), "wb") as f:
            f.write(spdx)
        directory = json.loads(self.scan("rootfs", "--db", "db", "-o", "json")[0])
        from_sbom = json.loads(self.scan("rootfs.spdx.json", "--db", "db", "-o", "json")[0])
        self.assertEqual(from_sbom["target"], {"name": "rootfs.spdx.json", "kind": "spdx-json",
                                               "distro": {"id": "debian", "version_id": "12"},
                                               "packages": 4, "packages_queried": 4})
        # The same matches, packages included, location and purl too.
        self.assertEqual(from_sbom["matches"], directory["matches"])

    def test_cyclonedx_of_warden_sbom(self):
        cdx = subprocess.run([WARDEN, "sbom", "rootfs", "-o", "cyclonedx-json"], cwd=self.tmp,
                             capture_output=True, check=True).stdout
        with open(os.path.join(self.tmp, "rootfs.cdx.json"), "wb") as f:
            f.write(cdx)
        out, _ = self.scan("rootfs.cdx.json", "--db", "db")
        self.assertEqual(out, self.scan("rootfs", "--db", "db")[0])

    def test_syft_cyclonedx_language_packages(self):
        out, err = self.scan("syft.cdx.json", "--db", "db", "--fail-on", "critical", expect=1)
        self.assertEqual(out,
                         "NAME    INSTALLED        FIXED-IN         TYPE    VULNERABILITY          SEVERITY\n"
                         "pyyaml  5.3              5.4              python  GHSA-test-pyyaml       critical\n"
                         "semver  7.5.1            7.5.2            npm     GHSA-test-semver       medium\n"
                         "zlib1g  1:1.2.13.dfsg-1  1:1.2.13.dfsg-2  deb     DEBIAN-CVE-2023-45853  critical\n")
        self.assertIn("warden scan: warning: 1 SBOM entries have a purl of a type warden does "
                      "not match (or no version) and were not scanned\n", err)
        report = json.loads(self.scan("syft.cdx.json", "--db", "db", "-o", "json")[0])
        self.assertEqual(report["target"]["kind"], "cyclonedx-json")
        self.assertEqual(report["target"]["distro"], {"id": "debian", "version_id": "12"})
        self.assertEqual(report["matches"][0]["package"]["location"],
                         "/usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA")
        self.assertEqual(report["matches"][0]["vulnerability"]["severity_source"],
                         "database_specific.severity")
        self.assertEqual(report["matches"][1]["vulnerability"]["cvss_score"], 5.3)
        sarif = json.loads(self.scan("syft.cdx.json", "--db", "db", "-o", "sarif")[0])
        jsonschema.validate(sarif, SARIF_REQUIRED)
        uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                for r in sarif["runs"][0]["results"]]
        # zlib1g has no location in this SBOM, so the SBOM file is used.
        self.assertEqual(uris, ["usr/lib/python3/dist-packages/PyYAML-5.3.dist-info/METADATA",
                                "app/node_modules/semver/package.json", "syft.cdx.json"])

    # -- errors -----------------------------------------------------------

    def test_usage_and_errors(self):
        _, err = self.scan("rootfs", expect=2)
        self.assertTrue(err.startswith("warden scan: missing --db DIR, the directory of OSV "
                                       "records\nusage: warden scan TARGET --db DIR"), err)
        _, err = self.scan("rootfs", "--db", "nodb", expect=2)
        self.assertEqual(err, "warden scan: opening the OSV database nodb failed: "
                              "No such file or directory\n")
        os.makedirs(os.path.join(self.tmp, "empty"))
        _, err = self.scan("rootfs", "--db", "empty", expect=2)
        self.assertEqual(err, "warden scan: no OSV records in empty (0 JSON files, 0 invalid): "
                              "refusing to report a clean scan\n")
        _, err = self.scan("missing-target", "--db", "db", expect=2)
        self.assertEqual(err, "warden scan: cannot read missing-target: No such file or "
                              "directory\n")
        with open(os.path.join(self.tmp, "notsbom.json"), "w") as f:
            f.write('{"hello": "world"}')
        _, err = self.scan("notsbom.json", "--db", "db", expect=2)
        self.assertEqual(err, 'warden scan: notsbom.json: not an SPDX or CycloneDX JSON document: '
                              'expected "spdxVersion" or "bomFormat": "CycloneDX"\n')
        _, err = self.scan("rootfs", "--db", "db", "-o", "xml", expect=2)
        self.assertEqual(err, 'warden scan: unknown output format "xml": expected table, json '
                              'or sarif\n')
        out, _ = self.scan("--help")
        self.assertIn("--fail-on SEVERITY", out)

    def test_file_output_verbose(self):
        out, err = self.scan("rootfs", "--db", "db", "-o", "json", "--file", "report.json", "-v")
        self.assertEqual(out, "")
        with open(os.path.join(self.tmp, "report.json")) as f:
            self.assertEqual(len(json.load(f)["matches"]), 2)
        self.assertRegex(err, r"warden scan: loaded 8 records from 9 files in db in "
                              r"[0-9.]+ s \(1 skipped, 1 withdrawn, 0 superseded, 1 GIT ranges "
                              r"ignored\)\n")
        self.assertRegex(err, r"warden scan: matched 4 packages \(4 with an OSV ecosystem\) in "
                              r"[0-9.]+ s: 2 matches, 0 ignored\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
