#!/usr/bin/python3
"""warden sensor run's responses against the real kernel and real processes.
A process that reads a marker file and then keeps running must be killed by
SIGKILL, frozen in its cgroup, or left alive with --dry-run. The webhook must
receive the exact alert line and syslog the exact message. Every response
must leave an audit record with exact values. Freezing the sensor's own
cgroup or an ancestor of it must be refused."""
import datetime
import http.server
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sensorlib import Runner, check, failures, skip

WARDEN = os.environ["WARDEN"]
DEADLINE = 5.0  # seconds from the read to the response
HOSTNAME = os.uname().nodename

# The victim reports that it is ready (in one write, before a response can stop
# it), reads the marker, then appends a heartbeat line every 20 ms, so a
# frozen victim is one whose heartbeat file stops growing.
VICTIM = """
import os, sys, time

os.write(1, b"ready\\n")
open(sys.argv[1]).read()
while True:
    with open(sys.argv[2], "a") as beat:
        beat.write("x\\n")
    time.sleep(0.02)
"""


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    return None


def rule(name, path, extra=""):
    return (f"- rule: {name}\n"
            f"  desc: the test's marker {path}\n"
            f"  condition: evt.type in (open, openat) and fd.name = {path}\n"
            f"  output: \"%proc.name read %fd.name\"\n"
            f"  priority: WARNING\n{extra}")


def join_cgroup(path):
    """Returns a preexec_fn that moves the child into cgroup path."""
    def move():
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    return move


def check_exit(name, runner):
    """Checks that the sensor exits 0 on SIGTERM; shows its stderr if not."""
    code = runner.stop()
    if code != 0:
        tail = runner.stderr.decode(errors="replace")[-2000:]
        failures.append(f"{name}: expected exit code 0, got {code}; stderr: {tail}")


def read_records(path, predicate, seconds=DEADLINE):
    """Returns the JSON lines of path once predicate(lines) holds, or the
    last lines read after seconds."""
    end = time.monotonic() + seconds
    while True:
        with open(path, "rb") as f:
            lines = [json.loads(line) for line in f.read().splitlines() if line.strip()]
        if predicate(lines) or time.monotonic() >= end:
            return lines
        time.sleep(0.02)


def strip_time(record):
    record = dict(record)
    when = record.pop("time", "")
    check(f"{record.get('action', record.get('rule'))} record time", len(when), 30)
    return record


def start_victim(workdir, marker, cgroup=None):
    beat = marker + f".beat-{time.monotonic_ns()}"
    open(beat, "w").close()
    victim = subprocess.Popen(["/usr/bin/python3", "-c", VICTIM, marker, beat],
                              stdout=subprocess.PIPE,
                              preexec_fn=join_cgroup(cgroup) if cgroup else None)
    check(f"victim of {os.path.basename(marker)} ready", victim.stdout.readline(), b"ready\n")
    return victim, beat


def end_victim(victim):
    if victim.poll() is None:
        victim.kill()
    victim.wait()


class Hook(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((self.path, self.headers.get("Content-Type"), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_kill_notify_syslog(workdir):
    """kill from a `warden:` section, notify by tag from the response file,
    syslog to a socket bound here, audit records to --audit."""
    kill_marker = os.path.join(workdir, "kill-marker")
    notify_marker = os.path.join(workdir, "notify-marker")
    for path in (kill_marker, notify_marker):
        open(path, "w").close()
    rules = os.path.join(workdir, "rules.yaml")
    with open(rules, "w") as f:
        f.write(rule("Kill marker", kill_marker, "  warden:\n    actions: [kill]\n"))
        f.write(rule("Notify marker", notify_marker, "  tags: [wdtest_notify]\n"))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    responses = os.path.join(workdir, "responses.yaml")
    with open(responses, "w") as f:
        f.write("responses:\n"
                "  - rule: Kill marker\n"
                "    actions: [kill]\n"
                "  - tag: wdtest_notify\n"
                "    actions: [notify]\n"
                "notify:\n"
                f"  url: http://127.0.0.1:{port}/hook?token=secret\n"
                "  timeout_ms: 2000\n")
    log_path = os.path.join(workdir, "log.sock")
    log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    log.bind(log_path)
    output = os.path.join(workdir, "alerts-1.json")
    audit = os.path.join(workdir, "audit-1.json")
    open(output, "w").close()
    runner = Runner(["--rules", rules, "--responses", responses, "--audit", audit,
                     "--syslog-socket", log_path], output)
    try:
        victim, _ = start_victim(workdir, kill_marker)
        try:
            code = victim.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            code = None
        end_victim(victim)
        check("killed victim's exit", code, -signal.SIGKILL)
        records = read_records(audit, lambda lines: len(lines) >= 1)
        check("kill audit records", [strip_time(r) for r in records], [{
            "type": "response", "rule": "Kill marker", "action": "kill",
            "pid": victim.pid, "target": f"pid:{victim.pid}", "result": "success",
            "hostname": HOSTNAME}])

        notified, _ = start_victim(workdir, notify_marker)
        records = read_records(audit, lambda lines: len(lines) >= 2)
        end_victim(notified)
        check("notify audit record", [strip_time(r) for r in records[1:]], [{
            "type": "response", "rule": "Notify marker", "action": "notify",
            "pid": notified.pid, "target": f"http://127.0.0.1:{port}/hook",
            "result": "success", "hostname": HOSTNAME}])
        with open(output, "rb") as f:
            alerts = f.read().splitlines()
        check("alert rules", [json.loads(a)["rule"] for a in alerts],
              ["Kill marker", "Notify marker"])
        check("webhook requests", Hook.received,
              [("/hook?token=secret", "application/json", alerts[1])])
        log.settimeout(DEADLINE)
        messages = [log.recv(65536), log.recv(65536)]
        for message, alert in zip(messages, alerts):
            # <84> is facility authpriv (10 * 8) plus severity warning (4);
            # 15 bytes of "Mmm dd hh:mm:ss" follow.
            check("syslog priority", message[:4], b"<84>")
            check("syslog message", message[19:],
                  f" warden-sensor[{runner.proc.pid}]: ".encode() + alert)
    finally:
        check_exit("exit code after SIGTERM", runner)
        server.shutdown()
        log.close()
    stderr = runner.stderr.decode(errors="replace")
    check("webhook counts", "webhook: 1 sent, 0 failed, 0 dropped" in stderr, True)


def write_webhook_cert(workdir, names):
    """Writes a self-signed webhook certificate for names (DNS names or IP
    addresses) and its key; returns the two paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhook")])
    sans = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    tag = "-".join(names)
    cert_path = os.path.join(workdir, f"webhook-{tag}.pem")
    key_path = os.path.join(workdir, f"webhook-{tag}.key")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_path, key_path


def test_https_notify(workdir):
    """notify over https: delivered when the certificate names 127.0.0.1,
    a failure record when it names only localhost."""
    marker = os.path.join(workdir, "https-marker")
    open(marker, "w").close()
    rules = os.path.join(workdir, "rules-https.yaml")
    with open(rules, "w") as f:
        f.write(rule("Https marker", marker, "  warden: {actions: [notify]}\n"))
    for names, expected in ((["127.0.0.1"], "success"), (["localhost"], "failure")):
        cert, key = write_webhook_cert(workdir, names)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        responses = os.path.join(workdir, f"responses-https-{expected}.yaml")
        with open(responses, "w") as f:
            f.write(f"notify:\n  url: https://127.0.0.1:{port}/tls\n  ca: {cert}\n")
        output = os.path.join(workdir, f"alerts-https-{expected}.json")
        open(output, "w").close()
        Hook.received = []
        runner = Runner(["--rules", rules, "--responses", responses], output)
        victim = None
        try:
            victim, _ = start_victim(workdir, marker)
            lines = read_records(output, lambda lines: len(lines) >= 2)
            record = strip_time(lines[1]) if len(lines) > 1 else None
            want = {"type": "response", "rule": "Https marker", "action": "notify",
                    "pid": victim.pid, "target": f"https://127.0.0.1:{port}/tls",
                    "result": expected, "hostname": HOSTNAME}
            if expected == "failure":
                want["error"] = "the webhook's certificate is not valid for 127.0.0.1"
                check("https request with the wrong name", Hook.received, [])
            else:
                check("https request", [(p, t) for p, t, _ in Hook.received],
                      [("/tls", "application/json")])
                check("https body", [json.loads(b) for _, _, b in Hook.received], [lines[0]])
            check(f"https {expected} record", record, want)
        finally:
            check_exit(f"https {expected} exit code", runner)
            server.shutdown()
            if victim:
                end_victim(victim)


def test_dry_run(workdir, cgroup_root, base):
    """--dry-run: kill and quarantine checked, nothing done, records in the
    alert stream after the alert."""
    marker = os.path.join(workdir, "dry-marker")
    open(marker, "w").close()
    rules = os.path.join(workdir, "rules-dry.yaml")
    with open(rules, "w") as f:
        f.write(rule("Dry marker", marker, "  warden: {actions: [kill, quarantine]}\n"))
    group = os.path.join(base, "dry")
    os.mkdir(group)
    output = os.path.join(workdir, "alerts-dry.json")
    open(output, "w").close()
    runner = Runner(["--rules", rules, "--dry-run"], output)
    victim = None
    try:
        victim, beat = start_victim(workdir, marker, group)
        lines = read_records(output, lambda lines: len(lines) >= 3)
        time.sleep(0.2)
        check("dry-run victim alive", victim.poll(), None)
        with open(os.path.join(group, "cgroup.events")) as f:
            check("dry-run cgroup not frozen", "frozen 0" in f.read(), True)
        check("dry-run stream", [line.get("rule") for line in lines],
              ["Dry marker"] * 3)
        target = "/" + os.path.relpath(group, cgroup_root)
        check("dry-run records", [strip_time(r) for r in lines[1:]], [
            {"type": "response", "rule": "Dry marker", "action": "quarantine",
             "pid": victim.pid, "target": target, "result": "dry-run", "hostname": HOSTNAME},
            {"type": "response", "rule": "Dry marker", "action": "kill",
             "pid": victim.pid, "target": f"pid:{victim.pid}", "result": "dry-run",
             "hostname": HOSTNAME}])
    finally:
        check_exit("dry-run exit code", runner)
        if victim:
            end_victim(victim)


def beat_grows(beat, seconds=0.3):
    before = os.path.getsize(beat)
    time.sleep(seconds)
    return os.path.getsize(beat) > before


def test_quarantine(workdir, cgroup_root, base):
    """The sensor runs in BASE/sensor: a victim in BASE/victim is frozen, one
    in the sensor's cgroup and one in BASE (its parent) are not."""
    marker = os.path.join(workdir, "freeze-marker")
    open(marker, "w").close()
    rules = os.path.join(workdir, "rules-freeze.yaml")
    with open(rules, "w") as f:
        f.write(rule("Freeze marker", marker, "  tags: [wdtest_freeze]\n"))
    responses = os.path.join(workdir, "responses-freeze.yaml")
    with open(responses, "w") as f:
        f.write("responses:\n  - tag: wdtest_freeze\n    actions: [quarantine]\n")
    groups = {name: os.path.join(base, name) for name in ("sensor", "victim")}
    for path in groups.values():
        os.mkdir(path)
    output = os.path.join(workdir, "alerts-freeze.json")
    audit = os.path.join(workdir, "audit-freeze.json")
    open(output, "w").close()
    runner = Runner(["--rules", rules, "--responses", responses, "--audit", audit], output,
                    preexec_fn=join_cgroup(groups["sensor"]))
    victims = []
    relative = {name: "/" + os.path.relpath(path, cgroup_root) for name, path in groups.items()}
    base_relative = "/" + os.path.relpath(base, cgroup_root)
    try:
        victim, beat = start_victim(workdir, marker, groups["victim"])
        victims.append(victim)
        records = read_records(audit, lambda lines: len(lines) >= 1)
        check("quarantine record", [strip_time(r) for r in records], [{
            "type": "response", "rule": "Freeze marker", "action": "quarantine",
            "pid": victim.pid, "target": relative["victim"], "result": "success",
            "hostname": HOSTNAME}])
        with open(os.path.join(groups["victim"], "cgroup.freeze")) as f:
            check("cgroup.freeze", f.read(), "1\n")
        end = time.monotonic() + DEADLINE
        events = ""
        while time.monotonic() < end and "frozen 1" not in events:
            with open(os.path.join(groups["victim"], "cgroup.events")) as f:
                events = f.read()
            time.sleep(0.02)
        check("cgroup.events", events, "populated 1\nfrozen 1\n")
        check("frozen victim's heartbeat stops", beat_grows(beat), False)
        check("frozen victim still exists", victim.poll(), None)
        with open(os.path.join(groups["victim"], "cgroup.freeze"), "w") as f:
            f.write("0")
        check("thawed victim's heartbeat resumes", beat_grows(beat), True)

        own, own_beat = start_victim(workdir, marker, groups["sensor"])
        victims.append(own)
        parent, parent_beat = start_victim(workdir, marker, base)
        victims.append(parent)
        records = read_records(audit, lambda lines: len(lines) >= 3)
        check("refusal records", [strip_time(r) for r in records[1:]], [
            {"type": "response", "rule": "Freeze marker", "action": "quarantine",
             "pid": own.pid, "target": relative["sensor"], "result": "failure",
             "error": f"refusing to freeze {relative['sensor']}: it is the sensor's own "
                      "cgroup", "hostname": HOSTNAME},
            {"type": "response", "rule": "Freeze marker", "action": "quarantine",
             "pid": parent.pid, "target": base_relative, "result": "failure",
             "error": f"refusing to freeze {base_relative}: it contains the sensor's cgroup "
                      f"{relative['sensor']}", "hostname": HOSTNAME}])
        check("victim in the sensor's cgroup runs on", beat_grows(own_beat), True)
        check("victim in the parent cgroup runs on", beat_grows(parent_beat), True)
    finally:
        check_exit("quarantine exit code", runner)
        for path in (groups["victim"], groups["sensor"], base):
            try:
                with open(os.path.join(path, "cgroup.freeze"), "w") as f:
                    f.write("0")
            except OSError:
                pass
        for victim in victims:
            end_victim(victim)


def test_config_errors(workdir):
    """A bad response file or `warden:` section stops the sensor before it
    attaches, naming file, line and value."""
    marker = os.path.join(workdir, "config-marker")
    rules = os.path.join(workdir, "rules-config.yaml")
    with open(rules, "w") as f:
        f.write(rule("Config marker", marker))
    bad_rules = os.path.join(workdir, "rules-bad.yaml")
    with open(bad_rules, "w") as f:
        f.write(rule("Bad marker", marker, "  warden:\n    actions: [kill, reboot]\n"))
    responses = os.path.join(workdir, "responses-bad.yaml")
    with open(responses, "w") as f:
        f.write("responses:\n  - rule: Config markr\n    actions: [kill]\n")
    missing = os.path.join(workdir, "missing.yaml")
    cases = [
        (["--rules", bad_rules],
         f"loaded Bad marker\nwarden sensor: {bad_rules}:7: unknown action 'reboot': "
         "expected kill, quarantine, revoke or notify\n"),
        (["--rules", rules, "--responses", responses],
         f"loaded Config marker\nwarden sensor: {responses}:2: rule 'Config markr' is not "
         "defined in the loaded rule files\n"),
    ]
    for args, expected in cases:
        result = subprocess.run([WARDEN, "sensor", "run"] + args, capture_output=True,
                                text=True, timeout=30)
        check(f"{args} exit code", result.returncode, 1)
        check(f"{args} message", result.stderr, expected)
    result = subprocess.run([WARDEN, "sensor", "run", "--rules", rules, "--responses", missing],
                            capture_output=True, text=True, timeout=30)
    check("missing response file exit code", result.returncode, 1)
    check("missing response file named", missing in result.stderr, True)
    result = subprocess.run([WARDEN, "sensor", "run", "--help"], capture_output=True,
                            text=True, timeout=30)
    check("--help lists the response options",
          "[--responses FILE] [--dry-run] [--audit FILE] [--syslog] [--syslog-socket PATH]"
          in result.stdout, True)


def remove_cgroups(base):
    for name in ("sensor", "victim", "dry"):
        path = os.path.join(base, name)
        if os.path.isdir(path):
            os.rmdir(path)
    if os.path.isdir(base):
        os.rmdir(base)


def main():
    with tempfile.TemporaryDirectory() as workdir:
        test_config_errors(workdir)
    if os.geteuid() != 0:
        skip("the sensor needs root to load eBPF programs")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("the kernel has no BTF at /sys/kernel/btf/vmlinux")
    cgroup_root = cgroup2_mount()
    if not cgroup_root:
        skip("no cgroup v2 file system is mounted")
    base = os.path.join(cgroup_root, f"wdtest-{os.getpid()}")
    os.mkdir(base)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            test_kill_notify_syslog(workdir)
            test_https_notify(workdir)
            test_dry_run(workdir, cgroup_root, base)
            test_quarantine(workdir, cgroup_root, base)
    finally:
        # The processes of this test are gone by now; the test's own
        # process never joined these cgroups.
        time.sleep(0.1)
        remove_cgroups(base)
    if failures:
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
