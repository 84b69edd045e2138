"""Long REP string instructions become run records (at most 4096 bytes
each), crossing stream blocks; expanded, they are exactly the CPU's
accesses.  A 16 KiB memset into a traced memfd killed the program (glibc's
memset is REP STOSB past 2 KiB; sqlite3 and numpy died of it): a run
record pointer survived the stream window moving."""
from conftest import prog

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
