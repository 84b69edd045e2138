"""The program's own hardware breakpoint on memory mmscope completes
accesses to (issue 7, C.11): a traced mapping, a page mmscope watches, or
neither (mmscope's watch in a debug register beside it).  tests/progs/
bpshare prints every trap its handler got (site, si_code, si_addr,
si_perf_data, si_perf_type, si_perf_flags, si_errno), each breakpoint's
perf count and the sum of its loads: under mmscope all of it must be what
it is without mmscope, and the trace must still hold every access."""
import pytest

from conftest import expand, native, prog

BPSHARE = prog("bpshare")

MODES = {
    "traced": dict(maps=["/memfd:mmscope-bp*"]),
    "page-watch": dict(opts=["--hw-slots=0", "--watch", "near[0]"]),
    "register-watch": dict(opts=["--watch", "near[0]"]),
    # mmscope's page watch on the very bytes of the program's breakpoint
    "same-bytes": dict(opts=["--hw-slots=0", "--watch", "near[1]"]),
}


def ground_truth(argv):
    nat = native(argv, timeout=60)
    if nat.returncode == 1 and "perf_event_open" in nat.stderr:
        pytest.skip(f"this host cannot open hardware breakpoints: {nat.stderr.strip()}")
    if "COUNT near 0" in nat.stdout:
        pytest.skip("this host's data breakpoints do not fire (count 0 natively)")
    return nat


@pytest.mark.parametrize("mode", MODES)
def test_breakpoints_trap_exactly_as_without_mmscope(mmscope_run, mode):
    nat = ground_truth([BPSHARE])
    assert nat.returncode == 0, nat.stderr
    assert nat.stdout.count("TRAP ") == 16, nat.stdout   # the program's own check
    run = mmscope_run([BPSHARE], timeout=120, **MODES[mode])
    assert run.returncode == 0, run.stderr
    assert run.stdout == nat.stdout


def test_traced_accesses_under_a_breakpoint_are_all_recorded(mmscope_run):
    """The accesses the breakpoint sees run natively; the trace still has
    each one, exactly once, in order, with the value where the instruction
    shows it (a MOV), and flagged value_unknown where it does not (the
    locked add: the engine's compare-exchange would not be seen by the
    debug register)."""
    ground_truth([BPSHARE])
    run = mmscope_run([BPSHARE], timeout=120, **MODES["traced"])
    assert run.returncode == 0, run.stderr
    main = next(r["tid"] for r in run.records() if r["type"] == "proc")
    want, v8 = [("W", 0, 8, 1, [])], 0
    for k in range(3):
        want += [("R", 0x40, 8, v8, []), ("W", 0x40, 8, k + 30, [])]
        v8 = k + 30
        want += [("R", 0x40, 8, None, ["value_unknown", "locked"]),
                 ("W", 0x40, 8, None, ["value_unknown", "locked"])]
        v8 += 1
        want += [("R", 0, 8, 1, []), ("W", 0x44, 4, k + 50, [])]
        v8 = (v8 & 0xffffffff) | ((k + 50) << 32)
    want += [("W", 0x40, 8, 41, ["thread"]), ("R", 0x40, 8, 41, [])]
    got = []
    for a in run.accesses():
        flags = list(a["flags"]) + (["thread"] if a["tid"] != main else [])
        value = None if a["value"] is None else int(a["value"], 16)
        got.append((a["dir"], a["offset"], a["width"], value, flags))
    assert got == want


def test_a_breakpoint_without_handler_kills_as_without_mmscope(mmscope_run):
    """No SIGTRAP handler: the first trap (near[1], on the page mmscope
    watches, so its TRAP_PERF is the one mmscope hands on) kills the
    program with SIGTRAP, as it does natively."""
    nat = ground_truth([BPSHARE, "default"])
    assert nat.returncode == -5, (nat.returncode, nat.stderr)
    run = mmscope_run([BPSHARE, "default"], timeout=120, check=False, **MODES["page-watch"])
    assert run.returncode == 128 + 5, (run.returncode, run.stderr)
    assert run.stdout == nat.stdout == ""
    assert "killed by signal 5" in run.stderr


def test_a_page_watch_on_the_breakpoint_bytes_sees_every_store(mmscope_run):
    """mmscope's page watch and the program's breakpoint on the same
    bytes: both see each store (the program's own check is in
    test_breakpoints_trap_exactly_as_without_mmscope[same-bytes])."""
    ground_truth([BPSHARE])
    run = mmscope_run([BPSHARE], timeout=120, **MODES["same-bytes"])
    hits = [r for r in run.records() if r["type"] == "hit"]
    assert [(h["dir"], int(h["old"], 16), int(h["new"], 16)) for h in hits] == \
        [("W", 0, 10), ("W", 10, 11), ("W", 11, 12), ("W", 12, 40)]


def test_breakpoint_steps_while_other_threads_hammer(mmscope_run):
    """Thirty rounds of the breakpoint accesses, each one a parked-threads
    step, while two threads store to the traced mapping and to the watched
    page all the while: the program's traps and counts are as without
    mmscope, and no store of either hammer is lost from the trace."""
    rounds = 30
    nat = ground_truth([BPSHARE, "hammer", str(rounds)])
    assert nat.returncode == 0, nat.stderr
    run = mmscope_run([BPSHARE, "hammer", str(rounds)], timeout=300,
                      maps=["/memfd:mmscope-bp*"],
                      opts=["--hw-slots=0", "--watch", "near[0]"])

    def steady(out):
        return [ln for ln in out.splitlines() if not ln.startswith("HAMMER ")]
    assert steady(run.stdout) == steady(nat.stdout)
    assert f"TRAPS store_near {rounds}" in run.stdout
    hammered = {m: int(n) for _, m, n in
                (ln.split() for ln in run.stdout.splitlines() if ln.startswith("HAMMER "))}
    recs = run.records()
    ring16 = [int(a["value"], 16) for a in expand(recs) if a["offset"] == 0x80]
    assert ring16 == [100 + i for i in range(hammered["ring[16]"])]
    near0 = [r for r in recs if r["type"] == "hit"]
    # the hammer's stores, the main thread's store_far and its first store
    assert len(near0) == hammered["near[0]"] + rounds + 1
