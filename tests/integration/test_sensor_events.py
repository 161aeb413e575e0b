#!/usr/bin/python3
"""warden sensor events against the real kernel: an exec of /bin/true and an
open of a fresh temp file must come out as exact JSON events within 2 s, and
types left out of --types must not come out at all."""
import json
import os
import select
import subprocess
import sys
import tempfile
import time

WARDEN = os.environ["WARDEN"]
DEADLINE = 2.0  # seconds from the action to its event
failures = []


def skip(reason):
    print("SKIP: " + reason)
    sys.exit(77)


def check(name, actual, expected):
    if actual != expected:
        failures.append(f"{name}: expected {expected!r}, got {actual!r}")


class Sensor:
    """A `warden sensor events --json` process, read line by line."""

    def __init__(self, types):
        self.proc = subprocess.Popen(
            [WARDEN, "sensor", "events", "--types", types, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buffer = b""
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

    def events_until(self, predicate, seconds):
        """Returns the events read until predicate(event) held or seconds
        passed, and whether it held."""
        seen = []
        end = time.monotonic() + seconds
        fd = self.proc.stdout.fileno()
        while time.monotonic() < end:
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self.buffer += chunk
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                event = json.loads(line)
                seen.append(event)
                if predicate(event):
                    return seen, True
        return seen, False

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


def test_exec_and_open(workdir):
    sensor = Sensor("exec,open")
    try:
        child = subprocess.Popen(["/bin/true"])
        child.wait()
        seen, found = sensor.events_until(
            lambda e: e["type"] == "exec" and e["pid"] == child.pid, DEADLINE)
        check("exec event of /bin/true seen", found, True)
        if found:
            event = seen[-1]
            check("exec filename", event["filename"], "/bin/true")
            check("exec uid", event["uid"], 0)
            check("exec gid", event["gid"], 0)
            check("exec ppid", event["ppid"], os.getpid())
            check("exec comm", event["comm"], "true")
        check("only exec and open events",
              sorted({e["type"] for e in seen} - {"exec", "open"}), [])

        path = os.path.join(workdir, f"sensor-open-{os.getpid()}-{time.time_ns()}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        fd = os.open(path, flags, 0o640)
        os.close(fd)
        seen, found = sensor.events_until(lambda e: e["type"] == "open" and e["path"] == path,
                                          DEADLINE)
        check("open event of the temp file seen", found, True)
        if found:
            event = seen[-1]
            # Python makes every descriptor close-on-exec.
            check("open flags", event["flags"], flags | os.O_CLOEXEC)
            check("open mode", event["mode"], 0o640)
            check("open pid", event["pid"], os.getpid())
            check("open returned a descriptor", event["ret"] >= 0, True)
            check("open dfd is AT_FDCWD", event["dfd"], -100)
        check("only exec and open events",
              sorted({e["type"] for e in seen} - {"exec", "open"}), [])
    finally:
        check("sensor exit code after SIGTERM", sensor.stop(), 0)
    check("drop counters on stderr", b"warden sensor: dropped ringbuf_full=" in sensor.stderr,
          True)


def test_disabled_types(workdir):
    sensor = Sensor("open")
    try:
        child = subprocess.Popen(["/bin/true"])
        child.wait()
        path = os.path.join(workdir, f"sensor-marker-{time.time_ns()}")
        open(path, "w").close()
        # The marker's open arrives after the exec would have.
        seen, found = sensor.events_until(lambda e: e.get("path") == path, DEADLINE)
        check("open marker seen", found, True)
        check("no event of a disabled type", sorted({e["type"] for e in seen}), ["open"])
    finally:
        check("sensor exit code after SIGTERM", sensor.stop(), 0)
    stats = sensor.stderr.decode(errors="replace")
    filtered = [int(word.split("=")[1]) for word in stats.split() if word.startswith("filtered=")]
    check("the kernel counted filtered events", len(filtered) == 1 and filtered[0] > 0, True)


def test_bad_types():
    result = subprocess.run([WARDEN, "sensor", "events", "--types", "exec,bogus"],
                            capture_output=True, text=True, timeout=30)
    check("bad --types exit code", result.returncode, 2)
    check("bad --types message", "unknown event type 'bogus'" in result.stderr, True)


def test_unprivileged():
    """Without capabilities the sensor names what is missing and loads nothing."""
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", WARDEN, "sensor",
         "events", "--count", "1"], capture_output=True, text=True, timeout=30)
    if "built without the eBPF sensor" in result.stderr:
        skip("this build has no sensor: " + result.stderr.strip())
    check("unprivileged exit code", result.returncode, 1)
    check("unprivileged message", result.stderr.strip(),
          "warden sensor: the sensor needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN; "
          "missing CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (run as root)")


def main():
    test_bad_types()
    if os.geteuid() != 0:
        skip("the sensor needs root to load eBPF programs")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("the kernel has no BTF at /sys/kernel/btf/vmlinux")
    probe = subprocess.run([WARDEN, "sensor", "events", "--help"], capture_output=True,
                           text=True, timeout=30)
    check("--help exit code", probe.returncode, 0)
    check("--help names --types", "--types LIST" in probe.stdout, True)
    test_unprivileged()
    with tempfile.TemporaryDirectory() as workdir:
        test_exec_and_open(workdir)
        test_disabled_types(workdir)
    if failures:
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
