#!/usr/bin/python3
"""warden sensor run against the real kernel. A rule file written here must
load with the expected report. `cat /etc/shadow` and a shell started by a
named parent must each give one exact Falco JSON alert within 1 s, and an
unrelated open must give none. A shell that exits at once still shows its
command line. --deny-exec kills a listed copy of true with SIGKILL and
writes a "Denied exec" alert, while another copy runs."""
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from sensorlib import Runner, check, failures, skip

WARDEN = os.environ["WARDEN"]
DEADLINE = 1.0  # seconds from the action to its alert

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


def check_time(name, alert):
    """Checks the alert's time, and takes off what depends on it: the
    "HH:MM:SS.NNNNNNNNN: " that begins the output and evt.time."""
    when = datetime.datetime.strptime(alert["time"][:26] + "Z", "%Y-%m-%dT%H:%M:%S.%fZ")
    age = datetime.datetime.utcnow() - when
    check(name + " time has nanoseconds", len(alert["time"]), 30)
    check(name + " time is recent", abs(age.total_seconds()) < 5, True)
    ns = alert["output_fields"].pop("evt.time", None)
    local = time.localtime(ns // 10**9) if ns else None
    prefix = time.strftime("%H:%M:%S", local) + f".{ns % 10**9:09d}: " if ns else "?"
    check(name + " evt.time is the time", time.strftime("%Y-%m-%dT%H:%M:%S",
          time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z" if ns else None, alert["time"])
    check(name + " output starts with evt.time", alert["output"].startswith(prefix), True)
    alert["output"] = alert["output"][len(prefix):]


def test_run(workdir):
    rules = os.path.join(workdir, "rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    output = os.path.join(workdir, "alerts.json")
    with open(output, "w") as f:
        f.write("{}\n")  # --output appends: this line stays
    runner = Runner(["--rules", rules], output)
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
                "output": "Warning cat read /etc/shadow (user=root flags=O_RDONLY)",
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
                  f"Notice shell sh -c sleep 0.3; true from wdparent (exe={exepath})")
            check("shell alert fields", alert["output_fields"], {
                "proc.cmdline": "sh -c sleep 0.3; true",
                "proc.pname": "wdparent",
                "proc.exepath": exepath,
            })
            check("shell alert tags", alert["tags"], [])
        check("alerts before the shell one", [a["rule"] for a in seen[:-1]], [])

        # A shell that has exited before the sensor reads its exec still
        # shows its command line, which the kernel read at the exec.
        helper = subprocess.Popen([parent, "-c", "sh -c 'exit 0'; true"])
        helper.wait()
        seen, found = runner.alerts_until(
            lambda a: a.get("rule") == "Shell from unexpected parent", DEADLINE)
        check("short-lived shell alert within 1 s", found, True)
        if found:
            check("short-lived shell command line", seen[-1]["output_fields"]["proc.cmdline"],
                  "sh -c exit 0")

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
            check_time("marker alert", seen[-1])
            check("marker output", seen[-1]["output"], "Debug marker " + marker)
            check("marker priority", seen[-1]["priority"], "Debug")
    finally:
        check("exit code after SIGTERM", runner.stop(), 0)
    stderr = runner.stderr.decode(errors="replace")
    check("load report", stderr[:len(REPORT)], REPORT)
    # The exit totals: the events include at least the test's own exec and
    # opens, and none was lost at this rate.
    totals = re.search(r"^warden sensor: (\d+) events, dropped ringbuf_full=(\d+) "
                       r"filtered=\d+ path_filtered=\d+ malformed=(\d+)$", stderr, re.M)
    check("totals line on stderr", totals is not None, True)
    if totals:
        check("events counted", int(totals.group(1)) >= 4, True)
        check("no ring buffer drops", int(totals.group(2)), 0)
        check("no malformed records", int(totals.group(3)), 0)
    with open(output) as f:
        check("--output kept the earlier line", f.readline(), "{}\n")


def test_deny_exec(workdir):
    """A copy of /bin/true on the deny list dies by SIGKILL with one alert;
    another copy runs; a missing path is refused by name."""
    rules = os.path.join(workdir, "deny-rules.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    denied = os.path.join(workdir, "denied-true")
    allowed = os.path.join(workdir, "allowed-true")
    shutil.copy("/bin/true", denied)
    shutil.copy("/bin/true", allowed)
    output = os.path.join(workdir, "deny-alerts.json")
    runner = Runner(["--rules", rules, "--deny-exec", denied], output)
    try:
        result = subprocess.run([denied, "--flag"], timeout=30)
        check("denied exec exit status", result.returncode, -signal.SIGKILL)
        seen, found = runner.alerts_until(lambda a: a.get("rule") == "Denied exec", DEADLINE)
        check("denied exec alert within 1 s", found, True)
        if found:
            alert = seen[-1]
            check_time("denied exec alert", alert)
            fields = alert["output_fields"]
            check("denied exec pid is a number", isinstance(fields.get("proc.pid"), int), True)
            del alert["time"]
            pid = fields.get("proc.pid")
            check("denied exec alert", alert, {
                "rule": "Denied exec",
                "priority": "Critical",
                "output": f"Critical Exec of a denied executable killed (exe={denied} "
                          f"cmdline=denied-true --flag pid={pid} user=root)",
                "output_fields": {"proc.exepath": denied,
                                  "proc.cmdline": "denied-true --flag",
                                  "proc.pid": pid, "user.name": "root"},
                "source": "syscall",
                "tags": [],
                "hostname": os.uname().nodename,
            })
        result = subprocess.run([allowed, "--flag"], timeout=30)
        check("allowed copy exit status", result.returncode, 0)
        result = subprocess.run([denied], timeout=30)
        check("denied again exit status", result.returncode, -signal.SIGKILL)
        seen, found = runner.alerts_until(lambda a: a.get("rule") == "Denied exec", DEADLINE)
        check("second denied exec alert", found, True)
        check("no alert for the allowed copy",
              [a["rule"] for a in seen if a["rule"] == "Denied exec"], ["Denied exec"])
    finally:
        check("deny runner exit code after SIGTERM", runner.stop(), 0)
    result = subprocess.run([allowed], timeout=30)
    check("nothing denied after the sensor stopped", result.returncode, 0)

    missing = os.path.join(workdir, "no-such-binary")
    result = subprocess.run([WARDEN, "sensor", "run", "--deny-exec", missing],
                            capture_output=True, text=True, timeout=60)
    check("missing --deny-exec exit code", result.returncode, 1)
    check("missing --deny-exec message", result.stderr.splitlines()[-1:],
          [f"warden sensor: cannot deny exec of '{missing}': No such file or directory"])

    # The response file's deny_exec list works the same way.
    responses = os.path.join(workdir, "deny-responses.yaml")
    with open(responses, "w") as f:
        f.write(f"deny_exec:\n  - {denied}\n")
    output = os.path.join(workdir, "deny-alerts-2.json")
    runner = Runner(["--rules", rules, "--responses", responses], output)
    try:
        result = subprocess.run([denied], timeout=30)
        check("denied by the response file exit status", result.returncode, -signal.SIGKILL)
        seen, found = runner.alerts_until(lambda a: a.get("rule") == "Denied exec", DEADLINE)
        check("response file denied exec alert", found, True)
        result = subprocess.run([allowed], timeout=30)
        check("allowed copy with the response file", result.returncode, 0)
    finally:
        check("response file deny runner exit code", runner.stop(), 0)
    with open(responses, "w") as f:
        f.write(f"deny_exec:\n  - {denied}\n  - {missing}\n")
    result = subprocess.run([WARDEN, "sensor", "run", "--rules", rules, "--responses", responses],
                            capture_output=True, text=True, timeout=60)
    check("missing deny_exec path exit code", result.returncode, 1)
    check("missing deny_exec path message", result.stderr.splitlines()[-1:],
          [f"warden sensor: {responses}:3: cannot deny exec of '{missing}': "
           "No such file or directory"])


def test_usage(workdir):
    result = subprocess.run([WARDEN, "sensor", "run", "--help"], capture_output=True,
                            text=True, timeout=30)
    check("--help exit code", result.returncode, 0)
    check("--help synopsis", "--rules FILE [--rules FILE...] [--output FILE] [--types LIST]"
          in result.stdout, True)
    check("--help synopsis names --deny-exec", "[--deny-exec PATH...]\n" in result.stdout,
          True)
    check("--help names --deny-exec", "--deny-exec PATH" in result.stdout, True)
    result = subprocess.run([WARDEN, "sensor", "run"], capture_output=True, text=True,
                            timeout=30)
    check("no --rules exit code", result.returncode, 2)
    check("no --rules message", result.stderr.splitlines()[0],
          "warden sensor run: missing --rules FILE or --deny-exec PATH")
    missing = os.path.join(workdir, "missing.yaml")
    result = subprocess.run([WARDEN, "sensor", "run", "--rules", missing],
                            capture_output=True, text=True, timeout=30)
    check("missing file exit code", result.returncode, 1)
    check("missing file names it", missing in result.stderr, True)
    # Errors name the file, the line and the offending token; nothing runs.
    for text, message in [
        ("- list: a\n  items: [x\n", "{path}:3: did not find expected ',' or ']'"),
        ("- rule: A\n  desc: a\n  condition: evt.type = open\n  output: x\n"
         "  priority: info\n- rule: B\n  desc: b\n"
         "  condition: evt.type = open and proc.name in (a, b\n  output: x\n"
         "  priority: info\n",
         "{path}:6: rule 'B': expected ',' or ')' in a list, got 'end of condition' "
         "at position 38"),
        ("- macro: m\n  condition: proc.name = x or or y\n- rule: B\n  desc: b\n"
         "  condition: evt.type = open and m\n  output: x\n  priority: info\n",
         "{path}:3: rule 'B': in macro 'm': expected a field, macro or '(', got 'or' "
         "at position 17"),
        ("- rule: B\n  desc: b\n  condition: evt.type = open and nosuch\n  output: x\n"
         "  priority: loud\n", "{path}:5: rule 'B' has an unknown priority 'loud'"),
    ]:
        bad = os.path.join(workdir, "bad.yaml")
        with open(bad, "w") as f:
            f.write(text)
        result = subprocess.run([WARDEN, "sensor", "run", "--rules", bad],
                                capture_output=True, text=True, timeout=30)
        check("bad rule file exit code", result.returncode, 1)
        check("bad rule file message", result.stderr,
              "warden sensor: " + message.format(path=bad) + "\n")
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
        test_deny_exec(workdir)
    if failures:
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
