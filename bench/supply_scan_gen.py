#!/usr/bin/python3
"""Generate the data of the supply scan benchmark: a root filesystem whose
dpkg status lists PACKAGES Debian 12 packages, and a directory of RECORDS OSV
records in 100 subdirectories, the layout of an unpacked OSV export.

The data is seeded, so every run writes the same files. Binary packages come
from fewer source packages (one source builds 1 to 3 binaries), and records
name source packages as Debian's OSV records do. Of the records, 70 % are for
Debian 12 source packages drawn from twice the installed ones, so about half
of them concern an installed package. Another 10 % are for Debian 11, and 20 %
for PyPI, npm and Go packages, which the root does not have. Ranges mix
fixed, last_affected and unfixed ones, and some records carry a versions
list, a withdrawn time or a GIT range.

usage: supply_scan_gen.py OUT_DIR PACKAGES RECORDS
writes OUT_DIR/root and OUT_DIR/db, and prints a JSON summary."""
import json
import os
import random
import sys

SEED = 20261206
VECTORS = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N",
]
WORDS = ["LOW", "MODERATE", "HIGH", "CRITICAL"]


def debian_version(rng, major):
    return "%d.%d.%d-%d" % (major, rng.randrange(20), rng.randrange(30), rng.randrange(1, 6))


def write_root(root, rng, package_count):
    """Write etc/os-release and var/lib/dpkg/status, and return the
    installed source packages with their versions."""
    os.makedirs(os.path.join(root, "etc"))
    os.makedirs(os.path.join(root, "var", "lib", "dpkg"))
    with open(os.path.join(root, "etc", "os-release"), "w") as f:
        f.write('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n')
    sources = {}
    stanzas = []
    source_index = 0
    while len(stanzas) < package_count:
        source = "src%05d" % source_index
        version = debian_version(rng, 1 + rng.randrange(3))
        sources[source] = version
        for b in range(rng.randint(1, 3)):
            if len(stanzas) == package_count:
                break
            name = source if b == 0 else "lib%s-%d" % (source, b)
            source_field = "" if name == source else "Source: %s\n" % source
            stanzas.append("Package: %s\nStatus: install ok installed\nArchitecture: amd64\n"
                           "%sVersion: %s\n" % (name, source_field, version))
        source_index += 1
    with open(os.path.join(root, "var", "lib", "dpkg", "status"), "w") as f:
        f.write("\n".join(stanzas))
    return sources


def ranges_for(rng, version_of):
    kind = rng.random()
    if kind < 0.6:
        return [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": version_of()}]}]
    if kind < 0.8:
        return [{"type": "ECOSYSTEM", "events": [{"introduced": version_of()},
                                                 {"last_affected": version_of()}]}]
    if kind < 0.9:
        return [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]
    return [{"type": "GIT", "repo": "https://example.org/repo.git",
             "events": [{"introduced": "%040x" % rng.getrandbits(160)}]},
            {"type": "ECOSYSTEM", "events": [{"introduced": version_of()},
                                             {"fixed": version_of()}]}]


def record(rng, index, ecosystem, name, version_of):
    rec = {
        "schema_version": "1.6.0",
        "id": "BENCH-%06d" % index,
        "modified": "2026-01-%02dT00:00:00Z" % (1 + index % 28),
        "published": "2025-12-01T00:00:00Z",
        "aliases": ["CVE-2026-%05d" % index],
        "summary": "generated vulnerability %d in %s" % (index, name),
        "details": "A generated record for the scan benchmark.",
        "affected": [{"package": {"ecosystem": ecosystem, "name": name},
                      "ranges": ranges_for(rng, version_of)}],
        "references": [{"type": "WEB", "url": "https://example.org/%d" % index}],
    }
    if rng.random() < 0.5:
        rec["severity"] = [{"type": "CVSS_V3", "score": rng.choice(VECTORS)}]
    else:
        rec["database_specific"] = {"severity": rng.choice(WORDS)}
    if rng.random() < 0.1:
        rec["affected"][0]["versions"] = [version_of() for _ in range(rng.randint(1, 5))]
    if rng.random() < 0.01:
        rec["withdrawn"] = "2026-02-01T00:00:00Z"
    return rec


def write_db(db, rng, sources, record_count):
    names = sorted(sources)
    pool = names + ["gone%05d" % i for i in range(len(names))]
    for shard in range(100):
        os.makedirs(os.path.join(db, "%02d" % shard))
    for index in range(record_count):
        draw = rng.random()
        if draw < 0.7:
            ecosystem, name = "Debian:12", rng.choice(pool)
            major = int(sources.get(name, "1")[0])
            version_of = lambda: debian_version(rng, major)
        elif draw < 0.8:
            ecosystem, name = "Debian:11", rng.choice(pool)
            version_of = lambda: debian_version(rng, 1)
        else:
            ecosystem = rng.choice(["PyPI", "npm", "Go"])
            name = "%s-pkg-%d" % (ecosystem.lower(), rng.randrange(5000))
            version_of = lambda: "%d.%d.%d" % (rng.randrange(5), rng.randrange(20), rng.randrange(30))
        rec = record(rng, index, ecosystem, name, version_of)
        path = os.path.join(db, "%02d" % (index % 100), rec["id"] + ".json")
        with open(path, "w") as f:
            json.dump(rec, f, separators=(",", ":"))


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: supply_scan_gen.py OUT_DIR PACKAGES RECORDS")
    out, package_count, record_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(SEED)
    sources = write_root(os.path.join(out, "root"), rng, package_count)
    write_db(os.path.join(out, "db"), rng, sources, record_count)
    print(json.dumps({"packages": package_count, "sources": len(sources),
                      "records": record_count}))


if __name__ == "__main__":
    main()
