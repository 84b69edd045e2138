"""What the engine cannot emulate is single-stepped with the other threads
parked, recorded as unknown_insn, and nothing else is lost meanwhile."""
import re

from conftest import prog

SLOW = prog("slowpath")


def test_unemulated_instructions_are_single_stepped_and_recorded(mmscope_run):
    run = mmscope_run([SLOW], maps=["/memfd:mmscope-slow*"])
    truth = dict(l.split() for l in run.stdout.splitlines())
    slow, stores = int(truth["SLOW"]), int(truth["HAMMER"])
    acc = run.accesses()
    stepped = [r for r in acc if "unknown_insn" in r["flags"]]
    # one record per slow-path instruction, with its bytes, value unknown
    assert len(stepped) == slow
    assert all(r["value"] is None and r["insn"] for r in stepped)
    # the hammering thread lost nothing while pages were open
    main_tid = stepped[0]["tid"]
    hammer = [r for r in acc if r["tid"] != main_tid]
    assert len(hammer) == stores
    assert stores > 0


def test_threads_born_during_a_single_step_are_parked_too(mmscope_run):
    """300 threads, each storing once as soon as it starts, are created while
    another thread's 32-bit addressed LODSBs are single-stepped on the same page.  A thread
    born after the park scan must be found and parked before the page is
    opened, or its store bypasses mmscope (before the fix, about half of
    the 300 stores were missing from the trace)."""
    spawn = prog("spawnstep")
    run = mmscope_run([spawn], maps=["/memfd:mmscope-spawn*"], timeout=120)
    assert "STORES 300" in run.stdout
    acc = run.accesses()
    stores = [a for a in acc if a["dir"] == "W"]
    assert len(stores) == 300
    assert sorted(a["offset"] for a in stores) == [4 * i for i in range(300)]
    loads = int(re.search(r"^LOADS (\d+)$", run.stdout, re.M).group(1))
    assert sum(1 for a in acc if a["dir"] == "R") == loads
