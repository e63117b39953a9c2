#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/ (gitignored).

Seeds come from real captures (shared/, never committed) plus hand-built frames: IPv4/IPv6
fragments (in order, reversed, overlapping, conflicting), a TCP handshake with HTTP, VLAN/QinQ,
ICMP errors quoting TCP, and pcap/pcapng variants for the capture reader.

Usage: python3 fuzz/scripts/mkseeds.py [--shared /work/shared]
"""
import argparse
import glob
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.path.dirname(HERE), "corpus")

# decode target: selector byte = index in this list.
DECODE_LINKS = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]
# engine target: config byte low nibble = index in this list (first match).
ENGINE_LINKS = [1, 1, 1, 1, 1, 1, 1, 1, 101, 101, 113, 276, 0, 108, 228, 229]
MAX_ENGINE_SEED = 16 * 1024


def write(target, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- reading captures


def read_pcap(path):
    """(link_type, [(ts_seconds_float, frame)]) of a classic pcap, or None."""
    b = open(path, "rb").read()
    if len(b) < 24:
        return None
    magic = b[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None
    nanos = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    lt = struct.unpack(e + "I", b[20:24])[0] & 0x0FFFFFFF
    off, out = 24, []
    while off + 16 <= len(b):
        s, frac, incl, _orig = struct.unpack(e + "IIII", b[off : off + 16])
        off += 16
        if off + incl > len(b):
            break
        out.append((s + frac / (1e9 if nanos else 1e6), b[off : off + incl]))
        off += incl
    return lt, out


def engine_seed(conf, packets):
    """Config byte then [dt_ms, len_hi, len_lo, frame] records, capped in size."""
    out = bytearray([conf])
    prev = packets[0][0] if packets else 0
    for ts, frame in packets:
        dt_ms = int(round((ts - prev) * 1000))
        prev = ts
        if dt_ms < 0:
            dt = 0xFE
        elif dt_ms < 0xF0:
            dt = dt_ms
        else:
            dt = min(0xEF + max(1, dt_ms // 30000), 0xFD)
        frame = frame[:0xFFFF]
        rec = bytes([dt]) + struct.pack(">H", len(frame)) + frame
        if len(out) + len(rec) > MAX_ENGINE_SEED and len(out) > 1:
            break
        out += rec
    return bytes(out)


def engine_conf(link_type, extra=0):
    if link_type not in ENGINE_LINKS:
        return None
    return ENGINE_LINKS.index(link_type) | extra


def flow_key(frame):
    """A direction-independent key for an Ethernet frame's IP flow, or None."""
    et = frame[12:14]
    if et == b"\x08\x00" and len(frame) >= 34:
        ihl = (frame[14] & 15) * 4
        proto = frame[23]
        a, b = frame[26:30], frame[30:34]
        ports = frame[14 + ihl : 14 + ihl + 4] if proto in (6, 17) else b""
    elif et == b"\x86\xdd" and len(frame) >= 54:
        proto = frame[20]
        a, b = frame[22:38], frame[38:54]
        ports = frame[54:58] if proto in (6, 17) else b""
    else:
        return None
    sp, dp = ports[:2], ports[2:]
    return (proto,) + tuple(sorted([(a, sp), (b, dp)]))


# ---------------------------------------------------------------- building frames


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


MAC_A = bytes.fromhex("020000000001")
MAC_B = bytes.fromhex("020000000002")
V4_C, V4_S = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
V6_C = bytes.fromhex("20010db8000000000000000000000001")
V6_S = bytes.fromhex("20010db8000000000000000000000002")


def eth(payload, et=0x0800, vlans=(), src=MAC_A, dst=MAC_B):
    hdr = dst + src
    for tpid, vid in vlans:
        hdr += struct.pack("!HH", tpid, vid)
    return hdr + struct.pack("!H", et) + payload


def ipv4(proto, payload, src=V4_C, dst=V4_S, ident=1, mf=False, frag_off=0, ttl=64, opts=b""):
    ihl = 5 + len(opts) // 4
    flags = (0x2000 if mf else 0) | (frag_off // 8)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), ident, flags, ttl,
                    proto, 0, src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(nh, payload, src=V6_C, dst=V6_S):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


def pseudo4(src, dst, proto, n):
    return struct.pack("!4s4sBBH", src, dst, 0, proto, n)


def pseudo6(src, dst, proto, n):
    return struct.pack("!16s16sIxxxB", src, dst, n, proto)


def l4_with_csum(seg, at, pseudo):
    c = csum(pseudo + seg)
    return seg[:at] + struct.pack("!H", c) + seg[at + 2 :]


def udp(sp, dp, payload, pseudo_fn, src, dst):
    seg = struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    return l4_with_csum(seg, 6, pseudo_fn(src, dst, 17, len(seg)))


def tcp(sp, dp, seq, ack, flags, payload=b"", opts=b"", pseudo_fn=pseudo4, src=V4_C, dst=V4_S):
    off = 5 + len(opts) // 4
    seg = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, off << 4, flags, 65535, 0, 0) + opts + payload
    return l4_with_csum(seg, 16, pseudo_fn(src, dst, 6, len(seg)))


def dns_query(name=b"example.com", qid=0x1234):
    q = b"".join(bytes([len(p)]) + p for p in name.split(b".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", 1, 1)


def frag4(proto, payload, chunks, ident=0x4242):
    """IPv4 fragments of `payload` cut at the given (offset, length) pieces (offsets % 8 == 0)."""
    out = []
    for off, n in chunks:
        more = off + n < len(payload)
        out.append(eth(ipv4(proto, payload[off : off + n], ident=ident, mf=more, frag_off=off)))
    return out


def frag6(nh, payload, chunks, ident=0x01020304):
    out = []
    for off, n in chunks:
        more = off + n < len(payload)
        fh = struct.pack("!BBHI", nh, 0, (off & ~7) | (1 if more else 0), ident)
        out.append(eth(ipv6(44, fh + payload[off : off + n]), et=0x86DD))
    return out


def crafted_sequences():
    """Lists of Ethernet frames exercising defrag, TCP state and app layers."""
    seqs = []
    dnsq = udp(40000, 53, dns_query() + b"\0" * 40, pseudo4, V4_C, V4_S)
    pieces = [(0, 24), (24, 24), (48, len(dnsq) - 48)]
    f = frag4(17, dnsq, pieces)
    seqs += [f, f[::-1], [f[0], f[0], f[1], f[2]], [f[1], f[2]]]
    # Overlap with identical and with conflicting bytes.
    ov = frag4(17, dnsq, [(0, 32), (16, len(dnsq) - 16)])
    bad = bytearray(ov[1])
    bad[-1] ^= 0xFF
    seqs += [ov, [ov[0], bytes(bad)]]
    # A TCP segment in fragments.
    seg = tcp(40001, 80, 1000, 0, 0x02, opts=b"\x02\x04\x05\xb4\x01\x03\x03\x07")
    seqs.append(frag4(6, seg, [(0, 8), (8, len(seg) - 8)]))
    # IPv6 fragments (UDP and ICMPv6 echo).
    dns6 = udp(40002, 53, dns_query(b"v6.example.org") + b"\0" * 32, pseudo6, V6_C, V6_S)
    f6 = frag6(17, dns6, [(0, 16), (16, 32), (48, len(dns6) - 48)])
    seqs += [f6, f6[::-1]]
    echo = struct.pack("!BBHHH", 128, 0, 0, 7, 1) + b"x" * 64
    echo = l4_with_csum(echo, 2, pseudo6(V6_C, V6_S, 58, len(echo)))
    seqs.append(frag6(58, echo, [(0, 40), (40, len(echo) - 40)], ident=9))
    # TCP handshake, HTTP request/response, FIN close (IPv4 and IPv6, plain and VLAN).
    for v6 in (False, True):
        for vlans in ((), ((0x8100, 100),), ((0x88A8, 10), (0x8100, 20))):
            seqs.append(tcp_session(v6, vlans))
    # ICMP destination unreachable quoting a TCP SYN.
    syn = ipv4(6, tcp(40003, 443, 5, 0, 0x02))
    icmp = struct.pack("!BBHI", 3, 3, 0, 0) + syn[:28]
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    seqs.append([eth(syn), eth(ipv4(1, icmp, src=V4_S, dst=V4_C))])
    # IPv4 options and IPv6 extension headers.
    seqs.append([eth(ipv4(17, udp(1, 2, b"hi", pseudo4, V4_C, V4_S), opts=b"\x94\x04\0\0"))])
    hbh = struct.pack("!BB", 17, 0) + b"\x01\x04\0\0\0\0"
    seqs.append([eth(ipv6(0, hbh + udp(1, 2, b"hi", pseudo6, V6_C, V6_S)), et=0x86DD)])
    return seqs


def tcp_session(v6, vlans):
    src, dst = (V6_C, V6_S) if v6 else (V4_C, V4_S)
    pf = pseudo6 if v6 else pseudo4
    ip = (lambda p, s, d: ipv6(6, p, s, d)) if v6 else (lambda p, s, d: ipv4(6, p, s, d))
    et = 0x86DD if v6 else 0x0800
    req = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\n\r\n"
    rsp = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"

    def c2s(seq, ack, fl, pl=b""):
        return eth(ip(tcp(40100, 80, seq, ack, fl, pl, pseudo_fn=pf, src=src, dst=dst), src, dst),
                   et, vlans)

    def s2c(seq, ack, fl, pl=b""):
        return eth(ip(tcp(80, 40100, seq, ack, fl, pl, pseudo_fn=pf, src=dst, dst=src), dst, src),
                   et, vlans, src=MAC_B, dst=MAC_A)

    c, s = 1000, 5000
    return [
        c2s(c, 0, 0x02),
        s2c(s, c + 1, 0x12),
        c2s(c + 1, s + 1, 0x10),
        c2s(c + 1, s + 1, 0x18, req),
        s2c(s + 1, c + 1 + len(req), 0x18, rsp),
        c2s(c + 1 + len(req), s + 1 + len(rsp), 0x11),
        s2c(s + 1 + len(rsp), c + 2 + len(req), 0x11),
        c2s(c + 2 + len(req), s + 2 + len(rsp), 0x10),
    ]


# ---------------------------------------------------------------- capture files


def pcap_file(link, frames, be=False, nanos=False, snap=65535):
    e = ">" if be else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, snap, link)
    for i, fr in enumerate(frames):
        out += struct.pack(e + "IIII", 1_700_000_000 + i, 1000 * i, len(fr), len(fr)) + fr
    return out


def ng_block(e, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + "II", btype, n) + body + struct.pack(e + "I", n)


def ng_opts(e, opts):
    out = b""
    for code, val in opts:
        out += struct.pack(e + "HH", code, len(val)) + val + b"\0" * (-len(val) % 4)
    return out + (struct.pack(e + "HH", 0, 0) if opts else b"")


def pcapng_file(frames, be=False, link=1, tsresol=None):
    e = ">" if be else "<"
    out = ng_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)
                   + ng_opts(e, [(4, b"fuzz")]))
    opts = [(9, bytes([tsresol]))] if tsresol is not None else []
    out += ng_block(e, 1, struct.pack(e + "HHI", link, 0, 65535) + ng_opts(e, opts))
    out += ng_block(e, 1, struct.pack(e + "HHI", 101, 0, 0))
    for i, fr in enumerate(frames):
        ts = (1_700_000_000 + i) * 1_000_000
        body = struct.pack(e + "IIIII", i % 2 if i % 3 == 0 else 0, ts >> 32, ts & 0xFFFFFFFF,
                           len(fr), len(fr)) + fr + b"\0" * (-len(fr) % 4)
        out += ng_block(e, 6, body + ng_opts(e, [(1, b"comment")] if i == 1 else []))
    if frames:
        out += ng_block(e, 3, struct.pack(e + "I", len(frames[0])) + frames[0])  # SPB
        out += ng_block(e, 5, struct.pack(e + "III", 0, 0, 0))  # ISB
        out += ng_block(e, 4, struct.pack(e + "HH", 1, 8) + bytes([10, 0, 0, 1]) + b"a.b\0"
                        + struct.pack(e + "HH", 0, 0))  # NRB
    return out


def truncated_ng(path, blocks):
    """The first `blocks` blocks of a pcapng file."""
    b = open(path, "rb").read()
    e = "<" if b[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    off = 0
    for _ in range(blocks):
        if off + 8 > len(b):
            break
        n = struct.unpack(e + "I", b[off + 4 : off + 8])[0]
        if n < 12 or off + n > len(b) or off + n > 65536:
            break
        off += n
    return b[:off]


# ---------------------------------------------------------------- app-layer targets
#
# http / dns / tls input: config byte, then records [tag, len_hi, len_lo, bytes] with tag
# bit 0 = direction (1 = to client), bit 1 = gap of len bytes (fuzz_targets/common.rs).

MAX_APP_SEED = 16 * 1024


def l4_fields(frame):
    """(proto, src, sport, dst, dport, seq, flags, payload) of an Ethernet frame, or None."""
    off, et = 12, frame[12:14]
    while et in (b"\x81\x00", b"\x88\xa8") and len(frame) >= off + 6:
        off += 4
        et = frame[off : off + 2]
    ip = off + 2
    if et == b"\x08\x00" and len(frame) >= ip + 20:
        ihl = (frame[ip] & 15) * 4
        if struct.unpack("!H", frame[ip + 6 : ip + 8])[0] & 0x3FFF:
            return None  # fragment
        proto, tot = frame[ip + 9], struct.unpack("!H", frame[ip + 2 : ip + 4])[0]
        src, dst, l4, end = frame[ip + 12 : ip + 16], frame[ip + 16 : ip + 20], ip + ihl, ip + tot
    elif et == b"\x86\xdd" and len(frame) >= ip + 40:
        proto, src, dst = frame[ip + 6], frame[ip + 8 : ip + 24], frame[ip + 24 : ip + 40]
        l4 = ip + 40
        end = l4 + struct.unpack("!H", frame[ip + 4 : ip + 6])[0]
    else:
        return None
    if proto == 6 and len(frame) >= l4 + 20:
        sp, dp, seq, _ack, doff, fl = struct.unpack("!HHIIBB", frame[l4 : l4 + 14])
        return proto, src, sp, dst, dp, seq, fl, frame[l4 + (doff >> 4) * 4 : end]
    if proto == 17 and len(frame) >= l4 + 8:
        sp, dp = struct.unpack("!HH", frame[l4 : l4 + 4])
        return proto, src, sp, dst, dp, 0, 0, frame[l4 + 8 : end]
    return None


def app_flows(pkts, proto, ports):
    """{key: [(to_client, seq, flags, payload)]} for flows of `proto` with a server port in
    `ports`, in capture order."""
    flows = {}
    for _, fr in pkts:
        r = l4_fields(fr)
        if r is None or r[0] != proto:
            continue
        _, src, sp, dst, dp, seq, fl, pl = r
        if dp in ports:
            key, to_client = (src, sp, dst, dp), False
        elif sp in ports:
            key, to_client = (dst, dp, src, sp), True
        else:
            continue
        flows.setdefault(key, []).append((to_client, seq, fl, pl))
    return flows


def app_record(to_client, data=b"", gap=0):
    if gap:
        return bytes([int(to_client) | 2]) + struct.pack(">H", min(gap, 0xFFFF))
    return bytes([int(to_client)]) + struct.pack(">H", len(data)) + data


def app_seed(conf, records):
    out = bytearray([conf])
    for r in records:
        if len(out) + len(r) > MAX_APP_SEED and len(out) > 1:
            break
        out += r
    return bytes(out)


def tcp_records(segs):
    """In-order payload records of a TCP flow: retransmissions dropped, holes as gaps."""
    nxt, out = [None, None], []
    for to_client, seq, fl, pl in segs:
        d = int(to_client)
        if fl & 0x02:  # SYN
            nxt[d] = (seq + 1) & 0xFFFFFFFF
            continue
        if not pl:
            continue
        if nxt[d] is None:
            nxt[d] = seq
        off = (seq - nxt[d]) & 0xFFFFFFFF
        if off >= 1 << 31:  # starts with bytes already seen
            skip = (1 << 32) - off
            if skip >= len(pl):
                continue
            pl, seq, off = pl[skip:], nxt[d], 0
        if off:
            out.append(app_record(to_client, gap=off))
        out.append(app_record(to_client, pl))
        nxt[d] = (seq + len(pl)) & 0xFFFFFFFF
    return out


def shape_http(recs):
    """A coarse key (request methods, header names, status codes) to pick distinct flows."""
    blob = b"".join(r[3:] for r in recs)
    heads = [line.split(b":")[0].lower() for line in blob.split(b"\r\n") if b":" in line[:40]]
    first = [line.split(b" ")[0] for line in blob.split(b"\r\n")
             if line.startswith((b"HTTP/", b"GET", b"POST", b"HEAD", b"PUT", b"CONNECT"))]
    return (tuple(sorted(set(heads))), tuple(sorted(set(first))))


def crafted_http():
    import gzip
    import zlib
    body = b"hello " * 40
    gz = gzip.compress(body, mtime=0)
    dfl = zlib.compress(body)
    req = lambda s: app_record(False, s)
    rsp = lambda s: app_record(True, s)
    return [
        [req(b"GET /a%2fb/../c?x=1&y=%41 HTTP/1.1\r\nHost: Example.COM:8080\r\nCookie: a=b\r\n\r\n"),
         rsp(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: s=1\r\n\r\nhello")],
        [req(b"POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"),
         rsp(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nq\r\n0\r\n\r\n")],
        [req(b"GET /gz HTTP/1.1\r\nHost: h\r\n\r\n"),
         rsp(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(gz) + gz)],
        [req(b"POST /d HTTP/1.1\r\nHost: h\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n" % len(dfl) + dfl),
         rsp(b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html; charset=x\r\nLocation: /x\r\n\r\nuntil close")],
        [req(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01\x00\x05hello"),
         rsp(b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x02ok")],
        [req(b"GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
         rsp(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello")],
        [req(b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /3 HTTP/1.1\r\n\r\n"),
         rsp(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")],
        [req(b"GET /09\r\n"), rsp(b"<html>simple response</html>")],
        [req(b"GET /fold HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n  continued\r\nNoColon\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab"),
         app_record(False, gap=5),
         req(b"GET /after-gap HTTP/1.1\r\nHost: h\r\n\r\n"),
         rsp(b"HTTP/1.1 200 OK\r\nContent-Range: bytes 0-9/100\r\nContent-Length: 10\r\n\r\n01234"),
         app_record(True, gap=5)],
        [req(b"GET http://user@host.example:81/abs?q HTTP/1.1\r\nHost: other\r\nUser-Agent: ua\r\nReferer: r\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n"),
         rsp(b"HTTP/1.1 301 Moved\r\nLocation: /new\r\nServer: s\r\nContent-Length: 0\r\n\r\n")],
    ]


def dns_qtype(msg):
    """The first question's type, or None."""
    i = 12
    while i < len(msg) and 0 < msg[i] < 64:
        i += 1 + msg[i]
    return msg[i + 1 : i + 3] if i < len(msg) and msg[i] == 0 else None


def dns_tcp(msg):
    return struct.pack(">H", len(msg)) + msg


def crafted_dns():
    """Raw DNS messages: a response with several record types, compression, a pointer loop."""
    q = dns_query(b"www.example.com", 7)
    hdr = struct.pack("!HHHHHH", 7, 0x8180, 1, 6, 1, 1)
    qd = q[12:]
    ptr = b"\xc0\x0c"
    rr = lambda t, rd: ptr + struct.pack("!HHIH", t, 1, 300, len(rd)) + rd
    ans = (rr(1, bytes([93, 184, 216, 34])) + rr(28, bytes(16)) + rr(5, b"\x03cdn\xc0\x10")
           + rr(15, b"\x00\x0a\x02mx\xc0\x10") + rr(16, b"\x05hello\x05world")
           + rr(33, struct.pack("!HHH", 1, 2, 443) + b"\x03srv\xc0\x10"))
    auth = rr(6, b"\x02ns\xc0\x10\x05admin\xc0\x10" + struct.pack("!IIIII", 1, 2, 3, 4, 5))
    add = b"\x00" + struct.pack("!HHIH", 41, 4096, 0, 0)
    resp = hdr + qd + ans + auth + add
    loop = struct.pack("!HHHHHH", 8, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    return q, resp, loop


def crafted_reassembly():
    data = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n"
    out = []
    # Lossless mode: [conf|1, depth, isn, ncuts, cuts, nops, ops, data].
    cuts = [5, 9, 17, 30]
    for conf, depth, ops in ((1, 0, [(0, 3), (1, 2)]), (0x0F, 0, [(0x80, 1), (2, 0)]),
                             (3, 4, [(3, 0)]), (9, 0, [])):
        out.append(bytes([conf, depth]) + struct.pack(">I", 0xFFFFFFF0) + bytes([len(cuts)])
                   + b"".join(struct.pack(">H", c) for c in cuts) + bytes([len(ops)])
                   + b"".join(bytes(o) for o in ops) + data)
    # Free mode: [conf, depth, qbytes, qsegs, isn, ops]; op [kind, off16, ...].
    seg = lambda off, p, far=0: bytes([0 | far]) + struct.pack(">h", off) + bytes([len(p)]) + p
    ack = lambda off: bytes([1]) + struct.pack(">h", off)
    fin = lambda off, n: bytes([2]) + struct.pack(">h", off) + bytes([n])
    flush = bytes([3, 0, 0])
    ops = (seg(10, b"later") + seg(0, b"0123456789") + seg(3, b"XXX") + seg(30, b"far")
           + ack(25) + fin(33, 0) + ack(34) + seg(40, b"after") + flush + seg(45, b"more"))
    for conf, depth, qb, qs in ((4, 0, 255, 15), (4, 12, 2, 1), (6, 1, 8, 2), (0, 0, 255, 15)):
        out.append(bytes([conf, depth, qb, qs]) + struct.pack(">I", 0xFFFFFFFA) + ops)
    out.append(bytes([4, 0, 255, 15]) + struct.pack(">I", 1) + seg(-2, b"wrap", 4) + seg(0, b"x"))
    return out


def app_seeds(pkts, add):
    """Seeds for http / dns / tls (flows of synthetic-small.pcap plus crafted) and reassembly."""
    # HTTP: flows on 80/8080 with distinct shapes; every 4th one with small limits.
    seen, n = set(), 0
    for segs in app_flows(pkts, 6, (80, 8080)).values():
        recs = tcp_records(segs)
        shape = shape_http(recs)
        if not recs or shape in seen or n >= 120:
            continue
        seen.add(shape)
        add("http", app_seed(1 if n % 4 == 3 else 0, recs))
        n += 1
    for i, recs in enumerate(crafted_http()):
        add("http", app_seed(0, recs))
        add("http", app_seed(0x1D if i % 2 else 0x0D, recs))
    # DNS: UDP flows on 53 (one record per datagram), distinct by header flags and counts,
    # and the same messages as TCP streams (length-prefixed, query and answer).
    seen, n = set(), 0
    for segs in app_flows(pkts, 17, (53,)).values():
        recs = [app_record(tc, pl) for tc, _, _, pl in segs if pl]
        shape = tuple((tc, pl[2:4], pl[4:12], dns_qtype(pl)) for tc, _, _, pl in segs
                      if len(pl) >= 12)
        if not recs or shape in seen or n >= 150:
            continue
        seen.add(shape)
        add("dns", app_seed(2 if n % 5 == 4 else 0, recs))
        if n % 3 == 0:
            add("dns", app_seed(1, [app_record(tc, dns_tcp(pl)) for tc, _, _, pl in segs if pl]))
        n += 1
    for segs in app_flows(pkts, 6, (53,)).values():
        add("dns", app_seed(1, tcp_records(segs)))
    q, resp, loop = crafted_dns()
    for conf in (0, 2):
        add("dns", app_seed(conf, [app_record(False, q), app_record(True, resp)]))
        add("dns", app_seed(conf, [app_record(False, loop), app_record(False, resp)]))
    both = dns_tcp(q) + dns_tcp(resp)
    add("dns", app_seed(1, [app_record(False, dns_tcp(q)), app_record(True, dns_tcp(resp))]))
    add("dns", app_seed(3, [app_record(False, both[:7]), app_record(False, both[7:]),
                            app_record(True, gap=3), app_record(True, dns_tcp(resp))]))
    # TLS: flows on 443 / 8443 (handshakes, certificates); every 4th with small limits.
    for n, segs in enumerate(list(app_flows(pkts, 6, (443, 8443)).values())[:120]):
        recs = tcp_records(segs)
        if recs:
            add("tls", app_seed(1 if n % 4 == 3 else 0, recs))
    for data in crafted_reassembly():
        add("reassembly", data)


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="/work/shared")
    args = ap.parse_args()
    big = os.path.join(args.shared, "data/pcap/synthetic-small.pcap")
    conf = sorted(glob.glob(os.path.join(args.shared, "conformance/tests/**/*.pcap"),
                            recursive=True))
    counts = {t: 0 for t in ("decode", "engine", "capture", "http", "dns", "tls", "reassembly")}

    def add(target, data):
        write(target, data)
        counts[target] += 1

    def add_frame(link, frame):
        if link in DECODE_LINKS:
            add("decode", bytes([DECODE_LINKS.index(link)]) + frame)

    captures = []
    if os.path.exists(big):
        lt, pkts = read_pcap(big)
        captures.append((lt, pkts))
        app_seeds(pkts, add)
        for _, fr in pkts[:200]:
            add_frame(lt, fr)
        # First 200 frames in chunks of 20, with and without checksum checks.
        for i in range(0, 200, 20):
            add("engine", engine_seed(engine_conf(lt, 0x20 if i % 40 else 0), pkts[i : i + 20]))
        # Whole flows (handshake to close) from the first 5000 frames.
        flows = {}
        for p in pkts[:5000]:
            k = flow_key(p[1])
            if k is not None:
                flows.setdefault(k, []).append(p)
        for i, (k, ps) in enumerate(list(flows.items())[:60]):
            add("engine", engine_seed(engine_conf(lt, 0x40 if i % 7 == 0 else 0), ps[:32]))
    for path in conf:
        r = read_pcap(path)
        if r is None:
            continue
        lt, pkts = r
        for _, fr in pkts[:10]:
            add_frame(lt, fr)
        c = engine_conf(lt)
        if c is not None and pkts:
            add("engine", engine_seed(c, pkts[:48]))
            add("engine", engine_seed(c | 0x10, pkts[:48]))  # midstream
    for i, seq in enumerate(crafted_sequences()):
        for fr in seq:
            add_frame(1, fr)
        pkts = [(j * 0.001, fr) for j, fr in enumerate(seq)]
        add("engine", engine_seed(engine_conf(1, 0x20 if i % 2 else 0), pkts))
    add("engine", engine_seed(engine_conf(1, 0x40), [(j * 0.001, fr) for seq in
                                                     crafted_sequences() for j, fr in enumerate(seq)]))

    # Capture files: small real pcaps (first records only), pcapng heads, built variants.
    small = sorted(conf, key=os.path.getsize)[:12]
    for path in small:
        lt, pkts = read_pcap(path)
        add("capture", pcap_file(lt, [fr for _, fr in pkts[:6]]))
    for path in sorted(glob.glob(os.path.join(args.shared, "data/pcap/labeled/**/*.pcapng"),
                                 recursive=True))[:4]:
        r = read_pcap(path)  # some files named .pcapng are classic pcap
        data = pcap_file(r[0], [fr for _, fr in r[1][:6]]) if r else truncated_ng(path, 6)
        if data:
            add("capture", data)
    frames = [fr for seq in crafted_sequences()[:3] for fr in seq][:6]
    for be in (False, True):
        add("capture", pcap_file(1, frames, be=be))
        add("capture", pcap_file(1, frames, be=be, nanos=True))
        add("capture", pcapng_file(frames, be=be))
        add("capture", pcapng_file(frames, be=be, tsresol=0x89))
    add("capture", pcap_file(1, frames, snap=64))
    print(" ".join(f"{k}={v}" for k, v in counts.items()), "seeds written under", CORPUS)


if __name__ == "__main__":
    sys.exit(main())
