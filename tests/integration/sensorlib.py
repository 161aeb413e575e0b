"""Shared pieces of the sensor's integration tests: the list of failed
checks, skip and check, and a running `warden sensor run` that writes its
alerts to a file."""
import json
import os
import re
import select
import subprocess
import sys
import time

WARDEN = os.environ.get("WARDEN", "")
failures = []


def skip(reason):
    """Skips the rest, unless a check that ran already failed."""
    if failures:
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("SKIP: " + reason)
    sys.exit(77)


def check(name, actual, expected):
    if actual != expected:
        failures.append(f"{name}: expected {expected!r}, got {actual!r}")


def wait_attached(proc, seconds):
    """Reads proc's stderr until the sensor reports it attached and returns
    what it read. Skips when the build or the kernel has no sensor, and
    ends the test as failed when the sensor stops or times out."""
    stderr = b""
    end = time.monotonic() + seconds
    fd = proc.stderr.fileno()
    # os.read, not readline: a buffered readline can take several lines from
    # the pipe at once, and select would then wait for data already read.
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        stderr += chunk
        # Not just "attached" in a line: a rule may be named so.
        if re.search(rb"^warden sensor: attached", stderr, re.M):
            return stderr
    if proc.poll() is None:
        proc.kill()
    _, rest = proc.communicate()
    message = (stderr + rest).decode(errors="replace").strip()
    if "built without the eBPF sensor" in message:
        skip("this build has no sensor: " + message)
    if "bpf" in message.lower() or "tracefs" in message:
        skip("eBPF is unavailable here: " + message)
    raise SystemExit("FAIL: the sensor did not attach: " + message)


class Runner:
    """A `warden sensor run --output OUTPUT ARGS...` process."""

    def __init__(self, args, output, preexec_fn=None, seconds=60):
        self.output = output
        self.offset = 0
        self.proc = subprocess.Popen(
            [WARDEN, "sensor", "run", "--output", output, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        self.stderr = wait_attached(self.proc, seconds)

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
            time.sleep(0.005)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.stderr += err
        return self.proc.returncode
