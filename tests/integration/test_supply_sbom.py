#!/usr/bin/python3
"""Integration tests of `warden sbom`: golden SPDX and CycloneDX documents of
a fixture root, byte-identical repeated runs, the packages of this machine
against dpkg-query, and validation against the official JSON schemas."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

WARDEN = os.environ.get("WARDEN", "build/warden")
SOURCE_ROOT = os.environ.get(
    "WARDEN_SOURCE_ROOT", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GOLDEN_DIR = os.path.join(SOURCE_ROOT, "tests", "integration", "data", "sbom")
# SBOM_SCHEMA_DIR holds the official schemas, spdx/spdx-2.3-schema.json and
# cyclonedx/bom-1.5.schema.json with the spdx.schema.json and
# jsf-0.82.schema.json that the CycloneDX schema references. Without it the
# schema checks skip with the reason printed.
SCHEMA_DIR = os.environ.get("SBOM_SCHEMA_DIR", "")
EPOCH = "1700000000"

OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""

STATUS = """Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime
 zlib is a library implementing the deflate compression method found
 in gzip and PKZIP.

Package: bash
Status: install ok installed
Essential: yes
Installed-Size: 7164
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Source: bash (5.2.15-2)
Version: 5.2.15-2+b8
Conffiles:
 /etc/bash.bashrc 89269e1298235f1b12b4c16e4065ad0d
 /etc/skel/.bashrc 7fba7f2ab1a1bbe4e2a2a4e5ae4aa7b0

Package: removed-tool
Status: deinstall ok config-files
Architecture: amd64
Version: 0.9-1

Package: base-files
Status: install ok installed
Installed-Size: 340
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Version: 12.4+deb12u5
"""


def make_root(parent):
    """Create the fixture root filesystem under parent and return its path."""
    root = os.path.join(parent, "rootfs")
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(os.path.join(root, "var", "lib", "dpkg"))
    with open(os.path.join(root, "etc", "os-release"), "w") as f:
        f.write(OS_RELEASE)
    with open(os.path.join(root, "var", "lib", "dpkg", "status"), "w") as f:
        f.write(STATUS)
    return root


def run_sbom(target, output_format, cwd=None, epoch=EPOCH):
    env = dict(os.environ)
    env["SOURCE_DATE_EPOCH"] = epoch
    result = subprocess.run([os.path.abspath(WARDEN), "sbom", target, "-o", output_format],
                            env=env, cwd=cwd, capture_output=True, check=False)
    if result.returncode != 0:
        raise AssertionError("warden sbom %s -o %s exited %d: %s" % (
            target, output_format, result.returncode, result.stderr.decode()))
    return result.stdout


class FixtureRoot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-")
        make_root(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check_golden(self, output_format, golden_name):
        # The target is named relatively so the document name is the same
        # wherever the temporary directory is.
        output = run_sbom("rootfs", output_format, cwd=self.tmp)
        # The goldens name the tool as warden-@VERSION@, so a release
        # does not change them.
        version = subprocess.run([os.path.abspath(WARDEN), "version"], capture_output=True,
                                 text=True, check=True).stdout.split()[1]
        with open(os.path.join(GOLDEN_DIR, golden_name), "rb") as f:
            golden = f.read().replace(b"@VERSION@", version.encode())
        self.assertEqual(json.loads(output), json.loads(golden))
        self.assertEqual(output, golden)

    def test_spdx_golden(self):
        self.check_golden("spdx-json", "rootfs.spdx.json")

    def test_cyclonedx_golden(self):
        self.check_golden("cyclonedx-json", "rootfs.cdx.json")

    def test_table(self):
        output = run_sbom("rootfs", "table", cwd=self.tmp).decode()
        self.assertEqual(output,
                         "NAME        VERSION          TYPE\n"
                         "base-files  12.4+deb12u5     deb\n"
                         "bash        5.2.15-2+b8      deb\n"
                         "zlib1g      1:1.2.13.dfsg-1  deb\n")

    def test_runs_byte_identical(self):
        for output_format in ("spdx-json", "cyclonedx-json"):
            first = run_sbom("rootfs", output_format, cwd=self.tmp)
            second = run_sbom("rootfs", output_format, cwd=self.tmp)
            self.assertEqual(first, second, output_format)

    def test_epoch_sets_created(self):
        spdx = json.loads(run_sbom("rootfs", "spdx-json", cwd=self.tmp, epoch="0"))
        self.assertEqual(spdx["creationInfo"]["created"], "1970-01-01T00:00:00Z")
        cdx = json.loads(run_sbom("rootfs", "cyclonedx-json", cwd=self.tmp, epoch="0"))
        self.assertEqual(cdx["metadata"]["timestamp"], "1970-01-01T00:00:00Z")

    def test_content_changes_identifiers(self):
        before_spdx = json.loads(run_sbom("rootfs", "spdx-json", cwd=self.tmp))
        before_cdx = json.loads(run_sbom("rootfs", "cyclonedx-json", cwd=self.tmp))
        with open(os.path.join(self.tmp, "rootfs", "var", "lib", "dpkg", "status"), "a") as f:
            f.write("\nPackage: tzdata\nStatus: install ok installed\n"
                    "Architecture: all\nVersion: 2024a-0+deb12u1\n")
        after_spdx = json.loads(run_sbom("rootfs", "spdx-json", cwd=self.tmp))
        after_cdx = json.loads(run_sbom("rootfs", "cyclonedx-json", cwd=self.tmp))
        self.assertEqual(len(after_spdx["packages"]), 4)
        self.assertNotEqual(before_spdx["documentNamespace"], after_spdx["documentNamespace"])
        self.assertNotEqual(before_cdx["serialNumber"], after_cdx["serialNumber"])

    def test_file_option_writes_document(self):
        out = os.path.join(self.tmp, "sbom.json")
        env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
        subprocess.run([os.path.abspath(WARDEN), "sbom", "rootfs", "-o", "spdx-json",
                        "--file", out], env=env, cwd=self.tmp, check=True)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), run_sbom("rootfs", "spdx-json", cwd=self.tmp))

    def test_rejects_bad_arguments(self):
        cases = [
            (["sbom", "rootfs", "-o", "xml"], EPOCH, 2, "unknown output format \"xml\""),
            (["sbom", "missing"], EPOCH, 1, "cannot read missing: No such file or directory"),
            (["sbom", "/dev/null"], EPOCH, 1,
             "/dev/null is neither a directory nor a regular file"),
            (["sbom", "rootfs"], "yesterday", 2, "invalid SOURCE_DATE_EPOCH \"yesterday\""),
            (["sbom"], EPOCH, 2, "usage: warden sbom"),
        ]
        for args, epoch, code, message in cases:
            env = dict(os.environ, SOURCE_DATE_EPOCH=epoch)
            result = subprocess.run([os.path.abspath(WARDEN)] + args, env=env, cwd=self.tmp,
                                    capture_output=True, text=True, check=False)
            self.assertEqual(result.returncode, code, args)
            self.assertIn(message, result.stderr, args)


class HostRoot(unittest.TestCase):
    def test_matches_dpkg_query(self):
        if not shutil.which("dpkg-query") or not os.path.exists("/var/lib/dpkg/status"):
            self.skipTest("dpkg-query or /var/lib/dpkg/status not found on this machine")
        listed = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${Version} ${Architecture}\\n"],
            capture_output=True, text=True, check=True).stdout
        # dpkg-query -W also lists packages that are not installed (removed
        # with their configuration files kept), so keep only installed ones.
        status = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${Version} ${Architecture} ${Status}\\n"],
            capture_output=True, text=True, check=True).stdout
        installed = {tuple(line.split(" ")[:3]) for line in status.splitlines()
                     if line.endswith(" install ok installed")}
        expected = {tuple(line.split(" ")) for line in listed.splitlines()} & installed
        self.assertGreater(len(expected), 0)

        document = json.loads(run_sbom("/", "spdx-json"))
        found = set()
        # The root also contains language packages and executables, and
        # dpkg-query lists only the Debian packages.
        for package in document["packages"]:
            if not package["SPDXID"].startswith("SPDXRef-Package-deb-"):
                continue
            purl = [ref["referenceLocator"] for ref in package["externalRefs"]
                    if ref["referenceType"] == "purl"][0]
            arch = purl.split("?arch=")[1].split("&")[0]
            found.add((package["name"], package["versionInfo"], arch))
        self.assertEqual(found, expected)


def load_schemas():
    """Return (spdx validator, cyclonedx validator), or a reason to skip."""
    try:
        import jsonschema
    except ImportError:
        return None, "python3-jsonschema is not installed"
    if not SCHEMA_DIR:
        return None, "SBOM_SCHEMA_DIR is not set; set it to a folder of the official schemas"
    spdx_path = os.path.join(SCHEMA_DIR, "spdx", "spdx-2.3-schema.json")
    cdx_dir = os.path.join(SCHEMA_DIR, "cyclonedx")
    names = ["bom-1.5.schema.json", "spdx.schema.json", "jsf-0.82.schema.json"]
    missing = [p for p in [spdx_path] + [os.path.join(cdx_dir, n) for n in names]
               if not os.path.exists(p)]
    if missing:
        return None, "schemas not found: %s (set SBOM_SCHEMA_DIR)" % ", ".join(missing)

    with open(spdx_path) as f:
        spdx_schema = json.load(f)
    loaded = {}
    for name in names:
        with open(os.path.join(cdx_dir, name)) as f:
            loaded[name] = json.load(f)
    cdx_schema = loaded["bom-1.5.schema.json"]

    # The CycloneDX schema refers to its neighbours by file name and by
    # their $id, so both forms resolve to the local copies.
    store = {}
    for name, schema in loaded.items():
        store[name] = schema
        if "$id" in schema:
            store[schema["$id"]] = schema
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7
        registry = Registry().with_resources(
            (uri, Resource.from_contents(schema, default_specification=DRAFT7))
            for uri, schema in store.items())
        cdx_validator = jsonschema.Draft7Validator(cdx_schema, registry=registry)
    except ImportError:
        resolver = jsonschema.RefResolver(
            base_uri="file://" + cdx_dir + "/", referrer=cdx_schema, store=store)
        cdx_validator = jsonschema.Draft7Validator(cdx_schema, resolver=resolver)
    spdx_validator = jsonschema.validators.validator_for(spdx_schema)(spdx_schema)
    return (spdx_validator, cdx_validator), None


class SchemaConformance(unittest.TestCase):
    def setUp(self):
        self.validators, reason = load_schemas()
        if reason:
            print("skipping schema validation: " + reason, file=sys.stderr)
            self.skipTest(reason)
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-")
        make_root(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check(self, validator, document):
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        self.assertEqual([], ["%s: %s" % (list(e.path), e.message) for e in errors])

    def test_spdx_schema(self):
        spdx_validator, _ = self.validators
        self.check(spdx_validator, json.loads(run_sbom("rootfs", "spdx-json", cwd=self.tmp)))
        self.check(spdx_validator, json.loads(run_sbom("/", "spdx-json")))

    def test_cyclonedx_schema(self):
        _, cdx_validator = self.validators
        self.check(cdx_validator, json.loads(run_sbom("rootfs", "cyclonedx-json", cwd=self.tmp)))
        self.check(cdx_validator, json.loads(run_sbom("/", "cyclonedx-json")))


if __name__ == "__main__":
    # Skip (exit 77) only when every test skipped.
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)
