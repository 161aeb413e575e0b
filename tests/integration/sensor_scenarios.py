"""Actions on a plain host that Falco's stable rules alert on, and the exact
alert each one must give from `warden sensor run`. test_falco_stable_alerts.py
runs them with Falco's own rule file, test_sensor_stable_fixture.py with the
rule file of tests/integration/data, which has rules of the same names.

Each scenario starts a process with a name, command line, parent and user
set by the test, so every field of the rule's output has one expected
value. The alert must carry exactly those in output_fields and in output,
and its time must lie within 100 ms of the moment just before the action."""
import os
import pwd
import grp
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

from sensorlib import Runner, check, failures, skip

WARDEN = os.environ["WARDEN"]
DEADLINE = 0.1       # seconds from just before the action to the event's time
ARRIVAL = 2.0        # seconds the test waits for the alert line
LINGER = "0.4"       # seconds a process stays, so its /proc entry is read

results = []         # (rule, "event after N ms, ..." or "skipped: reason")


def start_runner(rules, output, types=None):
    """Starts `warden sensor run` with each of the rule files rules."""
    args = []
    for path in rules:
        args += ["--rules", path]
    if types:
        args += ["--types", types]
    return Runner(args, output)


def proc_comm(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().rstrip("\n")


def proc_ppid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def proc_cmdline(pid):
    """proc.cmdline as Falco and warden write it: the name, then argv[1:]."""
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = f.read().rstrip(b"\0").split(b"\0")
    return " ".join([proc_comm(pid)] + [a.decode() for a in argv[1:]])


def own_ancestors():
    """The names of this process and its ancestors, this one first."""
    names, pid = [], os.getpid()
    while pid > 0 and len(names) < 10:
        names.append(proc_comm(pid))
        pid = proc_ppid(pid)
    return names


def own_argv0():
    with open("/proc/self/cmdline", "rb") as f:
        return f.read().split(b"\0")[0].decode()


def own_tty():
    with open("/proc/self/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[4])


def own_loginuid():
    with open("/proc/self/loginuid") as f:
        value = int(f.read())
    return -1 if value == 4294967295 else value


OUTPUT_FIELD = re.compile(r"%([A-Za-z0-9_.]+?)\.*(\[[^\]]*\])?(?=[^A-Za-z0-9_.]|\.[^A-Za-z0-9_]|\.?$)")


def output_fields(template):
    """The %field and %field[arg] names of a rule's output, in order."""
    names = []
    for match in OUTPUT_FIELD.finditer(template):
        names.append(match.group(1) + (match.group(2) or ""))
    return names


def render(template, values):
    """The rule's output with each field replaced as warden and Falco do."""
    def value(match):
        v = values[match.group(1) + (match.group(2) or "")]
        if v is None:
            return "<NA>"
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)
    return OUTPUT_FIELD.sub(value, template)


class Facts:
    """Expected field values of the process an action starts."""

    def __init__(self, name, exepath, cmdline, evt_type, parents=(), uid=0, gid=0,
                 **extra):
        chain = [name] + list(parents) + own_ancestors()
        user = pwd.getpwuid(uid).pw_name
        login = own_loginuid()
        self.values = {
            "evt.type": evt_type,
            "evt.res": "SUCCESS",
            "proc.name": name,
            "proc.exepath": exepath,
            "proc.cmdline": cmdline,
            "proc.pname": chain[1],
            "proc.pcmdline": extra.pop("pcmdline", None) or proc_cmdline(os.getpid()),
            "proc.pexe": extra.pop("pexe", None) or own_argv0(),
            "proc.pexepath": extra.pop("pexepath", None) or os.readlink("/proc/self/exe"),
            "proc.cwd": os.getcwd().rstrip("/") + "/",
            "proc.tty": own_tty(),
            "proc.sname": None,
            "user.name": user,
            "user.uid": uid,
            "user.loginuid": login,
            "user.loginname": pwd.getpwuid(login).pw_name if login >= 0 else None,
            "group.gid": gid,
            "group.name": grp.getgrgid(gid).gr_name,
            "container.id": "host",
            "container.name": "host",
            "container.start_ts": None,
            "container.image.repository": None,
            "evt.arg.flags": None,
            "fd.name": None,
        }
        for level in range(2, 8):
            self.values[f"proc.aname[{level}]"] = chain[level] if level < len(chain) else None
        self.values.update(extra)

    def expected(self, fields):
        missing = [f for f in fields if f not in self.values]
        if missing:
            raise SystemExit(f"FAIL: the test has no expected value for {missing} "
                             f"of {self.values['proc.name']}")
        return {f: self.values[f] for f in fields}


def load_outputs(paths):
    """Each rule's output and priority from the rule files, later ones win."""
    rules = {}
    for path in paths:
        with open(path) as f:
            for item in yaml.safe_load(f) or []:
                if isinstance(item, dict) and "rule" in item and "output" in item:
                    rules[item["rule"]] = (item["output"].strip(), item["priority"])
    return rules


PRIORITY = {"EMERGENCY": "Emergency", "ALERT": "Alert", "CRITICAL": "Critical",
            "ERROR": "Error", "WARNING": "Warning", "NOTICE": "Notice",
            "INFORMATIONAL": "Informational", "INFO": "Informational", "DEBUG": "Debug"}


def check_alert(rule, alert, template, priority, facts, started_ns):
    fields = output_fields(template)
    expected = facts.expected(fields)
    got = dict(alert["output_fields"])
    evt_time = got.pop("evt.time", None)
    check(rule + ": output_fields", got, expected)
    check(rule + ": time is evt.time", evt_time is not None and
          time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(evt_time // 10**9)) +
          f".{evt_time % 10**9:09d}Z", alert["time"])
    check(rule + ": priority", alert["priority"], PRIORITY[priority.upper()])
    if evt_time is not None:
        clock = time.strftime("%H:%M:%S", time.localtime(evt_time // 10**9))
        check(rule + ": output", alert["output"],
              f"{clock}.{evt_time % 10**9:09d}: {PRIORITY[priority.upper()]} " +
              render(template, expected))
        delay_ms = (evt_time - started_ns) / 1e6
        # The event clock is the monotonic one plus an offset taken at start,
        # so it may read a little before the test's wall clock.
        check(rule + f": event {delay_ms:.1f} ms after the action, within "
              f"{DEADLINE * 1000:.0f} ms", -5 <= delay_ms <= DEADLINE * 1000, True)
        return delay_ms
    return None


class Context:
    def __init__(self, workdir, runner, outputs, attachable):
        self.workdir = workdir
        self.runner = runner
        self.outputs = outputs
        self.attachable = attachable

    def link(self, name, target):
        """A symlink called name to target, so the program runs as name."""
        path = os.path.join(self.workdir, name)
        if not os.path.lexists(path):
            os.symlink(target, path)
        return path

    def expect(self, rule, facts, started_ns, procs=(), match=None, then=None):
        """Waits for rule's alert on the process facts describes, then calls
        then() (which ends the action) and waits for procs."""
        def same_process(alert):
            # Another process may match the rule too: this one's alert has
            # the expected name, command line and file where it shows them.
            fields = alert["output_fields"]
            return all(fields[key] == facts.values[key] for key in
                       ("proc.name", "proc.cmdline", "proc.exepath", "fd.name")
                       if key in fields)
        match = match or same_process
        seen, found = self.runner.alerts_until(
            lambda a: a.get("rule") == rule and match(a), ARRIVAL)
        arrived_ms = (time.time_ns() - started_ns) / 1e6
        if then:
            then()
        for proc in procs:
            proc.wait(timeout=30)
        if rule not in self.outputs:
            failures.append(f"{rule}: not in the rule file")
            return
        check(rule + ": alert seen", found, True)
        if not found:
            results.append((rule, "no alert"))
            return
        template, priority = self.outputs[rule]
        delay = check_alert(rule, seen[-1], template, priority, facts, started_ns)
        results.append((rule, f"event after {delay:.1f} ms, alert read after "
                              f"{arrived_ms:.0f} ms"))

    def expect_none(self, rule, marker_name):
        """Opens a marker file and checks that rule alerted on nothing
        before the marker's own alert (the rule 'Marker' of the fixture)."""
        marker = os.path.join(self.workdir, marker_name)
        open(marker, "w").close()
        seen, found = self.runner.alerts_until(
            lambda a: a.get("rule") == "Marker" and
            a["output_fields"].get("fd.name") == marker, ARRIVAL)
        check(f"marker {marker_name} seen", found, True)
        # Only alerts on the scenarios' own processes (all named wd...)
        # count: other programs on the machine may read the same files.
        check(f"{rule}: no alert", [a["rule"] for a in seen if a["rule"] == rule and
                                    str(a["output_fields"].get("proc.name", "wd"))
                                    .startswith("wd")], [])


def timed_child(ctx, name, code):
    """Runs python3 as name with code, which prints time.time_ns() just
    before its action; returns the process and reads the time later."""
    exe = ctx.link(name, sys.executable)
    proc = subprocess.Popen([exe, "-c", code], stdout=subprocess.PIPE, text=True)
    return exe, proc


def child_time(proc):
    """The time the child printed just before its action."""
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"FAIL: {proc.args} printed no time")
    return int(line)


def read_after(path, flags="os.O_RDONLY"):
    return (f"import os, time; time.sleep({LINGER}); print(time.time_ns(), flush=True); "
            f"os.close(os.open({path!r}, {flags}))")


# --- the scenarios ---

def read_sensitive_untrusted(ctx):
    code = read_after("/etc/shadow")
    exe, proc = timed_child(ctx, "wdreader", code)
    started = child_time(proc)
    facts = Facts("wdreader", exe, f"wdreader -c {code}", "openat",
                  **{"fd.name": "/etc/shadow", "evt.arg.flags": "O_RDONLY|O_CLOEXEC"})
    ctx.expect("Read sensitive file untrusted", facts, started, procs=[proc])


def read_sensitive_trusted_after_startup(ctx):
    # A server (by name) that has run for more than 5 s.
    code = ("import os, time; time.sleep(5.3); print(time.time_ns(), flush=True); "
            "os.close(os.open('/etc/shadow', os.O_RDONLY))")
    exe, proc = timed_child(ctx, "nginx", code)
    started = child_time(proc)
    facts = Facts("nginx", exe, f"nginx -c {code}", "openat",
                  **{"fd.name": "/etc/shadow", "evt.arg.flags": "O_RDONLY|O_CLOEXEC"})
    ctx.expect("Read sensitive file trusted after startup", facts, started, procs=[proc])


def directory_traversal(ctx):
    raw = "/etc/../etc/../etc/passwd"
    code = read_after(raw)
    exe, proc = timed_child(ctx, "wdtraverse", code)
    started = child_time(proc)
    facts = Facts("wdtraverse", exe, f"wdtraverse -c {code}", "openat",
                  **{"fd.name": "/etc/passwd", "fd.nameraw": raw,
                     "evt.arg.flags": "O_RDONLY|O_CLOEXEC"})
    ctx.expect("Directory traversal monitored file read", facts, started, procs=[proc])


def clear_log(ctx):
    path = os.path.join(ctx.workdir, "syslog")
    code = read_after(path, "os.O_WRONLY | os.O_TRUNC | os.O_CREAT")
    exe, proc = timed_child(ctx, "wdtruncate", code)
    started = child_time(proc)
    facts = Facts("wdtruncate", exe, f"wdtruncate -c {code}", "openat",
                  **{"fd.name": path, "evt.arg.flags": "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC"})
    ctx.expect("Clear Log Activities", facts, started, procs=[proc])


def run_shell_untrusted(ctx):
    # A shell whose parent is named like a web server; "; true" keeps the
    # outer sh from exec'ing the inner one.
    web = os.path.join(ctx.workdir, "web")
    os.makedirs(web, exist_ok=True)
    nginx = os.path.join(web, "nginx")
    if not os.path.lexists(nginx):
        os.symlink(shutil.which("sh"), nginx)
    inner = f"sleep {LINGER}; true"
    started = time.time_ns()
    helper = subprocess.Popen([nginx, "-c", f"sh -c '{inner}'; true"])
    facts = Facts("sh", shutil.which("sh"), f"sh -c {inner}", "execve", parents=["nginx"],
                  pcmdline=f"nginx -c sh -c '{inner}'; true", pexe=nginx, pexepath=nginx)
    ctx.expect("Run shell untrusted", facts, started,
               match=lambda a: a["output_fields"].get("proc.pname") == "nginx",
               procs=[helper])


def system_user_interactive(ctx):
    # A login daemon (by name) starting a program as nobody.
    nobody = pwd.getpwnam("nobody")
    sleep = shutil.which("sleep")
    exe = ctx.link("sshd", sys.executable)
    code = (f"import os, subprocess, time; os.setgid({nobody.pw_gid}); "
            f"os.setuid({nobody.pw_uid}); print(time.time_ns(), flush=True); "
            f"subprocess.run([{sleep!r}, '{LINGER}'])")
    helper = subprocess.Popen([exe, "-c", code], stdout=subprocess.PIPE, text=True)
    started = child_time(helper)
    facts = Facts("sleep", sleep, f"sleep {LINGER}", "execve", parents=["sshd"],
                  uid=nobody.pw_uid, gid=nobody.pw_gid, pcmdline=f"sshd -c {code}")
    ctx.expect("System user interactive", facts, started, procs=[helper])


def search_private_keys(ctx):
    # grep reads its stdin until the test closes it, so it stays a while.
    grep = shutil.which("grep")
    started = time.time_ns()
    proc = subprocess.Popen([grep, "-c", "BEGIN PRIVATE", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    facts = Facts("grep", grep, "grep -c BEGIN PRIVATE -", "execve")
    ctx.expect("Search Private Keys or Passwords", facts, started, procs=[proc],
               then=proc.stdin.close)


def find_aws_credentials(ctx):
    find = shutil.which("find")
    args = [ctx.workdir, "-maxdepth", "0", "-exec", "sleep", LINGER, ";", "-path",
            "*/.aws/credentials"]
    started = time.time_ns()
    proc = subprocess.Popen([find] + args)
    facts = Facts("find", find, "find " + " ".join(args), "execve")
    ctx.expect("Find AWS Credentials", facts, started, procs=[proc])


def remove_bulk_data(ctx):
    # Opening the FIFO blocks shred, since nothing reads it, so it stays
    # until the test kills it.
    fifo = os.path.join(ctx.workdir, "wd-shred-fifo")
    os.mkfifo(fifo)
    shred = shutil.which("shred")
    started = time.time_ns()
    proc = subprocess.Popen([shred, "-n", "1", fifo], stderr=subprocess.DEVNULL)
    facts = Facts("shred", shred, f"shred -n 1 {fifo}", "execve")
    ctx.expect("Remove Bulk Data from Disk", facts, started, procs=[proc], then=proc.kill)


def execution_from_dev_shm(ctx):
    target = f"/dev/shm/wd-sleep-{os.getpid()}"
    shutil.copy(shutil.which("sleep"), target)
    try:
        started = time.time_ns()
        proc = subprocess.Popen([target, LINGER])
        name = os.path.basename(target)[:15]
        facts = Facts(name, target, f"{name} {LINGER}", "execve")
        ctx.expect("Execution from /dev/shm", facts, started, procs=[proc])
    finally:
        os.unlink(target)


def fileless_memfd(ctx):
    sleep = shutil.which("sleep")
    code = ("import os, time; fd = os.memfd_create('wdmemfd', 0); "
            f"os.write(fd, open({sleep!r}, 'rb').read()); print(time.time_ns(), flush=True); "
            f"os.execv(f'/proc/self/fd/{{fd}}', ['wdmemfd', '{LINGER}'])")
    exe, proc = timed_child(ctx, "wdloader", code)
    started = child_time(proc)
    # The kernel names the program after the file it ran: the fd's number.
    facts = Facts("3", "/proc/self/fd/3", f"3 {LINGER}", "execve")
    ctx.expect("Fileless execution via memfd_create", facts, started, procs=[proc])


class FakeContainer:
    """A cgroup named the way docker names a container's, so that a process
    moved into it has a container id, as it would in a real container."""

    def __init__(self):
        self.id = os.urandom(32).hex()
        self.procs = None
        self.made = []
        pid = os.getpid()
        for root, rel in [("/sys/fs/cgroup/unified", f"wd-test-{pid}.slice/docker-{self.id}.scope"),
                          ("/sys/fs/cgroup", f"wd-test-{pid}.slice/docker-{self.id}.scope"),
                          ("/sys/fs/cgroup/pids", f"docker/{self.id}")]:
            if not os.path.exists(os.path.join(root, "cgroup.procs")):
                continue
            made = []
            path = root
            try:
                for part in rel.split("/"):
                    path = os.path.join(path, part)
                    if not os.path.isdir(path):
                        os.mkdir(path)
                        made.append(path)
                probe = subprocess.Popen([shutil.which("sleep"), "5"])
                try:
                    with open(os.path.join(path, "cgroup.procs"), "w") as f:
                        f.write(str(probe.pid))
                finally:
                    probe.kill()
                    probe.wait()
            except OSError:
                for leftover in reversed(made):
                    os.rmdir(leftover)
                continue
            self.procs = os.path.join(path, "cgroup.procs")
            self.made = made
            return

    def run(self, argv, timed=False, **popen):
        """Starts argv (its argv[0] a path) inside the container: a python3
        joins the cgroup and then runs exec, so the sensor reads the cgroup
        when it handles the exec.
        With timed, it prints time.time_ns() just before the exec."""
        code = (f"import os, time; open({self.procs!r}, 'w').write(str(os.getpid())); " +
                ("print(time.time_ns(), flush=True); " if timed else "") +
                f"os.execv({argv[0]!r}, {argv!r})")
        if timed:
            popen["stdout"] = subprocess.PIPE
            popen["text"] = True
        return subprocess.Popen([sys.executable, "-c", code], **popen)

    def remove(self):
        for path in reversed(self.made):
            for _ in range(50):
                try:
                    os.rmdir(path)
                    break
                except OSError:
                    time.sleep(0.1)  # a process that has just ended may still be listed


def terminal_shell_in_container(ctx):
    # A runtime (by name) in the container starts a shell on a terminal.
    sh = shutil.which("sh")
    runc = ctx.link("runc", sys.executable)
    inner = f"sleep {LINGER}; true"
    code = ("import os, time; master, slave = os.openpty(); "
            "rdev = os.fstat(slave).st_rdev; ma, mi = os.major(rdev), os.minor(rdev); "
            "tty = (mi & 0xff) | (ma << 8) | ((mi & ~0xff) << 12); "
            "print(time.time_ns(), tty, flush=True); pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.setsid(); fd = os.open(os.ttyname(slave), os.O_RDWR)\n"
            "    [os.dup2(fd, n) for n in (0, 1, 2)]\n"
            f"    os.execv({sh!r}, ['sh', '-c', {inner!r}])\n"
            "os.waitpid(pid, 0)")
    proc = ctx.container.run([runc, "-c", code], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split()
    started, tty = int(line[0]), int(line[1])
    facts = Facts("sh", sh, f"sh -c {inner}", "execve", parents=["runc"],
                  **{"proc.tty": tty, "container.id": ctx.container.id[:12],
                     "container.name": None})
    ctx.expect("Terminal shell in container", facts, started, procs=[proc])


def netcat_in_container(ctx):
    nc = ctx.link("nc", sys.executable)
    code = f"import time; time.sleep({LINGER})"
    proc = ctx.container.run([nc, "-c", code, "-e"], timed=True)
    started = child_time(proc)
    facts = Facts("nc", nc, f"nc -c {code} -e", "execve",
                  **{"container.id": ctx.container.id[:12], "container.name": None})
    ctx.expect("Netcat Remote Code Execution in Container", facts, started, procs=[proc])


def release_agent_in_container(ctx):
    path = os.path.join(ctx.workdir, "release_agent")
    code = read_after(path, "os.O_WRONLY | os.O_CREAT")
    exe = ctx.link("wdescape", sys.executable)
    proc = ctx.container.run([exe, "-c", code], stdout=subprocess.PIPE, text=True)
    started = child_time(proc)
    with open("/proc/self/status") as f:
        caps = int(re.search(r"CapEff:\s*([0-9a-f]+)", f.read()).group(1), 16)
    facts = Facts("wdescape", exe, f"wdescape -c {code}", "openat",
                  **{"fd.name": path, "container.id": ctx.container.id[:12],
                     "container.name": None, "thread.cap_effective": cap_names(caps)})
    ctx.expect("Detect release_agent File Container Escapes", facts, started, procs=[proc])


CAPS = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
        "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
        "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
        "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
        "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
        "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]


def cap_names(mask):
    return " ".join("CAP_" + name for bit, name in enumerate(CAPS) if mask & (1 << bit))


# Rules of the ptrace and symlink events: the event type the sensor needs,
# and an action that triggers the rule.
def ptrace_attach(ctx):
    target = subprocess.Popen([shutil.which("sleep"), LINGER])
    code = ("import ctypes, os, sys, time; libc = ctypes.CDLL(None, use_errno=True); "
            f"print(time.time_ns(), flush=True); libc.ptrace(16, {target.pid}, 0, 0); "
            f"time.sleep({LINGER})")
    exe, proc = timed_child(ctx, "wdtracer", code)
    started = child_time(proc)
    facts = Facts("wdtracer", exe, f"wdtracer -c {code}", "ptrace")
    # The attach stops the target, and it stays stopped after the tracer
    # exits: it is killed once the alert is in.
    ctx.expect("PTRACE attached to process", facts, started, procs=[proc, target],
               then=target.kill)


def symlink_sensitive(ctx):
    link = os.path.join(ctx.workdir, "wd-shadow-link")
    # symlinkat itself: os.symlink calls symlink where the machine has it.
    code = (f"import ctypes, time; libc = ctypes.CDLL(None); time.sleep({LINGER}); "
            f"print(time.time_ns(), flush=True); "
            f"libc.symlinkat(b'/etc/shadow', -100, {link!r}.encode())")
    exe, proc = timed_child(ctx, "wdlinker", code)
    started = child_time(proc)
    facts = Facts("wdlinker", exe, f"wdlinker -c {code}", "symlinkat",
                  **{"evt.arg.target": "/etc/shadow", "evt.arg.linkpath": link})
    ctx.expect("Create Symlink Over Sensitive Files", facts, started, procs=[proc])


def ptrace_traceme(ctx):
    """PTRACE_TRACEME makes the test process this child's tracer; the child
    then exits as usual."""
    code = ("import ctypes, time; libc = ctypes.CDLL(None); "
            "print(time.time_ns(), flush=True); libc.ptrace(0, 0, None, None)")
    exe, proc = timed_child(ctx, "wdantidebug", code)
    started = child_time(proc)
    facts = Facts("wdantidebug", exe, f"wdantidebug -c {code}", "ptrace")
    ctx.expect("PTRACE anti-debug attempt", facts, started, procs=[proc])


def hardlink_sensitive(ctx):
    """A hard link into a directory that does not exist: the call fails and
    changes nothing, and the rule reads only its arguments."""
    link = os.path.join(ctx.workdir, "no-such-dir", "wd-shadow-hardlink")
    code = ("import ctypes, time; libc = ctypes.CDLL(None); "
            "print(time.time_ns(), flush=True); "
            f"libc.linkat(-100, b'/etc/shadow', -100, {link!r}.encode(), 0)")
    exe, proc = timed_child(ctx, "wdhardlinker", code)
    started = child_time(proc)
    facts = Facts("wdhardlinker", exe, f"wdhardlinker -c {code}", "linkat",
                  **{"evt.arg.oldpath": "/etc/shadow", "evt.arg.newpath": link,
                     "evt.res": "ENOENT"})
    ctx.expect("Create Hardlink Over Sensitive Files", facts, started, procs=[proc])


STABLE = [
    ("Read sensitive file untrusted", "open", read_sensitive_untrusted),
    ("Directory traversal monitored file read", "open", directory_traversal),
    ("Clear Log Activities", "open", clear_log),
    ("Run shell untrusted", "exec", run_shell_untrusted),
    ("System user interactive", "exec", system_user_interactive),
    ("Search Private Keys or Passwords", "exec", search_private_keys),
    ("Find AWS Credentials", "exec", find_aws_credentials),
    ("Remove Bulk Data from Disk", "exec", remove_bulk_data),
    ("Execution from /dev/shm", "exec", execution_from_dev_shm),
    ("Fileless execution via memfd_create", "exec", fileless_memfd),
    ("Read sensitive file trusted after startup", "open", read_sensitive_trusted_after_startup),
    ("Terminal shell in container", "container", terminal_shell_in_container),
    ("Netcat Remote Code Execution in Container", "container", netcat_in_container),
    ("Detect release_agent File Container Escapes", "container", release_agent_in_container),
    ("PTRACE attached to process", "ptrace", ptrace_attach),
    ("Create Symlink Over Sensitive Files", "link", symlink_sensitive),
    ("PTRACE anti-debug attempt", "ptrace", ptrace_traceme),
    ("Create Hardlink Over Sensitive Files", "link", hardlink_sensitive),
]

# Stable rules no action on a plain host can trigger today, and why.
NOT_ON_A_PLAIN_HOST = {
    "Contact K8S API Server From Container": "needs a container and Kubernetes metadata",
    "Packet socket created in container": "needs a container",
    "Redirect STDOUT/STDIN to Network Connection in Container":
        "needs a container and dup events",
    "Linux Kernel Module Injection Detected":
        "needs a container and a kernel with modules (CONFIG_MODULES)",
    "Debugfs Launched in Privileged Container": "needs a privileged container",
    "Drop and execute new binary in container": "needs a container's overlay upper layer",
    "Disallowed SSH Connection Non Standard Port":
        "fd.l4proto is unset: connect events do not carry the socket's protocol",
}


def attachable_types():
    """The event types `warden sensor run --types` accepts."""
    found = set()
    for name in ("exec", "open", "connect", "ptrace", "symlink", "link", "unlink",
                 "setuid"):
        result = subprocess.run([WARDEN, "sensor", "run", "--types", name, "--rules",
                                 "/nonexistent/rules.yaml"], capture_output=True,
                                text=True, timeout=30)
        if "event type" not in result.stderr and "unknown type" not in result.stderr:
            found.add(name)
    return found


def run(rule_files, extra_checks=None):
    if os.geteuid() != 0:
        skip("the sensor needs root to load eBPF programs")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("the kernel has no BTF at /sys/kernel/btf/vmlinux")
    outputs = load_outputs(rule_files)
    attachable = attachable_types()
    with tempfile.TemporaryDirectory() as workdir:
        output = os.path.join(workdir, "alerts.json")
        open(output, "w").close()
        runner = start_runner(rule_files, output)
        ctx = Context(workdir, runner, outputs, attachable)
        ctx.container = FakeContainer()
        try:
            for rule, etype, action in STABLE:
                if etype == "container" and not ctx.container.procs:
                    results.append((rule, "skipped: no cgroup hierarchy takes a new cgroup"))
                    continue
                if etype not in attachable and etype != "container":
                    results.append((rule, f"skipped: the sensor has no {etype} events"))
                    continue
                action(ctx)
            if extra_checks:
                extra_checks(ctx)
        finally:
            check("exit code after SIGTERM", runner.stop(), 0)
            ctx.container.remove()
        report = runner.stderr.decode(errors="replace")
    for rule, what in results:
        print(f"{rule}: {what}")
    for rule, why in NOT_ON_A_PLAIN_HOST.items():
        print(f"{rule}: not triggered on a plain host: {why}")
    if failures:
        print(report, file=sys.stderr)
        for failure in failures:
            print("FAIL: " + failure, file=sys.stderr)
        sys.exit(1)
    print("ok")
    return report
