#!/usr/bin/env python3
"""Writes a synthetic pcap (Ethernet, IPv4, TCP) of many TLS connections for the pcap benchmark.

Each connection: SYN, SYN/ACK, ACK, a ClientHello (built here, seeded: varied cipher suites,
extensions, GREASE, SNI, ALPN, groups, a hello split over two segments now and then), then
DATA_PACKETS server segments of opaque TLS application data and the FINs - so the reader has
ordinary traffic to wade through, not only hellos. Stdlib only; deterministic for a seed.

usage: make-hello-capture.py --connections N [--data-packets K] [--seed S] OUT.pcap
"""

import argparse
import random
import struct

GREASE = [0x0A0A + 0x1010 * i for i in range(16)]
CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013,
           0xC014, 0x009C, 0x009D, 0x002F, 0x0035, 0xC009, 0xC00A, 0x00FF]
GROUPS = [0x001D, 0x0017, 0x0018, 0x0019, 0x0100, 0x11EC]
SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0203, 0x0201]


def u16(v):
    return struct.pack("!H", v)


def vec8(b):
    return bytes([len(b)]) + b


def vec16(b):
    return u16(len(b)) + b


def ext(typ, body):
    return u16(typ) + vec16(body)


def client_hello(rng, i):
    grease = rng.random() < 0.5
    ciphers = rng.sample(CIPHERS, rng.randint(3, len(CIPHERS)))
    if grease:
        ciphers.insert(0, rng.choice(GREASE))
    groups = rng.sample(GROUPS[:4], rng.randint(1, 4))
    if grease:
        groups.insert(0, rng.choice(GREASE))
    exts = []
    if rng.random() < 0.9:
        name = f"host{i % 997}.example".encode()
        exts.append(ext(0x0000, vec16(b"\x00" + vec16(name))))
    exts.append(ext(0x000A, vec16(b"".join(u16(g) for g in groups))))
    exts.append(ext(0x000B, vec8(bytes(rng.sample([0, 1, 2], rng.randint(1, 3))))))
    exts.append(ext(0x000D, vec16(b"".join(u16(s) for s in rng.sample(SIGALGS, rng.randint(2, 10))))))
    if rng.random() < 0.8:
        protos = rng.choice([[b"h2", b"http/1.1"], [b"http/1.1"], [b"h2"]])
        exts.append(ext(0x0010, vec16(b"".join(vec8(p) for p in protos))))
    exts.append(ext(0x0017, b""))
    if rng.random() < 0.7:
        exts.append(ext(0x002B, vec8(b"".join(u16(v) for v in [0x0304, 0x0303]))))
        share = u16(0x001D) + vec16(bytes(rng.getrandbits(8) for _ in range(32)))
        if rng.random() < 0.2:
            # A post-quantum-sized share: the hello needs more than one segment.
            share += u16(0x11EC) + vec16(bytes(1216))
        exts.append(ext(0x0033, vec16(share)))
    exts.append(ext(0xFF01, b"\x00"))
    if grease:
        exts.insert(0, ext(rng.choice(GREASE), b""))
    middle = exts[1:-1]
    rng.shuffle(middle)
    exts = exts[:1] + middle + exts[-1:]
    body = (u16(0x0303) + bytes(rng.getrandbits(8) for _ in range(32)) + vec8(bytes(32))
            + vec16(b"".join(u16(c) for c in ciphers)) + vec8(b"\x00") + vec16(b"".join(exts)))
    msg = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + vec16(msg)


def checksum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    total = 20 + len(tcp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + u16(checksum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=20000)
    ap.add_argument("--data-packets", type=int, default=6)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("out")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
    t = 1_700_000_000.0
    data = b"\x17\x03\x03" + u16(1395) + bytes(rng.getrandbits(8) for _ in range(1395))
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

        def put(pkt):
            nonlocal t
            t += 0.00001
            sec = int(t)
            f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(pkt), len(pkt)) + pkt)

        for i in range(a.connections):
            cli = bytes([10, 1 + (i >> 16) % 250, (i >> 8) & 0xFF, i & 0xFF or 1])
            srv = bytes([10, 0, 0, 1])
            sport, dport = 1024 + i % 60000, 443
            cs, ss = rng.getrandbits(32), rng.getrandbits(32)
            put(frame(cli, srv, sport, dport, cs, 0, SYN, b""))
            put(frame(srv, cli, dport, sport, ss, cs + 1, SYN | ACK, b""))
            put(frame(cli, srv, sport, dport, cs + 1, ss + 1, ACK, b""))
            hello = client_hello(rng, i)
            seq = cs + 1
            parts = [hello] if len(hello) <= 1400 else [hello[:1400], hello[1400:]]
            for p in parts:
                put(frame(cli, srv, sport, dport, seq & 0xFFFFFFFF, ss + 1, PSH | ACK, p))
                seq += len(p)
            sseq = ss + 1
            for _ in range(a.data_packets):
                put(frame(srv, cli, dport, sport, sseq & 0xFFFFFFFF, seq & 0xFFFFFFFF, PSH | ACK, data))
                sseq += len(data)
            put(frame(cli, srv, sport, dport, seq & 0xFFFFFFFF, sseq & 0xFFFFFFFF, FIN | ACK, b""))
            put(frame(srv, cli, dport, sport, sseq & 0xFFFFFFFF, (seq + 1) & 0xFFFFFFFF, FIN | ACK, b""))


if __name__ == "__main__":
    main()
