"""Processes: a forked child is traced into a stream of its own, exec keeps
tracing the new image, and a statically linked program (which the agent
cannot enter) is reported clearly instead of silently going untraced.

tests/progs/forker prints "PID <role> <pid>" per process and every traced
access as "ACCESS <pid> R|W 0x<offset> 0x<value>"; forker_static is the
same idea linked -static.
"""
import os
import re

from conftest import native, prog, show_json

FORKER = prog("forker")
FORKER_STATIC = prog("forker_static")
GLOB = "/memfd:mmscope-forker*"
PATH = "/memfd:mmscope-forker"


def pids(stdout):
    return {role: int(pid) for role, pid in re.findall(r"^PID (\w+) (\d+)$", stdout, re.M)}


def printed(stdout, pid=None):
    out = [(int(p), d, int(off, 16), int(val, 16)) for p, d, off, val in
           re.findall(r"^ACCESS (\d+) ([RW]) 0x([0-9a-f]+) 0x([0-9a-f]+)$", stdout, re.M)]
    return [a for a in out if pid is None or a[0] == pid]


def traced(records, pid=None):
    """(pid, dir, offset, value) of the forker memfd accesses, in seq order.
    A child's inherited mapping is recorded with its parent's region id, so
    accesses are matched by region within each process."""
    regions = {(r["pid"], r["region"]) for r in records if r["type"] == "map"}
    out = []
    for r in sorted(records, key=lambda r: r["seq"]):
        if r["type"] != "access" or (r["pid"], r["region"]) not in regions:
            continue
        if pid is not None and r["pid"] != pid:
            continue
        out.append((r["pid"], r["dir"], r["offset"],
                    None if r["value"] is None else int(r["value"], 16)))
    return out


def stream_files(trace_dir):
    return sorted(f for f in os.listdir(trace_dir) if f.endswith(".mms"))


def test_forked_child_is_traced_into_its_own_stream(mmscope_run):
    run = mmscope_run([FORKER, "fork"], maps=[GLOB])
    who = pids(run.stdout)
    parent, child = who["parent"], who["child"]
    assert parent != child
    records = run.records()
    assert any(r["type"] == "map" and r["path"].startswith(PATH) for r in records)
    assert traced(records, child) == printed(run.stdout, child)
    assert len(printed(run.stdout, child)) == 3
    names = stream_files(run.trace_dir)
    assert any(n.startswith(f"{child}-{child}-") for n in names), names
    # no stream holds records of both processes: pid comes from the stream
    # header, so the child's records live only in files named after it
    child_records = [r for r in records if r["pid"] == child]
    assert child_records and all(r["tid"] == child for r in child_records)


def test_parent_records_are_exactly_the_parents_accesses(mmscope_run):
    run = mmscope_run([FORKER, "fork"], maps=[GLOB])
    parent = pids(run.stdout)["parent"]
    assert traced(run.records(), parent) == printed(run.stdout, parent)
    assert len(printed(run.stdout, parent)) == 3


def test_show_pid_selects_the_childs_records_only(mmscope_run):
    run = mmscope_run([FORKER, "fork"], maps=[GLOB])
    child = pids(run.stdout)["child"]
    only = show_json(run.trace_dir, f"--pid={child}")
    assert only and all(r["pid"] == child for r in only)
    assert [r for r in run.records() if r["pid"] == child] == only
    assert traced(only) == printed(run.stdout, child)


def test_child_trace_records_the_fork_with_its_parent(mmscope_run):
    run = mmscope_run([FORKER, "fork"], maps=[GLOB])
    who = pids(run.stdout)
    forks = [r for r in run.records() if r["type"] == "proc" and r["event"] == "fork"]
    assert [(r["pid"], r["arg"]) for r in forks] == [(who["child"], who["parent"])]


def test_exec_keeps_tracing_the_new_image_in_the_same_pid(mmscope_run):
    run = mmscope_run([FORKER, "exec"], maps=[GLOB])
    who = pids(run.stdout)
    assert who["stage1"] == who["stage2"]
    pid = who["stage1"]
    records = run.records()
    assert traced(records) == printed(run.stdout)
    assert len(printed(run.stdout)) == 3
    execs = [r for r in records if r["type"] == "proc" and r["event"] == "exec"]
    assert len(execs) == 1 and execs[0]["pid"] == pid
    after = [r for r in records if r["seq"] > execs[0]["seq"]]
    # the new image mapped the memfd again and its accesses are recorded
    assert any(r["type"] == "map" and r["path"].startswith(PATH) for r in after)
    assert [(a["dir"], int(a["value"], 16)) for a in after if a["type"] == "access"] == \
        [("R", 0xe1), ("W", 0xe2)]
    assert all(r["pid"] == pid for r in records)


def test_static_program_run_directly_gets_a_clear_warning(mmscope_run):
    nat = native([FORKER_STATIC])
    assert nat.returncode == 0 and "STATIC ok" in nat.stdout
    run = mmscope_run([FORKER_STATIC], maps=["/memfd:mmscope-forker-static*"])
    assert "STATIC ok" in run.stdout
    assert re.search(r"statically linked", run.stderr), run.stderr
    assert FORKER_STATIC in run.stderr or "forker_static" in run.stderr


def test_exec_of_static_program_is_announced_on_stderr_and_in_trace(mmscope_run):
    run = mmscope_run([FORKER, "exec-static", FORKER_STATIC], maps=[GLOB])
    assert "STATIC ok" in run.stdout, "the static program was harmed"
    assert re.search(r"statically linked", run.stderr), run.stderr
    notes = [r for r in run.records() if r["type"] == "proc" and r["event"] == "note"]
    assert notes, "no PROC note record about the static exec"
    assert any("static" in n["text"] and "forker_static" in n["text"] for n in notes), notes
    # what happened before the exec is traced; after it nothing can be
    stage1 = pids(run.stdout)["stage1"]
    assert traced(run.records()) == [(stage1, "W", 0, 0x5e)]
