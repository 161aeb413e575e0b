#!/usr/bin/python3
"""warden sensor events against the real kernel: an exec of /bin/true and an
open of a fresh temp file must come out as exact JSON events within 2 s, and
types left out of --types must not come out at all. A short-lived shell
shows its whole command line, and a child that makes each further system
call the sensor reports (setid, ptrace, unlink, rename, mount, bpf, memfd,
symlink, link, socket, listen, accept, creat, execveat) gives events with
its exact arguments."""
import json
import platform
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

from sensorlib import check, failures, skip, wait_attached

WARDEN = os.environ["WARDEN"]
DEADLINE = 2.0  # seconds from the action to its event


class Sensor:
    """A `warden sensor events --json` process, read line by line."""

    def __init__(self, types, form="--json"):
        self.proc = subprocess.Popen(
            [WARDEN, "sensor", "events", "--types", types] + ([form] if form else []),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.buffer = b""
        self.stderr = wait_attached(self.proc, 30)

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

    def line_containing(self, text, seconds):
        """Returns the first output line that contains text, or None."""
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
                if text in line.decode(errors="replace"):
                    return line.decode(errors="replace")
        return None

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


# The calls below, each made once by one child process. Every call the
# kernel refuses fails in a way that changes nothing on the machine.
CHILD = r"""
import ctypes, os, socket, sys
workdir, bpf_nr = sys.argv[1], int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
os.setresgid(0, 0, 0)
os.setgid(0)
libc.ptrace(0, 0, None, None)                       # PTRACE_TRACEME
libc.ptrace(16, 0x7ffffff0, None, None)             # PTRACE_ATTACH: no such pid
a, b = os.path.join(workdir, "ren-a"), os.path.join(workdir, "ren-b")
open(a, "w").close()
os.rename(a, b)
os.unlink(b)
libc.unlink(b.encode())                             # ENOENT
os.mkdir(a)
os.rmdir(a)
os.symlink("/etc/wd-target", os.path.join(workdir, "sym"))
os.link(os.path.join(workdir, "sym"), os.path.join(workdir, "hard"), follow_symlinks=False)
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).close()
libc.mount(b"wdnone", os.path.join(workdir, "no-such-dir").encode(), b"tmpfs", 0, None)
if bpf_nr:
    libc.syscall(bpf_nr, 1000, None, 0)              # an unknown command: EINVAL
os.close(os.memfd_create("wd-memfd", os.MFD_CLOEXEC))
os.close(libc.creat(os.path.join(workdir, "created").encode(), 0o600))
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(7)
client = socket.create_connection(server.getsockname())
peer, _ = server.accept()
print(client.getsockname()[1], server.fileno(), peer.fileno(), flush=True)
open(os.path.join(workdir, "child-done"), "w").close()
"""

# bpf(2) has no wrapper in Python's standard library; its number per machine.
BPF_SYSCALL = {"x86_64": 321, "aarch64": 280}


def test_syscalls(workdir):
    sensor = Sensor("exec,setid,ptrace,unlink,rename,mount,bpf,memfd,listen,accept,open,"
                    "link,socket")
    done = os.path.join(workdir, "child-done")
    bpf_nr = BPF_SYSCALL.get(platform.machine(), 0)
    try:
        child = subprocess.Popen([sys.executable, "-c", CHILD, workdir, str(bpf_nr)],
                                 stdout=subprocess.PIPE, text=True)
        out, _ = child.communicate(timeout=30)
        if child.returncode != 0:
            raise SystemExit(f"FAIL: the child exited with {child.returncode}")
        client_port, server_fd, peer_fd = (int(word) for word in out.split())
        seen, found = sensor.events_until(
            lambda e: e["type"] == "open" and e["path"] == done, DEADLINE)
        check("the child's last open seen", found, True)
    finally:
        check("sensor exit code after SIGTERM", sensor.stop(), 0)
    mine = [e for e in seen if e["pid"] == child.pid]
    strip = ("timestamp_ns", "pid", "tid", "ppid", "cgroup_id", "uid", "gid", "comm")

    def events(kind, **match):
        return [{k: v for k, v in e.items() if k not in strip} for e in mine
                if e["type"] == kind and all(e.get(k) == v for k, v in match.items())]

    check("setid events", events("setid"), [
        {"type": "setid", "syscall": "setresgid", "ids": [0, 0, 0], "ret": 0},
        {"type": "setid", "syscall": "setgid", "ids": [0], "ret": 0}])
    check("ptrace events", events("ptrace"), [
        {"type": "ptrace", "syscall": "ptrace", "request": 0, "target_pid": 0, "ret": 0},
        {"type": "ptrace", "syscall": "ptrace", "request": 16, "target_pid": 0x7ffffff0,
         "ret": -3}])
    a, b = os.path.join(workdir, "ren-a"), os.path.join(workdir, "ren-b")
    renames = events("rename", oldpath=a)
    check("one rename", len(renames), 1)
    if renames:
        check("rename call", renames[0]["syscall"] in ("rename", "renameat", "renameat2"),
              True)
        check("rename paths and result", (renames[0]["newpath"], renames[0]["ret"]), (b, 0))
    unlinks = [(e["syscall"] in ("unlink", "unlinkat"), e["ret"])
               for e in events("unlink", path=b)]
    check("unlink results", unlinks, [(True, 0), (True, -2)])
    check("rmdir", [(e["syscall"], e["ret"]) for e in events("unlink", path=a)],
          [("rmdir", 0)])
    check("mount event", events("mount"), [
        {"type": "mount", "syscall": "mount", "dev": "wdnone",
         "dir": os.path.join(workdir, "no-such-dir"), "fstype": "tmpfs", "flags": 0,
         "ret": -2}])
    if bpf_nr:
        check("bpf event", events("bpf", cmd=1000),
              [{"type": "bpf", "syscall": "bpf", "cmd": 1000, "ret": -22}])
    memfd = events("memfd")
    check("one memfd event", len(memfd), 1)
    if memfd:
        check("memfd name and flags", (memfd[0]["name"], memfd[0]["flags"]), ("wd-memfd", 1))
        check("memfd returned a descriptor", memfd[0]["ret"] >= 0, True)
    created = events("open", path=os.path.join(workdir, "created"))
    check("one creat", len(created), 1)
    if created:
        check("creat call", created[0]["syscall"] in ("creat", "openat"), True)
        check("creat flags and mode", (created[0]["flags"], created[0]["mode"]),
              (os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    sym, hard = os.path.join(workdir, "sym"), os.path.join(workdir, "hard")
    links = [(e["syscall"], e["oldpath"], e["newpath"], e["ret"]) for e in events("link")]
    check("link events", [(call in ("symlink", "symlinkat"), old, new, ret)
                          for call, old, new, ret in links[:1]],
          [(True, "/etc/wd-target", sym, 0)])
    check("hard link event", [(call in ("link", "linkat"), old, new, ret)
                              for call, old, new, ret in links[1:]], [(True, sym, hard, 0)])
    sockets = events("socket", domain=socket.AF_UNIX)
    check("unix socket event", [(e["socket_type"], e["protocol"], e["ret"] >= 0)
                                for e in sockets],
          [(socket.SOCK_DGRAM | socket.SOCK_CLOEXEC, 0, True)])
    check("listen event", events("listen", fd=server_fd), [
        {"type": "listen", "syscall": "listen", "fd": server_fd, "backlog": 7, "ret": 0}])
    accepts = events("accept", fd=server_fd)
    check("one accept", len(accepts), 1)
    if accepts:
        # Python accepts with accept4(SOCK_CLOEXEC).
        check("accept event", accepts[0], {
            "type": "accept", "syscall": "accept4", "fd": server_fd, "flags": 0o2000000,
            "ret": peer_fd, "family": "inet", "address": "127.0.0.1", "port": client_port})


def test_command_lines(workdir):
    """A process gone before user space reads its exec still has its argv,
    and an exec through a descriptor comes out as execveat."""
    sensor = Sensor("exec")
    try:
        subdir = os.path.join(workdir, "cwd dir")
        os.mkdir(subdir)
        subprocess.run(["/bin/sh", "-c", "exit 0"], timeout=30, cwd=subdir)
        seen, found = sensor.events_until(
            lambda e: e["type"] == "exec" and e["argv"] == ["/bin/sh", "-c", "exit 0"],
            DEADLINE)
        check("short-lived shell's argv", found, True)
        if found:
            check("short-lived shell's syscall", seen[-1]["syscall"], "execve")
            check("short-lived shell not killed", seen[-1]["killed"], False)
            check("short-lived shell's cwd", seen[-1]["cwd"], os.path.realpath(subdir))
        subprocess.run(["/bin/sh", "-c", "exit 0", "at-root"], timeout=30, cwd="/")
        seen, found = sensor.events_until(
            lambda e: e["type"] == "exec" and e["argv"][-1:] == ["at-root"], DEADLINE)
        check("exec at / seen", found, True)
        if found:
            check("cwd of an exec at /", seen[-1]["cwd"], "/")
        # The walk up crosses mount points: /sys/fs/cgroup is one below /sys.
        mounted = "/sys/fs/cgroup"
        if os.path.ismount(mounted):
            subprocess.run(["/bin/sh", "-c", "exit 0", "in-mount"], timeout=30, cwd=mounted)
            seen, found = sensor.events_until(
                lambda e: e["type"] == "exec" and e["argv"][-1:] == ["in-mount"], DEADLINE)
            check("exec in a mount seen", found, True)
            if found:
                check("cwd across mount points", seen[-1]["cwd"], mounted)
        else:
            print(f"note: {mounted} is not a mount point; mount crossing not checked")
        marker = f"wd-fexecve-{time.time_ns()}"
        code = ("import os; fd = os.open('/bin/true', os.O_RDONLY); "
                f"os.execve(fd, ['true', '{marker}'], {{}})")
        child = subprocess.run([sys.executable, "-c", code], timeout=30)
        check("fexecve exit code", child.returncode, 0)
        seen, found = sensor.events_until(
            lambda e: e["type"] == "exec" and e["argv"] == ["true", marker], DEADLINE)
        check("exec through a descriptor seen", found, True)
        if found:
            check("exec through a descriptor is execveat", seen[-1]["syscall"], "execveat")
    finally:
        check("sensor exit code after SIGTERM", sensor.stop(), 0)


def test_text_form():
    """Without --json, every payload field prints as key=value."""
    sensor = Sensor("exec", form=None)
    try:
        marker = f"wd-text-{time.time_ns()}"
        shell = subprocess.Popen(["/bin/sh", "-c", "exit 0", marker], cwd="/")
        shell.wait()
        line = sensor.line_containing(marker, DEADLINE)
        check("text exec line seen", line is not None, True)
        if line:
            check("text exec line", line.split(" comm=")[1],
                  f'sh syscall=execve filename=/bin/sh old_tid={shell.pid} '
                  f'argv=["/bin/sh","-c","exit 0","{marker}"] cwd=/ tty=0 killed=false')
            check("text exec line pid", line.split()[1], f"pid={shell.pid}")
    finally:
        check("sensor exit code after SIGTERM", sensor.stop(), 0)


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
        test_syscalls(workdir)
        test_command_lines(workdir)
        test_text_form()
    if failures:
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
