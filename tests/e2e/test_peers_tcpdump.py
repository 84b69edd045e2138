"""Debian's tcpdump capturing from `lo` through libpcap's packet-mmap ring
(TPACKET_V3: the kernel fills blocks of a shared ring, libpcap reads the
frames in place and hands each block back by storing TP_STATUS_KERNEL in
its block_status).

The test sends N UDP datagrams of its own, each with a payload no other
one has, from one socket to another on 127.0.0.1, while `tcpdump -c N -w
FILE` captures them, natively and under `mmscope run --map 'socket:*'` (the
ring is a mapping of the packet socket).  Ground truth is tcpdump's own
output: it reports N packets captured both ways, and its pcap file holds
the same N frames in order (the record timestamps aside, and the IPv4
identification the kernel draws per packet), each ending in the payload
sent.  The trace must show tcpdump reading every one of those
frames, byte for byte, out of the ring (libpcap passes pcap_dump a pointer
into the ring, and the copy into stdio's buffer is a traced read), and
every block it handed back was one the kernel had given it.
"""
import socket
import struct
import subprocess

import pytest

from conftest import GroupPopen, MMSCOPE, Run
from peer_trace import expand, image_of, need, regions

TCPDUMP = "/usr/bin/tcpdump"
N = 24
TP_STATUS_USER = 1      # include/uapi/linux/if_packet.h
BLOCK_STATUS = 8        # offsetof(struct tpacket_block_desc, hdr.bh1.block_status)


def payload(i):
    """Datagram i: unique, no NUL byte, 19 to 133 bytes long."""
    return f"mmscope-peer-{i:04d}-".encode() * (1 + i % 7)


@pytest.fixture(scope="module")
def sockets():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    tx.bind(("127.0.0.1", 0))
    yield tx, rx
    tx.close()
    rx.close()


def capture(prefix, pcap, sockets, timeout=120):
    """tcpdump -c N -w pcap of the datagrams the test sends: -Z root keeps
    the privileges that write into the test's directory; -Q in keeps one
    copy of each datagram (lo shows it leaving and arriving)."""
    tx, rx = sockets
    sport, dport = tx.getsockname()[1], rx.getsockname()[1]
    argv = prefix + [TCPDUMP, "-i", "lo", "-n", "-Z", "root", "-Q", "in", "-c", str(N),
                     "-w", str(pcap), f"udp and src port {sport} and dst port {dport}"]
    p = GroupPopen(argv, timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # tcpdump says "listening on" once its filter is set and the ring mapped
        seen = []
        for line in p.stderr:
            seen.append(line)
            if "listening on" in line:
                break
        else:
            # it exited without listening: the caller tells why
            out, err = p.communicate()
            return subprocess.CompletedProcess(argv, p.returncode, out, "".join(seen) + err)
        for i in range(N):
            tx.sendto(payload(i), rx.getsockname())
        out, err = p.communicate()
        assert not p.timed_out, f"tcpdump was still running after {timeout} s: {err}"
    finally:
        p.kill_group()
    return subprocess.CompletedProcess(argv, p.returncode, out, "".join(seen) + err)


def pcap_records(path):
    """(global header, [(incl_len, orig_len, frame)]) of a pcap file; the
    record timestamps are left out, the one thing two runs cannot share."""
    data = path.read_bytes()
    assert struct.unpack_from("<I", data)[0] == 0xa1b2c3d4, "not a microsecond pcap file"
    out, pos = [], 24
    while pos < len(data):
        _, _, incl, orig = struct.unpack_from("<IIII", data, pos)
        out.append((incl, orig, data[pos + 16:pos + 16 + incl]))
        pos += 16 + incl
    return data[:24], out


def masked(record):
    """A pcap record with the two IPv4 header fields that differ between
    two sendings of one datagram zeroed: the identification (the kernel
    draws it per packet) and the header checksum that covers it.  The
    frame: 14 bytes of Ethernet header, then the IPv4 header (RFC 791)."""
    incl, orig, frame = record
    f = bytearray(frame)
    assert f[12:14] == b"\x08\x00" and f[14] >> 4 == 4, f"not IPv4: {frame!r}"
    f[18:20] = f[24:26] = b"\0\0"
    return incl, orig, bytes(f)


@pytest.fixture(scope="module")
def runs(sockets, tmp_path_factory):
    need(TCPDUMP, "tcpdump")
    work = tmp_path_factory.mktemp("tcpdump")
    nat = capture([], work / "native.pcap", sockets)
    if nat.returncode != 0 and ("ermission" in nat.stderr or "not permitted" in nat.stderr):
        pytest.skip(f"tcpdump cannot capture here (needs CAP_NET_RAW): {nat.stderr.strip()}")
    assert nat.returncode == 0, nat.stderr
    trace = work / "trace.d"
    p = capture([MMSCOPE, "run", "-q", "-o", str(trace), "--map", "socket:*", "--"],
                work / "traced.pcap", sockets)
    assert p.returncode == 0, p.stderr
    return (nat.stderr, pcap_records(work / "native.pcap"), p.stderr,
            pcap_records(work / "traced.pcap"), Run(p, str(trace)))


def test_tcpdump_captures_the_same_packets_as_natively(runs):
    nat_err, (nat_hdr, nat_recs), err, (hdr, recs), run = runs
    assert f"{N} packets captured" in nat_err and f"{N} packets captured" in err
    assert hdr == nat_hdr
    assert len(recs) == N
    assert [masked(r) for r in recs] == [masked(r) for r in nat_recs]
    for i, (incl, orig, frame) in enumerate(recs):
        assert incl == orig and frame.endswith(payload(i)), f"frame {i}: {frame!r}"


def test_trace_shows_tcpdump_reading_every_frame_from_the_ring(runs):
    *_, (hdr, recs), run = runs
    records = run.records()
    rings = regions(records, lambda m: m["path"].startswith("socket:["))
    assert len(rings) == 1, f"packet socket mappings: {rings}"
    (region, m), = rings.items()
    accesses = expand(records)
    # the ring as tcpdump's loads saw it (the kernel rewrites it, so the
    # stores are left out: the image is what was read)
    seen = bytes(image_of(accesses, region, m["len"], dirs="R").data)
    for i, (_, _, frame) in enumerate(recs):
        assert frame in seen, f"frame {i} ({len(frame)} bytes) was not read from the ring"


def test_every_block_handed_back_was_the_programs(runs):
    *_, run = runs
    accesses = expand(run.records())
    status = {}
    writes = 0
    for a in sorted(accesses, key=lambda a: a["seq"]):
        if a["dir"] == "R" and a["width"] == 4:
            status[a["offset"]] = int(a["value"], 16)
        elif a["dir"] == "W":
            # the only store libpcap makes to the ring: block_status =
            # TP_STATUS_KERNEL, for a block it had read as TP_STATUS_USER
            writes += 1
            assert a["width"] == 4 and int(a["value"], 16) == 0, a
            assert status.get(a["offset"], 0) & TP_STATUS_USER, \
                f"block at {a['offset'] - BLOCK_STATUS:#x} handed back, never given: {a}"
    # tcpdump stops at its Nth packet, the last one in the ring (lo shows a
    # datagram leaving before arriving), so the block holding it is done
    # with and handed back before tcpdump exits
    assert writes >= 1, "tcpdump handed no block back"
