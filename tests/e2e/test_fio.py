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
import json
import os

import pytest

from conftest import MMSCOPE, Run, run_group
from uring_trace import (IORING_OFF_CQ_RING, Ring, check_publication_order, io_uring_refused,
                         publications, uring_pid)

FIO = "/usr/bin/fio"
IODEPTH = 8
# io_uring_setup(entries=8) gives 8 SQ entries (the kernel rounds up to a
# power of two), so the SQ array index of tail t is t & 7.
SQ_ENTRIES = 8


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


def job_pid(run, stats):
    records = run.records()
    return records, uring_pid(records)


def test_sq_ring_cq_ring_and_sqe_array_are_mapped_and_traced(fio_run):
    run, stats = fio_run
    records, pid = job_pid(run, stats)
    ring = Ring(records, pid, SQ_ENTRIES)
    assert ring.sq_region is not None, f"SQ ring MAP records: {ring.maps}"
    assert ring.sqes_region is not None, f"SQE array MAP records: {ring.maps}"
    # fio maps the CQ ring with its own mmap even when the kernel offers
    # IORING_FEAT_SINGLE_MMAP, so it must be there too
    assert IORING_OFF_CQ_RING in ring.maps, f"CQ ring MAP records: {ring.maps}"
    assert ring.sq and ring.sqe_writes
    cq = [r for r in records if r["type"] == "access"
          and r["region"] in ring.maps[IORING_OFF_CQ_RING]]
    assert any(a["dir"] == "R" for a in cq), "fio reaped no completion through the trace"


def test_sq_tail_advances_match_the_ios_fio_reports(fio_run):
    run, stats = fio_run
    records, pid = job_pid(run, stats)
    _, pubs = publications(Ring(records, pid, SQ_ENTRIES))
    job = stats["jobs"][0]
    ios = sum(job[d]["total_ios"] for d in ("read", "write", "trim") if d in job)
    assert ios > 0
    assert sum(len(p) for _, p in pubs) == ios


def test_every_sqe_write_precedes_the_tail_store_that_publishes_it(fio_run):
    run, stats = fio_run
    records, pid = job_pid(run, stats)
    ring = Ring(records, pid, SQ_ENTRIES)
    check_publication_order(ring)
