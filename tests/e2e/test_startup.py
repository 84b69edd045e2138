"""A mapping that already exists when the agent starts (here made by a
library constructor that runs before the agent's) is traced from then on:
the agent finds it in /proc/self/maps and arms it."""
from conftest import native, prog

EARLY = prog("early")


def test_a_mapping_made_before_the_agent_started_is_traced(mmscope_run):
    nat = native([EARLY])
    assert nat.returncode == 0 and nat.stdout == "W 0x4 7\nR 0x4 7\n"
    run = mmscope_run([EARLY], maps=["/memfd:mmscope-early*"])
    assert run.stdout == nat.stdout
    recs = run.records()
    maps = [r for r in recs if r["type"] == "map"]
    assert len(maps) == 1
    # found at startup, not seen being made: no caller pc, flagged inherited
    assert maps[0]["flags"] == ["inherited"] and maps[0]["pc"] == "0x0"
    acc = [(r["dir"], r["offset"], int(r["value"], 16)) for r in recs if r["type"] == "access"]
    assert acc == [("W", 4, 7), ("R", 4, 7)]


def test_show_names_where_each_access_was_made(mmscope_run):
    run = mmscope_run([EARLY], maps=["/memfd:mmscope-early*"])
    acc = [r for r in run.records() if r["type"] == "access"]
    assert len(acc) == 2
    for r in acc:
        # main() of tests/progs/early.c, from its symbol table and DWARF
        assert r["where"].startswith("main+0x"), r
        assert "early.c:" in r["where"], r
