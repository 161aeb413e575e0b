#!/usr/bin/python3
"""The scenarios of test_falco_stable_alerts.py with the repository's own
rule file (data/sensor/stable_fixture.yaml), whose rules carry the names
and the kinds of conditions of Falco's stable rules: each action must give
its exact alert within 100 ms, and an action that a rule's exception
covers must give none."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sensor_scenarios  # noqa: E402
from sensor_scenarios import timed_child, read_after  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "sensor",
                       "stable_fixture.yaml")


def excepted_reader(ctx):
    """wdtrusted reading /etc/shadow is in the rule's exception."""
    _, proc = timed_child(ctx, "wdtrusted", read_after("/etc/shadow"))
    proc.communicate(timeout=30)
    ctx.expect_none("Read sensitive file untrusted", "wd-marker-exception")


def main():
    report = sensor_scenarios.run([FIXTURE], extra_checks=excepted_reader)
    expected = "".join(f"loaded {name}\n" for name in (
        "Read sensitive file untrusted", "Read sensitive file trusted after startup",
        "Directory traversal monitored file read", "Clear Log Activities",
        "Run shell untrusted", "System user interactive",
        "Search Private Keys or Passwords", "Find AWS Credentials",
        "Remove Bulk Data from Disk", "Execution from /dev/shm",
        "Fileless execution via memfd_create", "Terminal shell in container",
        "Netcat Remote Code Execution in Container",
        "Detect release_agent File Container Escapes", "PTRACE attached to process",
        "Create Symlink Over Sensitive Files", "PTRACE anti-debug attempt",
        "Create Hardlink Over Sensitive Files", "Marker"))
    if report[:len(expected)] != expected:
        print(f"FAIL: load report: expected {expected!r}, got {report!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
