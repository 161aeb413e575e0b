#!/usr/bin/python3
"""Integration tests of `warden sbom` on Alpine and RPM roots.

The tests compare golden SPDX and CycloneDX documents of an Alpine-like
root (os-release and lib/apk/db/installed) and of an rpm root whose SQLite
rpmdb the real rpm writes. They check the rpm packages against `rpm -qa`,
that a scan leaves the rpmdb untouched, and the errors for unsupported and
corrupt databases. With SBOM_SCHEMA_DIR set they validate the documents
against the official JSON schemas."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_supply_sbom import GOLDEN_DIR, WARDEN, load_schemas, run_sbom  # noqa: E402

ALPINE_OS_RELEASE = """NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
"""

# Three records as apk-tools writes them, with the file lists (F, R, a, Z)
# and fields the catalog skips.
APK_INSTALLED = """C:Q1Qb8Vx4Cw9rC8O7L2w6ZxIOSb7ys=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407547
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1705332946
c:0a6a9a4ab2b3b4a0bcd6b6a8c2df1b9e3dcf5b3b
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1oYyYpAr1hMDkmpUh8hv5mkPj6SM=
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

C:Q1B9zcfd5jd3D2K4f4y3i6O0v9Bzo=
P:libcrypto3
V:3.1.4-r5
A:x86_64
S:1798434
I:4530176
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1706188800
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
F:lib
R:libcrypto.so.3
a:0:0:755
Z:Q1bcSqQSc6S7dXsY5aeJ0xxuJm9fs=

C:Q1J3e3oqq9lWGI3fFdzYgGgr1aUgU=
P:alpine-baselayout-data
V:3.4.3-r2
A:x86_64
S:11664
I:77824
T:Alpine base dir structure and init scripts
U:https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout
L:GPL-2.0-only
o:alpine-baselayout
m:Natanael Copa <ncopa@alpinelinux.org>
t:1705332946
F:etc
R:hosts
Z:Q1tCdb8iq4EoUGOuhJeIXSAfkVy9A=
"""

FEDORA_OS_RELEASE = """NAME="Fedora Linux"
VERSION="39 (Container Image)"
ID=fedora
VERSION_ID=39
PRETTY_NAME="Fedora Linux 39 (Container Image)"
"""

# Spec files for rpmbuild: bash without an epoch, openssl whose subpackage
# openssl-libs shares its source rpm and has an epoch, and a noarch tzdata
# without a vendor. Each installs one small file, so SIZE is not 0.
RPM_SPECS = {
    "bash": """Name: bash
Version: 5.2.21
Release: 1.fc39
Summary: The GNU Bourne Again shell
License: GPL-3.0-or-later
Vendor: Fedora Project
%description
bash
%install
mkdir -p %{buildroot}/usr/share/bash
echo 'bash fixture' > %{buildroot}/usr/share/bash/README
%files
/usr/share/bash/README
""",
    "openssl": """Name: openssl
Epoch: 1
Version: 3.1.1
Release: 4.fc39
Summary: Utilities from the general purpose cryptography library
License: Apache-2.0
Vendor: Fedora Project
%description
openssl
%package libs
Summary: A general purpose cryptography library
%description libs
libs
%install
mkdir -p %{buildroot}/usr/share/openssl
echo 'openssl fixture' > %{buildroot}/usr/share/openssl/README
echo 'libs' > %{buildroot}/usr/share/openssl/LIBS
%files
/usr/share/openssl/README
%files libs
/usr/share/openssl/LIBS
""",
    "tzdata": """Name: tzdata
Version: 2024a
Release: 1.fc39
Summary: Timezone data
License: LicenseRef-Fedora-Public-Domain AND BSD-3-Clause
BuildArch: noarch
%description
tzdata
%install
mkdir -p %{buildroot}/usr/share/zoneinfo
echo 'UTC' > %{buildroot}/usr/share/zoneinfo/README
%files
/usr/share/zoneinfo/README
""",
}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def make_alpine_root(parent):
    """Create the Alpine-like fixture root under parent and return its path."""
    root = os.path.join(parent, "alpine")
    write(os.path.join(root, "etc", "os-release"), ALPINE_OS_RELEASE)
    write(os.path.join(root, "lib", "apk", "db", "installed"), APK_INSTALLED)
    return root


def rpm_tools_reason():
    """Return why rpm fixtures cannot be built here, or None."""
    for tool in ("rpm", "rpmbuild"):
        if not shutil.which(tool):
            return "%s not found; install Debian's rpm package (scripts/install-deps.sh test)" % tool
    return None


def run_tool(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise AssertionError("%s exited %d: %s%s" % (
            " ".join(args), result.returncode, result.stdout, result.stderr))
    return result.stdout


def build_rpms(work):
    """Build the RPM_SPECS packages with rpmbuild and return their paths."""
    top = os.path.join(work, "rpmbuild")
    defines = ["--define", "_topdir " + top, "--define", "_tmppath " + work,
               "--define", "debug_package %{nil}", "--define", "_build_id_links none"]
    for name, spec in RPM_SPECS.items():
        spec_path = os.path.join(top, "SPECS", name + ".spec")
        write(spec_path, spec)
        # --target keeps the architecture x86_64 whatever the host is, so
        # the goldens hold on every machine; nothing is compiled.
        target = [] if "BuildArch: noarch" in spec else ["--target", "x86_64"]
        run_tool(["rpmbuild", "-bb", "--quiet"] + target + defines + [spec_path],
                 env=dict(os.environ, HOME=work))
    rpms = []
    for directory, _, names in os.walk(os.path.join(top, "RPMS")):
        rpms += [os.path.join(directory, n) for n in names if n.endswith(".rpm")]
    return sorted(rpms)


def make_rpm_root(parent, rpms):
    """Create the Fedora-like fixture root under parent, with the rpmdb in
    usr/lib/sysimage/rpm and var/lib/rpm linking to it, and return it."""
    root = os.path.join(parent, "fedora")
    dbpath = os.path.join(root, "usr", "lib", "sysimage", "rpm")
    os.makedirs(dbpath)
    os.makedirs(os.path.join(root, "var", "lib"))
    os.symlink("../../usr/lib/sysimage/rpm", os.path.join(root, "var", "lib", "rpm"))
    write(os.path.join(root, "etc", "os-release"), FEDORA_OS_RELEASE)
    env = dict(os.environ, HOME=parent)
    run_tool(["rpm", "--dbpath", dbpath, "--initdb"], env=env)
    run_tool(["rpm", "--dbpath", dbpath, "-i", "--justdb", "--nodeps", "--noscripts",
              "--ignorearch", "--ignoreos"] + rpms, env=env)
    return root


def golden(name):
    version = subprocess.run([os.path.abspath(WARDEN), "version"], capture_output=True,
                             text=True, check=True).stdout.split()[1]
    with open(os.path.join(GOLDEN_DIR, name), "rb") as f:
        return f.read().replace(b"@VERSION@", version.encode())


def snapshot(directory):
    """Return the name, size and modification time of every file in directory."""
    return sorted((n, os.stat(os.path.join(directory, n)).st_size,
                   os.stat(os.path.join(directory, n)).st_mtime_ns)
                  for n in os.listdir(directory))


class AlpineRoot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-apk-")
        make_alpine_root(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check_golden(self, output_format, golden_name):
        output = run_sbom("alpine", output_format, cwd=self.tmp)
        expected = golden(golden_name)
        self.assertEqual(json.loads(output), json.loads(expected))
        self.assertEqual(output, expected)

    def test_spdx_golden(self):
        self.check_golden("spdx-json", "alpine.spdx.json")

    def test_cyclonedx_golden(self):
        self.check_golden("cyclonedx-json", "alpine.cdx.json")

    def test_table(self):
        self.assertEqual(run_sbom("alpine", "table", cwd=self.tmp).decode(),
                         "NAME                    VERSION               TYPE\n"
                         "alpine-baselayout-data  3.4.3-r2              apk\n"
                         "libcrypto3              3.1.4-r5              apk\n"
                         "musl                    1.2.4_git20230717-r4  apk\n")

    def test_rejects_malformed_database(self):
        with open(os.path.join(self.tmp, "alpine", "lib", "apk", "db", "installed"), "a") as f:
            f.write("\nP:broken\nno colon\n")
        result = subprocess.run([os.path.abspath(WARDEN), "sbom", "alpine"], cwd=self.tmp,
                                capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr,
                         "warden sbom: alpine/lib/apk/db/installed: line 58: "
                         "expected \"X:value\", got \"no colon\"\n")


class RpmRoot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = rpm_tools_reason()
        if reason:
            print("skipping rpm tests: " + reason, file=sys.stderr)
            raise unittest.SkipTest(reason)
        cls.work = tempfile.mkdtemp(prefix="wd-sbom-rpmbuild-")
        cls.rpms = build_rpms(cls.work)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-rpm-")
        self.root = make_rpm_root(self.tmp, self.rpms)
        self.dbpath = os.path.join(self.root, "usr", "lib", "sysimage", "rpm")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check_golden(self, output_format, golden_name):
        output = run_sbom("fedora", output_format, cwd=self.tmp)
        expected = golden(golden_name)
        self.assertEqual(json.loads(output), json.loads(expected))
        self.assertEqual(output, expected)

    def test_database_is_sqlite(self):
        self.assertEqual(os.listdir(self.dbpath).count("rpmdb.sqlite"), 1)
        self.assertNotIn("Packages", os.listdir(self.dbpath))

    def test_spdx_golden(self):
        self.check_golden("spdx-json", "fedora.spdx.json")

    def test_cyclonedx_golden(self):
        self.check_golden("cyclonedx-json", "fedora.cdx.json")

    def test_table(self):
        self.assertEqual(run_sbom("fedora", "table", cwd=self.tmp).decode(),
                         "NAME          VERSION         TYPE\n"
                         "bash          5.2.21-1.fc39   rpm\n"
                         "openssl       1:3.1.1-4.fc39  rpm\n"
                         "openssl-libs  1:3.1.1-4.fc39  rpm\n"
                         "tzdata        2024a-1.fc39    rpm\n")

    def test_matches_rpm_query(self):
        listed = run_tool(["rpm", "--dbpath", self.dbpath, "-qa", "--qf",
                           "%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH}\\n"],
                          env=dict(os.environ, HOME=self.tmp))
        expected = {tuple(line.split(" ")) for line in listed.splitlines()}
        self.assertEqual(len(expected), 4)
        document = json.loads(run_sbom("fedora", "cyclonedx-json", cwd=self.tmp))
        found = set()
        for component in document["components"]:
            properties = {p["name"]: p["value"] for p in component["properties"]}
            found.add((component["name"], component["version"],
                       properties["warden:metadata:architecture"]))
        self.assertEqual(found, expected)

    def test_scan_leaves_database_untouched(self):
        before = snapshot(self.dbpath)
        run_sbom("fedora", "spdx-json", cwd=self.tmp)
        self.assertEqual(snapshot(self.dbpath), before)

    def test_skips_imported_keys(self):
        if not shutil.which("gpg"):
            print("skipping the gpg-pubkey check: gpg not found", file=sys.stderr)
            self.skipTest("gpg not found")
        home = os.path.join(self.tmp, "gnupg")
        os.makedirs(home, mode=0o700)
        env = dict(os.environ, GNUPGHOME=home, HOME=self.tmp)
        key = os.path.join(self.tmp, "key.asc")
        try:
            run_tool(["gpg", "--batch", "--passphrase", "", "--quick-gen-key",
                      "Fixture Signing Key <fixture@example.org>", "rsa2048", "sign",
                      "never"], env=env)
            run_tool(["gpg", "--batch", "--armor", "--output", key, "--export"], env=env)
        finally:
            # gpg starts an agent for the key generation; stop it.
            subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)
        run_tool(["rpm", "--dbpath", self.dbpath, "--import", key], env=env)
        names = run_tool(["rpm", "--dbpath", self.dbpath, "-qa", "--qf", "%{NAME}\\n"], env=env)
        self.assertIn("gpg-pubkey", names.split())
        self.check_golden("spdx-json", "fedora.spdx.json")

    def test_rejects_corrupt_header(self):
        db = sqlite3.connect(os.path.join(self.dbpath, "rpmdb.sqlite"))
        with db:
            hnum, blob = db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchone()
            db.execute("UPDATE Packages SET blob = ? WHERE hnum = ?", (blob[:100], hnum))
        db.close()
        result = subprocess.run([os.path.abspath(WARDEN), "sbom", "fedora"], cwd=self.tmp,
                                capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertRegex(result.stderr,
                         r"^warden sbom: fedora/var/lib/rpm/rpmdb.sqlite: package hnum %d: "
                         r"header is 100 bytes, but its preamble gives \d+ " % hnum)


class UnsupportedRpmDatabase(unittest.TestCase):
    def test_berkeley_db_fails(self):
        with tempfile.TemporaryDirectory(prefix="wd-sbom-bdb-") as tmp:
            write(os.path.join(tmp, "centos", "var", "lib", "rpm", "Packages"), "\0" * 64)
            result = subprocess.run([os.path.abspath(WARDEN), "sbom", "centos"], cwd=tmp,
                                    capture_output=True, text=True, check=False)
            self.assertEqual(result.returncode, 1)
            self.assertEqual(result.stderr,
                             "warden sbom: centos/var/lib/rpm/Packages: BerkeleyDB rpm "
                             "databases are not supported; warden reads the SQLite database "
                             "(rpmdb.sqlite) of rpm 4.16 and later\n")


class SchemaConformance(unittest.TestCase):
    def setUp(self):
        self.validators, reason = load_schemas()
        if reason:
            print("skipping schema validation: " + reason, file=sys.stderr)
            self.skipTest(reason)
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-os-")
        self.roots = ["alpine"]
        make_alpine_root(self.tmp)
        if not rpm_tools_reason():
            make_rpm_root(self.tmp, build_rpms(os.path.join(self.tmp, "build")))
            self.roots.append("fedora")
        else:
            print("schema validation without the rpm root: " + rpm_tools_reason(),
                  file=sys.stderr)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check(self, validator, document):
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        self.assertEqual([], ["%s: %s" % (list(e.path), e.message) for e in errors])

    def test_spdx_schema(self):
        spdx_validator, _ = self.validators
        for root in self.roots:
            self.check(spdx_validator, json.loads(run_sbom(root, "spdx-json", cwd=self.tmp)))

    def test_cyclonedx_schema(self):
        _, cdx_validator = self.validators
        for root in self.roots:
            self.check(cdx_validator,
                       json.loads(run_sbom(root, "cyclonedx-json", cwd=self.tmp)))


if __name__ == "__main__":
    # Skip (exit 77) only when every test skipped.
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)
