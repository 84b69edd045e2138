"""A real program no one here wrote: fio with the io_uring engine.

fio (Debian's /usr/bin/fio) writes a 4 MiB file in 4 KiB random writes at
queue depth 8 through io_uring, under `mmscope run --map
'anon_inode:[io_uring]'`.  The trace is checked against what the io_uring
protocol requires of a submitter (include/uapi/linux/io_uring.h, and
io_uring_setup(2) / io_uring_enter(2)):

* the SQ ring (mmap offset IORING_OFF_SQ_RING), the CQ ring
  (IORING_OFF_CQ_RING) and the SQE array (IORING_OFF_SQES) are mapped;
* an SQE is filled in, its index stored in the SQ array slot, and only then
  is the SQ tail advanced (the store-release that publishes it): every SQE
  write comes before the tail store that publishes that SQE;
* the tail advances by exactly as many SQEs as fio submitted I/Os;
* the user_data of the SQEs published comes back, value for value, in the
  CQEs fio reads.

fio reports its own I/O count (--output-format=json, total_ios per data
direction); that is the ground truth the tail advances must match.
"""
import bisect
import collections
import ctypes
import errno
import json
import os

import pytest

from conftest import MMSCOPE, Run, run_group

FIO = "/usr/bin/fio"
IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 0x8000000
IORING_OFF_SQES = 0x10000000
SQE_SIZE = 64           # sizeof(struct io_uring_sqe) without IORING_SETUP_SQE128
SQE_USER_DATA = 32      # offsetof(struct io_uring_sqe, user_data), 8 bytes
IODEPTH = 8
# io_uring_setup(entries=8) gives 8 SQ entries (the kernel rounds up to a
# power of two), so the SQ array index of tail t is t & 7.
SQ_ENTRIES = 8
NR_IO_URING_SETUP = 425  # x86-64


def io_uring_refused():
    """None if this kernel lets us create an io_uring, else why not."""
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)   # struct io_uring_params
    fd = libc.syscall(NR_IO_URING_SETUP, 4, params)
    if fd >= 0:
        os.close(fd)
        return None
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EPERM, errno.EACCES):
        disabled = "?"
        try:
            with open("/proc/sys/kernel/io_uring_disabled") as f:
                disabled = f.read().strip()
        except OSError:
            pass
        return (f"the kernel refuses io_uring_setup ({errno.errorcode[err]}; "
                f"/proc/sys/kernel/io_uring_disabled = {disabled})")
    return None


@pytest.fixture(scope="module")
def fio_run(tmp_path_factory):
    assert os.access(FIO, os.X_OK), f"{FIO} is missing: run scripts/deps.sh (installs fio)"
    why = io_uring_refused()
    if why:
        pytest.skip(why)
    work = tmp_path_factory.mktemp("fio")
    out = str(work / "trace.d")
    report = str(work / "fio.json")
    argv = [FIO, "--name=t", f"--filename={work}/f", "--size=4M", "--bs=4k",
            "--rw=randwrite", f"--iodepth={IODEPTH}", "--direct=0", "--ioengine=io_uring",
            "--output-format=json", f"--output={report}"]
    p = run_group([MMSCOPE, "run", "-o", out, "--map", "anon_inode:[io_uring]",
                   "--", *argv], 600)
    run = Run(p, out)
    with open(report) as f:
        stats = json.load(f) if os.path.getsize(report) else None
    return run, stats


def test_fio_finishes_with_no_error(fio_run):
    run, stats = fio_run
    assert run.returncode == 0, f"fio exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    assert stats is not None, "fio wrote no JSON report"
    jobs = stats["jobs"]
    assert len(jobs) == 1
    assert jobs[0]["error"] == 0
    assert jobs[0]["write"]["total_ios"] == 4 * 1024 // 4


class Ring:
    """The io_uring mappings of one process and their accesses in seq order."""

    def __init__(self, records, pid):
        self.maps = {}
        for r in records:
            if r["type"] == "map" and r["pid"] == pid and r["path"] == "anon_inode:[io_uring]":
                self.maps.setdefault(r["file_offset"], []).append(r["region"])
        sq = self.maps.get(IORING_OFF_SQ_RING, [])
        sqes = self.maps.get(IORING_OFF_SQES, [])
        self.sq_region = sq[0] if len(sq) == 1 else None
        self.sqes_region = sqes[0] if len(sqes) == 1 else None
        acc = sorted((r for r in records if r["type"] == "access" and r["pid"] == pid),
                     key=lambda r: r["seq"])
        self.sq = [a for a in acc if a["region"] == self.sq_region]
        self.sqe_writes = [a for a in acc if a["region"] == self.sqes_region and a["dir"] == "W"]
        cq = set(self.maps.get(IORING_OFF_CQ_RING, []))
        self.cq = [a for a in acc if a["region"] in cq]

    def tail_offset(self):
        """The SQ tail is found from the trace, not from a kernel layout: the
        offsets in struct io_sqring_offsets are whatever io_uring_setup
        returned (they changed across kernels, e.g. when struct io_rings
        stopped cache-line-aligning head and tail), and fio does not print
        them.  Among the 4-byte words of the SQ ring only two kinds are
        written by the application: the tail, which only ever grows, and
        the SQ array slots, which hold SQE indices (< SQ_ENTRIES) and are
        rewritten with repeating values.  So the tail is the one word written
        more than SQ_ENTRIES times with strictly increasing values."""
        writes = collections.defaultdict(list)
        for a in self.sq:
            if a["dir"] == "W" and a["width"] == 4:
                writes[a["offset"]].append(int(a["value"], 16))
        found = [off for off, vals in writes.items()
                 if len(vals) > SQ_ENTRIES and all(b > a for a, b in zip(vals, vals[1:]))]
        assert len(found) == 1, f"cannot tell the SQ tail: candidates {found}, " \
            f"written words {sorted(writes)}"
        return found[0]


def job_pid(run, stats):
    records = run.records()
    pids = {r["pid"] for r in records if r["type"] == "map"
            and r["path"] == "anon_inode:[io_uring]"}
    assert len(pids) == 1, f"io_uring mapped by processes {pids}"
    return records, pids.pop()


def test_sq_ring_cq_ring_and_sqe_array_are_mapped_and_traced(fio_run):
    run, stats = fio_run
    records, pid = job_pid(run, stats)
    ring = Ring(records, pid)
    assert ring.sq_region is not None, f"SQ ring MAP records: {ring.maps}"
    assert ring.sqes_region is not None, f"SQE array MAP records: {ring.maps}"
    # fio maps the CQ ring with its own mmap even when the kernel offers
    # IORING_FEAT_SINGLE_MMAP, so it must be there too
    assert IORING_OFF_CQ_RING in ring.maps, f"CQ ring MAP records: {ring.maps}"
    assert ring.sq and ring.sqe_writes
    cq = [r for r in records if r["type"] == "access"
          and r["region"] in ring.maps[IORING_OFF_CQ_RING]]
    assert any(a["dir"] == "R" for a in cq), "fio reaped no completion through the trace"


def publications(ring):
    """[(seq of the tail store, [SQ array positions it published])]."""
    tail_off = ring.tail_offset()
    tail = None
    out = []
    for a in ring.sq:
        if a["offset"] != tail_off or a["width"] != 4:
            continue
        value = int(a["value"], 16)
        if a["dir"] == "R" and tail is None:
            tail = value        # fio reads the tail before its first store
        elif a["dir"] == "W":
            old = 0 if tail is None else tail
            advance = (value - old) & 0xffffffff
            assert 0 < advance <= SQ_ENTRIES, f"tail went from {old} to {value}"
            out.append((a["seq"], list(range(old, old + advance))))
            tail = value
    return tail_off, out


def test_sq_tail_advances_match_the_ios_fio_reports(fio_run):
    run, stats = fio_run
    records, pid = job_pid(run, stats)
    _, pubs = publications(Ring(records, pid))
    job = stats["jobs"][0]
    ios = sum(job[d]["total_ios"] for d in ("read", "write", "trim") if d in job)
    assert ios > 0
    assert sum(len(p) for _, p in pubs) == ios


def test_every_sqe_write_precedes_the_tail_store_that_publishes_it(fio_run):
    run, stats = fio_run
    records, pid = job_pid(run, stats)
    ring = Ring(records, pid)
    tail_off, pubs = publications(ring)
    # The SQ array starts where the first publication (tail 0 -> 1) stored
    # its SQE index: the first SQ ring write that is not the tail.
    array_writes = [a for a in ring.sq if a["dir"] == "W" and a["offset"] != tail_off]
    assert array_writes, "no SQ array writes"
    array_base = array_writes[0]["offset"]

    # seqs of the writes to each SQ array slot and to each SQE, in order
    slot_writes = collections.defaultdict(list)
    for a in array_writes:
        slot_writes[a["offset"]].append((a["seq"], int(a["value"], 16)))
    sqe_writes = collections.defaultdict(list)
    user_data_writes = collections.defaultdict(list)
    for a in ring.sqe_writes:
        assert a["offset"] // SQE_SIZE == (a["offset"] + a["width"] - 1) // SQE_SIZE, \
            f"an SQE write straddles two SQEs: {a}"
        index, rel = divmod(a["offset"], SQE_SIZE)
        sqe_writes[index].append(a["seq"])
        if rel <= SQE_USER_DATA and rel + a["width"] >= SQE_USER_DATA + 8:
            shift = 8 * (SQE_USER_DATA - rel)
            user_data_writes[index].append(
                (a["seq"], (int(a["value"], 16) >> shift) & (2 ** 64 - 1)))

    def last_before(seqs, lo, hi):
        """Position in sorted seqs of the last one in (lo, hi), or None."""
        i = bisect.bisect_left(seqs, hi) - 1
        return i if i >= 0 and seqs[i] > lo else None

    last_pub = collections.defaultdict(lambda: -1)  # SQE index -> seq published
    published_user_data = []
    prev_store = -1
    for store_seq, positions in pubs:
        for t in positions:
            slot = array_base + 4 * (t % SQ_ENTRIES)
            writes = slot_writes[slot]
            i = last_before([w[0] for w in writes], prev_store, store_seq)
            assert i is not None, f"tail {t + 1} published SQ array slot " \
                f"{t % SQ_ENTRIES}, not written since the previous tail store"
            index = writes[i][1]
            assert 0 <= index < SQ_ENTRIES
            assert last_before(sqe_writes[index], last_pub[index], store_seq) is not None, \
                f"SQE {index} published by the tail store at seq {store_seq} was not " \
                f"written since it was last published (seq {last_pub[index]})"
            # fio_ioring_prep() sets sqe->user_data (the io_u) for every I/O
            ud = user_data_writes[index]
            i = last_before([w[0] for w in ud], last_pub[index], store_seq)
            assert i is not None, f"SQE {index} published at seq {store_seq} without " \
                f"its user_data written since it was last published"
            published_user_data.append(ud[i][1])
            last_pub[index] = store_seq
        prev_store = store_seq

    # The kernel copies user_data into the CQE; fio reads cqe->user_data (the
    # only 8-byte field of struct io_uring_cqe) once per completion.  What
    # was published must be exactly what came back.
    completed = [int(a["value"], 16) for a in ring.cq if a["dir"] == "R" and a["width"] == 8]
    assert collections.Counter(completed) == collections.Counter(published_user_data)

    # and no SQE write is left unpublished, i.e. after its last publication
    late = [a for a in ring.sqe_writes if a["seq"] > last_pub[a["offset"] // SQE_SIZE]]
    assert not late, f"{len(late)} SQE writes come after the last tail store that " \
        f"publishes them, first: {late[0]}"
