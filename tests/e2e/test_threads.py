"""Threads: every access of every thread is recorded exactly once.

tests/progs/threads runs 8 threads (4 created before the traced memfd is
mapped, 4 after) that each do N iterations of: an 8-byte store to their own
slot, a load of it, and a LOCK INC of a shared counter.  It prints each
thread's tid and true counts, the counter's final value and the totals.
The trace must hold exactly those accesses: same number per direction, per
thread, with the stored values, and the counter must end exact (LOCK stays
atomic under mmscope).

Every test runs twice: "plain", and "slow", where thread 0 also does an
XLAT on its slot each iteration, an instruction mmscope completes by
single-stepping with every other thread parked; the other threads' accesses
during those N stop-the-worlds must not slip past untraced.
"""
import collections
import re

import pytest

from conftest import MMSCOPE, Run, native, prog, run_group

THREADS = prog("threads")
GLOB = "/memfd:mmscope-threads*"
PATH = "/memfd:mmscope-threads"
N = 3000
NTHREADS = 8
COUNTER_OFF = 0


def ground_truth(stdout):
    threads = {}
    for m in re.finditer(r"^THREAD (\d+) tid=(\d+) slot=0x([0-9a-f]+) stores=(\d+) "
                         r"loads=(\d+) locked=(\d+) xlats=(\d+) mismatches=(\d+)$",
                         stdout, re.M):
        i, tid, slot, stores, loads, locked, xlats, bad = m.groups()
        threads[int(tid)] = dict(index=int(i), slot=int(slot, 16), stores=int(stores),
                                 loads=int(loads), locked=int(locked), xlats=int(xlats),
                                 mismatches=int(bad))
    main_tid = int(re.search(r"^MAIN tid=(\d+) loads=1$", stdout, re.M).group(1))
    counter, expected = map(int, re.search(r"^COUNTER (\d+) expected=(\d+)$",
                                           stdout, re.M).groups())
    total_r, total_w = map(int, re.search(r"^TOTAL R=(\d+) W=(\d+)$",
                                          stdout, re.M).groups())
    return threads, main_tid, counter, expected, total_r, total_w


def tag(index, k):
    """The value thread `index` stores in iteration k (threads.c: tag())."""
    return ((index + 1) << 48) | (k + 1)


@pytest.fixture(scope="module", params=["plain", "slow"])
def traced(request, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("threads") / "trace.d")
    p = run_group([MMSCOPE, "run", "-o", out, "--map", GLOB, "--",
                   THREADS, str(N), request.param], 600)
    run = Run(p, out)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    truth = ground_truth(p.stdout)
    records = run.records()
    regions = {r["region"] for r in records
               if r["type"] == "map" and r["path"].startswith(PATH)}
    assert regions, "no MAP record for the threads memfd"
    accesses = [r for r in records if r["type"] == "access" and r["region"] in regions]
    return run, truth, accesses


def test_program_itself_sees_exact_counter_and_own_stores(traced):
    run, (threads, _, counter, expected, _, _), _ = traced
    assert expected == NTHREADS * N
    assert counter == expected, "LOCK INC lost or duplicated an increment under mmscope"
    assert len(threads) == NTHREADS
    for tid, t in threads.items():
        assert t["mismatches"] == 0, f"thread {t['index']} loaded a value it did not store"
        assert t["stores"] == t["loads"] == t["locked"] == N
    slow = any(t["xlats"] for t in threads.values())
    assert [t["xlats"] for t in threads.values() if t["index"] == 0] == [N if slow else 0]


@pytest.mark.parametrize("mode, extra_reads", [("plain", 0), ("slow", N)])
def test_native_run_prints_same_counts(mode, extra_reads):
    p = native([THREADS, str(N), mode])
    assert p.returncode == 0, p.stdout + p.stderr
    _, _, counter, expected, total_r, total_w = ground_truth(p.stdout)
    assert counter == expected == NTHREADS * N
    assert (total_r, total_w) == (2 * NTHREADS * N + 1 + extra_reads, 2 * NTHREADS * N)


def test_record_count_per_direction_equals_true_count(traced):
    _, (_, _, _, _, total_r, total_w), accesses = traced
    by_dir = collections.Counter(a["dir"] for a in accesses)
    assert by_dir["R"] == total_r
    assert by_dir["W"] == total_w
    assert len(accesses) == total_r + total_w


def test_records_from_all_eight_threads_with_exact_per_tid_counts(traced):
    _, (threads, main_tid, _, _, _, _), accesses = traced
    per_tid = collections.defaultdict(collections.Counter)
    for a in accesses:
        per_tid[a["tid"]][a["dir"]] += 1
    assert set(threads) <= set(per_tid), \
        f"no records from tids {sorted(set(threads) - set(per_tid))}"
    assert set(per_tid) == set(threads) | {main_tid}, \
        f"records from unexpected tids {sorted(set(per_tid) - set(threads) - {main_tid})}"
    for tid, t in threads.items():
        assert per_tid[tid] == collections.Counter(
            R=t["loads"] + t["locked"] + t["xlats"], W=t["stores"] + t["locked"]), \
            f"thread {t['index']} (tid {tid}, created {'before' if t['index'] < 4 else 'after'} the mapping)"
    assert per_tid[main_tid] == collections.Counter(R=1)


def test_each_lock_inc_is_one_locked_read_and_one_locked_write(traced):
    _, (threads, _, _, _, _, _), accesses = traced
    for tid, t in threads.items():
        mine = [a for a in accesses if a["tid"] == tid and a["offset"] == COUNTER_OFF]
        assert len(mine) == 2 * t["locked"]
        assert all("locked" in a["flags"] and a["width"] == 8 for a in mine)
        # in program order: R then W of the same instruction, N times
        assert [a["dir"] for a in mine] == ["R", "W"] * t["locked"]
        for r, w in zip(mine[0::2], mine[1::2]):
            assert r["pc"] == w["pc"]


def test_locked_values_if_revealed_form_an_exact_sequence(traced):
    """LOCK INC does not reveal the old value, so the record may say unknown;
    if the values are given, the reads must have seen 0..8N-1 exactly once."""
    _, _, accesses = traced
    reads = [a["value"] for a in accesses
             if a["offset"] == COUNTER_OFF and a["dir"] == "R" and "locked" in a["flags"]]
    known = [int(v, 16) for v in reads if v is not None]
    if known:
        assert len(known) == len(reads), "some locked values known, others not"
        assert sorted(known) == list(range(NTHREADS * N))


def test_stores_and_loads_carry_the_program_values_in_order(traced):
    _, (threads, _, _, _, _, _), accesses = traced
    for tid, t in threads.items():
        slot = [a for a in accesses if a["tid"] == tid and a["offset"] == t["slot"]]
        want = []
        for k in range(N):
            v = tag(t["index"], k)
            want += [("W", 8, v), ("R", 8, v)] + [("R", 1, v & 0xff)] * (t["xlats"] > 0)
        got = [(a["dir"], a["width"], None if a["value"] is None else int(a["value"], 16))
               for a in slot]
        assert [g[:2] for g in got] == [w[:2] for w in want], \
            f"thread {t['index']} slot records differ"
        # the XLAT is single-stepped: its value may be unknown, never wrong
        bad = [(g, w) for g, w in zip(got, want)
               if g[2] != w[2] and not (g[1] == 1 and g[2] is None)]
        assert not bad, f"thread {t['index']}: wrong values, first {bad[0]}"
        assert not any("locked" in a["flags"] for a in slot)


def test_main_thread_reads_the_final_counter(traced):
    _, (_, main_tid, counter, _, _, _), accesses = traced
    mine = [a for a in accesses if a["tid"] == main_tid]
    assert len(mine) == 1
    assert mine[0]["dir"] == "R" and mine[0]["offset"] == COUNTER_OFF
    assert int(mine[0]["value"], 16) == counter


def test_record_seqs_are_unique(traced):
    _, _, accesses = traced
    seqs = [a["seq"] for a in accesses]
    assert len(seqs) == len(set(seqs))
