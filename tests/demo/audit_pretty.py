#!/usr/bin/env python3
"""Print a Rampart audit log (one JSON object per line) as a table.

usage: audit_pretty.py FILE    (- for standard input)

One output line per record: the time (UTC, as in @timestamp), a short form
of the session id, event.action, event.outcome, user.name, and what the
record is about (source, destination, rule, bytes, duration, reason).
Values are printed as the record holds them.  Left out, and still in the
raw file: the fields every record shares (ecs.version, event.kind,
service.name), the rest of the session id, and the per-connection ones
(source.port but on connection-open, process.pid, user_agent.original,
rampart.channel.id).  A line that is not a JSON object is
printed as such and makes the exit status 1, since the trail must never
hold a broken record.
"""
import json
import sys


def size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def dest(r):
    addr = r.get("destination.address")
    ip = r.get("destination.ip")
    port = r.get("destination.port")
    s = f"{addr}:{port}" if addr is not None else ""
    if ip is not None and ip != addr:
        s += f" ({ip})"
    return "-> " + s if s else ""


def what(r):
    action = r.get("event.action", "")
    parts = []
    if action == "connection-open" or action.startswith("knock-"):
        parts.append(f"from {r.get('source.ip')}:{r.get('source.port')}")
    if "rampart.knock.address" in r:	# knockd's knock-accepted
        parts.append(f"opened {r['rampart.knock.address']} port "
                     f"{r.get('destination.port')} "
                     f"({r.get('rampart.knock.mode')} address)")
    d = dest(r)
    if d:
        parts.append(d)
    if r.get("rampart.channel.type") == "sshuttle":
        parts.append("via sshuttle")
    if "rule.name" in r:
        parts.append(f"rule {r['rule.name']}")
    if "rampart.request" in r:
        parts.append(f"request {r['rampart.request']}")
    if "source.bytes" in r or "destination.bytes" in r:
        parts.append(f"sent {size(r.get('source.bytes', 0))}, "
                     f"received {size(r.get('destination.bytes', 0))}")
    if "event.duration" in r:
        parts.append(f"{r['event.duration'] / 1e9:.2f} s")
    if "rampart.penalty.seconds" in r:
        parts.append(f"penalty {r['rampart.penalty.seconds']} s")
    if "file.path" in r:
        parts.append(r["file.path"])
    if "event.reason" in r:
        parts.append(f"reason: {r['event.reason']}")
    if r.get("rampart.truncated"):
        parts.append("(record truncated)")
    return "  ".join(str(p) for p in parts)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    bad = 0
    print(f"{'time (UTC)':<12}  {'session':<7}  {'action':<18}  "
          f"{'outcome':<7}  {'user':<6}  details")
    name = "/dev/stdin" if argv[1] == "-" else argv[1]
    with open(name, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
                if not isinstance(r, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                bad += 1
                print(f"line {n}: NOT A VALID RECORD ({e}): {line.strip()!r}")
                continue
            ts = r.get("@timestamp", "?")
            t = ts[11:23] if len(ts) == 24 else ts
            sid = r.get("rampart.session.id", "-")[:7]
            print(f"{t:<12}  {sid:<7}  {r.get('event.action', '?'):<18}  "
                  f"{r.get('event.outcome', '?'):<7}  "
                  f"{r.get('user.name', ''):<6}  {what(r)}".rstrip())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
