#!/usr/bin/env python3
"""make bench: Rampart against Debian's OpenSSH sshd, side by side.

Both servers run in one gateway network namespace and are reached by the
same OpenSSH client over the same paths; only the port differs (Rampart 22,
sshd 2222).  Everything else lives in private namespaces with no route out:

    client  10.78.1.2 --veth-- 10.78.1.1  gateway  10.78.2.1 --veth-- 10.78.2.2 target
    delayed 10.78.3.2 --tun == delayline (25 ms each way) == tun-- 10.78.3.1

The target runs the traffic ends (bench_io serve on port 9000, bench_io
hold on 9001).  The gateway also routes (ip_forward, in its namespace only)
so that plain TCP takes the same path as the forwarded bytes.

Measures (docs/performance.md says how and why):
  a  ssh -L throughput per cipher, upload and download, loopback veths
  b  connect + auth + first byte of ssh -W (median of 30)
  c  RSS, PSS and USS per idle session at 200 sessions
  d  sessions held before failure, cap 2000
  e  ssh -L at 50 ms RTT through the delay line, against plain TCP
  k  rampart-knockd: knock-to-open latency, and garbage dropped on one
     core with every valid knock opening (tests/bench/knock_bench.py, in
     namespaces of its own; --only knock runs it alone)
  s  sshuttle through Rampart's native server against sshuttle through
     sshd and its Python server: 1 GiB each way and new-connection time
     (tests/bench/shuttle_bench.py, in namespaces of its own; --only
     shuttle runs it alone, and so does running that file)

Environment: BENCH_QUICK=1 (a short run), BENCH_SIZE (bytes for a, with
K/M/G suffixes), BENCH_RTT_SIZE (for e), BENCH_REPS, BENCH_ONLY=a,b,...,
BENCH_SESSIONS, BENCH_CAP, BENCH_KNOCK_* (knock_bench.py),
BENCH_SHUTTLE_* (shuttle_bench.py), BENCH_DOC (the file the results block goes
to; a full run writes docs/performance.md, a quick run nothing unless this
is set), BENCH_KEEP=1 (keep the temporary directory, for debugging).

Must run as root.  Cleans up on exit and on SIGINT/SIGTERM/SIGHUP: every
process it started, its namespaces, its temporary user and directory.  If
it is killed with SIGKILL, its children get SIGTERM (PR_SET_PDEATHSIG; the
gateway master, having changed its uid, does not), and the next run
removes whatever is left: namespaces, processes in them, the delay line,
the user and the directory of runs whose process is gone.
"""

import argparse
import ctypes
import glob
import os
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
PREFIX = "rb"			# namespaces rb{c,g,t,d}PID, veths rbPIDx
USER_COMMENT = "rampart bench (temporary)"
TMP_PREFIX = "rampart-bench-"

C_ADDR, G_ADDR_C = "10.78.1.2", "10.78.1.1"
G_ADDR_T, T_ADDR = "10.78.2.1", "10.78.2.2"
D_ADDR, G_ADDR_D = "10.78.3.2", "10.78.3.1"
BULK_PORT, HOLD_PORT = 9000, 9001
PORTS = {"rampart": 22, "openssh": 2222}
SERVERS = ("rampart", "openssh")
NAMES = {"rampart": "Rampart", "openssh": "OpenSSH"}
CIPHERS = ("chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com",
           "aes128-gcm@openssh.com")
RTT_CIPHER = "aes128-gcm@openssh.com"
MIB = 1024 * 1024
# Per-source limits of the gateway, raised (if this build has them) so that
# every connection of the benchmark, all from one client address, counts.
RAMPART_LIMITS = (("PerSourceMaxStartups", "10000"),)

_libc = ctypes.CDLL(None, use_errno=True)
# knock_bench.py imports this file as "bench": let it find this very
# module, not a second copy with its own exception classes.
sys.modules.setdefault("bench", sys.modules[__name__])


class BenchError(Exception):
    pass


class Interrupted(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def parse_size(s):
    m = re.fullmatch(r"(\d+)([KMG]?)(i?B)?", s.strip(), re.I)
    if not m:
        raise BenchError(f"bad size {s!r} (use e.g. 1G, 256M)")
    mult = {"": 1, "K": 1024, "M": MIB, "G": 1024 * MIB}
    return int(m.group(1)) * mult[m.group(2).upper()]


def fmt_size(n):
    if n % (1024 * MIB) == 0:
        return f"{n // (1024 * MIB)} GiB"
    if n % MIB == 0:
        return f"{n // MIB} MiB"
    return f"{n} bytes"


def enter_ns(ns):
    """A preexec_fn that moves the child into network namespace ns (None:
    stay) and has it terminated if this process dies, even by SIGKILL."""
    path = f"/run/netns/{ns}" if ns else None

    def enter():
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if path is None:
            return
        fd = os.open(path, os.O_RDONLY)
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
        os.close(fd)
    return enter


def sh(*argv, check=True, ns=None, timeout=60):
    """Run a command and return its stdout."""
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=timeout,
                       preexec_fn=enter_ns(ns) if ns else None)
    if check and p.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {p.returncode}: "
                         f"{p.stderr.strip()}")
    return p.stdout


def proc_table():
    """{pid: ppid} for every process."""
    t = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        t[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
    return t


def descendants(root):
    t = proc_table()
    kids = {}
    for pid, ppid in t.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], list(kids.get(root, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pids):
    """utime + stime of each pid, {pid: seconds}."""
    tck = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
        except OSError:
            continue
        fields = s[s.rindex(")") + 2:].split()
        out[pid] = (int(fields[11]) + int(fields[12])) / tck
    return out


def cpu_delta(before, after):
    return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def smaps_rollup(pid):
    """(Rss, Pss, Private) in KiB, or None if the process is gone."""
    want = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in want:
                    want[k] = int(v.split()[0])
    except OSError:
        return None
    return (want["Rss"], want["Pss"],
            want["Private_Clean"] + want["Private_Dirty"])


def tcp_sockets(pid):
    """(local port, state) of every IPv4 TCP socket in pid's namespace."""
    out = []
    try:
        with open(f"/proc/{pid}/net/tcp") as f:
            next(f)
            for line in f:
                fields = line.split()
                port = int(fields[1].split(":")[1], 16)
                out.append((port, int(fields[3], 16)))
    except OSError:
        pass
    return out


def listening(pid, port):
    return (port, 0x0A) in tcp_sockets(pid)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def rng(xs):
    xs = [x for x in xs if x is not None]
    return (min(xs), max(xs)) if xs else (None, None)


class Bench:
    def __init__(self, args):
        self.args = args
        self.build = args.build
        self.id = os.getpid()
        self.ns = {k: f"{PREFIX}{k}{self.id}" for k in "cgtd"}
        self.user = f"rpb{self.id}"
        self.user_made = False
        self.procs = []		# every Popen we started, killed at cleanup
        self.made_ns = []
        self.made_run_sshd = False
        self.tmp = None
        self.gw = {}		# server name -> listener/master Popen
        self.sess_stdin = None
        self.lport = 7000
        self.logs = {}		# name -> open log file
        self.res = {}

    # ---- processes --------------------------------------------------

    def spawn(self, ns, argv, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        if "stderr" not in kw:
            kw["stderr"] = self.logfile("misc")
        p = subprocess.Popen(argv, preexec_fn=enter_ns(ns), **kw)
        self.procs.append(p)
        return p

    def logfile(self, name):
        """The log file name.log in the temporary directory, kept open."""
        if name not in self.logs:
            self.logs[name] = open(os.path.join(self.tmp, f"{name}.log"),
                                   "ab")
        return self.logs[name]

    def stop(self, procs, grace=3.0):
        """SIGTERM, then SIGKILL what is left after grace seconds."""
        procs = [p for p in procs if p.poll() is None]
        for p in procs:
            try:
                p.terminate()
            except ProcessLookupError:
                pass
        end = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        live = set(id(p) for p in procs)
        self.procs = [p for p in self.procs
                      if id(p) not in live and p.poll() is None]

    # ---- set-up and clean-up ----------------------------------------

    def clean_stale(self):
        """Remove what runs killed by SIGKILL left behind."""
        def dead(pid):
            return not os.path.exists(f"/proc/{pid}")
        for pid in os.listdir("/proc"):	# a delay line holds two tuns
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if not argv[0].endswith(b"/delayline"):
                continue
            for a in argv:
                m = re.fullmatch(PREFIX.encode() + rb"d(\d+)", a)
                if m and dead(m.group(1).decode()):
                    os.kill(int(pid), signal.SIGKILL)
        for path in glob.glob(f"/run/netns/{PREFIX}[cgtd]*"):
            m = re.fullmatch(PREFIX + r"[cgtd](\d+)", os.path.basename(path))
            if m and dead(m.group(1)):
                self.kill_ns(os.path.basename(path))
        with open("/etc/passwd") as f:
            for line in f:
                fields = line.split(":")
                m = re.fullmatch(r"rpb(\d+)", fields[0])
                if m and fields[4] == USER_COMMENT and dead(m.group(1)):
                    sh("userdel", fields[0], check=False)
        for path in glob.glob(f"/tmp/{TMP_PREFIX}*"):
            m = re.match(TMP_PREFIX + r"(\d+)-", os.path.basename(path))
            if m and dead(m.group(1)):
                shutil.rmtree(path, ignore_errors=True)

    def kill_ns(self, ns):
        out = sh("ip", "netns", "pids", ns, check=False)
        for pid in out.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        sh("ip", "netns", "del", ns, check=False)

    def cleanup(self):
        if self.sess_stdin is not None:
            os.close(self.sess_stdin[1])
            os.close(self.sess_stdin[0])
            self.sess_stdin = None
        self.stop(self.procs, grace=1.0)
        for f in self.logs.values():
            f.close()
        self.logs = {}
        for ns in self.made_ns:
            self.kill_ns(ns)
        self.made_ns = []
        if self.user_made:
            sh("userdel", self.user, check=False)
            self.user_made = False
        if self.made_run_sshd:
            try:
                os.rmdir("/run/sshd")
            except OSError:
                pass
        if self.tmp and not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            log(f"kept {self.tmp}")

    def setup(self):
        self.clean_stale()
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.res["nofile"] = hard
        self.tmp = tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{self.id}-")
        os.chmod(self.tmp, 0o755)
        self.setup_net()
        self.setup_keys()
        self.start_target()
        self.start_delayline()
        self.start_rampart()
        self.start_sshd()

    def link(self, a, addr_a, b, addr_b, n):
        va, vb = f"{PREFIX}{self.id}{n}a", f"{PREFIX}{self.id}{n}b"
        sh("ip", "link", "add", va, "type", "veth", "peer", "name", vb)
        sh("ip", "link", "set", va, "netns", a)
        sh("ip", "link", "set", vb, "netns", b)
        sh("ip", "addr", "add", f"{addr_a}/24", "dev", va, ns=a)
        sh("ip", "addr", "add", f"{addr_b}/24", "dev", vb, ns=b)
        sh("ip", "link", "set", va, "up", ns=a)
        sh("ip", "link", "set", vb, "up", ns=b)

    def add_namespaces(self):
        """Every namespace of self.ns, with its loopback up."""
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            self.made_ns.append(ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)

    def setup_net(self):
        self.add_namespaces()
        c, g, t = self.ns["c"], self.ns["g"], self.ns["t"]
        self.link(c, C_ADDR, g, G_ADDR_C, 1)
        self.link(g, G_ADDR_T, t, T_ADDR, 2)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=g)
        sh("ip", "route", "add", "10.78.2.0/24", "via", G_ADDR_C, ns=c)
        sh("ip", "route", "add", "default", "via", G_ADDR_T, ns=t)

    def setup_keys(self):
        for k in ("user", "rampart_host", "sshd_host"):
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", k,
               "-f", os.path.join(self.tmp, k))
        with open(os.path.join(self.tmp, "user.pub")) as f:
            self.pub = f.read().strip()
        with open(os.path.join(self.tmp, "ssh_config"), "w") as f:
            f.write(f"""Host *
	User {self.user}
	IdentityFile {self.tmp}/user
	IdentitiesOnly yes
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	BatchMode yes
	LogLevel ERROR
	ConnectTimeout 30
	KexAlgorithms curve25519-sha256
	HostKeyAlgorithms ssh-ed25519
	Compression no
	ExitOnForwardFailure yes
""")

    def start_target(self):
        t = self.ns["t"]
        io = os.path.join(self.build, "bench", "bench_io")
        self.bulk = self.spawn(t, [io, "serve", T_ADDR, str(BULK_PORT)])
        self.hold = self.spawn(t, [io, "hold", T_ADDR, str(HOLD_PORT)])
        self.wait_listen(self.bulk, BULK_PORT)
        self.wait_listen(self.hold, HOLD_PORT)

    def start_delayline(self):
        d, g = self.ns["d"], self.ns["g"]
        dl = os.path.join(self.build, "bench", "delayline")
        self.dline = self.spawn(None, [dl, "-d", "25", "-q", "8192",
                                       d, "dlc", g, "dlg"],
                                stdout=subprocess.PIPE,
                                stderr=self.logfile("delayline"))
        if self.dline.stdout.readline().strip() != b"ready":
            raise BenchError("delayline did not start (see delayline.log)")
        for ns, dev, mine, peer in ((d, "dlc", D_ADDR, G_ADDR_D),
                                    (g, "dlg", G_ADDR_D, D_ADDR)):
            sh("ip", "addr", "add", mine, "peer", peer, "dev", dev, ns=ns)
            sh("ip", "link", "set", dev, "mtu", "1500", "txqueuelen",
               "4096", "up", ns=ns)
        sh("ip", "route", "add", "default", "via", G_ADDR_D, ns=d)

    def start_rampart(self, listen=(G_ADDR_C, G_ADDR_D),
                      sources="10.78.1.0/24 10.78.3.0/24",
                      allow=f"{T_ADDR} port {BULK_PORT},{HOLD_PORT}",
                      exempt="10.78.0.0/16"):
        """The gateway on its port in the gateway namespace: the temporary
        user, key only, from sources, may reach allow."""
        g, tmp = self.ns["g"], self.tmp
        os.makedirs(f"{tmp}/log", exist_ok=True)
        with open(f"{tmp}/policy.conf", "w") as f:
            f.write(f"""user {self.user}
	key {self.pub}
	totp none
	from {sources}
	max-connections 10000
	allow {allow}
""")
        with open(f"{tmp}/gateway.conf", "w") as f:
            f.writelines(f"ListenAddress {a}\n" for a in listen)
            f.write(f"""Port {PORTS['rampart']}
HostKey {tmp}/rampart_host
Policy {tmp}/policy.conf
AuditLog {tmp}/log/audit.jsonl
User nobody
MaxStartups 10000
PerSourcePenaltyExemptList {exempt}
""")
        gwbin = os.path.join(self.build, "bin", "rampart-gateway")
        self.raise_limits(gwbin, f"{tmp}/gateway.conf")
        p = self.spawn(g, [gwbin, "-d", "-f", f"{tmp}/gateway.conf"],
                       stderr=self.logfile("rampart"))
        self.wait_listen(p, PORTS["rampart"], "rampart.log")
        self.gw["rampart"] = p

    def raise_limits(self, gwbin, conf):
        """Raise the limits this gateway build knows beyond the cap: the
        keywords appear as the gateway grows, so ask its -T dump."""
        dump = sh(gwbin, "-T", "-f", conf).lower()
        with open(conf, "a") as f:
            for kw, val in RAMPART_LIMITS:
                if kw.lower() + " " in dump:
                    f.write(f"{kw} {val}\n")
        sh(gwbin, "-t", "-f", conf)

    def start_sshd(self, listen=(G_ADDR_C, G_ADDR_D), rules=None,
                   shell="/usr/sbin/nologin", home=None):
        """OpenSSH's sshd on its port in the gateway namespace, for the
        temporary user, made here (with shell, and home made if given).
        rules: the sshd_config lines that make it the server wanted; by
        default a forwarding-only bastion."""
        g, tmp = self.ns["g"], self.tmp
        if rules is None:
            rules = f"""# A forwarding-only bastion: the Rampart policy's rules in sshd terms.
AllowTcpForwarding yes
PermitOpen {T_ADDR}:{BULK_PORT} {T_ADDR}:{HOLD_PORT}
GatewayPorts no
X11Forwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
PermitTunnel no
ForceCommand /bin/false
"""
        sh("useradd", "--system", "--no-create-home", "--home-dir",
           home or "/nonexistent", "--shell", shell, "--password",
           "*", "--comment", USER_COMMENT, self.user)
        self.user_made = True
        if home:
            os.makedirs(home, mode=0o700)
            shutil.chown(home, self.user)
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", mode=0o755)
            self.made_run_sshd = True
        with open(f"{tmp}/authorized_keys", "w") as f:
            f.write(self.pub + "\n")
        port = PORTS["openssh"]
        with open(f"{tmp}/sshd_config", "w") as f:
            f.write(rules)
            f.writelines(f"ListenAddress {a}:{port}\n" for a in listen)
            f.write(f"""HostKey {tmp}/sshd_host
PidFile none
AuthorizedKeysFile {tmp}/authorized_keys
AllowUsers {self.user}
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
KexAlgorithms curve25519-sha256
HostKeyAlgorithms ssh-ed25519
Ciphers {",".join(CIPHERS)}
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com
Compression no
PermitTTY no
PermitUserRC no
MaxStartups 10000
PerSourceMaxStartups none
MaxSessions 10000
LoginGraceTime 30
""")
        p = self.spawn(g, ["/usr/sbin/sshd", "-D", "-e", "-f",
                           f"{tmp}/sshd_config"],
                       stderr=self.logfile("sshd"))
        self.wait_listen(p, port, "sshd.log")
        self.gw["openssh"] = p

    def wait_listen(self, p, port, logname="misc.log", timeout=10):
        end = time.monotonic() + timeout
        while not listening(p.pid, port):
            if p.poll() is not None or time.monotonic() > end:
                raise BenchError(f"nothing listens on port {port}; "
                                 f"{self.tail(logname)}")
            time.sleep(0.02)

    def tail(self, name, n=5):
        try:
            with open(os.path.join(self.tmp, name), errors="replace") as f:
                return " | ".join(f.read().splitlines()[-n:])
        except OSError:
            return "(no log)"

    # ---- helpers for the measures -----------------------------------

    def server_pids(self, srv):
        """The processes serving sessions: all below the master/listener."""
        return descendants(self.gw[srv].pid)

    def ssh(self, srv, host, *args):
        return ["ssh", "-F", f"{self.tmp}/ssh_config", "-p",
                str(PORTS[srv]), *args, host]

    def forward(self, srv, ns, host, cipher):
        """An ssh -N -L to the bulk server; (Popen, local port)."""
        self.lport += 1
        lp = self.lport
        p = self.spawn(ns, self.ssh(srv, host, "-N", "-c", cipher, "-L",
                                    f"127.0.0.1:{lp}:{T_ADDR}:{BULK_PORT}"),
                       stderr=self.logfile("ssh"))
        end = time.monotonic() + 30
        while not listening(p.pid, lp):
            if p.poll() is not None or time.monotonic() > end:
                self.stop([p])
                raise BenchError(f"ssh -L to {srv} failed: "
                                 f"{self.tail('ssh.log', 2)}")
            time.sleep(0.01)
        return p, lp

    def transfer(self, ns, direction, port, size, host="127.0.0.1"):
        """MiB/s of one bench_io transfer, or None if it failed."""
        io = os.path.join(self.build, "bench", "bench_io")
        limit = max(60, size / (4 * MIB))
        try:
            out = sh(io, direction, host, str(port), str(size), ns=ns,
                     timeout=limit)
        except (BenchError, subprocess.TimeoutExpired) as e:
            log(f"    {direction} via {host}:{port} failed: {e}")
            return None
        return float(out.split()[2])

    def fwd_transfer(self, srv, ns, host, cipher, size):
        """Upload and download through one ssh -L: {dir: (MiB/s,
        server CPU s/GiB, client CPU s/GiB)}."""
        out = {}
        try:
            p, lp = self.forward(srv, ns, host, cipher)
        except BenchError as e:
            log(f"    {e}")
            return {d: (None, None, None) for d in ("up", "down")}
        for d in ("up", "down"):
            spids = self.server_pids(srv)
            s0, c0 = cpu_seconds(spids), cpu_seconds([p.pid])
            rate = self.transfer(ns, d, lp, size)
            s1, c1 = cpu_seconds(spids), cpu_seconds([p.pid])
            gib = size / (1024 * MIB)
            out[d] = (rate, cpu_delta(s0, s1) / gib, cpu_delta(c0, c1) / gib)
        self.stop([p])
        return out

    # ---- (a) throughput on the loopback veths -----------------------

    def bench_throughput(self):
        a = self.args
        log(f"(a) ssh -L throughput, {fmt_size(a.size)} each way, "
            f"{a.reps} repetitions")
        c = self.ns["c"]
        res = {(s, ci, d): [] for s in SERVERS for ci in CIPHERS
               for d in ("up", "down")}
        plain = {"up": [], "down": []}
        for rep in range(a.reps):
            for d in ("up", "down"):
                plain[d].append(self.transfer(c, d, BULK_PORT, a.size,
                                              host=T_ADDR))
            for i, ci in enumerate(CIPHERS):
                order = SERVERS if (rep + i) % 2 == 0 else SERVERS[::-1]
                for srv in order:
                    r = self.fwd_transfer(srv, c, G_ADDR_C, ci, a.size)
                    for d in ("up", "down"):
                        res[(srv, ci, d)].append(r[d])
            log(f"    repetition {rep + 1}/{a.reps} done "
                f"({self.elapsed()})")
        self.res["a"] = {"fwd": res, "plain": plain}

    # ---- (b) latency ------------------------------------------------

    def first_byte(self, srv):
        """Seconds from starting ssh -W to the target's first byte."""
        argv = self.ssh(srv, G_ADDR_C, "-W", f"{T_ADDR}:{HOLD_PORT}")
        t0 = time.monotonic()
        p = self.spawn(self.ns["c"], argv, stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, stderr=self.logfile("ssh"))
        fd = p.stdout.fileno()
        ok = select.select([fd], [], [], 30)[0] and os.read(fd, 1)
        t1 = time.monotonic()
        p.stdin.close()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self.stop([p])
        p.stdout.close()
        return (t1 - t0) if ok else None

    def bench_latency(self):
        n = self.args.lat_n
        log(f"(b) ssh -W connect + auth + first byte, {n} each")
        for srv in SERVERS:		# warm-up, not counted
            self.first_byte(srv)
            self.first_byte(srv)
        res = {s: [] for s in SERVERS}
        for i in range(n):
            order = SERVERS if i % 2 == 0 else SERVERS[::-1]
            for srv in order:
                res[srv].append(self.first_byte(srv))
                self.settle(srv, 5)
        self.res["b"] = res

    def settle(self, srv, timeout):
        """Wait until srv serves no session and the target holds none."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.server_pids(srv) and self.held() == 0:
                return True
            time.sleep(0.01)
        return False

    # ---- (c) and (d): many idle sessions ----------------------------

    def held(self):
        return sum(1 for port, st in tcp_sockets(self.hold.pid)
                   if port == HOLD_PORT and st == 0x01)

    def open_sessions(self, srv, want, batch, stall=30):
        """Start ssh -W sessions in batches until want are held or one
        fails.  Returns (Popens, held, why it stopped)."""
        if self.sess_stdin is None:
            self.sess_stdin = os.pipe()	# never written: stdin stays open
        sess, why = [], "cap reached"
        argv = self.ssh(srv, G_ADDR_C, "-W", f"{T_ADDR}:{HOLD_PORT}")
        errlog = self.logfile(f"sessions-{srv}")
        while len(sess) < want:
            for _ in range(min(batch, want - len(sess))):
                try:
                    sess.append(self.spawn(self.ns["c"], argv,
                                           stdin=self.sess_stdin[0],
                                           stderr=errlog))
                except OSError as e:
                    why = f"client side: cannot start ssh: {e}"
                    return sess, self.held(), why
            last, t_last = -1, time.monotonic()
            while True:
                n = self.held()
                if n >= len(sess):
                    break
                died = [p for p in sess if p.poll() is not None]
                if died:
                    time.sleep(1)
                    why = (f"{len(died)} ssh exited with "
                           f"{died[0].returncode}: "
                           f"{self.tail(f'sessions-{srv}.log', 1)}")
                    return sess, self.held(), why
                if n != last:
                    last, t_last = n, time.monotonic()
                elif time.monotonic() - t_last > stall:
                    why = f"no progress for {stall}s at {n}"
                    return sess, n, why
                time.sleep(0.05)
        return sess, self.held(), why

    def close_sessions(self, srv, sess):
        self.stop(sess, grace=10)
        if not self.settle(srv, 60):
            log(f"    warning: {srv} still has processes after the "
                "sessions ended")

    def bench_memory(self):
        n = self.args.sessions
        log(f"(c) memory per idle session at {n} sessions")
        res = {}
        for srv in SERVERS:
            base = smaps_rollup(self.gw[srv].pid)
            sess, held, why = self.open_sessions(srv, n, 50)
            if held < n:
                log(f"    {srv}: only {held} of {n} sessions: {why}")
            time.sleep(2)
            pids = self.server_pids(srv)
            rolls = [r for r in map(smaps_rollup, pids) if r is not None]
            top = smaps_rollup(self.gw[srv].pid)
            res[srv] = {
                "sessions": held, "procs": len(rolls),
                "rss": sum(r[0] for r in rolls) / max(held, 1),
                "pss": sum(r[1] for r in rolls) / max(held, 1),
                "uss": sum(r[2] for r in rolls) / max(held, 1),
                "top_idle": base, "top": top,
            }
            self.close_sessions(srv, sess)
            log(f"    {srv}: {held} sessions, {len(rolls)} processes "
                f"({self.elapsed()})")
        self.res["c"] = res

    def bench_capacity(self):
        cap = self.args.cap
        log(f"(d) sessions held before failure, cap {cap}")
        res = {}
        for srv in SERVERS:
            t0 = time.monotonic()
            sess, held, why = self.open_sessions(srv, cap, 50)
            if held >= cap:
                # all up: are they still there a moment later?
                time.sleep(3)
                held = self.held()
                why = "cap reached" if held >= cap else \
                    f"dropped to {held} after the cap was reached"
            pids = self.server_pids(srv)
            rolls = [r for r in map(smaps_rollup, pids) if r is not None]
            res[srv] = {"held": held, "why": why,
                        "secs": time.monotonic() - t0, "procs": len(pids),
                        "pss": sum(r[1] for r in rolls) / 1024}
            log(f"    {srv}: {held} held ({why}), "
                f"{res[srv]['secs']:.0f}s to open")
            self.close_sessions(srv, sess)
        self.res["d"] = res

    # ---- (e) 50 ms RTT ----------------------------------------------

    def rtt(self):
        """Median TCP connect time from the delayed client, in ms."""
        r, w = os.pipe()
        for _ in range(5):
            pid = os.fork()
            if pid == 0:	# the child enters the namespace, then times
                code = 1
                try:
                    os.close(r)
                    enter_ns(self.ns["d"])()
                    s = socket.socket()
                    s.settimeout(5)
                    t0 = time.monotonic()
                    s.connect((T_ADDR, BULK_PORT))
                    us = int((time.monotonic() - t0) * 1e6)
                    s.close()
                    os.write(w, b"%d\n" % us)
                    code = 0
                finally:
                    os._exit(code)
            os.waitpid(pid, 0)
        os.close(w)
        with os.fdopen(r) as f:
            return med([int(x) / 1000 for x in f.read().split()])

    def bench_rtt(self):
        a = self.args
        log(f"(e) ssh -L at 50 ms RTT, {RTT_CIPHER}, "
            f"{fmt_size(a.rtt_size)} each way, {a.rtt_reps} repetitions")
        d = self.ns["d"]
        self.res["rtt_ms"] = self.rtt()
        log(f"    measured RTT (TCP connect): {self.res['rtt_ms']:.1f} ms")
        res = {(s, dr): [] for s in SERVERS + ("plain",)
               for dr in ("up", "down")}
        for rep in range(a.rtt_reps):
            order = list(SERVERS if rep % 2 == 0 else SERVERS[::-1])
            for who in order + ["plain"]:
                if who == "plain":
                    for dr in ("up", "down"):
                        res[(who, dr)].append(self.transfer(
                            d, dr, BULK_PORT, a.rtt_size, host=T_ADDR))
                    continue
                out = self.fwd_transfer(who, d, G_ADDR_D, RTT_CIPHER,
                                        a.rtt_size)
                for dr in ("up", "down"):
                    res[(who, dr)].append(out[dr][0])
            log(f"    repetition {rep + 1}/{a.rtt_reps} done "
                f"({self.elapsed()})")
        self.res["e"] = res

    def elapsed(self):
        return f"{time.monotonic() - self.t0:.0f}s"

    # ---- run --------------------------------------------------------

    def run(self):
        self.t0 = time.monotonic()
        self.setup()
        log(f"set up in {self.elapsed()}: Rampart on port "
            f"{PORTS['rampart']}, OpenSSH sshd on {PORTS['openssh']}")
        steps = {"a": self.bench_throughput, "b": self.bench_latency,
                 "c": self.bench_memory, "d": self.bench_capacity,
                 "e": self.bench_rtt}
        for k in "abcde":
            if k in self.args.only:
                steps[k]()
        self.stop([self.dline])
        self.res["delayline"] = self.tail("delayline.log", 2)
        for srv in SERVERS:
            if self.gw[srv].poll() is not None:
                name = "rampart.log" if srv == "rampart" else "sshd.log"
                rc = self.gw[srv].returncode
                how = f"signal {-rc}" if rc < 0 else f"exit {rc}"
                raise BenchError(f"{srv} died during the run ({how}): "
                                 f"{self.tail(name, 2)}")
        self.res["elapsed"] = time.monotonic() - self.t0


# ---- the report ------------------------------------------------------

def short(cipher):
    return cipher.split("@")[0].replace("-poly1305", "")


def ratio(a, b):
    return a / b if a is not None and b else None


def f1(x, nd=1):
    return "-" if x is None else f"{x:.{nd}f}"


def fr(x):
    return "-" if x is None else f"{x:.2f}x"


def verdict(r, op, limit):
    if r is None:
        return "?"
    return "yes" if (r >= limit if op == ">=" else r <= limit) else "NO"


def ratio_rows(res):
    """[measure, Rampart, OpenSSH, plain, R/O, target, met]."""
    rows = []
    a = res.get("a")
    if a:
        fwd, plain = a["fwd"], a["plain"]
        for ci in CIPHERS:
            for d in ("up", "down"):
                r = med(x[0] for x in fwd[("rampart", ci, d)])
                o = med(x[0] for x in fwd[("openssh", ci, d)])
                q = ratio(r, o)
                rows.append([f"(a) -L {short(ci)} {d}load, MiB/s", f1(r),
                             f1(o), f1(med(plain[d])), fr(q),
                             ">= 1.0x", verdict(q, ">=", 1.0)])
    b = res.get("b")
    if b:
        r, o = med(b["rampart"]), med(b["openssh"])
        q = ratio(r, o)
        rows.append(["(b) -W connect+auth+first byte, ms",
                     f1(r and r * 1000), f1(o and o * 1000), "-", fr(q),
                     "<= 0.5x", verdict(q, "<=", 0.5)])
    c = res.get("c")
    if c:
        for k, lim in (("rss", 0.5), ("pss", 0.3), ("uss", None)):
            r, o = c["rampart"][k], c["openssh"][k]
            q = ratio(r, o)
            rows.append([f"(c) {k.upper()} per idle session, KiB",
                         f1(r, 0), f1(o, 0), "-", fr(q),
                         f"<= {lim}x" if lim else "-",
                         verdict(q, "<=", lim) if lim else "-"])
    d = res.get("d")
    if d:
        r, o = d["rampart"]["held"], d["openssh"]["held"]
        rows.append([f"(d) sessions held (cap {res['cap']})", str(r),
                     str(o), "-", fr(ratio(r, o)), "-", "-"])
    e = res.get("e")
    if e:
        for dr in ("up", "down"):
            r = med(e[("rampart", dr)])
            o = med(e[("openssh", dr)])
            p = med(e[("plain", dr)])
            qp = ratio(r, p)
            rows.append([f"(e) -L 50 ms RTT {dr}load, MiB/s", f1(r),
                         f1(o), f1(p), fr(ratio(r, o)),
                         f">= 0.9x plain: {fr(qp)}",
                         verdict(qp, ">=", 0.9)])
    return rows


HEAD = ["measure", "Rampart", "OpenSSH", "plain TCP", "Rampart/OpenSSH",
        "target", "met"]


def text_table(rows):
    w = [max(len(str(r[i])) for r in rows + [HEAD]) for i in range(7)]
    out = []
    for r in [HEAD] + rows:
        out.append("  ".join(str(x).ljust(w[i]) if i == 0 else
                             str(x).rjust(w[i]) for i, x in enumerate(r)))
        if r is HEAD:
            out.append("  ".join("-" * x for x in w))
    return "\n".join(out)


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def span(xs, nd=1):
    lo, hi = rng(xs)
    if lo is None:
        return "-"
    return f"{med(xs):.{nd}f} ({lo:.{nd}f}-{hi:.{nd}f})"


def details(res):
    out = []
    a = res.get("a")
    if a:
        fwd, plain = a["fwd"], a["plain"]
        out.append(f"### (a) ssh -L throughput, {fmt_size(res['size'])} "
                   f"each way, {res['reps']} repetitions\n")
        out.append("MiB/s as median (min-max); CPU seconds per GiB moved, "
                   "median, of the server's session processes and of the "
                   "ssh client.\n")
        rows = []
        for ci in CIPHERS:
            for d in ("up", "down"):
                row = [f"{short(ci)} {d}load"]
                for s in SERVERS:
                    xs = fwd[(s, ci, d)]
                    row += [span([x[0] for x in xs]),
                            f1(med(x[1] for x in xs), 2),
                            f1(med(x[2] for x in xs), 2)]
                rows.append(row)
        out.append(md_table(["cipher, direction", "Rampart MiB/s",
                             "server CPU s/GiB", "client CPU s/GiB",
                             "OpenSSH MiB/s", "server CPU s/GiB",
                             "client CPU s/GiB"], rows))
        out.append(f"\nPlain TCP over the same veths (client namespace to "
                   f"the target through the gateway's routing), the same "
                   f"bench_io ends: upload {span(plain['up'], 0)} MiB/s, "
                   f"download {span(plain['down'], 0)} MiB/s.\n")
    b = res.get("b")
    if b:
        out.append(f"### (b) ssh -W connect + auth + first byte, "
                   f"{res['lat_n']} each, interleaved\n")
        rows = [[NAMES[s], span([x * 1000 for x in b[s] if x], 1),
                 str(sum(1 for x in b[s] if x is None))] for s in SERVERS]
        out.append(md_table(["server", "ms, median (min-max)", "failed"],
                            rows) + "\n")
    c = res.get("c")
    if c:
        out.append(f"### (c) memory at {res['sessions']} idle sessions\n")
        rows = []
        for s in SERVERS:
            x = c[s]
            ti, t = x["top_idle"] or (0, 0, 0), x["top"] or (0, 0, 0)
            rows.append([NAMES[s], str(x["sessions"]), str(x["procs"]),
                         f1(x["rss"], 0), f1(x["pss"], 0), f1(x["uss"], 0),
                         f"{ti[0]} / {ti[1]}", f"{t[0]} / {t[1]}",
                         f1((x["pss"] * x["sessions"] + t[1]) /
                            max(x["sessions"], 1), 0)])
        out.append(md_table(["server", "sessions", "processes",
                             "RSS/session KiB", "PSS/session KiB",
                             "USS/session KiB",
                             "master/listener RSS / PSS KiB, idle",
                             "... at N sessions",
                             "PSS/session incl. master KiB"], rows) + "\n")
    d = res.get("d")
    if d:
        out.append(f"### (d) sessions held before failure, cap "
                   f"{res['cap']}\n")
        rows = [[NAMES[s], str(d[s]["held"]), d[s]["why"],
                 f"{d[s]['secs']:.0f}", str(d[s]["procs"]),
                 f"{d[s]['pss']:.0f}"] for s in SERVERS]
        out.append(md_table(["server", "held", "stopped because",
                             "seconds to open them", "server processes",
                             "their PSS, MiB"], rows) + "\n")
    e = res.get("e")
    if e:
        out.append(f"### (e) ssh -L at 50 ms RTT, {short(RTT_CIPHER)}, "
                   f"{fmt_size(res['rtt_size'])} each way, "
                   f"{res['rtt_reps']} repetitions\n")
        out.append(f"Measured RTT (TCP connect through the delay line): "
                   f"{f1(res.get('rtt_ms'))} ms. Delay line at the end: "
                   f"{res.get('delayline', '-')}\n")
        rows = [[who, span(e[(k, 'up')]), span(e[(k, 'down')])]
                for who, k in (("Rampart", "rampart"),
                               ("OpenSSH", "openssh"),
                               ("plain TCP", "plain"))]
        out.append(md_table(["path", "upload MiB/s", "download MiB/s"],
                            rows) + "\n")
    return "\n".join(out)


def machine():
    def first(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            return (p.stdout + p.stderr).strip()
        except OSError:
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    ver = first(["dpkg-query", "-W", "-f", "${Version}",
                 "openssh-server"])
    lib = first(["dpkg-query", "-W", "-f", "${Version}", "libssh-4"])
    head = first(["git", "rev-parse", "--short", "HEAD"])
    dirty = first(["git", "status", "--porcelain", "--untracked-files=no",
                   "--", ".", ":!docs", ":!tests"])
    return {
        "date": first(["date", "-u"]),
        "nproc": first(["nproc"]),
        "cpu": cpu, "mem": mem,
        "kernel": first(["uname", "-r"]),
        "openssh": f"{first(['ssh', '-V'])}; openssh-server {ver}",
        "libssh": f"libssh-4 {lib} (Debian)",
        "rampart": head + (" with uncommitted changes in " +
                           ", ".join(sorted(set(
                               line.split(None, 1)[1]
                               for line in dirty.splitlines())))
                           if dirty else ""),
    }


def results_block(res, m):
    quick = " (BENCH_QUICK=1: reduced sizes and counts)" if res["quick"] \
        else ""
    return "\n".join([
        BEGIN,
        "## Results",
        "",
        f"Measured {m['date']}{quick}, by `make bench` "
        f"({res['elapsed'] / 60:.0f} minutes).",
        "",
        f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['mem']} MiB RAM, "
        f"Linux {m['kernel']}; shared with other work, so compare the "
        f"ratios, not the absolute figures.",
        f"- OpenSSH: {m['openssh']} (client and server).",
        f"- libssh: {m['libssh']}.",
        f"- Rampart: commit {m['rampart']}.",
        "",
        md_table(HEAD, ratio_rows(res)),
        "",
        details(res),
        END,
    ]) + "\n"


BEGIN = "<!-- bench results: written by tests/bench/bench.py -->"
END = "<!-- end of bench results -->"


def write_doc(path, block, begin=BEGIN, end=END):
    """Replace the block between begin and end in path, or append it."""
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = "# Rampart performance\n\n"
    if begin in text and end in text:
        text = (text[:text.index(begin)] + block +
                text[text.index(end) + len(end) + 1:])
    else:
        text = text.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(text)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", help="the measures to run: letters a-e, "
                    "k (or knock) and s (or shuttle) (default: "
                    "BENCH_ONLY, else all)")
    args = ap.parse_args()
    env = os.environ.get
    args.quick = env("BENCH_QUICK", "0") not in ("", "0")
    q = args.quick
    args.size = parse_size(env("BENCH_SIZE", "128M" if q else "1G"))
    args.rtt_size = parse_size(env("BENCH_RTT_SIZE", "64M" if q else "256M"))
    args.reps = int(env("BENCH_REPS", "3" if q else "5"))
    args.rtt_reps = int(env("BENCH_REPS", "1" if q else "3"))
    args.lat_n = int(env("BENCH_LAT_N", "10" if q else "30"))
    args.sessions = int(env("BENCH_SESSIONS", "50" if q else "200"))
    args.cap = int(env("BENCH_CAP", "200" if q else "2000"))
    only = args.only or env("BENCH_ONLY", "a,b,c,d,e,k,s")
    args.only = set(only.replace("knock", "k").replace("shuttle", "s")
                    .replace(",", ""))
    if not args.only or not args.only <= set("abcdeks"):
        raise SystemExit(f"bench: --only/BENCH_ONLY {only!r}: use letters "
                         "a to e, k (or knock) and s (or shuttle)")
    args.doc = env("BENCH_DOC", "" if q else "docs/performance.md")
    return args


SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def run_harness(h):
    """h.run() with SIGINT, SIGTERM and SIGHUP turned into Interrupted,
    and h.cleanup() whatever happens: 0, 1 or 130."""
    def interrupted(sig, frame):
        raise Interrupted(signal.Signals(sig).name)
    for s in SIGNALS:
        signal.signal(s, interrupted)
    rc = 0
    try:
        h.run()
    except Interrupted as e:
        print(f"bench: interrupted ({e}), cleaning up", file=sys.stderr)
        rc = 130
    except (BenchError, OSError, subprocess.SubprocessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        rc = 1
    finally:
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        h.cleanup()
    return rc


def main():
    import knock_bench		# here: they subclass Bench
    import shuttle_bench
    args = parse_args()
    knock_bench.add_args(args)
    shuttle_bench.add_args(args)
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces, sshd, a temporary "
              "user)", file=sys.stderr)
        return 1
    ssh_part = bool(args.only & set("abcde"))
    need = ["bin/rampart-gateway", "bench/bench_io",
            "bench/delayline"] if ssh_part else []
    for b in need:
        if not os.access(os.path.join(args.build, b), os.X_OK):
            print(f"bench: {args.build}/{b} missing (run make bench)",
                  file=sys.stderr)
            return 1
    if "k" in args.only and knock_bench.missing(args.build):
        print(f"bench: {knock_bench.missing(args.build)} missing (run make "
              f"bench)", file=sys.stderr)
        return 1
    if "s" in args.only and shuttle_bench.missing(args.build):
        print(f"bench: {shuttle_bench.missing(args.build)} missing (run "
              f"make bench)", file=sys.stderr)
        return 1
    # A SIGTERM to a wrapper that started us (make's shell, a pyenv shim)
    # reaches us too.
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if ssh_part:
        bench = Bench(args)
        rc = run_harness(bench)
        if rc != 0:
            return rc
        res = bench.res
        res.update(quick=args.quick, size=args.size, reps=args.reps,
                   rtt_size=args.rtt_size, rtt_reps=args.rtt_reps,
                   lat_n=args.lat_n, sessions=args.sessions, cap=args.cap)
        print()
        print(text_table(ratio_rows(res)))
        if args.doc:
            write_doc(args.doc, results_block(res, machine()))
            print(f"\nresults written to {args.doc}")
    if "k" in args.only:
        kb = knock_bench.KnockBench(args)
        rc = run_harness(kb)
        if rc != 0:
            return rc
        kb.res["quick"] = args.quick
        print()
        print(knock_bench.text(kb.res))
        if args.doc:
            write_doc(args.doc, knock_bench.block(kb.res, machine()),
                      knock_bench.BEGIN, knock_bench.END)
            print(f"\nknock results written to {args.doc}")
    if "s" in args.only:
        rc = shuttle_bench.run_and_report(args)
        if rc != 0:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
