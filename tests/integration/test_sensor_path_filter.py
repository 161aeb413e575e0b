#!/usr/bin/python3
"""The sensor's path filter in the kernel against the real kernel. With
rules whose opens are bounded by a prefix, a file name and an exact path,
`warden sensor run` reports the filter it set. Opens of other paths never
reach user space and are counted as path_filtered. Opens the rules match
still alert: by prefix, by file name, and by paths the kernel cannot
judge as the rules would (a "..", a "//", a relative path), which user
space normalizes to the watched file. With more prefixes than the kernel
side stores, the filter is off and the sensor still alerts."""
import os
import re
import subprocess
import sys
import tempfile

from sensorlib import Runner, check, failures, skip

DEADLINE = 1.0  # seconds from the action to its alert
UNRELATED_OPENS = 2000


def rules_text(watched):
    return f"""
- rule: Read shadow
  desc: a process read the shadow password file
  condition: evt.type in (open, openat) and fd.name = /etc/shadow and evt.is_open_read = true
  output: "read %fd.name raw=%fd.nameraw"
  priority: WARNING
- rule: Watched directory
  desc: an open below the test's watched directory
  condition: evt.type = openat and fd.name startswith {watched}/
  output: "watched %fd.name"
  priority: NOTICE
- rule: Marker name
  desc: a file with the marker name, wherever it is
  condition: evt.type = openat and fd.filename = wd-filter-marker
  output: "marker %fd.name"
  priority: DEBUG
"""


def open_read(path, cwd=None):
    """Opens path for reading in a child process, so the open is not the
    test's own (the sensor drops nothing by pid, but a child keeps the
    test's opens of its output file apart)."""
    code = "import sys; open(sys.argv[1], 'rb').close()"
    subprocess.run(["/usr/bin/python3", "-c", code, path], cwd=cwd, check=True)


def expect(runner, rule, fd_name):
    """Waits for the next alert and checks its rule and fd.name."""
    seen, found = runner.alerts_until(lambda a: True, DEADLINE)
    check(f"{rule} alert for {fd_name} within 1 s", found, True)
    if found:
        check(f"rule of the alert for {fd_name}", seen[-1]["rule"], rule)
        check(f"fd.name of the alert for {fd_name}",
              seen[-1]["output_fields"].get("fd.name"), fd_name)
        return seen[-1]
    return None


def main():
    if os.geteuid() != 0:
        skip("the sensor needs root")
    with tempfile.TemporaryDirectory(prefix="warden-filter-") as workdir:
        watched = os.path.join(workdir, "watched")
        other = os.path.join(workdir, "other")
        os.mkdir(watched)
        os.mkdir(other)
        rules = os.path.join(workdir, "rules.yaml")
        with open(rules, "w") as f:
            f.write(rules_text(watched))
        output = os.path.join(workdir, "alerts.json")
        runner = Runner(["--rules", rules], output)
        try:
            stderr = runner.stderr.decode(errors="replace")
            check("filter line", re.findall(r"^warden sensor: open path filter.*$", stderr,
                                             re.M),
                  ["warden sensor: open path filter: 2 prefixes, 1 suffixes"])

            # Opens no rule can match: dropped in the kernel, no alert.
            unrelated = os.path.join(other, "unrelated.txt")
            open(unrelated, "w").close()
            code = ("import sys\n"
                    "for _ in range(int(sys.argv[2])): open(sys.argv[1], 'rb').close()\n")
            subprocess.run(["/usr/bin/python3", "-c", code, unrelated, str(UNRELATED_OPENS)],
                           check=True)

            inside = os.path.join(watched, "file.txt")
            open(inside, "w").close()
            seen, found = runner.alerts_until(lambda a: True, DEADLINE)
            check("an alert for the watched file's creation", found, True)
            check("no alert for the unrelated opens", [a["rule"] for a in seen],
                  ["Watched directory"])
            open_read(inside)
            expect(runner, "Watched directory", inside)

            marker = os.path.join(other, "wd-filter-marker")
            open(marker, "w").close()
            expect(runner, "Marker name", marker)

            # Paths the kernel passes because user space rewrites them.
            alert = expect_shadow(runner, "/tmp/../etc/shadow")
            expect_shadow(runner, "//etc/shadow")
            expect_shadow(runner, "/etc/./shadow")
            alert = expect_shadow(runner, "shadow", cwd="/etc")
            if alert:
                check("relative path as given", alert["output"].endswith(
                    "read /etc/shadow raw=shadow"), True)
        finally:
            check("exit code after SIGTERM", runner.stop(), 0)
        stderr = runner.stderr.decode(errors="replace")
        totals = re.search(r"^warden sensor: \d+ events, dropped ringbuf_full=(\d+) "
                           r"filtered=\d+ path_filtered=(\d+) malformed=\d+$", stderr, re.M)
        check("totals line", totals is not None, True)
        if totals:
            check("no ring buffer drops", int(totals.group(1)), 0)
            # Other processes' opens count as well, so at least the test's.
            check(f"at least {UNRELATED_OPENS} opens filtered",
                  int(totals.group(2)) >= UNRELATED_OPENS, True)
        too_many_prefixes(workdir)
    if failures:
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("ok")


def too_many_prefixes(workdir):
    """More prefixes than the kernel side stores: the sensor prints that the
    filter is off and keeps running, and an open of a listed path still
    alerts."""
    # Names of one length, so that none is a prefix of another.
    listed = [os.path.join(workdir, "many", f"file-{i:04d}") for i in range(5000)]
    rules = os.path.join(workdir, "many.yaml")
    with open(rules, "w") as f:
        f.write("- list: many_files\n  items: [" + ", ".join(listed) + "]\n"
                "- rule: Many files\n  desc: d\n"
                "  condition: evt.type = openat and fd.name in (many_files)\n"
                "  output: \"many %fd.name\"\n  priority: NOTICE\n")
    os.mkdir(os.path.join(workdir, "many"))
    output = os.path.join(workdir, "many.json")
    runner = Runner(["--rules", rules], output)
    try:
        stderr = runner.stderr.decode(errors="replace")
        check("filter off line", re.findall(r"^warden sensor: open path filter.*$", stderr,
                                            re.M),
              ["warden sensor: open path filter off: cannot filter open paths: 5000 "
               "prefixes and 0 suffixes, the kernel side holds at most 4096 of each"])
        open(listed[4999], "w").close()
        expect(runner, "Many files", listed[4999])
    finally:
        check("exit code after SIGTERM with the filter off", runner.stop(), 0)


def expect_shadow(runner, path, cwd=None):
    open_read(path, cwd)
    alert = expect(runner, "Read shadow", "/etc/shadow")
    if alert:
        check(f"fd.nameraw of {path}", alert["output"].endswith(f"raw={path}"), True)
    return alert


if __name__ == "__main__":
    main()
