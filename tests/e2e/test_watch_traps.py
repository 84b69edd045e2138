"""Debug traps and faults are routed to one place that decides: mmscope
consumes its own watchpoints' SIGTRAPs and SIGSEGVs, and a program that
relies on its own SIGSEGV handler (lazy allocation) and its own SIGTRAP
handler (int3) on the very pages being watched runs as without mmscope."""
import pytest

from conftest import native, prog

OWNTRAPS = prog("owntraps")


@pytest.mark.parametrize("slots", ["0", "2"])
def test_own_segv_and_trap_handlers_on_watched_pages(mmscope_run, slots):
    nat = native([OWNTRAPS])
    assert nat.returncode == 0
    assert "SEGV 1\nINT3 3\nSTRANGE 0\nLAZY 5 7\nCOUNTER 3\n" == nat.stdout
    run = mmscope_run([OWNTRAPS], opts=[f"--hw-slots={slots}", "--watch", "lazy[1]",
                                        "--watch", "counter"])
    assert run.stdout == nat.stdout
    recs = run.records("--watch-only")
    names = {r["id"]: r["expr"] for r in recs if r["type"] == "watch"}
    hits = [(names[h["watch"]], int(h["old"], 16), int(h["new"], 16))
            for h in recs if h["type"] == "hit"]
    assert hits == [("lazy[1]", 0, 6), ("lazy[1]", 6, 7),
                    ("counter", 0, 1), ("counter", 1, 2), ("counter", 2, 3)]


@pytest.mark.parametrize("slots", ["0", "2"])
def test_own_trap_handler_keeps_sa_resethand_and_sa_mask(mmscope_run, slots):
    """SA_RESETHAND and sa_mask of the program's own SIGTRAP handler behave as
    without mmscope while mmscope's watchpoint traps share the signal."""
    nat = native([OWNTRAPS, "resethand"])
    # the second int3 meets the default action: killed by SIGTRAP
    assert nat.returncode == -5, (nat.returncode, nat.stdout)
    assert nat.stdout == "MASKED 1\nSECOND\n"
    run = mmscope_run([OWNTRAPS, "resethand"], opts=[f"--hw-slots={slots}", "--watch", "counter"],
                      check=False)
    assert run.returncode == 128 + 5, run.stderr
    assert run.stdout == nat.stdout
    recs = run.records("--watch-only")
    assert [int(h["new"], 16) for h in recs if h["type"] == "hit"] == [1, 10, 2]
