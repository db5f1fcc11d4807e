#!/usr/bin/env python3
"""The sshuttle part of make bench (issue 6, item 8): Debian's sshuttle
1.1.1 client through Rampart's native sshuttle server against the same
client through OpenSSH's sshd running sshuttle's own Python server.

Three namespaces of their own, with no route anywhere else:

    client 10.80.1.2 --veth-- 10.80.1.1 gateway 10.80.2.1 --veth-- 10.80.2.2 target

The gateway namespace runs rampart-gateway on port 22 and /usr/sbin/sshd on
port 2222; it does not route (ip_forward 0), so the client reaches the
target only through a tunnel, although it has a route to it (which the
nat method needs: without one, connect() fails before the REDIRECT rule).
The sshd account has /bin/sh as its shell and Debian's python3, which is
all sshuttle needs on a server; Rampart's policy allows the target's
ports to the same user.

One sshuttle client at a time runs in the client namespace, started as
`sshuttle --ssh-cmd "ssh -F ssh_config" -r USER@10.80.1.1:PORT
10.80.2.0/24` (method nat, everything else at its defaults: latency
control on, chacha20-poly1305) and taken as ready when its REDIRECT rule
for the subnet is in the nat table.  Through it:

  down  per repetition and server (the order alternates), one bench_io
        download of BENCH_SHUTTLE_SIZE (1 GiB) from the target
  up    then one bench_io upload of the same size, on the same client
  conn  then BENCH_SHUTTLE_BLOCKS (8) blocks per server, the servers
        alternating block by block, each on a fresh client: in each,
        BENCH_SHUTTLE_CONNS (250) sequential connections by bench_io conns
        to bench_io reply on the target, each connect + 14-byte request +
        128-byte reply to EOF + close, timed one by one (after 20 not
        counted); the figure is the median of all of them.  Short blocks
        interleaved, because the shared machine's load moves connection
        times by more than their target's margin.

CPU seconds per GiB, and microseconds per new connection, of the server's
processes (sshd or the gateway master, and everything below it) and of
the client's (sshuttle, its firewall helper and ssh) are read from /proc
around each transfer and block.

Run alone (root, after `make bench` or `make build/bench/bench_io`):
python3 tests/bench/shuttle_bench.py [--build build]; or python3
tests/bench/bench.py --only shuttle.  Environment:
BENCH_QUICK=1, BENCH_SHUTTLE_SIZE, BENCH_SHUTTLE_CONNS, BENCH_SHUTTLE_BLOCKS,
BENCH_SHUTTLE_REPS, BENCH_SHUTTLE_ONLY=rampart|openssh (one server, no
ratios), BENCH_DOC, BENCH_KEEP=1.
"""

import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (bench.py registers itself as "bench")

C_ADDR, G_ADDR_C = "10.80.1.2", "10.80.1.1"
G_ADDR_T, T_ADDR = "10.80.2.1", "10.80.2.2"
SUBNET = "10.80.2.0/24"
BULK_PORT, CONN_PORT = 9000, 9002
SERVERS = ("rampart", "openssh")
NAMES = {"rampart": "Rampart (native)", "openssh": "OpenSSH sshd + Python"}
WARMUP = 20
# Issue 6, item 8: sshd + its Python server on this machine, and the
# targets for Rampart against it.
ISSUE = {"down": 43.0, "up": 32.0, "conn": 1.17}
TARGET = {"down": (">=", 2.0), "up": (">=", 2.0), "conn": ("<=", 0.7)}
BEGIN = ("<!-- sshuttle bench results: written by "
         "tests/bench/shuttle_bench.py -->")
END = "<!-- end of sshuttle bench results -->"


class ShuttleBench(B.Bench):
    """bench.py's harness (processes, logs, namespaces, the temporary user,
    clean-up and the sweep of what a killed run left) with namespaces and
    servers of its own."""

    def __init__(self, args):
        super().__init__(args)
        self.ns = {k: f"{B.PREFIX}{k}{self.id}" for k in "cgt"}
        self.client = None

    def bin(self, *p):
        return os.path.join(self.build, *p)

    # ---- set-up -----------------------------------------------------

    def setup(self):
        self.clean_stale()
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.tmp = tempfile.mkdtemp(prefix=f"{B.TMP_PREFIX}{self.id}-")
        os.chmod(self.tmp, 0o755)
        self.add_namespaces()
        c, g, t = self.ns["c"], self.ns["g"], self.ns["t"]
        self.link(c, C_ADDR, g, G_ADDR_C, 1)
        self.link(g, G_ADDR_T, t, T_ADDR, 2)
        B.sh("sysctl", "-qw", "net.ipv4.ip_forward=0", ns=g)
        B.sh("ip", "route", "add", SUBNET, "via", G_ADDR_C, ns=c)
        self.setup_keys()
        self.bulk = self.spawn(t, [self.bin("bench", "bench_io"), "serve",
                                   T_ADDR, str(BULK_PORT)])
        self.conns = self.spawn(t, [self.bin("bench", "bench_io"),
                                    "reply", T_ADDR, str(CONN_PORT)],
                                stderr=self.logfile("reply"))
        self.wait_listen(self.bulk, BULK_PORT)
        self.wait_listen(self.conns, CONN_PORT, "reply.log")
        if "rampart" in self.servers:
            self.start_rampart()
        if "openssh" in self.servers:
            self.start_sshd()

    @property
    def servers(self):
        return self.args.shuttle_servers

    def start_rampart(self):
        super().start_rampart(
            listen=(G_ADDR_C,), sources="10.80.1.0/24",
            allow=f"{T_ADDR} port {BULK_PORT},{CONN_PORT}",
            exempt="10.80.0.0/16")

    def start_sshd(self):
        """sshd as sshuttle needs it: an account with a shell (the exec
        runs /bin/sh -c, which runs python3 -c), and nothing else."""
        super().start_sshd(
            listen=(G_ADDR_C,), shell="/bin/sh", home=f"{self.tmp}/home",
            rules="# sshd for sshuttle: the exec of its Python server, "
            "no forwarding.\nDisableForwarding yes\n")

    # ---- the sshuttle client -----------------------------------------

    def nat_rules(self):
        return B.sh("iptables", "-w", "-t", "nat", "-S", ns=self.ns["c"],
                    check=False)

    def start_client(self, srv):
        """sshuttle to srv, up when its REDIRECT rule is in place."""
        log = self.logfile(f"sshuttle-{srv}")
        log.write(f"---- {time.strftime('%H:%M:%S')} sshuttle to "
                  f"{srv}\n".encode())
        log.flush()
        ssh = f"ssh -F {self.tmp}/ssh_config"
        argv = ["sshuttle", "--ssh-cmd", ssh, "-r",
                f"{self.user}@{G_ADDR_C}:{B.PORTS[srv]}", SUBNET]
        p = self.spawn(self.ns["c"], argv, stdout=log, stderr=log)
        end = time.monotonic() + 30
        while True:
            rules = self.nat_rules()
            if "REDIRECT" in rules and SUBNET in rules:
                break
            if p.poll() is not None or time.monotonic() > end:
                self.stop_client(p)
                raise B.BenchError(
                    f"sshuttle to {srv} did not start (exit "
                    f"{p.returncode}): "
                    f"{self.tail(f'sshuttle-{srv}.log', 3)}")
            time.sleep(0.1)
        self.client = p
        return p

    def stop_client(self, p):
        """SIGTERM (the firewall helper then removes its rules), and wait
        until the rules are gone."""
        self.stop([p], grace=10)
        end = time.monotonic() + 10
        while "sshuttle" in self.nat_rules():
            if time.monotonic() > end:
                raise B.BenchError("sshuttle's nat rules are still there "
                                   "10 s after it ended")
            time.sleep(0.1)
        self.client = None

    def client_pids(self, p):
        return [p.pid] + B.descendants(p.pid)

    def all_server_pids(self, srv):
        """The server's processes with its first: Rampart's master makes
        the connections sshuttle asks for (and writes their audit)."""
        return [self.gw[srv].pid] + self.server_pids(srv)

    # ---- the measures -------------------------------------------------

    def transfer(self, srv, p, direction, size):
        """(MiB/s, server CPU s/GiB, client CPU s/GiB), None if failed."""
        spids, cpids = self.all_server_pids(srv), self.client_pids(p)
        s0, c0 = B.cpu_seconds(spids), B.cpu_seconds(cpids)
        rate = super().transfer(self.ns["c"], direction, BULK_PORT, size,
                                host=T_ADDR)
        s1, c1 = B.cpu_seconds(spids), B.cpu_seconds(cpids)
        gib = size / (1024 * B.MIB)
        return (rate, B.cpu_delta(s0, s1) / gib, B.cpu_delta(c0, c1) / gib)

    def connections(self, srv, p, n):
        """(per-connection ms list, failures, (server CPU seconds, client
        CPU seconds, connections made: warm-up included))."""
        io = self.bin("bench", "bench_io")
        spids, cpids = self.all_server_pids(srv), self.client_pids(p)
        s0, c0 = B.cpu_seconds(spids), B.cpu_seconds(cpids)
        try:
            out = B.sh(io, "conns", T_ADDR, str(CONN_PORT), str(n + WARMUP),
                       ns=self.ns["c"], timeout=60 + n)
        except (B.BenchError, subprocess.TimeoutExpired) as e:
            B.log(f"    bench_io conns failed: {e}")
            return [], n, None
        s1, c1 = B.cpu_seconds(spids), B.cpu_seconds(cpids)
        lines = out.split()[WARMUP:]
        ms = [int(x) / 1000 for x in lines if x != "fail"]
        return (ms, sum(1 for x in lines if x == "fail"),
                (B.cpu_delta(s0, s1), B.cpu_delta(c0, c1), n + WARMUP))

    def with_client(self, srv, res, measure):
        """measure(p) with an sshuttle client p to srv; errors (and a
        client that died) go to res."""
        try:
            p = self.start_client(srv)
        except B.BenchError as e:
            B.log(f"    {srv}: {e}")
            res[srv]["errors"].append(str(e))
            return
        try:
            measure(p)
        except B.BenchError as e:
            B.log(f"    {srv}: {e}")
            res[srv]["errors"].append(str(e))
        finally:
            alive = p.poll() is None
            self.stop_client(p)
            if not alive:
                res[srv]["errors"].append(
                    f"sshuttle exited early: "
                    f"{self.tail(f'sshuttle-{srv}.log', 2)}")
        self.settle_server(srv)

    def transfers(self, srv, p, r):
        for d in ("down", "up"):
            x = self.transfer(srv, p, d, self.args.shuttle_size)
            r[d].append(x)
            B.log(f"    {srv:8} {d:4} {B.f1(x[0])} MiB/s (server "
                  f"{B.f1(x[1], 2)}, client {B.f1(x[2], 2)} CPU s/GiB)")
            if p.poll() is not None:
                raise B.BenchError(f"sshuttle exited {p.returncode} "
                                   f"during {d}")

    def conn_block(self, srv, p, r):
        ms, fails, cpu = self.connections(srv, p, self.args.shuttle_conns)
        r["conn"].append(ms)
        r["conn_fail"] += fails
        if cpu:
            r["conn_cpu"].append(cpu)
        B.log(f"    {srv:8} conn median {B.f1(B.med(ms), 3)} ms, mean "
              f"{B.f1(statistics.fmean(ms) if ms else None, 3)} ms, "
              f"{fails} failed")

    def run(self):
        self.t0 = time.monotonic()
        a = self.args
        self.res["load"] = os.getloadavg()[0]
        self.setup()
        B.log(f"sshuttle set up in {self.elapsed()}: "
              + ", ".join(f"{s} on port {B.PORTS[s]}" for s in self.servers))
        B.log(f"(s) sshuttle {B.fmt_size(a.shuttle_size)} each way, "
              f"{a.shuttle_reps} repetitions; then {a.shuttle_blocks} "
              f"blocks of {a.shuttle_conns} new connections")
        res = {s: {"down": [], "up": [], "conn": [], "conn_fail": 0,
                   "conn_cpu": [], "errors": []} for s in self.servers}
        for rep in range(a.shuttle_reps):
            order = self.servers if rep % 2 == 0 else self.servers[::-1]
            for srv in order:
                self.with_client(srv, res, lambda p, srv=srv:
                                 self.transfers(srv, p, res[srv]))
            B.log(f"    repetition {rep + 1}/{a.shuttle_reps} done "
                  f"({self.elapsed()})")
        # Connection times move with the shared machine's load more than
        # by the margin of their target: short blocks, each on a fresh
        # client, the servers alternating block by block.
        for blk in range(a.shuttle_blocks):
            order = self.servers if blk % 2 == 0 else self.servers[::-1]
            for srv in order:
                self.with_client(srv, res, lambda p, srv=srv:
                                 self.conn_block(srv, p, res[srv]))
        B.log(f"    connections done ({self.elapsed()})")
        for srv in self.servers:
            if self.gw[srv].poll() is not None:
                res[srv]["errors"].append(
                    f"{srv} died during the run (exit "
                    f"{self.gw[srv].returncode}): "
                    f"{self.tail(srv + '.log', 2)}")
        self.res["s"] = res
        self.res["elapsed"] = time.monotonic() - self.t0
        return self.res

    def settle_server(self, srv, timeout=10):
        end = time.monotonic() + timeout
        while self.server_pids(srv) and time.monotonic() < end:
            time.sleep(0.05)


# ---- the report ------------------------------------------------------

def figures(r):
    """{down, up: MiB/s median; conn: ms median over all runs}, or Nones."""
    return {
        "down": B.med(x[0] for x in r["down"]),
        "up": B.med(x[0] for x in r["up"]),
        "conn": B.med([m for run in r["conn"] for m in run]),
    }


def ratios(res):
    """{measure: Rampart/OpenSSH} where both exist."""
    s = res["s"]
    if not all(k in s for k in SERVERS):
        return {}
    r, o = figures(s["rampart"]), figures(s["openssh"])
    return {k: B.ratio(r[k], o[k]) for k in ("down", "up", "conn")}


LABEL = {"down": "download 1 stream, MiB/s", "up": "upload 1 stream, MiB/s",
         "conn": "new connection, ms (median)"}


def summary_rows(res):
    s = res["s"]
    fig = {k: figures(v) for k, v in s.items()}
    q = ratios(res)
    rows = []
    for k in ("down", "up", "conn"):
        op, lim = TARGET[k]
        nd = 3 if k == "conn" else 1
        rows.append([
            LABEL[k].replace("1 stream", B.fmt_size(res["size"])),
            B.f1(fig.get("rampart", {}).get(k), nd),
            B.f1(fig.get("openssh", {}).get(k), nd),
            f"{ISSUE[k]:g}",
            B.fr(q.get(k)), f"{op} {lim}x", B.verdict(q.get(k), op, lim)])
    return rows


HEAD = ["measure", "Rampart", "OpenSSH + Python", "issue's OpenSSH figure",
        "Rampart/OpenSSH", "target", "met"]


def text(res):
    out = [B.md_table(HEAD, summary_rows(res))]
    for srv, r in res["s"].items():
        for e in r["errors"]:
            out.append(f"{srv}: {e}")
    return "\n".join(out)


def detail_rows(res):
    rows = []
    for srv, r in res["s"].items():
        conn_all = [m for run in r["conn"] for m in run]
        rows.append([
            NAMES[srv],
            B.span([x[0] for x in r["down"]]),
            B.f1(B.med(x[1] for x in r["down"]), 2),
            B.f1(B.med(x[2] for x in r["down"]), 2),
            B.span([x[0] for x in r["up"]]),
            B.f1(B.med(x[1] for x in r["up"]), 2),
            B.f1(B.med(x[2] for x in r["up"]), 2),
            B.span([B.med(run) for run in r["conn"] if run], 3),
            B.f1(statistics.fmean(conn_all) if conn_all else None, 3),
            B.f1(pct(conn_all, 99), 3),
            B.f1(conn_cpu_us(r, 0), 0),
            B.f1(conn_cpu_us(r, 1), 0),
            str(r["conn_fail"]),
        ])
    return rows


def conn_cpu_us(r, i):
    """CPU microseconds per connection over every block: the server's
    (i 0) or the client's (i 1).  Whole blocks, since /proc counts CPU
    in clock ticks (10 ms), too coarse for one block's share."""
    n = sum(x[2] for x in r["conn_cpu"])
    return sum(x[i] for x in r["conn_cpu"]) * 1e6 / n if n else None


def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, -(-len(xs) * p // 100) - 1)] if xs else None


def block(res, m):
    quick = " (BENCH_QUICK=1: smaller transfers, fewer connections)" \
        if res.get("quick") else ""
    errors = [f"- {srv}: {e}" for srv, r in res["s"].items()
              for e in r["errors"]]
    return "\n".join([
        BEGIN,
        "## sshuttle: Rampart's native server against sshd + Python "
        "(issue 6)",
        "",
        f"Measured {m['date']}{quick}, by `make bench` "
        f"({res['elapsed'] / 60:.0f} minutes; alone: `python3 "
        f"tests/bench/shuttle_bench.py`), Rampart commit {m['rampart']}, "
        f"on {m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}; load "
        f"average {res['load']:.2f} when it started (the machine is "
        "shared). Client: Debian's sshuttle "
        f"{res.get('sshuttle', '?')} (method nat, defaults) with "
        f"{m['openssh'].split(';')[0]}, cipher chacha20-poly1305 (the "
        "default) to both servers.",
        "",
        B.md_table(HEAD, summary_rows(res)),
        "",
        f"{res['reps']} repetitions, the servers' order alternating; "
        "MiB/s as median (min-max) of the repetitions; CPU seconds per GiB "
        "moved (median) of the server's processes (sshd or the gateway "
        "master and everything below it) and of the client's (sshuttle, its "
        "firewall helper and ssh); connection times in ms, over "
        f"{res['blocks']} blocks of {res['conns']} per server (the "
        "servers alternating block by block, each block on a fresh "
        "client): the median of each block (min-max over the blocks), "
        "and the mean and p99 of all of them; CPU microseconds per "
        "connection (over all the blocks, warm-ups included) of the same "
        "processes (Rampart's master makes the connections).",
        "",
        B.md_table(["server", "download MiB/s", "server CPU s/GiB",
                    "client CPU s/GiB", "upload MiB/s", "server CPU s/GiB",
                    "client CPU s/GiB", "new connection ms, median",
                    "mean", "p99", "server CPU us/conn",
                    "client CPU us/conn", "failed"], detail_rows(res)),
        "",
        "- **Set-up**: three namespaces of their own, client 10.80.1.2 -- "
        "10.80.1.1 gateway 10.80.2.1 -- 10.80.2.2 target. The gateway "
        "namespace runs rampart-gateway (port 22) and /usr/sbin/sshd (port "
        "2222, the same account with /bin/sh as its shell, so that the "
        "exec of sshuttle's bootstrap runs python3) and does not route: "
        "the client reaches the target only through the tunnel. One "
        "sshuttle client runs at a time: `sshuttle --ssh-cmd \"ssh -F "
        "ssh_config\" -r USER@10.80.1.1:PORT 10.80.2.0/24`, ready when its "
        "REDIRECT rule is in the nat table.",
        "- **Throughput**: one `bench_io` stream each way through the "
        "tunnel (the clock starts at the target's ready byte, so the "
        "channel's opening is not in it).",
        "- **New connection**: `bench_io conns` makes the "
        "connections one after another, each connect + a 14-byte request "
        "+ the 128-byte reply to EOF (the target closes first) + close, "
        f"timed from connect() to EOF, after {WARMUP} not counted; the "
        "target answers from one process, with no fork.",
        f"- **The issue's figures** (sshd + Python server on this machine: "
        f"{ISSUE['down']:g} MiB/s down, {ISSUE['up']:g} MiB/s up, "
        f"{ISSUE['conn']:g} ms per new connection) are for comparison; the "
        "ratios are to the OpenSSH figures of this run.",
    ] + (["", "Errors during the run:", ""] + errors if errors else []) + [
        END,
    ]) + "\n"


def add_args(args):
    env = os.environ.get
    q = args.quick
    args.shuttle_size = B.parse_size(env("BENCH_SHUTTLE_SIZE",
                                         "128M" if q else "1G"))
    args.shuttle_conns = int(env("BENCH_SHUTTLE_CONNS",
                                 "100" if q else "250"))
    args.shuttle_blocks = int(env("BENCH_SHUTTLE_BLOCKS",
                                  "2" if q else "8"))
    args.shuttle_reps = int(env("BENCH_SHUTTLE_REPS", "1" if q else "3"))
    only = env("BENCH_SHUTTLE_ONLY", "")
    if only and only not in SERVERS:
        raise SystemExit(f"bench: BENCH_SHUTTLE_ONLY={only!r}: rampart or "
                         "openssh")
    args.shuttle_servers = (only,) if only else SERVERS


def missing(build):
    for b in ("bench/bench_io", "bin/rampart-gateway"):
        if not os.access(os.path.join(build, b), os.X_OK):
            return f"{build}/{b}"
    for c in ("sshuttle", "iptables"):
        if subprocess.run(["sh", "-c", f"command -v {c}"],
                          capture_output=True).returncode != 0:
            return c
    return None


def sshuttle_version():
    try:
        return subprocess.run(["sshuttle", "--version"], capture_output=True,
                              text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def run_and_report(args):
    """Run the harness, print the table, write the doc: exit status."""
    sb = ShuttleBench(args)
    m = B.machine()		# the tree as built for the run
    rc = B.run_harness(sb)
    if rc != 0:
        return rc
    res = sb.res
    res.update(quick=args.quick, size=args.shuttle_size,
               conns=args.shuttle_conns, reps=args.shuttle_reps,
               blocks=args.shuttle_blocks,
               sshuttle=sshuttle_version())
    print()
    print(text(res))
    if args.doc:
        B.write_doc(args.doc, block(res, m), BEGIN, END)
        print(f"\nsshuttle results written to {args.doc}")
    return 0


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    args = ap.parse_args()
    env = os.environ.get
    args.quick = env("BENCH_QUICK", "0") not in ("", "0")
    args.doc = env("BENCH_DOC", "" if args.quick else "docs/performance.md")
    add_args(args)
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces, sshd, a temporary "
              "user, iptables)", file=sys.stderr)
        return 1
    miss = missing(args.build)
    if miss:
        print(f"bench: {miss} missing (run make bench)", file=sys.stderr)
        return 1
    B._libc.prctl(B.PR_SET_PDEATHSIG, signal.SIGTERM)
    return run_and_report(args)


if __name__ == "__main__":
    sys.exit(main())
