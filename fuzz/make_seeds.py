#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/seed-*.

Provenance: every seed is built here from RFC 6455 examples (§1.2, §5.7) and the shapes the
hostile-server tests use; rerun this script to regenerate them. Files named crash-* or
regress-* in the corpus are regression inputs found by fuzzing and are kept as they are.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def frame(op, payload=b"", fin=True, rsv=0, mask=None, enc=None, length=None):
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    m = 0x80 if mask else 0
    if enc is None:
        enc = 7 if n < 126 else 16 if n < 65536 else 64
    if enc == 7:
        head = bytes([b0, m | n])
    elif enc == 16:
        head = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if mask:
        head += mask
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
    return head + payload


# wire_decoder: [limit selector, number of chunk sizes, sizes..., stream]
def decoder(name, stream, limit=3, sizes=b"\x01\x03\x07"):
    write("wire_decoder", name, bytes([limit, len(sizes)]) + sizes + stream)


decoder("rfc-5-7-hello", frame(1, b"Hello"))
decoder("rfc-5-7-masked", frame(1, b"Hello", mask=b"\x37\xfa\x21\x3d"))
decoder("rfc-5-7-fragments", frame(1, b"Hel", fin=False) + frame(0, b"lo"))
decoder("rfc-5-7-ping-pong", frame(9, b"Hello") + frame(10, b"Hello", mask=b"\x37\xfa\x21\x3d"))
decoder("len16", frame(2, b"\xfe" * 256))
decoder("len64", frame(2, b"\x01" * 300, enc=64), limit=2)
decoder("non-minimal", frame(1, b"hi", enc=16) + frame(1, b"hi", enc=64))
decoder("msb-set", bytes([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]) + b"xyz", limit=1)
decoder("oversized", frame(2, b"a" * 200, enc=16) + frame(1, b"after"), limit=1)
decoder("close", frame(8, struct.pack(">H", 1000) + b"bye") + frame(8, b"\x03"))
decoder("control-too-long", frame(9, b"p" * 126))
decoder("reserved", frame(3, b"r", rsv=7) + frame(11, b""))
decoder("bad-utf8", frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"))
decoder("utf8-split", frame(1, "κόσμε".encode(), fin=False) + frame(0, "ü€𝄞".encode()))

# handshake: [limit selector, head...]
REQ = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
       b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       b"Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n"
       b"Sec-WebSocket-Version: 13\r\n\r\n")
RESP = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n")
write("handshake", "rfc-1-2-request", b"\x02" + REQ)
write("handshake", "rfc-1-2-response", b"\x02" + RESP)
write("handshake", "response-deflate", b"\x01" + RESP.replace(
    b"\r\n\r\n", b"\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10, x\r\n\r\n"))
write("handshake", "response-426", b"\x02HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13, 8\r\n"
      b"Content-Length: 0\r\n\r\n")
write("handshake", "response-then-frames", b"\x02" + RESP + frame(1, b"early"))
write("handshake", "response-then-http", b"\x02" + RESP + b"HTTP/1.1 200 OK\r\n\r\n")
write("handshake", "folded-header", b"\x02HTTP/1.1 101 x\r\nUpgrade: websocket\r\n  folded\r\n\r\n")
write("handshake", "endless-headers", b"\x01HTTP/1.1 101 x\r\n" + b"X-a: b\r\n" * 140)
write("handshake", "ansi-header", b"\x02" + RESP.replace(b"\r\n\r\n", b"\r\nX-Evil: \xc2\x9b2J\x1b]0;x\x07\r\n\r\n"))
write("handshake", "http10-request", b"\x02" + REQ.replace(b"HTTP/1.1", b"HTTP/1.0"))

# suite_loader: YAML text
write("suite_loader", "minimal", b"""suite: s
title: a suite
cases:
  - id: echo
    title: echo
    spec: RFC 6455 \xc2\xa75.6
    steps:
      - connect: {}
      - send: { text: hello }
      - expect: { message: { text: hello } }
""")
write("suite_loader", "template", b"""version: 1
suite: t
title: templates
defaults: { timeout: 2s }
cases:
  - id: "len-{n}"
    title: "length {n}"
    spec: RFC 6455 \xc2\xa75.2
    params: [ { n: 0 }, { n: 125 }, { n: 126 } ]
    steps:
      - connect: {}
      - send: { binary: { repeat_hex: "fe", len: "{n}" }, chop: 1 }
      - expect: [ { message: { binary: { repeat_hex: "fe", len: "{n}" } } }, { close: 1009, verdict: non-strict } ]
""")
write("suite_loader", "errors", b"""suite: Bad Id
title: 3
cases:
  - id: x
    titel: typo
    steps: [ { sned: { text: a } }, { expect: { message: { text: [1, 2] } } } ]
""")
write("suite_loader", "alias-bomb", b"""a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
""")
write("suite_loader", "deep-nesting", b"a: " + b"[" * 300 + b"]" * 300 + b"\n")
write("suite_loader", "tabs-and-unicode", b"suite: s\ntitle: \"\\u001b[2J\"\ncases:\n\t- id: x\n")

# capture: the capture file itself. Ethernet/IPv4/TCP packets of one connection (client
# 10.0.0.1:50000, server 10.0.0.2:80): the three-way handshake, the RFC 6455 §1.2 opening
# handshake, a masked text frame and an unmasked one, a close each way, FIN.
def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes(src), bytes(dst))
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + tcp


def ws_conversation(frames_c2s=None, frames_s2c=None):
    c, s = [10, 0, 0, 1], [10, 0, 0, 2]
    cseq, sseq = 1000, 5000
    out = [tcp_packet(c, s, 50000, 80, cseq, 0, 0x02),
           tcp_packet(s, c, 80, 50000, sseq, cseq + 1, 0x12)]
    cseq += 1
    sseq += 1
    out.append(tcp_packet(c, s, 50000, 80, cseq, sseq, 0x10))
    talk = [(True, REQ), (False, RESP)]
    for f in frames_c2s or [frame(1, b"Hello", mask=b"\x37\xfa\x21\x3d")]:
        talk.append((True, f))
    for f in frames_s2c or [frame(1, b"Hello")]:
        talk.append((False, f))
    talk += [(True, frame(8, struct.pack(">H", 1000), mask=b"\x01\x02\x03\x04")),
             (False, frame(8, struct.pack(">H", 1000)))]
    for c2s, data in talk:
        if c2s:
            out.append(tcp_packet(c, s, 50000, 80, cseq, sseq, 0x18, data))
            cseq += len(data)
        else:
            out.append(tcp_packet(s, c, 80, 50000, sseq, cseq, 0x18, data))
            sseq += len(data)
    out.append(tcp_packet(s, c, 80, 50000, sseq, cseq, 0x11))
    out.append(tcp_packet(c, s, 50000, 80, cseq, sseq + 1, 0x11))
    return out


def pcap(packets, nanos=False, big=False):
    e = ">" if big else "<"
    magic = 0xa1b23c4d if nanos else 0xa1b2c3d4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(packets):
        out += struct.pack(e + "IIII", 1700000000, i * 1000, len(p), len(p)) + p
    return out


def pcapng(packets):
    def block(kind, body):
        body += b"\0" * (-len(body) % 4)
        total = 12 + len(body)
        return struct.pack("<II", kind, total) + body + struct.pack("<I", total)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", 1, 0, 0) + bytes([9, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0]))
    for i, p in enumerate(packets):
        ts = 1700000000 * 1000000 + i * 1000
        out += block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(p), len(p)) + p)
    return out


conv = ws_conversation()
write("capture", "ws-hello.pcap", pcap(conv))
write("capture", "ws-hello-nanos-be.pcap", pcap(conv, nanos=True, big=True))
write("capture", "ws-hello.pcapng", pcapng(conv))
write("capture", "truncated-mid-record.pcap", pcap(conv)[:-30])
write("capture", "header-only.pcap", pcap([]))
write("capture", "bad-magic.pcap", b"\xde\xad\xbe\xef" + pcap(conv)[4:])
ng = pcapng(conv)
write("capture", "bad-block-length.pcapng", ng[:28] + struct.pack("<I", 0xFFFFFFF0) + ng[32:])
write("capture", "ws-fragments-deflate.pcap", pcap(ws_conversation(
    [frame(1, b"Hel", fin=False, mask=b"\x00\x00\x00\x00"), frame(9, b"p", mask=b"\x01\x01\x01\x01"),
     frame(0, b"lo", mask=b"\x00\x00\x00\x00")],
    [frame(1, b"\xf2\x48\xcd\xc9\xc9\x07\x00", rsv=4), frame(2, b"x" * 300), frame(3, b"", rsv=2)])))
write("capture", "ws-absurd-length.pcap", pcap(ws_conversation(
    None, [bytes([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]) + b"xyz"])))
write("capture", "ws-ansi.pcap", pcap(ws_conversation(
    None, [frame(1, b"\x1b]0;pwned\x07\x1b[2J\xc2\x9b2J")])))
