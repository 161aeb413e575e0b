#!/usr/bin/python3
"""Version order of `warden version compare` against dpkg itself, over
seeded random Debian versions, and against the shared version vectors when
they are present."""
import os
import random
import shutil
import subprocess
import sys
import unittest

WARDEN = os.environ.get("WARDEN", "build/warden")
# The version vectors live outside the repository; without this variable
# their test skips with the reason.
VECTORS = os.environ.get("WARDEN_VERSION_VECTORS", "")
PAIR_COUNT = 10000
SEED = 20261205

# Vector files and the version scheme each one is in.
VECTOR_FILES = {
    "debian-versions.txt": "dpkg",
    "alpine-versions.txt": "apk",
    "redhat-versions.txt": "rpm",
    "rpm-versions.txt": "rpm",
    "semver-versions.txt": "semver",
    "pypi-versions.txt": "pep440",
}
OPERATORS = {"<": -1, "=": 0, ">": 1}

# Vectors that warden rejects as invalid input, per file: Alpine versions
# that break apk's format ("1.2_blah", ".1", "1-ruff2"), pre-PEP 440
# "legacy" Python versions, and semver strings with more or fewer than three
# numbers. A change here means the vector set or the validation changed.
EXPECTED_REJECTED = {"alpine-versions.txt": 32, "pypi-versions.txt": 11, "semver-versions.txt": 2}


def warden_compare(ecosystem, a, b):
    """Return (order, error): the order warden prints, or None and its error."""
    result = subprocess.run([WARDEN, "version", "compare", "--ecosystem", ecosystem, "--", a, b],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return None, result.stderr.strip()
    return int(result.stdout), None


def warden_compare_many(ecosystem, pairs):
    """Return warden's order for each (a, b) pair, from one process."""
    text = "".join(f"{a}\t{b}\n" for a, b in pairs)
    result = subprocess.run([WARDEN, "version", "compare", "--ecosystem", ecosystem, "--stdin"],
                            input=text, capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == len(pairs), result.stderr
    return [int(line) if not line.startswith("error: ") else line for line in lines]


def dpkg_compare(a, b):
    """Return -1, 0 or 1 from dpkg --compare-versions."""
    if subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0:
        return -1
    if subprocess.run(["dpkg", "--compare-versions", a, "eq", b], check=False).returncode == 0:
        return 0
    return 1


def random_part(rng, alphabet, length):
    return "".join(rng.choice(alphabet) for _ in range(length))


def random_dpkg_version(rng):
    """Return a valid Debian version mixing epochs, tildes, letters, leading
    zeros and revisions."""
    upstream = rng.choice("0123456789") + random_part(rng, "0123456789" * 3 + "abzAZ.+~", rng.randint(0, 6))
    revision = None
    if rng.random() < 0.6:
        revision = random_part(rng, "0123456789" * 2 + "abu.+~", rng.randint(1, 5))
        # A hyphen is valid in the upstream part only when a revision follows.
        if rng.random() < 0.2:
            upstream += "-" + random_part(rng, "019a~", rng.randint(1, 3))
    version = upstream
    if revision is not None:
        version += "-" + revision
    if rng.random() < 0.3:
        version = rng.choice(["0", "1", "2", "00", "10"]) + ":" + version
    return version


def replace_one_char(rng, version):
    """Return version with one character after the first digit of the
    upstream version replaced by a digit, letter, '+', '.' or '~', so that a
    pair differs in the weight of one character."""
    start = version.find(":") + 2
    positions = [i for i in range(start, len(version)) if version[i] not in "-:"]
    if not positions:
        return version
    i = rng.choice(positions)
    return version[:i] + rng.choice("0aZ+.~") + version[i + 1:]


def mutate_dpkg_version(rng, version):
    """Return a version close to version, so that pairs often share a prefix
    and differ in one place: a character, a tilde, an epoch or a revision."""
    edits = [
        lambda v: replace_one_char(rng, v),
        lambda v: replace_one_char(rng, v),
        lambda v: v + "~" + random_part(rng, "0a", 1),
        lambda v: v + rng.choice(["a", "0", ".0", "+1", "~"]),
        lambda v: v[:-1] if len(v) > 1 and v[-2] not in "-:" else v,
        lambda v: "0:" + v if ":" not in v else v,
        lambda v: v + "-0" if "-" not in v else v,
        lambda v: v.replace("1", "01", 1),
        lambda v: v.replace("~", "", 1) if v.count("~") else v + "~",
    ]
    mutated = rng.choice(edits)(version)
    # An edit may leave an empty revision ("1.0-"), which dpkg rejects.
    if mutated.endswith("-"):
        mutated += "0"
    return mutated


def vector_cases(path):
    """Yield (line number, a, expected order, b) from a vector file: lines
    "A OP B" with OP one of < = >, or "A B N" with N one of -1 0 1."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith(("#", "//")):
                continue
            fields = line.split()
            if len(fields) != 3:
                raise ValueError(f"{path}:{number}: expected three fields: {line!r}")
            if fields[1] in OPERATORS:
                yield number, fields[0], OPERATORS[fields[1]], fields[2]
            else:
                yield number, fields[0], int(fields[2]), fields[1]


class DpkgOrder(unittest.TestCase):
    def test_random_pairs_match_dpkg(self):
        if not shutil.which("dpkg"):
            self.skipTest("dpkg is not installed")
        rng = random.Random(SEED)
        pairs = []
        for _ in range(PAIR_COUNT):
            a = random_dpkg_version(rng)
            b = mutate_dpkg_version(rng, a) if rng.random() < 0.6 else random_dpkg_version(rng)
            pairs.append((a, b))
        orders = warden_compare_many("dpkg", pairs)
        mismatches = []
        for (a, b), order in zip(pairs, orders):
            expected = dpkg_compare(a, b)
            if order != expected:
                mismatches.append(f"{a!r} vs {b!r}: dpkg {expected}, warden {order}")
        self.assertEqual(mismatches, [], f"{len(mismatches)} of {PAIR_COUNT} pairs disagree")

    def test_known_pairs(self):
        self.assertEqual(warden_compare("Debian", "1.0~rc1", "1.0"), (-1, None))
        self.assertEqual(warden_compare("Debian:12", "1:0.1", "2.0"), (1, None))
        self.assertEqual(warden_compare("dpkg", "1.0", "1.0-0"), (0, None))

    def test_invalid_version_named(self):
        order, error = warden_compare("dpkg", "1.0", "a1")
        self.assertIsNone(order)
        self.assertEqual(error, 'warden version compare: invalid dpkg version "a1": '
                                'upstream version does not start with a digit')

    def test_unknown_ecosystem_named(self):
        order, error = warden_compare("Hackage", "1", "2")
        self.assertIsNone(order)
        self.assertEqual(error, 'warden version compare: unknown ecosystem: "Hackage"')


class VectorConformance(unittest.TestCase):
    def test_vectors(self):
        if not VECTORS:
            self.skipTest("WARDEN_VERSION_VECTORS is not set to the version-vectors folder")
        if not os.path.isdir(VECTORS):
            self.skipTest(f"{VECTORS} is absent")
        mismatches = []
        rejected_counts = {}
        compared = 0
        for name, ecosystem in VECTOR_FILES.items():
            path = os.path.join(VECTORS, name)
            for number, a, expected, b in vector_cases(path):
                order, error = warden_compare(ecosystem, a, b)
                if order is None:
                    print(f"rejected: {name}:{number}: {error}", file=sys.stderr)
                    rejected_counts[name] = rejected_counts.get(name, 0) + 1
                    continue
                compared += 1
                if order != expected:
                    mismatches.append(f"{name}:{number}: {a} vs {b}: expected {expected}, warden {order}")
        print(f"compared {compared} vectors", file=sys.stderr)
        self.assertEqual(mismatches, [])
        self.assertEqual(rejected_counts, EXPECTED_REJECTED)


if __name__ == "__main__":
    unittest.main()
