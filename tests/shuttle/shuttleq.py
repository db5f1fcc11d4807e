#!/usr/bin/env python3
"""Helpers for the sshuttle tests, written from sshuttle's wire protocol
(../shared/notes/sshuttle-protocol.md) and not from Rampart's code.

usage:
  shuttleq.py frames OUT [--prefix FILE] SPEC...
      Write FILE (a captured bootstrap, say) then one mux frame per SPEC:
        CH:CMD[:TEXT]   CMD a name (PING, TCP_CONNECT, ...) or a number,
                        TEXT the payload ("\\n" is a newline)
        CH:CMD:@N       a payload of N bytes of 'x'
        raw:HEX         bytes as they are (bad magic, a broken header)
        dnsq:CH:NAME    DNS_REQ on CH with a query for NAME (type A)
        file:PATH       a file's bytes (a second bootstrap)
  shuttleq.py parse FILE [--data CH]
      Read what the gateway wrote on the session's stdout: skip to the
      sync header (\\0\\0SSHUTTLE0001), then print one line per frame,
      "CH NAME LEN PAYLOAD" (payload as Python repr, cut at 60 bytes);
      with --data, the TCP_DATA payloads of channel CH, joined, instead.
      Exit 2 without a sync header, 3 on a frame that is not well formed.
  shuttleq.py expect-routes --gw ADDR... --allow CIDR... --deny CIDR...
      The minimal list of IPv4 prefixes: allowed minus denied minus the
      gateway's own addresses, one per line, sorted.
  shuttleq.py rules nat|nft FILE
      The destinations the client redirects (TCP), from `iptables -t nat
      -S` or `nft list ruleset` output, normalised and sorted.
  shuttleq.py dnsd ADDR PORT LOG NAME=IPV4...
      A small authoritative DNS server over UDP: A records for the names
      given, NXDOMAIN for anything else; every query's name is appended
      to LOG.  Prints "ready" once bound.
  shuttleq.py slowsrv ADDR PORT FILE RATE
      Send FILE to every TCP connection at RATE bytes a second, then
      close: a transfer that is still in flight at the source, whatever
      the path buffers.  Prints "ready" once listening.
  shuttleq.py sink ADDR PORT OUT GATE
      Accept one TCP connection with a small receive buffer and read
      nothing until the file GATE exists; then read to EOF and write the
      SHA-256 and byte count to OUT.  Prints "ready" once listening.
"""
import ipaddress
import re
import socket
import struct
import sys
import threading
import time

CMDS = {
    "EXIT": 0x4200, "PING": 0x4201, "PONG": 0x4202, "TCP_CONNECT": 0x4203,
    "TCP_STOP_SENDING": 0x4204, "TCP_EOF": 0x4205, "TCP_DATA": 0x4206,
    "ROUTES": 0x4207, "HOST_REQ": 0x4208, "HOST_LIST": 0x4209,
    "DNS_REQ": 0x420a, "DNS_RESPONSE": 0x420b, "UDP_OPEN": 0x420c,
    "UDP_DATA": 0x420d, "UDP_CLOSE": 0x420e,
}
NAMES = {v: k for k, v in CMDS.items()}
SYNC = b"\0\0SSHUTTLE0001"


def frame(ch, cmd, payload):
    return b"SS" + struct.pack(">HHH", ch, cmd, len(payload)) + payload


def spec_bytes(spec):
    if spec.startswith("raw:"):
        return bytes.fromhex(spec[4:])
    if spec.startswith("dnsq:"):
        _, ch, name = spec.split(":", 2)
        q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        for label in name.split("."):
            q += bytes([len(label)]) + label.encode()
        q += b"\0" + struct.pack(">HH", 1, 1)
        return frame(int(ch), CMDS["DNS_REQ"], q)
    if spec.startswith("file:"):
        with open(spec[5:], "rb") as f:
            return f.read()
    parts = spec.split(":", 2)
    ch = int(parts[0])
    cmd = CMDS.get(parts[1])
    if cmd is None:
        cmd = int(parts[1], 0)
    text = parts[2] if len(parts) > 2 else ""
    if text.startswith("@"):
        payload = b"x" * int(text[1:])
    else:
        payload = text.replace("\\n", "\n").encode()
    return frame(ch, cmd, payload)


def cmd_frames(args):
    out, prefix, specs = args[0], None, []
    it = iter(args[1:])
    for a in it:
        if a == "--prefix":
            prefix = next(it)
        else:
            specs.append(a)
    with open(out, "wb") as f:
        if prefix:
            with open(prefix, "rb") as p:
                f.write(p.read())
        for s in specs:
            f.write(spec_bytes(s))
    return 0


def cmd_parse(args):
    with open(args[0], "rb") as f:
        data = f.read()
    data_ch = int(args[2]) if len(args) > 2 and args[1] == "--data" else None
    stream = b""
    i = data.find(SYNC)
    # The client skips anything before the header that has no NUL in it.
    if i < 0 or b"\0" in data[:i]:
        print("no sync header in %d bytes: %r" % (len(data), data[:80]))
        return 2
    pos = i + len(SYNC)
    while pos < len(data):
        if len(data) - pos < 8:
            print("truncated header: %r" % data[pos:])
            return 3
        if data[pos:pos + 2] != b"SS":
            print("bad magic at %d: %r" % (pos, data[pos:pos + 8]))
            return 3
        ch, cmd, n = struct.unpack(">HHH", data[pos + 2:pos + 8])
        payload = data[pos + 8:pos + 8 + n]
        if len(payload) != n:
            print("truncated payload: %d of %d" % (len(payload), n))
            return 3
        if data_ch is None:
            print(ch, NAMES.get(cmd, hex(cmd)), n, repr(payload[:60]))
        elif ch == data_ch and cmd == CMDS["TCP_DATA"]:
            stream += payload
        pos += 8 + n
    if data_ch is not None:
        sys.stdout.buffer.write(stream)
    return 0


def opt_lists(args):
    lists, cur = {}, None
    for a in args:
        if a.startswith("--"):
            cur = lists.setdefault(a[2:], [])
        else:
            cur.append(a)
    return lists


def cmd_expect_routes(args):
    lists = opt_lists(args)
    nets = [ipaddress.ip_network(c) for c in lists.get("allow", [])]
    holes = [ipaddress.ip_network(c) for c in lists.get("deny", [])]
    holes += [ipaddress.ip_network(a + "/32") for a in lists.get("gw", [])]
    for h in holes:
        left = []
        for n in nets:
            if h.subnet_of(n):
                left.extend(n.address_exclude(h))
            elif not n.subnet_of(h):
                left.append(n)
        nets = left
    for n in sorted(ipaddress.collapse_addresses(nets)):
        print(n)
    return 0


def cmd_rules(args):
    method, path = args
    with open(path) as f:
        text = f.read()
    nets = set()
    for line in text.splitlines():
        if method == "nat":
            m = re.search(r"-d (\S+) -p tcp .*-j REDIRECT", line)
        else:
            m = re.search(r"l4proto tcp ip daddr (\S+) redirect", line)
        if m:
            nets.add(ipaddress.ip_network(m.group(1)))
    for n in sorted(nets):
        print(n)
    return 0


def dns_name(msg, pos):
    labels = []
    while msg[pos]:
        n = msg[pos]
        labels.append(msg[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels).lower(), pos + 1


def cmd_dnsd(args):
    addr, port, log = args[0], int(args[1]), args[2]
    table = dict(a.split("=", 1) for a in args[3:])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print("ready", flush=True)
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 17:
            continue
        qid, flags = struct.unpack(">HH", q[:4])
        try:
            name, end = dns_name(q, 12)
        except IndexError:
            continue
        qtype = struct.unpack(">H", q[end:end + 2])[0]
        question = q[12:end + 4]
        with open(log, "a") as f:
            f.write(name + "\n")
        ip = table.get(name)
        rd = flags & 0x0100
        if ip is None:
            head = struct.pack(">HHHHHH", qid, 0x8403 | rd, 1, 0, 0, 0)
            s.sendto(head + question, peer)
            continue
        answers = b""
        if qtype == 1:
            answers = struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + \
                socket.inet_aton(ip)
        head = struct.pack(">HHHHHH", qid, 0x8400 | rd, 1,
                           1 if answers else 0, 0, 0)
        s.sendto(head + question + answers, peer)


def slow_send(conn, path, rate):
    chunk = max(1, rate // 20)
    start, sent = time.monotonic(), 0
    try:
        with open(path, "rb") as f:
            while True:
                buf = f.read(chunk)
                if not buf:
                    break
                conn.sendall(buf)
                sent += len(buf)
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    conn.close()


def cmd_slowsrv(args):
    addr, port, path, rate = args[0], int(args[1]), args[2], int(args[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=slow_send, args=(conn, path, rate),
                         daemon=True).start()


def cmd_sink(args):
    import hashlib
    import os
    addr, port, out, gate = args[0], int(args[1]), args[2], args[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.bind((addr, port))
    s.listen(1)
    print("ready", flush=True)
    conn, _ = s.accept()
    while not os.path.exists(gate):
        time.sleep(0.1)
    h, n = hashlib.sha256(), 0
    while True:
        buf = conn.recv(65536)
        if not buf:
            break
        h.update(buf)
        n += len(buf)
    with open(out, "w") as f:
        f.write("%s %d\n" % (h.hexdigest(), n))
    return 0


def main(argv):
    cmds = {"frames": cmd_frames, "parse": cmd_parse,
            "expect-routes": cmd_expect_routes, "rules": cmd_rules,
            "dnsd": cmd_dnsd, "slowsrv": cmd_slowsrv, "sink": cmd_sink}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 1
    return cmds[argv[1]](argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
