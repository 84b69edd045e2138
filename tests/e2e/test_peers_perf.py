"""Debian's perf record, whose ring buffers are mappings of its
perf_event file descriptors (perf_event_open(2), "MMAP layout"): the kernel
writes records into the data pages and advances data_head in the first
(metadata) page; perf reads data_head, writes the bytes between its old
tail and that head into perf.data, and stores the head it consumed to as
data_tail.

perf records a small shell loop (task-clock, one sample per 100 us of
CPU), natively and under `mmscope run --map 'anon_inode:[perf_event]'`.
Ground truth is perf's own: `perf report` works on both files and counts
as many samples as perf record said it wrote and as the file holds.  The
trace must show that protocol on every ring: each data_tail store is the
data_head perf last loaded from that ring, tails never go back, and the
ring bytes perf.data holds add up to exactly how far the tails went.
"""
import collections
import re
import struct

import pytest

from conftest import native
from peer_trace import expand, need, regions, traced

PERF = "/usr/bin/perf"
WORKLOAD = ["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"]
DATA_HEAD = 1024        # offsetof(struct perf_event_mmap_page, data_head)
DATA_TAIL = 1032        # offsetof(struct perf_event_mmap_page, data_tail)
# tools/lib/perf/include/perf/event.h
PERF_RECORD_SAMPLE = 9
PERF_RECORD_FINISHED_ROUND = 68
PERF_RECORD_FINISHED_INIT = 82


def record_argv(out):
    return [PERF, "record", "-o", str(out), "-e", "task-clock", "-c", "100000", "--", *WORKLOAD]


def perf_data(path):
    """[(type, size)] of the records of perf.data's data section, in file
    order (tools/perf/util/header.h: struct perf_file_header)."""
    d = path.read_bytes()
    assert d[:8] == b"PERFILE2", "not a perf.data file"
    offset, size = struct.unpack_from("<QQ", d, 40)     # the data section
    out, pos = [], offset
    while pos < offset + size:
        rtype, _, rsize = struct.unpack_from("<IHH", d, pos)
        assert rsize >= 8, f"record of size {rsize} at {pos:#x}"
        out.append((rtype, rsize))
        pos += rsize
    return out


def check_report(data, stderr):
    """perf report reads the file and counts the samples perf record said it
    wrote, which are the SAMPLE records the file holds."""
    said = int(re.search(r"\((\d+) samples\)", stderr).group(1))
    rep = native([PERF, "report", "-i", str(data), "--stdio", "--sort", "comm"], timeout=120)
    assert rep.returncode == 0, rep.stderr
    counted = int(re.search(r"^# Samples: (\d+)\s+of event 'task-clock'", rep.stdout,
                            re.M).group(1))
    held = sum(1 for t, _ in perf_data(data) if t == PERF_RECORD_SAMPLE)
    assert said == counted == held > 0, (said, counted, held)
    assert re.search(r"^\s+100\.00%\s+sh\s*$", rep.stdout, re.M), rep.stdout
    return said


@pytest.fixture(scope="module")
def perf(tmp_path_factory):
    need(PERF, "linux-perf")
    work = tmp_path_factory.mktemp("perf")
    nat = native(record_argv(work / "native.data"), timeout=120)
    if nat.returncode != 0:
        with open("/proc/sys/kernel/perf_event_paranoid") as f:
            paranoid = f.read().strip()
        if "paranoid" in nat.stderr or "ermission" in nat.stderr:
            pytest.skip(f"perf_event_open refused (perf_event_paranoid = {paranoid}): "
                        f"{nat.stderr.strip()[:300]}")
    assert nat.returncode == 0, nat.stderr
    run = traced(record_argv(work / "traced.data"), work / "trace.d",
                 ["anon_inode:[perf_event]"], timeout=120)
    assert run.returncode == 0, run.stderr
    return work, nat, run


def test_perf_report_works_on_both_recordings(perf):
    work, nat, run = perf
    check_report(work / "native.data", nat.stderr)
    check_report(work / "traced.data", run.stderr)


def test_every_ring_tail_store_is_a_head_perf_loaded(perf):
    work, nat, run = perf
    records = run.records()
    rings = regions(records, lambda m: m["path"] == "anon_inode:[perf_event]")
    assert rings, "no perf ring mapped"
    head = {}
    tails = collections.defaultdict(list)
    for a in expand(records):
        if a["region"] not in rings or a["width"] != 8:
            continue
        value = int(a["value"], 16)
        if a["dir"] == "R" and a["offset"] == DATA_HEAD:
            head[a["region"]] = value
        elif a["dir"] == "W" and a["offset"] == DATA_TAIL:
            assert value == head.get(a["region"]), \
                f"data_tail {value:#x} stored, data_head last loaded {head.get(a['region'])}"
            tails[a["region"]].append(value)
    assert tails, "perf stored no data_tail"
    for region, values in tails.items():
        assert values == sorted(values), f"ring r{region}: data_tail went back: {values}"

    # what perf.data holds after the records perf synthesised itself (up to
    # FINISHED_INIT) is ring data, one FINISHED_ROUND after each pass over
    # the rings that found some
    recs = perf_data(work / "traced.data")
    types = [t for t, _ in recs]
    assert PERF_RECORD_FINISHED_INIT in types, collections.Counter(types)
    after = recs[types.index(PERF_RECORD_FINISHED_INIT) + 1:]
    ring_bytes = sum(size for t, size in after if t != PERF_RECORD_FINISHED_ROUND)
    assert ring_bytes == sum(v[-1] for v in tails.values())
