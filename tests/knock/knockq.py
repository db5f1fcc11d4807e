#!/usr/bin/env python3
"""Knock datagrams for the knock tests, built independently of the C code.

An implementation of docs/PROTOCOL.knock in Python over libsodium (ctypes),
so the tests can send what rampart-knock never would: old timestamps,
other keys, replays with a fresh seal, flipped bits, garbage.  `selftest`
checks it against the example of section 13 first, so a test never trusts
a crafting bug.

usage:
  knockq.py selftest
  knockq.py craft -S SERVERKEY -i KEYFILE -u USER [-P PORT] [-a ADDR]
                  [--age SECONDS | --ts UNIX] [--nonce HEX] -o OUT
  knockq.py capture PORT OUT [--timeout S] [--bind ADDR]
  knockq.py send HOST PORT FILE
  knockq.py reseal -K SERVERSECRET IN OUT [--inner-flip BIT]
  knockq.py flip IN OUT BIT [--retag SERVERKEY]
  knockq.py decode -K SERVERSECRET IN [--pub KEY.pub]
  knockq.py sweep HOST PORT FILE --retag SERVERKEY [--step N] [--first B]
  knockq.py garbage HOST PORT N [--seed S] [--knock FILE --at K] [--listen S]
  knockq.py syn HOST PORT [--timeout S]
  knockq.py metric FILE NAME
SERVERKEY is a 44-character base64 public key or a file whose first line
is one; SERVERSECRET a server secret key file (rampartctl knock keygen
--server).  syn prints open, refused or silent and exits 0 when the SYN
was answered (open or refused), 1 when it was not.
"""
import argparse
import base64
import ctypes
import ctypes.util
import hashlib
import ipaddress
import json
import os
import random
import socket
import struct
import sys
import time

DOMAIN = b"rampart-knock-v1"
TAG_DOMAIN = b"rampart-knock-v1 tag"
SIZE = 238
INNER = 174
SIGNED_PART = 110
BUCKET = 64

# The datagram of docs/PROTOCOL.knock section 13.
EXAMPLE = (
    "e4168f392a7df18656f0b93f63ba162f79a631eede1bf9c98f12032cdeadd0e7"
    "a079398fc786b88cc846ec89af85a51a644f0594fbff5a8c5d03224d2a7d5215"
    "8c4194a3b9faca28403d9fa1c48fcff3928f715073be897f0684086bffca0c86"
    "5c4cdefda8177476fbca3493ae7740dabf602c63a26c98c2c044c4dc9b7ff71b"
    "d798462ae52ab1792c25199896244b9653c7fdac948aaca805e45a31501d1cdf"
    "d22ccf641e551e4fc3af1157fc3d40c26089e04c32103c0f338e1e1ddd27a427"
    "2228ca60fb298f8b4e22e2ad3d32cdb08ef546e787b8cffc4ceaf91844e51a82"
    "069f2138be5a0db5574b01530fce"
)

_lib = None


def sodium():
    global _lib
    if _lib is None:
        name = ctypes.util.find_library("sodium") or "libsodium.so.23"
        _lib = ctypes.CDLL(name)
        if _lib.sodium_init() < 0:
            raise SystemExit("knockq: sodium_init failed")
    return _lib


def buf(n):
    return ctypes.create_string_buffer(n)


def scalarmult_base(sk):
    out = buf(32)
    sodium().crypto_scalarmult_base(out, sk)
    return out.raw


def ed25519_sign(seed, msg):
    pk, sk, sig = buf(32), buf(64), buf(64)
    sodium().crypto_sign_seed_keypair(pk, sk, seed)
    sodium().crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)),
                                  sk)
    return sig.raw, pk.raw


def seal(msg, pk):
    out = buf(len(msg) + 48)
    if sodium().crypto_box_seal(out, msg, ctypes.c_ulonglong(len(msg)),
                                pk) != 0:
        raise SystemExit("knockq: crypto_box_seal failed")
    return out.raw


def seal_with(msg, pk, esk):
    """crypto_box_seal with a chosen ephemeral key (section 13)."""
    epk = scalarmult_base(esk)
    nonce = hashlib.blake2b(epk + pk, digest_size=24).digest()
    out = buf(len(msg) + 16)
    sodium().crypto_box_easy(out, msg, ctypes.c_ulonglong(len(msg)), nonce,
                             pk, esk)
    return epk + out.raw


def seal_open(sealed, pk, sk):
    out = buf(len(sealed) - 48)
    if sodium().crypto_box_seal_open(out, sealed,
                                     ctypes.c_ulonglong(len(sealed)),
                                     pk, sk) != 0:
        return None
    return out.raw


def tag_key(pk):
    return hashlib.blake2b(TAG_DOMAIN + pk, digest_size=32).digest()


def tag(pk, ts, sealed):
    h = hashlib.blake2b(struct.pack(">Q", ts // BUCKET) + sealed,
                        digest_size=16, key=tag_key(pk))
    return h.digest()


def key_blob(pk):
    return (struct.pack(">I", 11) + b"ssh-ed25519" +
            struct.pack(">I", 32) + pk)


def key_id(pk):
    return hashlib.sha256(key_blob(pk)).digest()


def read_server_pk(arg):
    s = arg
    if os.path.exists(arg):
        with open(arg) as f:
            s = f.readline().strip()
    raw = base64.b64decode(s, validate=True)
    if len(raw) != 32:
        raise SystemExit(f"knockq: {arg}: not a 32-byte key")
    return raw


def read_server_sk(path):
    with open(path) as f:
        sk = base64.b64decode(f.readline().strip(), validate=True)
    if len(sk) != 32:
        raise SystemExit(f"knockq: {path}: not a 32-byte secret key")
    return sk, scalarmult_base(sk)


def ssh_string(data, off):
    (n,) = struct.unpack_from(">I", data, off)
    return data[off + 4:off + 4 + n], off + 4 + n


def read_ed25519_seed(path):
    """The seed of an unencrypted openssh-key-v1 ssh-ed25519 key file."""
    with open(path) as f:
        lines = [ln.strip() for ln in f if not ln.startswith("-----")]
    data = base64.b64decode("".join(lines))
    magic = b"openssh-key-v1\0"
    if not data.startswith(magic):
        raise SystemExit(f"knockq: {path}: not an OpenSSH private key")
    off = len(magic)
    cipher, off = ssh_string(data, off)
    _kdf, off = ssh_string(data, off)
    _kdfopt, off = ssh_string(data, off)
    if cipher != b"none":
        raise SystemExit(f"knockq: {path}: encrypted")
    off += 4                                    # number of keys: 1
    _pub, off = ssh_string(data, off)
    priv, off = ssh_string(data, off)
    p = 8                                       # two check words
    ktype, p = ssh_string(priv, p)
    pk, p = ssh_string(priv, p)
    sk, p = ssh_string(priv, p)
    if ktype != b"ssh-ed25519" or len(sk) != 64 or sk[32:] != pk:
        raise SystemExit(f"knockq: {path}: not an ssh-ed25519 key")
    return sk[:32]


def encode_addr(addr):
    if addr is None:
        return 0, bytes(16)
    a = ipaddress.ip_address(addr)
    if a.version == 4:
        return 4, a.packed + bytes(12)
    return 6, a.packed


def inner_signed(port, ts, nonce, addr, user, kid, version=1, flags=0):
    atype, abytes = encode_addr(addr)
    u = user.encode()
    return (bytes([version, flags]) + struct.pack(">HQ", port, ts) + nonce +
            bytes([atype]) + abytes + bytes([len(u)]) +
            u + bytes(32 - len(u)) + kid)


def build(server_pk, seed, user, port, ts, nonce, addr, esk=None):
    pk = ed25519_sign(seed, b"")[1]
    head = inner_signed(port, ts, nonce, addr, user, key_id(pk))
    assert len(head) == SIGNED_PART
    sig, _ = ed25519_sign(seed, DOMAIN + server_pk + head)
    inner = head + sig
    sealed = seal_with(inner, server_pk, esk) if esk else \
        seal(inner, server_pk)
    return tag(server_pk, ts, sealed) + sealed


def selftest():
    """The example of docs/PROTOCOL.knock section 13, byte for byte."""
    ssk = bytes(range(0x20, 0x40))
    spk = scalarmult_base(ssk)
    assert base64.b64encode(spk) == \
        b"NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=", "server pk"
    seed = bytes(range(0x00, 0x20))
    pk = ed25519_sign(seed, b"")[1]
    assert key_id(pk).hex().startswith("95b9aca00d322047"), "key_id"
    pkt = build(spk, seed, "alice", 22, 1767225600,
                bytes(range(0xa0, 0xb0)), "203.0.113.7",
                esk=bytes(range(0x40, 0x60)))
    assert pkt.hex() == EXAMPLE, "the datagram of section 13"
    inner = seal_open(pkt[16:], spk, ssk)
    assert inner is not None and inner[110:118].hex() == \
        "c50c2f7de2d885f7", "signature"
    print("selftest ok")


def cmd_craft(o):
    spk = read_server_pk(o.S)
    seed = read_ed25519_seed(o.i)
    ts = o.ts if o.ts is not None else int(time.time()) - o.age
    nonce = bytes.fromhex(o.nonce) if o.nonce else os.urandom(16)
    pkt = build(spk, seed, o.u, o.P, ts, nonce, o.a)
    with open(o.o, "wb") as f:
        f.write(pkt)


def cmd_capture(o):
    fam = socket.AF_INET6 if ":" in o.bind else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((o.bind, o.port))
    s.settimeout(o.timeout)
    # Say we are ready only once bound, so the sender cannot be early.
    print("ready", flush=True)
    try:
        data, _ = s.recvfrom(4096)
    except socket.timeout:
        raise SystemExit("knockq: capture: nothing arrived")
    with open(o.out, "wb") as f:
        f.write(data)


def udp_to(host, port):
    info = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    s = socket.socket(info[0], socket.SOCK_DGRAM)
    return s, info[4]


def cmd_send(o):
    s, dst = udp_to(o.host, o.port)
    with open(o.file, "rb") as f:
        s.sendto(f.read(), dst)


def cmd_reseal(o):
    sk, pk = read_server_sk(o.K)
    with open(o.inp, "rb") as f:
        pkt = f.read()
    inner = seal_open(pkt[16:], pk, sk)
    if inner is None:
        raise SystemExit("knockq: reseal: the seal does not open")
    if o.inner_flip is not None:
        b = bytearray(inner)
        b[o.inner_flip // 8] ^= 0x80 >> (o.inner_flip % 8)
        inner = bytes(b)
    (ts,) = struct.unpack_from(">Q", inner, 4)
    sealed = seal(inner, pk)
    with open(o.out, "wb") as f:
        f.write(tag(pk, ts, sealed) + sealed)


def cmd_flip(o):
    with open(o.inp, "rb") as f:
        b = bytearray(f.read())
    b[o.bit // 8] ^= 0x80 >> (o.bit % 8)
    if o.retag:
        # A tag computed over the flipped seal, so the flip reaches the
        # seal check instead of dying at the tag.  The bucket is that of
        # now: the datagram was made a moment ago.
        spk = read_server_pk(o.retag)
        b[:16] = tag(spk, int(time.time()), bytes(b[16:]))
    with open(o.out, "wb") as f:
        f.write(b)


def cmd_sweep(o):
    """Every STEP-th bit of FILE flipped, one datagram each: as is (they
    must die at the tag), then, for the bits after the tag, with the tag
    made again (they must die at the seal).  Prints the two counts."""
    s, dst = udp_to(o.host, o.port)
    spk = read_server_pk(o.retag)
    with open(o.file, "rb") as f:
        orig = f.read()
    n_tag = n_seal = 0
    for bit in range(o.first, len(orig) * 8, o.step):
        b = bytearray(orig)
        b[bit // 8] ^= 0x80 >> (bit % 8)
        s.sendto(bytes(b), dst)
        n_tag += 1
        if bit >= 16 * 8:
            b[:16] = tag(spk, int(time.time()), bytes(b[16:]))
            s.sendto(bytes(b), dst)
            n_seal += 1
        time.sleep(0.002)
    print(json.dumps({"tag": n_tag, "seal": n_seal}))


def cmd_decode(o):
    sk, pk = read_server_sk(o.K)
    with open(o.inp, "rb") as f:
        pkt = f.read()
    inner = seal_open(pkt[16:], pk, sk) if len(pkt) == SIZE else None
    if inner is None:
        raise SystemExit("knockq: decode: not a datagram for this key")
    port, ts = struct.unpack_from(">HQ", inner, 2)
    atype = inner[28]
    raw = inner[29:45]
    addr = {0: None, 4: str(ipaddress.ip_address(raw[:4])),
            6: str(ipaddress.ip_address(raw))}.get(atype, "?")
    ulen = inner[45]
    out = {"version": inner[0], "flags": inner[1], "port": port, "ts": ts,
           "nonce": inner[12:28].hex(), "addr_type": atype, "addr": addr,
           "addr_raw": raw.hex(), "user": inner[46:46 + ulen].decode(),
           "user_pad_zero": not any(inner[46 + ulen:78]),
           "key_id": inner[78:110].hex(),
           "tag_ok": pkt[:16] == tag(pk, ts, pkt[16:])}
    if o.pub:
        # The signature, with the public key of an authorized_keys line.
        with open(o.pub) as f:
            blob = base64.b64decode(f.read().split()[1])
        upk = blob[-32:]
        out["sig_ok"] = (blob == key_blob(upk) and key_id(upk) ==
                         inner[78:110] and sodium().crypto_sign_verify_detached(
                             inner[110:], DOMAIN + pk + inner[:110],
                             ctypes.c_ulonglong(158), upk) == 0)
    print(json.dumps(out, sort_keys=True))


def cmd_garbage(o):
    """N random datagrams of random sizes, a tenth of them exactly 238
    bytes; with --knock, that datagram goes out after the K-th.  Prints
    how many of each kind were sent, as JSON."""
    rnd = random.Random(o.seed)
    s, dst = udp_to(o.host, o.port)
    knock = None
    if o.knock:
        with open(o.knock, "rb") as f:
            knock = f.read()
    n238 = nother = 0
    for i in range(o.n):
        if knock is not None and i == o.at:
            s.sendto(knock, dst)
        r = rnd.random()
        if r < 0.1:
            size = SIZE
        elif r < 0.15:
            size = rnd.choice((0, 1, SIZE - 1, SIZE + 1, 1200, 1201))
        else:
            size = rnd.randrange(0, 1400)
        if size == SIZE:
            n238 += 1
        else:
            nother += 1
        s.sendto(rnd.randbytes(size), dst)
        # Paced so the receive buffer never overflows: the counts in the
        # metrics can then be compared exactly.
        if i % 200 == 199:
            time.sleep(0.004)
    # knockd never answers (PROTOCOL.knock 14.6): nothing may come back
    # to the socket everything was sent from.
    replies = 0
    s.settimeout(o.listen)
    try:
        while o.listen > 0:
            s.recvfrom(4096)
            replies += 1
    except (socket.timeout, TimeoutError, ConnectionRefusedError):
        pass
    print(json.dumps({"size238": n238, "other": nother,
                      "replies": replies}))


def cmd_syn(o):
    info = socket.getaddrinfo(o.host, o.port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(info[0], socket.SOCK_STREAM)
    s.settimeout(o.timeout)
    try:
        s.connect(info[4])
        print("open")
        return 0
    except ConnectionRefusedError:
        print("refused")
        return 0
    except (socket.timeout, TimeoutError):
        print("silent")
        return 1
    finally:
        s.close()


def cmd_metric(o):
    """The value of one series in a Prometheus text file, 0 if absent."""
    try:
        with open(o.file) as f:
            for line in f:
                if line.startswith("#"):
                    continue
                name, _, val = line.rstrip("\n").rpartition(" ")
                if name.replace(" ", "") == o.name.replace(" ", ""):
                    print(int(float(val)))
                    return 0
    except FileNotFoundError:
        pass
    print(0)
    return 0


# Each command's arguments: (name, type or None for a string, default or
# REQUIRED); names starting with "-" are options.
REQUIRED = object()
ARGS = {
    "selftest": [],
    "craft": [("-S", None, REQUIRED), ("-i", None, REQUIRED),
              ("-u", None, REQUIRED), ("-P", int, 22), ("-a", None, None),
              ("--age", int, 0), ("--ts", int, None), ("--nonce", None, None),
              ("-o", None, REQUIRED)],
    "capture": [("port", int, REQUIRED), ("out", None, REQUIRED),
                ("--timeout", float, 10), ("--bind", None, "127.0.0.1")],
    "send": [("host", None, REQUIRED), ("port", int, REQUIRED),
             ("file", None, REQUIRED)],
    "reseal": [("-K", None, REQUIRED), ("inp", None, REQUIRED),
               ("out", None, REQUIRED), ("--inner-flip", int, None)],
    "flip": [("inp", None, REQUIRED), ("out", None, REQUIRED),
             ("bit", int, REQUIRED), ("--retag", None, None)],
    "decode": [("-K", None, REQUIRED), ("inp", None, REQUIRED),
               ("--pub", None, None)],
    "garbage": [("host", None, REQUIRED), ("port", int, REQUIRED),
                ("n", int, REQUIRED), ("--seed", int, 5),
                ("--knock", None, None), ("--at", int, 0),
                ("--listen", float, 0)],
    "sweep": [("host", None, REQUIRED), ("port", int, REQUIRED),
              ("file", None, REQUIRED), ("--retag", None, REQUIRED),
              ("--step", int, 13), ("--first", int, 0)],
    "syn": [("host", None, REQUIRED), ("port", int, REQUIRED),
            ("--timeout", float, 2)],
    "metric": [("file", None, REQUIRED), ("name", None, REQUIRED)],
}


def main(argv):
    p = argparse.ArgumentParser(prog="knockq.py")
    sub = p.add_subparsers(dest="cmd", required=True)
    for cmd, args in ARGS.items():
        c = sub.add_parser(cmd)
        for name, typ, default in args:
            kw = {"type": typ} if typ else {}
            if not name.startswith("-"):
                c.add_argument(name, **kw)
            elif default is REQUIRED:
                c.add_argument(name, required=True, **kw)
            else:
                c.add_argument(name, default=default, **kw)
    o = p.parse_args(argv[1:])
    if o.cmd == "selftest":
        selftest()
        return 0
    return {"craft": cmd_craft, "capture": cmd_capture, "send": cmd_send,
            "reseal": cmd_reseal, "flip": cmd_flip, "decode": cmd_decode,
            "garbage": cmd_garbage, "sweep": cmd_sweep, "syn": cmd_syn,
            "metric": cmd_metric}[o.cmd](o) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
