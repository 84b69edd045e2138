"""Long REP string instructions become run records (at most 4096 bytes
each), crossing stream blocks; expanded, they are exactly the CPU's
accesses.  A 16 KiB memset into a traced memfd killed the program (glibc's
memset is REP STOSB past 2 KiB; sqlite3 and numpy died of it): a run
record pointer survived the stream window moving."""
from conftest import MMSCOPE, prog, run_group

BIG = prog("bigstring")


def test_long_rep_runs_are_recorded_element_by_element(mmscope_run):
    run = mmscope_run([BIG], maps=["/memfd:mmscope-big*"])
    assert "CHECK ok" in run.stdout
    acc = [(a["dir"], a["width"], a["offset"], int(a["value"], 16)) for a in run.accesses()]
    want = [("W", 1, i, 0x5a) for i in range(65536)]
    for i in range(20000):
        want += [("R", 1, 0x8000 + i, i % 251), ("W", 1, i, i % 251)]
    want += [("W", 8, 0x8000 + 8 * i, 0x1122334455667788) for i in range(1000)]
    assert acc == want
    # runs, not one record per byte
    recs = [r for r in run.records() if r["type"] == "access"]
    assert len(recs) < 100


POLL = prog("poll")
N = 3000


def _poll_truth():
    return ([("R", 4, 0x40, 0)] * N + [("W", 4, 0x40, 1)] + [("R", 4, 0x40, 1)] * N +
            [("R", 4, 0x40 + 4 * (i & 1), 1 if i % 2 == 0 else 0) for i in range(N)])


def test_identical_polls_are_one_record_with_an_exact_count(mmscope_run):
    run = mmscope_run([POLL, str(N)], maps=["/memfd:mmscope-poll*"])
    assert f"SEEN {N} {N}" in run.stdout, run.stdout
    acc = [(a["dir"], a["width"], a["offset"], int(a["value"], 16)) for a in run.accesses()]
    assert acc == _poll_truth()
    recs = [r for r in run.records() if r["type"] == "access"]
    # the two identical polls are one record each; the alternating reads are not merged
    assert [r["count"] for r in recs[:3]] == [N, 1, N]
    assert len(recs) == 3 + N
    assert recs[0]["last_ts_ns"] > recs[0]["ts_ns"]
    text = [l for l in run_group([MMSCOPE, "show", run.trace_dir], 60).stdout.splitlines()
            if " R  4 r" in l or " W  4 r" in l]
    assert f"= 0x00000000 (x{N}, the last at " in text[0], text[0]


def _mmio_accesses(trace_dir, base):
    p = run_group([MMSCOPE, "show", "--format=mmiotrace", trace_dir], 300)
    assert p.returncode == 0, p.stderr
    out = []
    for line in p.stdout.splitlines():
        f = line.split()
        if f[0] in ("R", "W"):
            out.append((f[0], int(f[1]), int(f[4], 16) - base, int(f[5], 16)))
    return out


def _text_expanded(trace_dir):
    p = run_group([MMSCOPE, "show", "--expand", "--no-header", trace_dir], 300)
    assert p.returncode == 0, p.stderr
    out = []
    for line in p.stdout.splitlines():
        f = line.split()
        if f[2] in ("R", "W"):
            out.append((f[2], int(f[3]), int(f[5][1:], 16), int(f[7], 16)))
    return out


def _base(run):
    return next(int(r["addr"], 16) for r in run.records() if r["type"] == "map")


def test_mmiotrace_and_text_expand_give_one_line_per_access(mmscope_run):
    """Nothing is lost to anyone who counts lines: the mmiotrace export and
    `show --expand` give every access the records stand for, in order --
    repeats, string runs and a MOVS pair (reads and writes interleaved)."""
    run = mmscope_run([POLL, str(N)], maps=["/memfd:mmscope-poll*"])
    assert _mmio_accesses(run.trace_dir, _base(run)) == _poll_truth()
    assert _text_expanded(run.trace_dir) == _poll_truth()

    run = mmscope_run([BIG], maps=["/memfd:mmscope-big*"])
    assert "CHECK ok" in run.stdout
    want = [("W", 1, i, 0x5a) for i in range(65536)]
    for i in range(20000):
        want += [("R", 1, 0x8000 + i, i % 251), ("W", 1, i, i % 251)]
    mmio = _mmio_accesses(run.trace_dir, _base(run))
    # mmiotrace has no line wider than 8 bytes: REP STOSQ stays 8
    want += [("W", 8, 0x8000 + 8 * i, 0x1122334455667788) for i in range(1000)]
    assert mmio == want
    assert _text_expanded(run.trace_dir) == want
