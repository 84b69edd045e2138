"""Debian's liburing, linked both ways, under mmscope.

tests/progs/uring_ud does N NOPs and then reads a file in 4 KiB blocks
through io_uring, printing the ring layout liburing was given, every SQE it
submitted (user_data, opcode, file offset) and every CQE it reaped
(user_data, res).  uring_ud links liburing.so; uring_ud_static has
liburing.a inside the executable (libc stays dynamic, so the agent loads),
so its rings are mapped by liburing's own raw `syscall` instructions with no
library symbol for the agent to interpose.

For both: the output is the native run's, and the trace holds the program's
side of the protocol -- each SQE as published by its tail store (the
fields the program printed), the tail stores adding up to what it
submitted, the CQEs it read (user_data and res, in reaping order) and the
CQ head it advanced past all of them.
"""
import collections
import os
import re

import pytest

from conftest import ROOT, native, prog
from peer_trace import traced
from uring_trace import (IORING_OFF_CQ_RING, IORING_OFF_SQ_RING, IORING_OFF_SQES, URING_PATH,
                         Ring, check_publication_order, io_uring_refused, published_sqes,
                         uring_pid)

NOPS = 13
FILE_SIZE = 5 * 4096 + 100      # six reads: five full blocks and a 100-byte tail
CQE_SIZE = 16                   # struct io_uring_cqe without IORING_SETUP_CQE32

# Until this tree's agent has the seccomp filter that traps mmap made by raw
# syscall instructions (src/agent/seccomp.c, issue 7 B.6), the static
# program's rings are not seen; strict: once it has it, the mark must go.
RAW_MMAP_XFAIL = pytest.mark.xfail(
    not os.path.exists(os.path.join(ROOT, "src", "agent", "seccomp.c")), strict=True,
    reason="raw-syscall mmap not caught yet (issue 7 B.6)")


def parse(stdout):
    ring = dict(kv.split("=") for kv in re.search(r"^RING (.*)$", stdout, re.M).group(1).split())
    sqes = [tuple(map(int, m)) for m in re.findall(r"^SQE (\d+) (\d+) (\d+)$", stdout, re.M)]
    cqes = [tuple(map(int, m)) for m in re.findall(r"^CQE (\d+) (-?\d+)$", stdout, re.M)]
    submitted = int(re.search(r"^SUBMITTED (\d+)$", stdout, re.M).group(1))
    completed = int(re.search(r"^COMPLETED (\d+)$", stdout, re.M).group(1))
    return {k: int(v, 0) for k, v in ring.items()}, sqes, cqes, submitted, completed


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    why = io_uring_refused()
    if why:
        pytest.skip(why)
    path = tmp_path_factory.mktemp("uring_ud") / "data"
    path.write_bytes(bytes((i * 7 + 3) & 0xff for i in range(FILE_SIZE)))
    return str(path)


@pytest.mark.parametrize("name", ["uring_ud", pytest.param("uring_ud_static",
                                                          marks=RAW_MMAP_XFAIL)])
def test_liburing_ring_protocol_is_traced(name, data_file, tmp_path):
    argv = [prog(name), str(NOPS), data_file]
    nat = native(argv, timeout=120)
    assert nat.returncode == 0, f"native {name}: exit {nat.returncode}\n{nat.stdout}{nat.stderr}"
    run = traced(argv, tmp_path / "trace.d", [URING_PATH], timeout=120)
    assert run.returncode == 0, f"{name} under mmscope: exit {run.returncode}\n" \
        f"{run.stdout}{run.stderr}"

    layout, sqes, cqes, submitted, completed = parse(run.stdout)
    n_layout, n_sqes, n_cqes, n_submitted, n_completed = parse(nat.stdout)
    # the same ring, the same submissions in the same order; completions of
    # one batch may be reaped in another order, so they compare as multisets
    assert (layout, sqes, submitted, completed) == (n_layout, n_sqes, n_submitted, n_completed)
    assert collections.Counter(cqes) == collections.Counter(n_cqes)
    nreads = (FILE_SIZE + 4095) // 4096
    assert submitted == completed == NOPS + nreads == len(sqes) == len(cqes)
    assert sorted(res for ud, res in cqes if ud >= 0x7ead0000) == [100] + [4096] * (nreads - 1)

    records = run.records()
    pid = uring_pid(records)
    ring = Ring(records, pid, layout["entries"], tail_off=layout["sq_tail"])
    assert ring.sq_region is not None and ring.sqes_region is not None, ring.maps
    assert (IORING_OFF_CQ_RING in ring.maps) == (not layout["single_mmap"]), ring.maps

    # each SQE as the tail store published it: opcode (byte 0), off
    # (bytes 8..15) and user_data (bytes 32..39) are what the program printed
    published = [(int.from_bytes(s[32:40], "little"), s[0], int.from_bytes(s[8:16], "little"))
                 for s in published_sqes(ring, fresh_array=False)]
    assert published == sqes
    # every SQE write before its publication, user_data back in the CQEs
    check_publication_order(ring, fresh_array=False)

    # the CQEs the program read, in reaping order: user_data (bytes 0..7)
    # and res (bytes 8..11) of struct io_uring_cqe
    cq = ring.cq
    base = layout["cqes"]
    in_cqes = [a for a in cq if a["dir"] == "R" and a["offset"] >= base]
    uds = [int(a["value"], 16) for a in in_cqes
           if a["width"] == 8 and (a["offset"] - base) % CQE_SIZE == 0]
    res = [int(a["value"], 16) for a in in_cqes
           if a["width"] == 4 and (a["offset"] - base) % CQE_SIZE == 8]
    assert uds == [ud for ud, _ in cqes]
    assert res == [r & 0xffffffff for _, r in cqes]
    # and the CQ head it stored last is past every one of them
    heads = [int(a["value"], 16) for a in cq
             if a["dir"] == "W" and a["width"] == 4 and a["offset"] == layout["cq_head"]]
    assert heads and heads[-1] == completed, f"CQ head stores {heads}"
    # both rings and the SQE array are unmapped at io_uring_queue_exit
    unmapped = {r["region"] for r in records if r["type"] == "unmap"}
    want = set(ring.maps.get(IORING_OFF_SQ_RING, []) + ring.maps.get(IORING_OFF_SQES, []) +
               ring.maps.get(IORING_OFF_CQ_RING, []))
    assert want <= unmapped
