#!/usr/bin/python3
"""Integration tests of `warden sbom` on language packages and executables.

They check golden SPDX and CycloneDX documents of a fixture root with
Python, npm and a synthesized Go binary, the warnings for malformed files
and a single-file target. A real Go binary built with `go build` is checked
against `go version -m`, skipped when Go is not installed. With
SBOM_SCHEMA_DIR set, the documents are also validated against the official
schemas."""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_supply_sbom import EPOCH, GOLDEN_DIR, WARDEN, load_schemas  # noqa: E402

# The sentinels cmd/go writes around the module text of a Go binary.
INFO_START = bytes.fromhex("3077af0c9274080241e1c107e6d618e6")
INFO_END = bytes.fromhex("f932433186182072008242104116d8f2")

GO_MODINFO = (
    "path\texample.com/hello/cmd/hello\n"
    "mod\texample.com/hello\tv1.2.3\th1:aaaa\n"
    "dep\tgithub.com/google/uuid\tv1.6.0\th1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\n"
    "dep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=\n"
    "=>\tgolang.org/x/text\tv0.3.8\th1:nAL+RVCQ9uMn3vJZbV+MRnydTJFPf8qqY42YiA6MrqY=\n"
    "build\t-compiler=gc\n"
    "build\tGOARCH=amd64\n"
    "build\tGOOS=linux\n")

WHEEL_METADATA = """Metadata-Version: 2.1
Name: Flask_SQLAlchemy
Version: 3.1.1
Summary: Add SQLAlchemy support to your Flask application.
Author-email: Pallets <contact@palletsprojects.com>
License-Expression: BSD-3-Clause

Flask-SQLAlchemy
"""

LOCK_V1 = {
    "name": "v1app", "version": "1.0.0", "lockfileVersion": 1,
    "dependencies": {
        "debug": {"version": "4.3.4", "dependencies": {"ms": {"version": "2.1.2"}}},
        "ms": {"version": "2.1.3"},
    },
}

LOCK_V2 = {
    "name": "v2app", "version": "2.0.0", "lockfileVersion": 2,
    "packages": {
        "": {"name": "v2app", "version": "2.0.0"},
        "node_modules/express": {"version": "4.18.2", "license": "MIT"},
    },
    "dependencies": {"express": {"version": "4.18.2"}},
}

LOCK_V3 = {
    "name": "v3app", "version": "3.0.0", "lockfileVersion": 3,
    "packages": {
        "": {"name": "v3app", "version": "3.0.0", "license": "ISC"},
        "node_modules/@types/node": {"version": "20.8.10", "license": "MIT"},
        "node_modules/@types/node/node_modules/undici-types": {"version": "5.26.5"},
    },
}


def uvarint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def align16(value):
    return (value + 15) & ~15


def go_elf(go_version, modinfo):
    """Return an ELF64 x86-64 executable whose .go.buildinfo section contains
    the Go 1.18+ inline build information, as the Go linker writes it."""
    framed = INFO_START + modinfo.encode() + INFO_END
    version = go_version.encode()
    blob = (b"\xff Go buildinf:" + bytes([8, 2]) + bytes(16) + uvarint(len(version)) + version
            + uvarint(len(framed)) + framed)
    names = b"\0.shstrtab\0.go.buildinfo\0"
    blob_offset = 0x100
    names_offset = align16(blob_offset + len(blob))
    shoff = align16(names_offset + len(names))
    header = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, bytes(7),
                         2, 62, 1, 0x401000, 64, shoff, 0, 64, 56, 1, 64, 3, 2)
    program = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x100, 0x100, 0x1000)
    sections = (bytes(64)
                + struct.pack("<IIQQQQIIQQ", 11, 1, 2, 0x500000, blob_offset, len(blob),
                              0, 0, 16, 0)
                + struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, names_offset, len(names), 0, 0, 1, 0))
    image = bytearray(shoff + len(sections))
    image[0:64] = header
    image[64:64 + len(program)] = program
    image[blob_offset:blob_offset + len(blob)] = blob
    image[names_offset:names_offset + len(names)] = names
    image[shoff:] = sections
    return bytes(image)


def write(root, path, content, mode=0o644):
    full = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode()
    with open(full, "wb") as f:
        f.write(data)
    os.chmod(full, mode)
    return full


def make_lang_root(parent):
    """Create the language fixture root under parent and return its path."""
    root = os.path.join(parent, "langroot")
    site = "/opt/venv/lib/python3.11/site-packages"
    dist = "/usr/lib/python3/dist-packages"
    write(root, dist + "/six-1.16.0.egg-info/PKG-INFO",
          "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nAuthor: Benjamin Peterson\n"
          "License: MIT\n")
    write(root, dist + "/python_apt-2.6.0.egg-info",
          "Metadata-Version: 1.1\nName: python-apt\nVersion: 2.6.0\nLicense: GNU GPL\n")
    write(root, site + "/Flask_SQLAlchemy-3.1.1.dist-info/METADATA", WHEEL_METADATA)
    write(root, site + "/broken-1.0.dist-info/METADATA", "Name: broken\n")

    write(root, "/srv/v1/package-lock.json", json.dumps(LOCK_V1))
    write(root, "/srv/v2/package-lock.json", json.dumps(LOCK_V2))
    write(root, "/srv/v3/package-lock.json", json.dumps(LOCK_V3))
    # Covered by the v3 lock: not listed a second time.
    write(root, "/srv/v3/node_modules/@types/node/package.json",
          json.dumps({"name": "@types/node", "version": "20.8.10"}))
    write(root, "/srv/plain/node_modules/@scope/pkg/package.json",
          json.dumps({"name": "@scope/pkg", "version": "1.0.0", "license": "Apache-2.0",
                      "author": {"name": "Ann", "email": "ann@example.com"}}))
    write(root, "/srv/plain/node_modules/left-pad/package.json",
          json.dumps({"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}))

    write(root, "/usr/local/bin/hello", go_elf("go1.22.1", GO_MODINFO), 0o755)
    write(root, "/usr/local/bin/run.sh", "#!/bin/sh\nexec hello\n", 0o755)
    os.symlink("hello", os.path.join(root, "usr/local/bin/hello-link"))
    return root


def run_warden(args, cwd=None):
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH)
    return subprocess.run([os.path.abspath(WARDEN), "sbom"] + args, env=env, cwd=cwd,
                          capture_output=True, check=False)


def sbom_output(args, cwd=None):
    result = run_warden(args, cwd)
    if result.returncode != 0:
        raise AssertionError("warden sbom %s exited %d: %s" % (
            " ".join(args), result.returncode, result.stderr.decode()))
    return result.stdout


class LangRoot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-lang-")
        self.root = make_lang_root(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check_golden(self, output_format, golden_name):
        output = sbom_output(["langroot", "-o", output_format], cwd=self.tmp)
        version = subprocess.run([os.path.abspath(WARDEN), "version"], capture_output=True,
                                 text=True, check=True).stdout.split()[1]
        with open(os.path.join(GOLDEN_DIR, golden_name), "rb") as f:
            golden = f.read().replace(b"@VERSION@", version.encode())
        self.assertEqual(json.loads(output), json.loads(golden))
        self.assertEqual(output, golden)

    def test_spdx_golden(self):
        self.check_golden("spdx-json", "lang.spdx.json")

    def test_cyclonedx_golden(self):
        self.check_golden("cyclonedx-json", "lang.cdx.json")

    def test_table(self):
        output = sbom_output(["langroot"], cwd=self.tmp).decode()
        self.assertEqual(output.splitlines(), [
            "NAME                    VERSION   TYPE",
            "@scope/pkg              1.0.0     npm",
            "@types/node             20.8.10   npm",
            "Flask_SQLAlchemy        3.1.1     python",
            "debug                   4.3.4     npm",
            "example.com/hello       v1.2.3    go-module",
            "express                 4.18.2    npm",
            "github.com/google/uuid  v1.6.0    go-module",
            "golang.org/x/text       v0.3.8    go-module",
            "hello                             binary",
            "left-pad                1.3.0     npm",
            "ms                      2.1.2     npm",
            "ms                      2.1.3     npm",
            "python-apt              2.6.0     python",
            "six                     1.16.0    python",
            "stdlib                  go1.22.1  go-module",
            "undici-types            5.26.5    npm",
            "v2app                   2.0.0     npm",
            "v3app                   3.0.0     npm",
        ])

    def test_warns_about_malformed_files(self):
        result = run_warden(["langroot"], cwd=self.tmp)
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stderr.decode(),
                         "warden sbom: warning: skipped /opt/venv/lib/python3.11/site-packages/"
                         "broken-1.0.dist-info/METADATA: missing Version for broken\n")

    def test_digest_matches_file(self):
        document = json.loads(sbom_output(["langroot", "-o", "cyclonedx-json"], cwd=self.tmp))
        with open(os.path.join(self.root, "usr/local/bin/hello"), "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        binaries = [c for c in document["components"] if c["type"] == "application"]
        self.assertEqual(len(binaries), 1)
        self.assertEqual(binaries[0]["name"], "hello")
        self.assertEqual(binaries[0]["hashes"], [{"alg": "SHA-256", "content": digest}])

    def test_single_file_target(self):
        path = os.path.join(self.root, "usr/local/bin/hello")
        document = json.loads(sbom_output([path, "-o", "cyclonedx-json"]))
        names = sorted((c["name"], c.get("version")) for c in document["components"])
        self.assertEqual(names, [
            ("example.com/hello", "v1.2.3"), ("github.com/google/uuid", "v1.6.0"),
            ("golang.org/x/text", "v0.3.8"), ("hello", None), ("stdlib", "go1.22.1")])
        locations = {p["value"] for c in document["components"] for p in c["properties"]
                     if p["name"] == "warden:location:0:path"}
        self.assertEqual(locations, {"/hello"})

        script = os.path.join(self.root, "usr/local/bin/run.sh")
        table = sbom_output([script]).decode()
        self.assertEqual(table, "NAME    VERSION  TYPE\nrun.sh           binary\n")


def go_version_modules(path):
    """Return {(module path, version)} and the Go version that `go version -m`
    prints for path, with replacements applied as warden lists them."""
    output = subprocess.run(["go", "version", "-m", path], capture_output=True, text=True,
                            check=True).stdout
    lines = output.splitlines()
    go_version = lines[0].split(": ", 1)[1]
    modules = set()
    last = None
    for line in lines[1:]:
        fields = line.strip("\t").split("\t")
        if fields[0] in ("mod", "dep"):
            last = (fields[1], fields[2])
            modules.add(last)
        elif fields[0] == "=>":
            modules.discard(last)
            directory = fields[1].startswith(("./", "../", "/"))
            modules.add((last[0], "(devel)") if directory else (fields[1], fields[2]))
    modules.add(("stdlib", go_version))
    return modules, go_version


class RealGoBinary(unittest.TestCase):
    def setUp(self):
        if not shutil.which("go"):
            print("skipping the go build test: go is not installed "
                  "(scripts/install-deps.sh test installs golang-go)", file=sys.stderr)
            self.skipTest("go is not installed")
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-go-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def build(self):
        """Build a module with a dependency replaced by a local directory
        (no network needed) into rootfs/app/hello and return its path."""
        src = os.path.join(self.tmp, "src")
        write(src, "go.mod", "module example.com/hello\n\ngo 1.19\n\n"
              "require example.com/greet v1.0.0\n\nreplace example.com/greet => ./greet\n")
        write(src, "main.go", 'package main\n\nimport "example.com/greet"\n\n'
              'func main() { greet.Hello() }\n')
        write(src, "greet/go.mod", "module example.com/greet\n\ngo 1.19\n")
        write(src, "greet/greet.go", 'package greet\n\nimport "fmt"\n\n'
              'func Hello() { fmt.Println("hello") }\n')
        out = os.path.join(self.tmp, "rootfs", "app", "hello")
        env = dict(os.environ, GOFLAGS="-mod=mod", GOPROXY="off", GOWORK="off",
                   GOCACHE=os.path.join(self.tmp, "cache"), GOPATH=os.path.join(self.tmp, "gopath"),
                   CGO_ENABLED="0")
        subprocess.run(["go", "build", "-o", out, "."], cwd=src, env=env, check=True,
                       capture_output=True)
        return out

    def test_modules_match_go_version(self):
        binary = self.build()
        expected, go_version = go_version_modules(binary)
        self.assertIn(("example.com/greet", "(devel)"), expected)

        document = json.loads(sbom_output(["rootfs", "-o", "spdx-json"], cwd=self.tmp))
        found = {(p["name"], p["versionInfo"]) for p in document["packages"]
                 if p["SPDXID"].startswith("SPDXRef-Package-go-module-")}
        self.assertEqual(found, expected)

        binaries = [p for p in document["packages"]
                    if p["SPDXID"].startswith("SPDXRef-Package-binary-")]
        with open(binary, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual([(p["name"], p["checksums"][0]["checksumValue"]) for p in binaries],
                         [("hello", digest)])
        stdlib = [p for p in document["packages"] if p["name"] == "stdlib"][0]
        purl = [r["referenceLocator"] for r in stdlib["externalRefs"]
                if r["referenceType"] == "purl"][0]
        self.assertEqual(purl, "pkg:golang/stdlib@" + go_version[2:])

        single = json.loads(sbom_output([binary, "-o", "spdx-json"]))
        self.assertEqual({(p["name"], p["versionInfo"]) for p in single["packages"]
                          if p["SPDXID"].startswith("SPDXRef-Package-go-module-")}, expected)


class LangSchemaConformance(unittest.TestCase):
    def setUp(self):
        self.validators, reason = load_schemas()
        if reason:
            print("skipping schema validation: " + reason, file=sys.stderr)
            self.skipTest(reason)
        self.tmp = tempfile.mkdtemp(prefix="wd-sbom-lang-")
        self.root = make_lang_root(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def check(self, validator, document):
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        self.assertEqual([], ["%s: %s" % (list(e.path), e.message) for e in errors])

    def test_documents_validate(self):
        spdx_validator, cdx_validator = self.validators
        binary = os.path.join(self.root, "usr/local/bin/hello")
        for target in ("langroot", binary):
            self.check(spdx_validator,
                       json.loads(sbom_output([target, "-o", "spdx-json"], cwd=self.tmp)))
            self.check(cdx_validator,
                       json.loads(sbom_output([target, "-o", "cyclonedx-json"], cwd=self.tmp)))


if __name__ == "__main__":
    # Skip (exit 77) only when every test skipped.
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)
