"""The program's own debug registers come first (the kwatch lesson): a
program that opens four hardware breakpoints of its own while mmscope
watches four other variables in debug registers gets all four, gets
exactly its own traps, and mmscope moves its watches to pages and back
without losing a store made by a thread hammering one of them meanwhile."""
import json
import re
import subprocess

import pytest

from conftest import MMSCOPE, native, prog

OWNBP = prog("ownbp")


def test_program_breakpoints_succeed_and_no_watch_hit_is_lost(mmscope_run):
    slots = json.loads(subprocess.run([MMSCOPE, "probe", "--json"], capture_output=True,
                                      text=True, timeout=60).stdout)["slots"]
    if slots < 4:
        pytest.skip(f"needs 4 working debug registers, this host has {slots}")
    nat = native([OWNBP])
    assert nat.returncode == 0, nat.stdout
    opts = ["--hw-slots=4"]
    for i in range(4):
        opts += ["--watch", f"watched[{i}]"]
    run = mmscope_run([OWNBP], opts=opts)
    for i in range(4):
        assert f"OPEN {i} ok" in run.stdout
        assert f"OWN {i} 10" in run.stdout       # exactly its own traps
    assert "FOREIGN 0" in run.stdout
    recs = run.records("--watch-only")
    watches = [r for r in recs if r["type"] == "watch"]
    hits = [r for r in recs if r["type"] == "hit"]
    # every watch started in a register, stepped out to pages for the
    # program, and came back when the program closed its breakpoints
    by_id = {}
    for w in watches:
        by_id.setdefault(w["id"], []).append(w["mech"])
    assert sorted(by_id.values()) == [["hw", "page", "hw"]] * 4, by_id
    wrote = {int(m.group(1)): int(m.group(2))
             for m in re.finditer(r"^WROTE watched\[(\d)\] (\d+)$", run.stdout, re.M)}
    names = {w["id"]: w["expr"] for w in watches}
    for i in range(4):
        n = sum(1 for h in hits if names[h["watch"]] == f"watched[{i}]")
        assert n == wrote[i], (i, n, wrote[i])
    assert wrote[0] >= 450      # the hammer really ran through the moves


@pytest.mark.parametrize("slots,opens", [("4", 0), ("2", 2)])
def test_invasive_watches_keep_their_registers(mmscope_run, slots, opens):
    """--hw-invasive: the explicitly invasive class outranks the program
    (kwatch's "not well-behaved" caller): the program's breakpoints get
    only the registers the watches leave, and the watches never move."""
    n = json.loads(subprocess.run([MMSCOPE, "probe", "--json"], capture_output=True,
                                  text=True, timeout=60).stdout)["slots"]
    if n < 4:
        pytest.skip(f"needs 4 working debug registers, this host has {n}")
    opts = ["--hw-invasive", f"--hw-slots={slots}"]
    for i in range(4):
        opts += ["--watch", f"watched[{i}]"]
    run = mmscope_run([OWNBP], opts=opts, check=False)
    assert run.stdout.count(" ok\n") == opens, run.stdout
    assert run.stdout.count("No space left on device") == 4 - opens
    recs = run.records("--watch-only")
    watches = [r for r in recs if r["type"] == "watch"]
    assert len(watches) == 4        # armed once, never moved
    assert sum(1 for w in watches if w["mech"] == "hw") == int(slots)
    wrote = {int(m.group(1)): int(m.group(2))
             for m in re.finditer(r"^WROTE watched\[(\d)\] (\d+)$", run.stdout, re.M)}
    names = {w["id"]: w["expr"] for w in watches}
    hits = [r for r in recs if r["type"] == "hit"]
    for i in range(4):
        assert sum(1 for h in hits if names[h["watch"]] == f"watched[{i}]") == wrote[i]
