"""Issue 7, B: nothing the program maps is silently missed.  Mappings made
with raw `syscall` instructions (no libc wrapper) and mappings made after
the program chrooted are traced like any other; ground truth is what the
programs print they stored and loaded."""
import os
import re
import shutil

import pytest

from conftest import prog

RAWMAP = prog("rawmap")
CHROOT = prog("uring_chroot")


def truth(stdout):
    """{tag: [(dir, offset, value)]} from STORE/LOAD lines."""
    out = {}
    for line in stdout.splitlines():
        f = line.split()
        if f and f[0] in ("STORE", "LOAD"):
            out.setdefault(f[1], []).append(
                ("W" if f[0] == "STORE" else "R", int(f[2], 16), int(f[3], 16)))
    return out


def region_paths(run):
    return {r["region"]: r["path"] for r in run.records() if r["type"] == "map"}


@pytest.mark.parametrize("mode", ["one", "thread"])
def test_raw_syscall_mmap_mremap_mprotect_munmap_are_traced(mmscope_run, mode):
    run = mmscope_run([RAWMAP] + (["thread"] if mode == "thread" else []),
                      maps=["/memfd:mmscope-raw*"])
    want = truth(run.stdout)
    assert sorted(want) == (["a", "b"] if mode == "thread" else ["a"])
    recs = run.records()
    paths = region_paths(run)
    got = {}
    for r in run.accesses():
        tag = re.search(r"mmscope-raw-(\w)", paths[r["region"]]).group(1)
        got.setdefault(tag, []).append((r["dir"], r["offset"], int(r["value"], 16)))
    assert got == want
    # each memfd: mapped, moved by mremap (same object, new region), unmapped
    for tag in want:
        maps = [r for r in recs if r["type"] == "map" and f"mmscope-raw-{tag}" in r["path"]]
        assert len(maps) == 2, maps
        assert "mremap" in maps[1]["flags"] and maps[1]["len"] == 3 * 4096
        unmapped = {r["region"] for r in recs if r["type"] == "unmap"}
        assert {m["region"] for m in maps} <= unmapped


def test_a_ring_and_a_memfd_set_up_after_chroot_are_traced(mmscope_run):
    run = mmscope_run([CHROOT], maps=["anon_inode:[io_uring]", "/memfd:mmscope-chroot*"],
                      check=False)
    try:
        if run.returncode == 77:
            pytest.skip(run.stdout.strip())
        assert run.returncode == 0, run.stderr
        assert "CHROOT ok" in run.stdout
        m = re.search(r"^NOPS (\d+) (\d+)$", run.stdout, re.M)
        assert m and m.group(1) == m.group(2), run.stdout
        nops = int(m.group(1))
        paths = region_paths(run)
        acc = run.accesses()
        ring = [a for a in acc if "io_uring" in paths[a["region"]]]
        memfd = [(a["dir"], a["offset"], int(a["value"], 16)) for a in acc
                 if "mmscope-chroot" in paths[a["region"]]]
        assert memfd == truth(run.stdout)["c"]
        # each NOP: the SQ tail store and the CQ tail load, at least
        sq_tail_stores = [a for a in ring if a["dir"] == "W"]
        assert len(sq_tail_stores) >= nops
        assert "untraced" not in open(os.path.join(run.trace_dir, "agent.log")).read()
    finally:
        d = re.search(r"^DIR (\S+)$", run.stdout, re.M)
        if d:
            shutil.rmtree(d.group(1), ignore_errors=True)


HAMMER = prog("uring_hammer")


@pytest.mark.parametrize("attempt", range(3))
def test_rings_set_up_and_torn_down_by_four_threads_at_once(mmscope_run, attempt):
    """Four threads set up and tear down io_uring rings at the same time
    while a fifth maps and unmaps a memfd (issue 7, C.9: two threads
    crashed the program 4 of 4 runs; with the table update outside the
    kernel call's lock, a region freed by one thread's munmap collided
    with another thread's new ring and the agent hung)."""
    run = mmscope_run([HAMMER, "50"], timeout=240,
                      maps=["anon_inode:[io_uring]", "/memfd:mmscope-hammer*"])
    rings = int(re.search(r"^RINGS (\d+)$", run.stdout, re.M).group(1))
    sub, done = map(int, re.search(r"^NOPS (\d+) (\d+)$", run.stdout, re.M).groups())
    nmaps, stores = map(int, re.search(r"^MEMFD (\d+) (\d+)$", run.stdout, re.M).groups())
    assert rings == 200 and sub == done == 400
    recs = run.records()
    maps = {r["region"]: r for r in recs if r["type"] == "map"}
    unmapped = {r["region"] for r in recs if r["type"] == "unmap"}
    assert not [r for r in recs if r["type"] == "proc" and r.get("event") == "untraced"]
    ring_maps = [m for m in maps.values() if "io_uring" in m["path"]]
    memfd_maps = [m for m in maps.values() if "mmscope-hammer" in m["path"]]
    # liburing maps rings and SQEs: two mappings per ring, each unmapped
    assert len(ring_maps) == 2 * rings
    assert len(memfd_maps) == nmaps
    assert set(maps) == unmapped
    acc = run.accesses()
    # every access lands in a region its own thread mapped
    assert all(a["region"] in maps and maps[a["region"]]["tid"] == a["tid"] for a in acc)
    memfd_acc = [a for a in acc if "mmscope-hammer" in maps[a["region"]]["path"]]
    assert len(memfd_acc) == stores
    assert sorted({a["offset"] for a in memfd_acc}) == [0, 4096]
    # each NOP stores at least the SQ tail and the SQE's fields
    assert sum(1 for a in acc if a["dir"] == "W" and "io_uring" in maps[a["region"]]["path"]) \
        >= 2 * done
