"""What the engine cannot emulate is single-stepped with the other threads
parked, recorded as unknown_insn, and nothing else is lost meanwhile."""
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
