"""The knock part of make bench (issue 5, item 7): rampart-knockd's
knock-to-open latency, and the garbage it drops on one core while every
valid knock still opens its door.

Three namespaces of their own, with no route anywhere else:

    knocker 10.79.1.2 --veth-- 10.79.1.1  knockd  10.79.2.1 --veth-- 10.79.2.2 flood

knockd runs in the middle namespace at its default configuration, with
NftCreate yes (its table lives and dies with the namespace), MetricsInterval
1s, and a raised user budget (UserRate 600, UserBurst 1000, the maxima:
every knock of the run is the same user's, and the default of 10 a minute
would refuse all but the first ten).  It is pinned to the last CPU with
taskset; the flood, the knocks and the measuring tools run on CPU 0.

  latency  knock_latency collects real knocks from rampart-knock (one per
           address, each a new element), then sends them one by one and
           polls the nftables set through libnftables until the element
           is there: p50/p99 from the datagram sent to the element present.
  flood    knock_flood sends garbage at increasing rates, 238-byte (the
           knock size: knockd must compute the tag before dropping it) and
           random sizes, while knock_latency sends valid knocks and checks
           that each opens its door.  What knockd processed per second is
           read from its metrics (rampart_knockd_datagrams_total and
           rampart_knockd_dropped_total{reason}), not from what was sent;
           what the kernel dropped for a full receive buffer is read from
           the namespace's Udp RcvbufErrors.

Environment: BENCH_KNOCK_N (knocks for the latency, default 200; 50 with
BENCH_QUICK), BENCH_KNOCK_SECS (seconds per flood stage, default 6),
BENCH_KNOCK_RATES (comma list of 238-byte garbage rates, 0 = as fast as
one core sends).
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import bench as B

K_ADDR, G_ADDR_K = "10.79.1.2", "10.79.1.1"
G_ADDR_F, F_ADDR = "10.79.2.1", "10.79.2.2"
KPORT = 62022
USER = "benchknock"
VALID_PER_STAGE = 10
TARGET_P99_MS = 5.0
TARGET_RATE = 150000
KERNEL_DROP_OK = 0.001		# of what was sent, for a stage to count
BEGIN = "<!-- knock bench results: written by tests/bench/knock_bench.py -->"
END = "<!-- end of knock bench results -->"


def addr_of(i):
    """The i-th address to open: 198.18.0.0/15, the benchmarking range."""
    return f"198.18.{i // 250}.{i % 250 + 1}"


def pct(xs, p):
    xs = sorted(xs)
    return xs[max(0, -(-len(xs) * p // 100) - 1)] if xs else None


def parse_metrics(text):
    """{name or name{reason}: value} of a Prometheus text file."""
    out = {}
    for line in text.splitlines():
        m = re.fullmatch(r'(rampart_knockd_\w+)(?:\{reason="(\w+)"\})?'
                         r'\s+(\d+)', line.strip())
        if m:
            key = m.group(1) + (f"{{{m.group(2)}}}" if m.group(2) else "")
            out[key] = int(m.group(3))
    return out


def udp_rcvbuf_errors(pid):
    """Udp RcvbufErrors of pid's network namespace."""
    try:
        with open(f"/proc/{pid}/net/snmp") as f:
            lines = [ln.split() for ln in f if ln.startswith("Udp:")]
    except OSError:
        return None
    head, vals = lines[0], lines[1]
    return int(vals[head.index("RcvbufErrors")])


class KnockBench(B.Bench):
    """bench.py's harness (processes, logs, namespaces, clean-up and the
    sweep of what a killed run left) with namespaces of its own: c the
    knocker, g knockd, t the flood."""

    def __init__(self, args):
        super().__init__(args)
        self.ns = {k: f"{B.PREFIX}{k}{self.id}" for k in "cgt"}
        self.next_addr = 0
        self.ncpu = os.cpu_count() or 1
        self.kcpu = str(self.ncpu - 1)	# knockd's CPU

    def bin(self, *p):
        return os.path.join(self.build, *p)

    def setup(self):
        self.clean_stale()
        self.tmp = tempfile.mkdtemp(prefix=f"{B.TMP_PREFIX}{self.id}-")
        os.chmod(self.tmp, 0o755)
        self.add_namespaces()
        self.link(self.ns["c"], K_ADDR, self.ns["g"], G_ADDR_K, 1)
        self.link(self.ns["t"], F_ADDR, self.ns["g"], G_ADDR_F, 2)
        self.setup_keys()
        self.start_knockd()

    def setup_keys(self):
        t = self.tmp
        self.server_pk = B.sh(self.bin("bin", "rampartctl"), "knock",
                              "keygen", "--server",
                              f"{t}/server.key").strip()
        with open(f"{t}/server.pub", "w") as f:
            f.write(self.server_pk + "\n")
        B.sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", USER,
             "-f", f"{t}/user")
        with open(f"{t}/user.pub") as f:
            pub = " ".join(f.read().split()[:2])
        with open(f"{t}/policy.conf", "w") as f:
            # The knocks open addresses of 198.18.0.0/15 (the
            # benchmarking range): one new element for each.
            f.write(f"user {USER}\n\tkey {pub}\n\ttotp none\n"
                    f"\tfrom 198.18.0.0/15\n")

    def start_knockd(self):
        t = self.tmp
        for d in ("log", "metrics"):
            os.makedirs(f"{t}/{d}")
            shutil.chown(f"{t}/{d}", "nobody")
        self.metrics = f"{t}/metrics/knockd.prom"
        with open(f"{t}/knockd.conf", "w") as f:
            f.write(f"""# The default configuration, but for what the bench needs.
ServerKey {t}/server.key
Policy {t}/policy.conf
AuditLog {t}/log/knockd-audit.jsonl
MetricsFile {self.metrics}
MetricsInterval 1s
NftCreate yes
User nobody
# Every knock of the bench is one user's: the default budget (10 a
# minute) would refuse all but the first ten.
UserRate 600
UserBurst 1000
""")
        kd = self.bin("bin", "rampart-knockd")
        B.sh(kd, "-t", "-f", f"{t}/knockd.conf", ns=self.ns["g"])
        self.knockd = self.spawn(self.ns["g"],
                                 ["taskset", "-c", self.kcpu, kd, "-d",
                                  "-f", f"{t}/knockd.conf"],
                                 stderr=self.logfile("knockd"))
        end = time.monotonic() + 10
        while not (os.path.exists(self.metrics) and self.listening()):
            if self.knockd.poll() is not None or time.monotonic() > end:
                raise B.BenchError(f"knockd did not start: "
                                   f"{self.tail('knockd.log')}")
            time.sleep(0.05)

    def listening(self):
        try:
            with open(f"/proc/{self.knockd.pid}/net/udp") as f:
                return any(int(ln.split()[1].split(":")[1], 16) == KPORT
                           for ln in list(f)[1:])
        except OSError:
            return False

    def alive(self, what):
        if self.knockd.poll() is not None:
            raise B.BenchError(f"knockd died during {what} (exit "
                               f"{self.knockd.returncode}): "
                               f"{self.tail('knockd.log', 3)}")

    # ---- knocks -----------------------------------------------------

    def knocks(self, n, gap_ms, go):
        """Start knock_latency with n new knocks collected; returns the
        Popen (stdin a pipe if go, so the caller says when to send)."""
        addrs = [addr_of(self.next_addr + i) for i in range(n)]
        self.next_addr += n
        path = os.path.join(self.tmp, "addrs")
        with open(path, "w") as f:
            f.write("\n".join(addrs) + "\n")
        argv = ["taskset", "-c", "0", self.bin("bench", "knock_latency"),
                "-x", "-A", path, "-g", f"/run/netns/{self.ns['g']}", "-d",
                str(gap_ms), G_ADDR_K, str(KPORT)]
        if go:
            argv.insert(4, "-s")
        p = self.spawn(self.ns["c"], argv, stdout=subprocess.PIPE,
                       stdin=subprocess.PIPE if go else subprocess.DEVNULL,
                       stderr=self.logfile("latency"))
        first = p.stdout.readline().decode().split()
        if len(first) != 2 or first[0] != "ready":
            raise B.BenchError(f"knock_latency: {first}: "
                               f"{self.tail('latency.log', 2)}")
        knock = [self.bin("bin", "rampart-knock"), "-S",
                 f"{self.tmp}/server.pub", "-p", first[1], "-u", USER,
                 "-i", f"{self.tmp}/user"]
        for a in addrs:
            B.sh("taskset", "-c", "0", *knock, "-a", a, "127.0.0.1",
                 ns=self.ns["c"])
        line = p.stdout.readline().decode().strip()
        if line != f"collected {n}":
            raise B.BenchError(f"knock_latency: {line!r}: "
                               f"{self.tail('latency.log', 2)}")
        return p

    def results(self, p, timeout):
        """(latencies in ms, lost count, query cost in us) of a
        knock_latency run."""
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop([p])
            raise B.BenchError("knock_latency did not finish")
        lat, lost, query = [], 0, None
        for line in out.decode().splitlines():
            w = line.split()
            if w[0] == "knock":
                if w[3] == "lost":
                    lost += 1
                else:
                    lat.append(int(w[3]) / 1000)
            elif w[0] == "opened":
                query = int(w[-1])
        return lat, lost, query

    def bench_latency(self):
        n = self.args.knock_n
        B.log(f"(k1) knock-to-open latency, {n} knocks, each a new "
              f"address")
        p = self.knocks(n, 5, go=False)
        lat, lost, query = self.results(p, 60 + n)
        self.alive("the latency run")
        self.res["latency"] = {"ms": lat, "lost": lost, "n": n,
                               "query_us": query}
        B.log(f"    p50 {B.f1(pct(lat, 50), 2)} ms, p99 "
              f"{B.f1(pct(lat, 99), 2)} ms, {lost} lost")

    # ---- the flood --------------------------------------------------

    def sample(self):
        """(metrics mtime, counters) or None."""
        try:
            st = os.stat(self.metrics)
            with open(self.metrics) as f:
                return st.st_mtime, parse_metrics(f.read())
        except OSError:
            return None

    def settled_sample(self, after, timeout=5.0):
        """The first metrics written at least 0.3 s after time after (by
        then the receive queue has drained), or None."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            s = self.sample()
            if s and s[0] >= after + 0.3:
                return s
            time.sleep(0.1)
        return None

    def stage(self, mode, rate):
        """One flood with valid knocks during it.  knockd's rates are its
        counters' growth from the metrics before the flood to the first
        metrics after it, over the flood's duration: everything it read
        came from the flood (and the few knocks)."""
        secs = self.args.knock_secs
        gap = int(secs * 1000 / (VALID_PER_STAGE + 2))
        kl = self.knocks(VALID_PER_STAGE, gap, go=True)
        before = self.sample()
        cpu0 = B.cpu_seconds([self.knockd.pid])
        rb0 = udp_rcvbuf_errors(self.knockd.pid)
        fl = self.spawn(self.ns["t"],
                        ["taskset", "-c", "0",
                         self.bin("bench", "knock_flood"), "-m", mode,
                         "-r", str(rate), "-t", str(secs), G_ADDR_F,
                         str(KPORT)],
                        stdout=subprocess.PIPE,
                        stderr=self.logfile("flood"))
        time.sleep(0.5)			# the flood is under way
        kl.stdin.write(b"go\n")
        kl.stdin.close()
        kl.stdin = None			# communicate() must not flush it
        out = fl.communicate(timeout=secs + 30)[0].decode().split()
        t1 = time.time()
        cpu1 = B.cpu_seconds([self.knockd.pid])
        rb1 = udp_rcvbuf_errors(self.knockd.pid)
        lat, lost, _ = self.results(kl, 30)
        after = self.settled_sample(t1)
        self.alive(f"the {mode} flood at {rate}/s")
        if len(out) != 8 or before is None or after is None:
            raise B.BenchError(f"flood at {rate}/s: sender said {out}, "
                               f"metrics before {before is not None}, "
                               f"after {after is not None}")
        dur = float(out[3])

        def d(k):
            return after[1].get(k, 0) - before[1].get(k, 0)
        return {
            "mode": mode, "rate": rate, "sent": float(out[5]),
            "read": d("rampart_knockd_datagrams_total") / dur,
            "dropped": sum(d(f"rampart_knockd_dropped_total{{{r}}}")
                           for r in ("size", "tag")) / dur,
            "kernel": (rb1 - rb0) / dur if rb0 is not None and
            rb1 is not None else None,
            "cpu": B.cpu_delta(cpu0, cpu1) / dur,
            "valid": VALID_PER_STAGE, "opened": len(lat), "lost": lost,
            "ms": lat,
        }

    def bench_flood(self):
        rates = self.args.knock_rates
        stages = [("knock", r) for r in rates] + [("random", 0)]
        B.log(f"(k2) garbage floods, {self.args.knock_secs} s each, "
              f"{VALID_PER_STAGE} valid knocks during each")
        out = []
        for mode, rate in stages:
            s = self.stage(mode, rate)
            out.append(s)
            B.log(f"    {mode:6} {'max' if rate == 0 else rate:>7}: sent "
                  f"{B.f1(s['sent'], 0)}/s, knockd read "
                  f"{B.f1(s['read'], 0)}/s at "
                  f"{B.f1(s['cpu'] * 100, 0)}% CPU, kernel dropped "
                  f"{B.f1(s['kernel'], 0)}/s, valid knocks opened "
                  f"{s['opened']}/{s['valid']}")
            time.sleep(1)		# let the queue drain between stages
        self.res["flood"] = out

    def rcvbuf(self):
        """The receive buffer knockd got, in bytes (ss skmem rb)."""
        out = B.sh("ss", "-Huamn", f"sport = :{KPORT}", ns=self.ns["g"])
        m = re.search(r"skmem:\(r\d+,rb(\d+)", out)
        return int(m.group(1)) if m else None

    def run(self):
        t0 = time.monotonic()
        self.res["load"] = os.getloadavg()[0]
        # This harness too keeps off knockd's CPU.
        mask = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {0})
        try:
            self.setup()
            self.res["rcvbuf"] = self.rcvbuf()
            B.log(f"knockd up in {time.monotonic() - t0:.0f}s, on CPU "
                  f"{self.kcpu}, receive buffer {self.res['rcvbuf']} "
                  f"bytes; floods and knocks from CPU 0")
            self.bench_latency()
            self.bench_flood()
        finally:
            os.sched_setaffinity(0, mask)
        self.res["cpus"] = self.ncpu
        self.res["elapsed"] = time.monotonic() - t0
        return self.res


# ---- the report ------------------------------------------------------

def clean(s):
    """Every valid knock opened and the kernel dropped (almost) nothing:
    with a quarter of all datagrams dropped, valid ones open only by
    luck, so such a stage does not count however its knocks fared."""
    return (s["opened"] == s["valid"] and s["kernel"] is not None and
            s["kernel"] <= KERNEL_DROP_OK * s["sent"])


def headline(res):
    """(p50, p99, best 238-byte rate dropped in a clean stage)."""
    lat = res["latency"]["ms"]
    ok = [s for s in res["flood"] if s["mode"] == "knock" and clean(s)]
    best = max((s["dropped"] for s in ok), default=None)
    return pct(lat, 50), pct(lat, 99), best


def summary_rows(res):
    p50, p99, best = headline(res)
    lost = res["latency"]["lost"]
    return [
        ["knock-to-open p50, ms", B.f1(p50, 2), "-", "-"],
        [f"knock-to-open p99, ms ({res['latency']['n']} knocks, "
         f"{lost} lost)", B.f1(p99, 2), f"< {TARGET_P99_MS:g}",
         "yes" if p99 is not None and p99 < TARGET_P99_MS and not lost
         else "NO"],
        ["238-byte garbage dropped by knockd on one core, per second, "
         "every valid knock opening, kernel drops <= 0.1%",
         B.f1(best, 0),
         f">= {TARGET_RATE}",
         "yes" if best is not None and best >= TARGET_RATE else "NO"],
    ]


def stage_rows(res):
    rows = []
    for s in res["flood"]:
        lat = s["ms"]
        rows.append([
            "238 bytes" if s["mode"] == "knock" else "random sizes",
            "max" if s["rate"] == 0 else str(s["rate"]),
            B.f1(s["sent"], 0), B.f1(s["read"], 0), B.f1(s["dropped"], 0),
            B.f1(s["kernel"], 0), B.f1(s["cpu"] * 100, 0),
            f"{s['opened']}/{s['valid']}",
            f"{B.f1(pct(lat, 50), 2)} / {B.f1(max(lat, default=None), 2)}",
        ])
    return rows


def text(res):
    return (B.md_table(["measure", "Rampart", "target", "met"],
                       summary_rows(res)) + "\n\n" +
            B.md_table(STAGE_HEAD, stage_rows(res)))


STAGE_HEAD = ["garbage", "target/s", "sent/s", "knockd read/s",
              "knockd dropped/s (size, tag)", "kernel dropped/s (receive "
              "buffer full)", "knockd CPU %", "valid knocks opened",
              "their latency p50 / max, ms"]


def block(res, m):
    quick = " (BENCH_QUICK=1: fewer knocks)" if res.get("quick") else ""
    lat = res["latency"]
    return "\n".join([
        BEGIN,
        "## Knocking: rampart-knockd (issue 5)",
        "",
        f"Measured {m['date']}{quick}, by `make bench` "
        f"({res['elapsed']:.0f} s; alone: `python3 tests/bench/bench.py "
        f"--only knock`), Rampart commit {m['rampart']}, on "
        f"{m['nproc']} CPUs ({m['cpu']}), Linux {m['kernel']}; load "
        f"average {res['load']:.2f} when it started (the machine is shared: "
        "other work may run on knockd's CPU too).",
        "",
        "knockd runs at its default configuration (knockd.conf with only "
        "the server key, policy, audit and metrics paths, MetricsInterval "
        "1s, NftCreate yes, User nobody) except for the user budget, "
        "raised to UserRate 600 and UserBurst 1000 (the maxima) because "
        "every knock of the bench is one user's and the default of 10 a "
        "minute would refuse all but the first ten. It is pinned to CPU "
        f"{res['cpus'] - 1} with taskset; the flood, the knocks and the "
        "measuring tools share CPU 0, which also carries the kernel's "
        "receive path of the veth (the sender's CPU runs the softirq), so "
        "knockd's core spends its time in recvmmsg and knockd itself. "
        f"knockd's UDP receive buffer: {res.get('rcvbuf')} bytes "
        "(`ss -m`).",
        "",
        text(res),
        "",
        f"- **Latency**: {lat['n']} knocks made by `rampart-knock -a ADDR` "
        "(a new address each, so each adds a new element), collected "
        "first and then sent one at a time by `tests/bench/knock_latency` "
        "5 ms apart; the time runs from just before `sendto()` to the "
        "end of the first libnftables `get element inet rampart knock4 { "
        "ADDR . 22 }` that finds the element, polled back to back: an "
        "upper bound, by at most one query, which costs "
        f"{lat['query_us']} us on average. Each element is deleted once "
        "timed (`knock_latency -x`), because a query reads the whole set "
        "and costs more as it grows: the set stays as small as on a quiet "
        "bastion.",
        "- **Flood**: `tests/bench/knock_flood` sends random bytes in "
        "sendmmsg batches of 64 from its own namespace, first 238-byte "
        "datagrams (the knock size, so knockd must compute the tag, one "
        "BLAKE2b per candidate bucket, before it drops them) at rising "
        "rates, then random sizes as fast as it can. During each stage "
        f"{VALID_PER_STAGE} valid knocks are sent; each must show up in "
        "the set within a second. \"knockd read/s\" is the growth of "
        "`rampart_knockd_datagrams_total` from the metrics file before "
        "the stage to the first one written after it (so also what was "
        "still queued when the sender stopped), divided by the sender's "
        "duration: what knockd processed, not what was sent; the "
        "difference is what the kernel dropped with knockd's receive "
        "buffer full (Udp RcvbufErrors). \"knockd CPU %\" is its user "
        "and system time over the same duration. "
        "The latency of knocks sent during a flood includes waiting for "
        "CPU 0, which the flood keeps busy. The headline rate is the "
        "highest 238-byte stage in which every valid knock opened and the "
        "kernel dropped at most 0.1% of what was sent: when knockd reads "
        "less than arrives, the kernel drops valid knocks as often as "
        "garbage, and one that opened did so by luck.",
        "- **fwknop for comparison** (issue 5, measured on this machine, "
        "not installed here): fwknop 2.6.10's knock-to-open time is "
        "109-349 ms; its default configuration copes with about 1 000 "
        "garbage datagrams/s, and 120 000/s only when tuned for it.",
        END,
    ]) + "\n"


def add_args(args):
    env = os.environ.get
    args.knock_n = int(env("BENCH_KNOCK_N", "50" if args.quick else "200"))
    args.knock_secs = float(env("BENCH_KNOCK_SECS",
                                "3" if args.quick else "6"))
    args.knock_rates = [int(x) for x in env(
        "BENCH_KNOCK_RATES", "50000,100000,150000,200000,300000,400000,0"
    ).split(",")]
    # All of the run's knocks are one user's: UserBurst 1000 (the maximum)
    # must hold them, or the last would be refused as over budget.
    n = args.knock_n + VALID_PER_STAGE * (len(args.knock_rates) + 1)
    if n > 1000:
        raise SystemExit(f"bench: {n} knocks in all (BENCH_KNOCK_N, "
                         f"BENCH_KNOCK_RATES) exceed UserBurst 1000")


def missing(build):
    for b in ("bin/rampart-knockd", "bin/rampart-knock", "bin/rampartctl",
              "bench/knock_flood", "bench/knock_latency"):
        if not os.access(os.path.join(build, b), os.X_OK):
            return f"{build}/{b}"
    return None
