#!/usr/bin/python3
"""warden sensor run against the real kernel. A rule file written here must
load with the expected report. `cat /etc/shadow` and a shell started by a
named parent must each give one exact Falco JSON alert within 1 s, and an
unrelated open must give none."""
import datetime
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

WARDEN = os.environ["WARDEN"]
DEADLINE = 1.0  # seconds from the action to its alert
failures = []

RULES = """
- list: shadow_files
  items: [/etc/shadow]
- rule: Read shadow
  desc: a process read the shadow password file
  condition: evt.type in (open, openat) and fd.name in (shadow_files) and evt.is_open_read = true
  output: "%proc.name read %fd.name (user=%user.name flags=%evt.arg.flags)"
  priority: WARNING
  tags: [filesystem, mitre_credential_access]
- rule: Shell from unexpected parent
  desc: a shell started by the test's helper
  condition: evt.type = execve and proc.name = sh and proc.pname = wdparent
  output: "shell %proc.cmdline from %proc.pname (exe=%proc.exepath)"
  priority: NOTICE
- rule: Marker
  desc: the end of the unrelated opens
  condition: evt.type = openat and fd.filename startswith wd-marker-
  output: "marker %fd.name"
  priority: DEBUG
- rule: Pod only
  desc: reads a source the sensor has not
  condition: evt.type = openat and k8s.pod.name = web
  output: x
  priority: INFO
- rule: Unknown field
  desc: skipped
  condition: evt.type = openat and fd.bogus = 1
  output: x
  priority: INFO
"""

REPORT = """loaded Read shadow
loaded Shell from unexpected parent
loaded Marker
loaded Pod only (absent source: k8s.pod.name evaluate unset)
skipped Unknown field: unknown field 'fd.bogus' at position 22
"""


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def check(name, actual, expected):
    if actual != expected:
        failures.append(f"{name}: expected {expected!r}, got {actual!r}")


class Runner:
    """A `warden sensor run` process writing alerts to a file."""

    def __init__(self, rules, output):
        self.output = output
        self.offset = 0
        self.proc = subprocess.Popen(
            [WARDEN, "sensor", "run", "--rules", rules, "--output", output],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr = b""
        self._wait_attached()

    def _wait_attached(self):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.5)
            if ready:
                line = self.proc.stderr.readline()
                if not line:
                    break
                self.stderr += line
                if b"attached" in line:
                    return
        self.stop()
        message = self.stderr.decode(errors="replace").strip()
        if "built without the eBPF sensor" in message:
            skip("this build has no sensor: " + message)
        if "bpf" in message.lower() or "tracefs" in message:
            skip("eBPF is unavailable here: " + message)
        raise SystemExit("FAIL: the sensor did not attach: " + message)

    def alerts_until(self, predicate, seconds):
        """Returns the new alerts read until predicate(alert) held or seconds
        passed, and whether it held."""
        seen = []
        end = time.monotonic() + seconds
        while True:
            with open(self.output, "rb") as f:
                f.seek(self.offset)
                data = f.read()
            while b"\n" in data:
                line, data = data.split(b"\n", 1)
                self.offset += len(line) + 1
                alert = json.loads(line)
                seen.append(alert)
                if predicate(alert):
                    return seen, True
            if time.monotonic() >= end:
                return seen, False
            time.sleep(0.01)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.stderr += err
        return self.proc.returncode


def check_time(name, alert):
    when = datetime.datetime.strptime(alert["time"][:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ")
    age = datetime.datetime.utcnow() - when
    check(name + " time has nanoseconds", len(alert["time"]), 30)
    check(name + " time is recent", abs(age.total_seconds()) < 5, True)


def test_run(workdir):
    rules = os.path.join(workdir, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    output = os.path.join(workdir, "alerts.json")
    with open(output, "w") as f:
        f.write("{}\n")  # --output appends: this line stays
    runner = Runner(rules, output)
    hostname = os.uname().nodename
    try:
        runner.alerts_until(lambda a: False, 0)
        cat = subprocess.Popen(["cat", "/etc/shadow"], stdout=subprocess.DEVNULL)
        cat.wait()
        seen, found = runner.alerts_until(lambda a: a.get("rule") == "Read shadow", DEADLINE)
        check("shadow alert within 1 s", found, True)
        if found:
            alert = seen[-1]
            check_time("shadow alert", alert)
            del alert["time"]
            check("shadow alert", alert, {
                "rule": "Read shadow",
                "priority": "Warning",
                "output": "cat read /etc/shadow (user=root flags=O_RDONLY)",
                "output_fields": {"proc.name": "cat", "fd.name": "/etc/shadow",
                                  "user.name": "root", "evt.arg.flags": "O_RDONLY"},
                "source": "syscall",
                "tags": ["filesystem", "mitre_credential_access"],
                "hostname": hostname,
            })
        check("alerts before the shadow one", [a["rule"] for a in seen[:-1]], [])

        # The shell sleeps, so its command line is still there when the
        # sensor reads it; "; true" keeps sh from exec'ing the sleep itself.
        parent = os.path.join(workdir, "wdparent")
        os.symlink("/bin/sh", parent)
        helper = subprocess.Popen([parent, "-c", "sh -c 'sleep 0.3; true'; true"])
        seen, found = runner.alerts_until(
            lambda a: a.get("rule") == "Shell from unexpected parent", DEADLINE)
        helper.wait()
        check("shell alert within 1 s", found, True)
        if found:
            alert = seen[-1]
            check_time("shell alert", alert)
            check("shell alert priority", alert["priority"], "Notice")
            # sh finds the inner sh on PATH, as shutil.which does.
            exepath = shutil.which("sh")
            check("shell alert output", alert["output"],
                  f"shell sh -c sleep 0.3; true from wdparent (exe={exepath})")
            check("shell alert fields", alert["output_fields"], {
                "proc.cmdline": "sh -c sleep 0.3; true",
                "proc.pname": "wdparent",
                "proc.exepath": exepath,
            })
            check("shell alert tags", alert["tags"], [])
        check("alerts before the shell one", [a["rule"] for a in seen[:-1]], [])

        # An unrelated read, then a marker: every alert of the first would
        # be written before the marker's.
        other = os.path.join(workdir, "unrelated.txt")
        with open(other, "w") as f:
            f.write("x")
        with open(other) as f:
            f.read()
        marker = os.path.join(workdir, f"wd-marker-{os.getpid()}")
        open(marker, "w").close()
        seen, found = runner.alerts_until(lambda a: a.get("rule") == "Marker", DEADLINE)
        check("marker alert within 1 s", found, True)
        check("no alert for the unrelated opens", [a["rule"] for a in seen], ["Marker"])
        if found:
            check("marker output", seen[-1]["output"], "marker " + marker)
            check("marker priority", seen[-1]["priority"], "Debug")
    finally:
        check("exit code after SIGTERM", runner.stop(), 0)
    stderr = runner.stderr.decode(errors="replace")
    check("load report", stderr[:len(REPORT)], REPORT)
    # The exit totals: the events include at least the test's own exec and
    # opens, and none was lost at this rate.
    totals = re.search(r"^warden sensor: (\d+) events, dropped ringbuf_full=(\d+) "
                       r"filtered=\d+ malformed=(\d+)$", stderr, re.M)
    check("totals line on stderr", totals is not None, True)
    if totals:
        check("events counted", int(totals.group(1)) >= 4, True)
        check("no ring buffer drops", int(totals.group(2)), 0)
        check("no malformed records", int(totals.group(3)), 0)
    with open(output) as f:
        check("--output kept the earlier line", f.readline(), "{}\n")


def test_usage(workdir):
    result = subprocess.run([WARDEN, "sensor", "run", "--help"], capture_output=True,
                            text=True, timeout=30)
    check("--help exit code", result.returncode, 0)
    check("--help synopsis", "--rules FILE [--rules FILE...] [--output FILE] [--types LIST]"
          in result.stdout, True)
    result = subprocess.run([WARDEN, "sensor", "run"], capture_output=True, text=True,
                            timeout=30)
    check("no --rules exit code", result.returncode, 2)
    check("no --rules message", result.stderr.splitlines()[0],
          "warden sensor run: missing --rules FILE")
    missing = os.path.join(workdir, "missing.yaml")
    result = subprocess.run([WARDEN, "sensor", "run", "--rules", missing],
                            capture_output=True, text=True, timeout=30)
    check("missing file exit code", result.returncode, 1)
    check("missing file names it", missing in result.stderr, True)
    only_skipped = os.path.join(workdir, "skipped.yaml")
    with open(only_skipped, "w") as f:
        f.write("- rule: S\n  desc: x\n  condition: fd.bogus = 1\n  output: x\n"
                "  priority: INFO\n")
    result = subprocess.run([WARDEN, "sensor", "run", "--rules", only_skipped],
                            capture_output=True, text=True, timeout=30)
    check("nothing loaded exit code", result.returncode, 1)
    check("nothing loaded message", result.stderr,
          "skipped S: unknown field 'fd.bogus' at position 0\n"
          "warden sensor: no loaded rule reads an event the sensor reports\n")


def main():
    with tempfile.TemporaryDirectory() as workdir:
        test_usage(workdir)
        if os.geteuid() != 0:
            skip("the sensor needs root to load eBPF programs")
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            skip("the kernel has no BTF at /sys/kernel/btf/vmlinux")
        test_run(workdir)
    if failures:
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
