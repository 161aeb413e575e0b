#!/usr/bin/python3
"""Integration tests of `warden sbom` on container images: docker-archive
and OCI layouts (tarball and directory) whose layers override each other
through whiteouts, and hostile archives that must be rejected with nothing
written outside the work directory."""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagelib  # noqa: E402
from imagelib import (device_entry, dir_entry, file_entry, hardlink_entry,  # noqa: E402
                      layer_tar, symlink_entry)
from test_supply_sbom import load_schemas  # noqa: E402

WARDEN = os.environ.get("WARDEN", "build/warden")
EPOCH = "1700000000"

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'


def stanza(name, version, status=True):
    text = "Package: %s\n" % name
    if status:
        text += "Status: install ok installed\n"
    return text + "Architecture: amd64\nVersion: %s\n" % version


# Layer 1: a dpkg status with three packages, two distroless status.d
# files, a documentation directory and a script that would leave a mark if
# anything ran it.
LAYER1 = [
    dir_entry("etc/"),
    file_entry("etc/os-release", OS_RELEASE),
    dir_entry("var/"),
    dir_entry("var/lib/"),
    dir_entry("var/lib/dpkg/"),
    file_entry("var/lib/dpkg/status", "\n".join([
        stanza("bash", "5.2.15-2+b8"), stanza("zlib1g", "1:1.2.13.dfsg-1"),
        stanza("old-tool", "0.9-1")])),
    dir_entry("var/lib/dpkg/status.d/"),
    file_entry("var/lib/dpkg/status.d/tzdata", stanza("tzdata", "2024a-0+deb12u1", False)),
    file_entry("var/lib/dpkg/status.d/libstatic", stanza("libstatic", "1.0", False)),
    dir_entry("usr/"),
    dir_entry("usr/share/"),
    dir_entry("usr/share/doc/"),
    dir_entry("usr/share/doc/old-tool/"),
    file_entry("usr/share/doc/old-tool/copyright", "old"),
]

# Layer 2: a new status written before the whiteout of the old one, which
# must only hide layer 1's file. A status.d entry comes before the opaque
# marker of its directory and must survive it. A whiteout removes a whole
# directory.
LAYER2 = [
    file_entry("var/lib/dpkg/status", "\n".join([
        stanza("bash", "5.2.15-2+b9"), stanza("zlib1g", "1:1.2.13.dfsg-1")])),
    file_entry("var/lib/dpkg/.wh.status", ""),
    dir_entry("var/lib/dpkg/status.d/"),
    file_entry("var/lib/dpkg/status.d/base-files", stanza("base-files", "12.4+deb12u5", False)),
    file_entry("var/lib/dpkg/status.d/.wh..wh..opq", ""),
    file_entry("usr/share/doc/.wh.old-tool", ""),
]

FINAL_PACKAGES = [("base-files", "12.4+deb12u5"), ("bash", "5.2.15-2+b9"),
                  ("zlib1g", "1:1.2.13.dfsg-1")]


class Workspace(unittest.TestCase):
    """A temporary folder with TMPDIR for warden's work directory and a
    canary folder next to it that hostile archives aim at."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wd-image-")
        self.tmpdir = os.path.join(self.tmp, "tmpdir")
        self.canary = os.path.join(self.tmpdir, "canary")
        os.makedirs(self.canary)
        with open(os.path.join(self.canary, "secret"), "w") as f:
            f.write("canary\n")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_warden(self, target, *args):
        env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, TMPDIR=self.tmpdir)
        return subprocess.run([os.path.abspath(WARDEN), "sbom", target] + list(args),
                              env=env, capture_output=True, text=True, check=False)

    def sbom(self, target, output_format="cyclonedx-json", *args):
        result = self.run_warden(target, "-o", output_format, *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_contained()
        return result.stdout

    def assert_contained(self):
        """The canary is as it was and the work directory is gone."""
        self.assertEqual(sorted(os.listdir(self.tmpdir)), ["canary"])
        self.assertEqual(sorted(os.listdir(self.canary)), ["secret"])
        with open(os.path.join(self.canary, "secret")) as f:
            self.assertEqual(f.read(), "canary\n")

    def packages(self, target, *args):
        document = json.loads(self.sbom(target, "cyclonedx-json", *args))
        return document, sorted((c["name"], c["version"]) for c in document["components"])

    def archive(self, name, layers, **kwargs):
        path = os.path.join(self.tmp, name)
        imagelib.docker_archive(path, [layer_tar(layer) for layer in layers], **kwargs)
        return path


class LayerStack(Workspace):
    def test_docker_archive_final_packages(self):
        path = os.path.join(self.tmp, "app.tar")
        image_id = imagelib.docker_archive(path, [layer_tar(LAYER1), layer_tar(LAYER2)])
        document, found = self.packages(path)
        self.assertEqual(found, FINAL_PACKAGES)
        component = document["metadata"]["component"]
        self.assertEqual(component["type"], "container")
        self.assertEqual(component["name"], "example.com/app:1.0")
        self.assertEqual(component["version"], image_id)
        self.assertEqual(component["hashes"], [{"alg": "SHA-256", "content": image_id[7:]}])
        self.assertIn({"name": "warden:image:id", "value": image_id}, component["properties"])
        self.assertIn({"name": "warden:distro:id", "value": "debian"}, component["properties"])

    def test_docker_archive_table(self):
        path = os.path.join(self.tmp, "app.tar")
        imagelib.docker_archive(path, [layer_tar(LAYER1), layer_tar(LAYER2)])
        self.assertEqual(self.sbom(path, "table"),
                         "NAME        VERSION          TYPE\n"
                         "base-files  12.4+deb12u5     deb\n"
                         "bash        5.2.15-2+b9      deb\n"
                         "zlib1g      1:1.2.13.dfsg-1  deb\n")

    def test_layer_one_alone(self):
        path = self.archive("base.tar", [LAYER1])
        _, found = self.packages(path)
        self.assertEqual(found, [("bash", "5.2.15-2+b8"), ("libstatic", "1.0"),
                                 ("old-tool", "0.9-1"), ("tzdata", "2024a-0+deb12u1"),
                                 ("zlib1g", "1:1.2.13.dfsg-1")])

    def test_spdx_describes_image(self):
        path = os.path.join(self.tmp, "app.tar")
        image_id = imagelib.docker_archive(path, [layer_tar(LAYER1), layer_tar(LAYER2)])
        document = json.loads(self.sbom(path, "spdx-json"))
        self.assertEqual(document["name"], "example.com/app:1.0")
        image = [p for p in document["packages"] if p["SPDXID"] == "SPDXRef-DocumentRoot-Image"]
        self.assertEqual(len(image), 1)
        self.assertEqual(image[0]["versionInfo"], image_id)
        self.assertEqual(image[0]["primaryPackagePurpose"], "CONTAINER")
        self.assertEqual(image[0]["checksums"],
                         [{"algorithm": "SHA256", "checksumValue": image_id[7:]}])
        relationships = sorted((r["spdxElementId"], r["relationshipType"])
                               for r in document["relationships"])
        self.assertEqual(relationships, [("SPDXRef-DOCUMENT", "DESCRIBES")] +
                         [("SPDXRef-DocumentRoot-Image", "CONTAINS")] * 3)

    def test_oci_archive_same_packages(self):
        path = os.path.join(self.tmp, "app.oci.tar")
        digest = imagelib.oci_archive(path, [layer_tar(LAYER1), layer_tar(LAYER2)])
        document, found = self.packages(path)
        self.assertEqual(found, FINAL_PACKAGES)
        self.assertEqual(document["metadata"]["component"]["name"], "example.com/app:1.0")
        self.assertEqual(document["metadata"]["component"]["version"], digest)

    def test_oci_dir_same_packages(self):
        path = os.path.join(self.tmp, "layout")
        digest = imagelib.oci_dir(path, [layer_tar(LAYER1), layer_tar(LAYER2)], "tar")
        document, found = self.packages(path)
        self.assertEqual(found, FINAL_PACKAGES)
        self.assertEqual(document["metadata"]["component"]["version"], digest)

    def test_oci_zstd_layers(self):
        if not shutil.which("zstd"):
            self.skipTest("the zstd program is not installed")
        path = os.path.join(self.tmp, "app.zst.tar")
        imagelib.oci_archive(path, [layer_tar(LAYER1), layer_tar(LAYER2)], "zstd")
        _, found = self.packages(path)
        self.assertEqual(found, FINAL_PACKAGES)

    def test_platform_chosen_from_index(self):
        path = os.path.join(self.tmp, "multi.tar")
        arm_layer = [file_entry("var/lib/dpkg/status", stanza("arm-only", "1.0"))]
        s390_layer = [file_entry("var/lib/dpkg/status", stanza("s390-only", "2.0"))]
        digests = imagelib.multi_platform_layout(path, [
            ("linux/arm64", [layer_tar(arm_layer)]),
            ("linux/s390x", [layer_tar(s390_layer)])])
        document, found = self.packages(path, "--platform", "linux/arm64")
        self.assertEqual(found, [("arm-only", "1.0")])
        self.assertEqual(document["metadata"]["component"]["name"], "example.com/multi:2.0")
        self.assertEqual(document["metadata"]["component"]["version"], digests["linux/arm64"])
        _, found = self.packages(path, "--platform", "linux/s390x")
        self.assertEqual(found, [("s390-only", "2.0")])

        result = self.run_warden(path, "--platform", "linux/riscv64")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "warden sbom: index.json lists 2 image manifests and "
                         "none of them match the platform linux/riscv64: choose one with "
                         "--platform OS/ARCH[/VARIANT]\n")
        self.assert_contained()

    def test_alpine_image(self):
        # The apk cataloger reads the unpacked layers like any root; the
        # second layer's database replaces the first's.
        record = "P:%s\nV:%s\nA:x86_64\n\n"
        layer1 = [file_entry("etc/os-release", 'ID=alpine\nVERSION_ID=3.19.1\n'),
                  file_entry("lib/apk/db/installed", record % ("musl", "1.2.4-r4") +
                             record % ("busybox", "1.36.1-r15"))]
        layer2 = [file_entry("lib/apk/db/installed", record % ("musl", "1.2.4-r5"))]
        path = os.path.join(self.tmp, "alpine.oci.tar")
        imagelib.oci_archive(path, [layer_tar(layer1), layer_tar(layer2)])
        document, found = self.packages(path)
        self.assertEqual(found, [("musl", "1.2.4-r5")])
        self.assertEqual(document["components"][0]["purl"],
                         "pkg:apk/alpine/musl@1.2.4-r5?arch=x86_64&distro=alpine-3.19.1")

    def test_gzip_outer_archive(self):
        path = self.archive("app.tar", [LAYER1, LAYER2])
        with open(path, "rb") as f, open(path + ".gz", "wb") as out:
            out.write(gzip.compress(f.read()))
        _, found = self.packages(path + ".gz")
        self.assertEqual(found, FINAL_PACKAGES)

    def test_untagged_archive_named_by_file(self):
        path = self.archive("untagged.tar", [LAYER1, LAYER2], tags=())
        document, _ = self.packages(path)
        self.assertEqual(document["metadata"]["component"]["name"], "untagged.tar")

    def test_same_image_byte_identical(self):
        path = self.archive("app.tar", [LAYER1, LAYER2])
        self.assertEqual(self.sbom(path, "spdx-json"), self.sbom(path, "spdx-json"))

    def test_files_not_executed(self):
        marker = os.path.join(self.canary, "executed")
        script = "#!/bin/sh\ntouch %s\n" % marker
        layer = LAYER1 + [dir_entry("usr/bin/"), file_entry("usr/bin/dpkg", script, 0o755),
                          file_entry("usr/bin/sh", script, 0o755)]
        path = self.archive("exec.tar", [layer])
        self.packages(path)
        self.assertFalse(os.path.exists(marker))

    def test_tampered_layer_rejected(self):
        # Layer 2 is not the layer whose diff_id the config lists.
        path = os.path.join(self.tmp, "tampered.tar")
        layers = [layer_tar(LAYER1), layer_tar(LAYER2)]
        imagelib.docker_archive(path, [layers[0], layer_tar(LAYER1)], config_layers=layers)
        result = self.run_warden(path)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, 'warden sbom: layer "%064x/layer.tar": uncompressed '
                         'digest %s does not match the expected %s\n'
                         % (2, imagelib.sha256(layers[0]), imagelib.sha256(layers[1])))
        self.assert_contained()


class Hostile(Workspace):
    def assert_rejected(self, layer, message, *args):
        path = self.archive("hostile.tar", [LAYER1, layer])
        result = self.run_warden(path, *args)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, "warden sbom: " + message + "\n")
        self.assert_contained()

    def test_traversal(self):
        self.assert_rejected([file_entry("../canary/pwned", "x")],
                     'layer 2 entry "../canary/pwned": path escapes the image root through ".."')

    def test_traversal_inside_path(self):
        self.assert_rejected([file_entry("etc/../../canary/pwned", "x")],
                     'layer 2 entry "etc/../../canary/pwned": path escapes the image root '
                     'through ".."')

    def test_absolute_path(self):
        name = os.path.join(self.canary, "pwned")
        self.assert_rejected([file_entry(name, "x")], 'layer 2 entry "%s": absolute path' % name)

    def test_symlink_escape_then_write(self):
        self.assert_rejected([symlink_entry("escape", "../canary"), file_entry("escape/pwned", "x")],
                     'layer 2 entry "escape/pwned": "escape" is a symlink: writing through a '
                     'symlink is rejected')

    def test_absolute_symlink_then_write(self):
        self.assert_rejected([symlink_entry("etc/escape", self.canary),
                      file_entry("etc/escape/pwned", "x")],
                     'layer 2 entry "etc/escape/pwned": "etc/escape" is a symlink: writing '
                     'through a symlink is rejected')

    def test_symlinked_directory_then_write(self):
        # A directory replaced by a symlink to outside, then written into.
        self.assert_rejected([symlink_entry("var/lib/dpkg", self.canary),
                      file_entry("var/lib/dpkg/status", "x")],
                     'layer 2 entry "var/lib/dpkg/status": "var/lib/dpkg" is a symlink: '
                     'writing through a symlink is rejected')

    def test_hardlink_escape(self):
        self.assert_rejected([hardlink_entry("stolen", "../canary/secret")],
                     'layer 2 entry "stolen": hard link target "../canary/secret": path '
                     'escapes the image root through ".."')

    def test_hardlink_absolute(self):
        target = os.path.join(self.canary, "secret")
        self.assert_rejected([hardlink_entry("stolen", target)],
                     'layer 2 entry "stolen": hard link target "%s": absolute path' % target)

    def test_hardlink_to_symlink(self):
        self.assert_rejected([symlink_entry("link", "/etc/os-release"),
                      hardlink_entry("deeper/than/before", "link")],
                     'layer 2 entry "deeper/than/before": hard link target "link" is not a '
                     'regular file')

    def test_whiteout_through_symlink(self):
        self.assert_rejected([symlink_entry("escape", "../canary"),
                      file_entry("escape/.wh.secret", "")],
                     'layer 2 entry "escape/.wh.secret": "escape" is a symlink: writing '
                     'through a symlink is rejected')

    def test_long_path(self):
        name = "a/" * 2100 + "file"
        path = self.archive("long.tar", [[file_entry(name, "x")]])
        result = self.run_warden(path)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r'^warden sbom: layer 1 entry "(a/)+a?\.\.\.": path too '
                                        r'long\n$')
        self.assert_contained()

    def test_control_bytes_quoted(self):
        self.assert_rejected([file_entry("../\x1b[31mred", "x")],
                     'layer 2 entry "../\\x1b[31mred": path escapes the image root through ".."')

    def test_escaping_symlink_stays_inside(self):
        # Symlinks are kept, but resolved inside the image: the cataloger
        # reads the image's status, never the host's or the canary's.
        layer = [symlink_entry("var/lib/dpkg/status", "../../../../../../canary/secret"),
                 symlink_entry("etc/os-release", "/" + os.path.relpath(
                     os.path.join(self.canary, "secret"), "/"))]
        path = self.archive("links.tar", [LAYER1, layer])
        _, found = self.packages(path)
        self.assertEqual(found, [("libstatic", "1.0"), ("tzdata", "2024a-0+deb12u1")])


class Skipped(Workspace):
    def test_devices_fifos_and_setuid(self):
        import tarfile
        layer = [device_entry("dev/null"), device_entry("dev/sda", tarfile.BLKTYPE, 8, 0),
                 device_entry("run/fifo", tarfile.FIFOTYPE),
                 file_entry("usr/bin/su", "#!/bin/false\n", 0o4755)]
        path = self.archive("devices.tar", [LAYER1, LAYER2, layer])
        result = self.run_warden(path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.splitlines(), [
            'warden sbom: warning: layer 3 entry "dev/null": character device not created',
            'warden sbom: warning: layer 3 entry "dev/sda": block device not created',
            'warden sbom: warning: layer 3 entry "run/fifo": FIFO not created',
            'warden sbom: warning: layer 3 entry "usr/bin/su": setuid/setgid bits dropped',
        ])
        self.assertEqual(result.stdout.splitlines()[1:],
                         ["base-files  12.4+deb12u5     deb",
                          "bash        5.2.15-2+b9      deb",
                          "zlib1g      1:1.2.13.dfsg-1  deb"])
        self.assert_contained()


class Limits(Workspace):
    def bomb(self):
        """A docker-archive whose one layer is a gzip of a few KiB that
        expands to a 64 MiB file of zeros."""
        layer = layer_tar([file_entry("zeros.bin", b"\0" * (64 << 20))])
        path = os.path.join(self.tmp, "bomb.tar")
        members, _ = imagelib.oci_layout([layer], "gzip")
        self.assertLess(max(len(d) for _, d in members), 128 << 10)
        imagelib.write_tar(path, members)
        return path

    def test_extract_bytes(self):
        result = self.run_warden(self.bomb(), "--max-extract-bytes", "1M")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, 'warden sbom: layer 1 entry "zeros.bin": uncompressed '
                         'layer data exceeds max-extract-bytes (1048576 bytes)\n')
        self.assert_contained()

    def test_entry_bytes(self):
        result = self.run_warden(self.bomb(), "--max-entry-bytes", "1048576")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, 'warden sbom: layer 1 entry "zeros.bin": file of '
                         '67108864 bytes exceeds max-entry-bytes (1048576 bytes)\n')
        self.assert_contained()

    def test_entries(self):
        layer = [file_entry("f%02d" % i, "x") for i in range(20)]
        path = self.archive("many.tar", [layer])
        result = self.run_warden(path, "--max-entries", "10")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, 'warden sbom: layer 1 entry "f10": more entries than '
                         'max-entries (10)\n')
        self.assert_contained()

    def test_default_limits_pass(self):
        _, found = self.packages(self.bomb())
        self.assertEqual(found, [])

    def test_bad_limit_values(self):
        for value in ("0", "-1", "1X", "lots", "99999999999T"):
            result = self.run_warden(self.bomb(), "--max-extract-bytes", value)
            self.assertEqual(result.returncode, 2, value)
            self.assertIn('invalid value "%s" for --max-extract-bytes' % value, result.stderr)


class Interrupt(Workspace):
    def test_sigint_removes_work_dir(self):
        import signal
        import time
        import zlib
        # A layer of 512 MiB of zeros takes long enough to write that the
        # signal lands while the file is being written.
        info = imagelib.tarfile.TarInfo("zeros.bin")
        info.size = 512 << 20
        header = info.tobuf(imagelib.tarfile.USTAR_FORMAT)
        compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
        chunk = b"\0" * (1 << 20)
        blob = compressor.compress(header)
        for _ in range(512):
            blob += compressor.compress(chunk)
        blob += compressor.compress(b"\0" * 1024) + compressor.flush()
        path = os.path.join(self.tmp, "slow.tar")
        imagelib.write_tar(path, [("manifest.json", json.dumps([{
            "Config": "config.json", "RepoTags": [], "Layers": ["layer.tar.gz"]}]).encode()),
            ("config.json", b"{}"), ("layer.tar.gz", blob)])

        env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, TMPDIR=self.tmpdir)
        process = subprocess.Popen([os.path.abspath(WARDEN), "sbom", path], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        target = None
        while time.monotonic() < deadline and process.poll() is None and not target:
            for name in os.listdir(self.tmpdir):
                candidate = os.path.join(self.tmpdir, name, "zeros.bin")
                if name.startswith("warden-image-") and os.path.exists(candidate):
                    target = candidate
            time.sleep(0.001)
        self.assertIsNotNone(target, "the layer was never written")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 130, stderr)
        self.assertEqual(stdout, "")
        self.assertEqual(stderr, 'warden sbom: layer 1 entry "zeros.bin": interrupted\n')
        self.assert_contained()


class Malformed(Workspace):
    def check(self, path, message):
        result = self.run_warden(path)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "warden sbom: " + message + "\n")
        self.assert_contained()

    def test_not_an_image(self):
        path = os.path.join(self.tmp, "plain.tar")
        imagelib.write_tar(path, [("hello.txt", b"hi")])
        self.check(path, "%s is neither a docker-archive (no manifest.json) nor an OCI image "
                   "layout (no oci-layout)" % path)

    def test_broken_gzip(self):
        # gzip's magic makes it an image archive; its body is not gzip.
        path = os.path.join(self.tmp, "broken.tar.gz")
        with open(path, "wb") as f:
            f.write(b"\x1f\x8b" + b"not a gzip stream\n" * 4)
        result = self.run_warden(path)
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith(
            "warden sbom: cannot read %s as an image archive: " % path), result.stderr)
        self.assert_contained()

    def test_two_images(self):
        path = self.archive("two.tar", [LAYER1])
        import tarfile
        with tarfile.open(path) as tar:
            members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
        manifest = json.loads(members[0][1])
        members[0] = ("manifest.json", json.dumps(manifest * 2).encode())
        imagelib.write_tar(path, members)
        self.check(path, "manifest.json lists 2 images: save one image per archive "
                   "(docker save IMAGE)")

    def test_missing_layer(self):
        path = os.path.join(self.tmp, "missing.tar")
        blob = imagelib.compress(layer_tar(LAYER1), "gzip")
        members, _ = imagelib.oci_layout([layer_tar(LAYER1)], "gzip")
        missing = "blobs/sha256/" + imagelib.sha256(blob)[7:]
        imagelib.write_tar(path, [m for m in members if m[0] != missing])
        self.check(path, '%s has no member "%s"' % (path, missing))


class SchemaConformance(Workspace):
    def test_image_documents_valid(self):
        validators, reason = load_schemas()
        if reason:
            print("skipping schema validation: " + reason, file=sys.stderr)
            self.skipTest(reason)
        spdx_validator, cdx_validator = validators
        for path in (self.archive("app.tar", [LAYER1, LAYER2]),):
            for validator, output_format in ((spdx_validator, "spdx-json"),
                                             (cdx_validator, "cyclonedx-json")):
                document = json.loads(self.sbom(path, output_format))
                errors = ["%s: %s" % (list(e.path), e.message)
                          for e in validator.iter_errors(document)]
                self.assertEqual(errors, [], output_format)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(77)
    sys.exit(0)
