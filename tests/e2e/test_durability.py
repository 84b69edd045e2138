"""Durability: a trace whose program was SIGKILLed decodes completely, and a
stream cut short decodes up to the cut.

tests/progs/killme prints its pid, makes K traced accesses (printing each),
prints DONE and waits on stdin.  The test kills it with SIGKILL: nothing in
the program gets to flush anything, so every record must already be in the
trace files (the agent writes into a MAP_SHARED tail of each, whose records
a reader takes after the file's).
"""
import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import MMSCOPE, GroupPopen, prog, show_json, stream_records

KILLME = prog("killme")
GLOB = "/memfd:mmscope-killme*"
PATH = "/memfd:mmscope-killme"
K = 3000


def printed(stdout):
    return [(d, int(off, 16), int(val, 16)) for d, off, val in
            re.findall(r"^ACCESS ([RW]) 0x([0-9a-f]+) 0x([0-9a-f]+)$", stdout, re.M)]


def traced(records):
    regions = {r["region"] for r in records
               if r["type"] == "map" and r["path"].startswith(PATH)}
    return [(a["dir"], a["offset"], None if a["value"] is None else int(a["value"], 16))
            for a in records if a["type"] == "access" and a["region"] in regions]


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """Run killme under mmscope, SIGKILL it once it said DONE."""
    out = str(tmp_path_factory.mktemp("killme") / "trace.d")
    p = GroupPopen([MMSCOPE, "run", "-o", out, "--map", GLOB, "--", KILLME, str(K)], 600,
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True)
    lines = []
    pid = None
    try:
        for line in p.stdout:
            lines.append(line)
            if line.startswith("PID "):
                pid = int(line.split()[1])
            if line.startswith("DONE "):
                break
        assert pid is not None, "killme never printed its pid"
        assert lines and lines[-1].startswith("DONE "), "".join(lines)
        os.kill(pid, signal.SIGKILL)
        rest, err = p.communicate(timeout=120)
    finally:
        p.kill_group()
    stdout = "".join(lines) + rest
    return dict(trace=out, returncode=p.returncode, stdout=stdout, stderr=err, pid=pid)


def test_mmscope_run_reports_the_sigkill(killed):
    assert killed["returncode"] == 128 + signal.SIGKILL, killed["stderr"]
    assert re.search(r"killed by signal 9", killed["stderr"]), killed["stderr"]


def test_show_decodes_every_access_made_before_the_kill(killed):
    want = printed(killed["stdout"])
    m = re.search(r"^DONE K=(\d+) R=(\d+) W=(\d+)$", killed["stdout"], re.M)
    assert m and int(m.group(1)) == K == len(want)
    p = subprocess.run([MMSCOPE, "show", "--format=json", killed["trace"]],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    records = show_json(killed["trace"])
    assert traced(records) == want
    assert all(r["pid"] == killed["pid"] for r in records)


def read_stream(path):
    """[(offset, type, size)] of the records of a stream file (the file's,
    then its tail's: conftest.stream_records)."""
    with open(path, "rb") as f:
        return stream_records(f.read())


def access_stream(trace_dir):
    """The stream file holding the most records (killme has one thread)."""
    names = [n for n in os.listdir(trace_dir) if n.endswith(".mms")]
    return max(names, key=lambda n: len(read_stream(os.path.join(trace_dir, n))))


def cut_copy(killed, tmp_path, where):
    """A copy of the trace with the main stream truncated; where(records)
    gives (byte length to keep, number of whole records kept)."""
    copy = str(tmp_path / "cut.d")
    shutil.copytree(killed["trace"], copy)
    name = access_stream(copy)
    path = os.path.join(copy, name)
    recs = read_stream(path)
    assert len(recs) > K, "the stream should hold all K accesses"
    length, kept = where(recs)
    # the cut is in the records written out to the file; the tail's,
    # which follow them, are then not read (docs/trace-format.md)
    assert length < os.path.getsize(path), (length, os.path.getsize(path))
    os.truncate(path, length)
    return copy, name, kept


def from_run(r):
    """The exit record `mmscope run` adds, in a stream of its own (with
    the program's pid and tid), which the cut leaves intact."""
    return r["type"] == "proc" and r["event"] == "exit"


def program_stream(recs):
    """The records of the program's own stream."""
    return [r for r in recs if not from_run(r)]


def outside_stream(recs):
    return [r for r in recs if from_run(r)]


def test_stream_cut_mid_record_decodes_everything_before_the_cut(killed, tmp_path):
    full = show_json(killed["trace"])
    copy, name, kept = cut_copy(
        killed, tmp_path, lambda recs: (recs[len(recs) // 2][0] + 20, len(recs) // 2))
    p = subprocess.run([MMSCOPE, "show", "--format=json", copy],
                       capture_output=True, text=True, timeout=300)
    got = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    # one program stream: its records in file order are the trace's order
    assert program_stream(got) == program_stream(full)[:kept]
    assert outside_stream(got) == outside_stream(full)
    # docs/trace-format.md: a record running past the end of the file is
    # reported (file and byte offset) and show exits 1
    assert p.returncode == 1, p.stderr
    assert name in p.stderr, p.stderr


def test_stream_cut_at_a_record_boundary_is_a_clean_end(killed, tmp_path):
    full = show_json(killed["trace"])
    copy, _, kept = cut_copy(
        killed, tmp_path, lambda recs: (recs[len(recs) // 3][0], len(recs) // 3))
    p = subprocess.run([MMSCOPE, "show", "--format=json", copy],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    got = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    assert program_stream(got) == program_stream(full)[:kept]
    assert outside_stream(got) == outside_stream(full)


def test_stream_cut_inside_a_record_header_decodes_everything_before(killed, tmp_path):
    full = show_json(killed["trace"])
    copy, name, kept = cut_copy(
        killed, tmp_path, lambda recs: (recs[100][0] + 3, 100))
    p = subprocess.run([MMSCOPE, "show", "--format=json", copy],
                       capture_output=True, text=True, timeout=300)
    got = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    assert program_stream(got) == program_stream(full)[:kept]
    assert outside_stream(got) == outside_stream(full)
    # fewer than 8 bytes left that are not all zero: corrupt per the format doc
    assert p.returncode == 1 and name in p.stderr, p.stderr


def test_trace_ends_with_the_exit_status_mmscope_run_saw(killed):
    exits = [r for r in show_json(killed["trace"])
             if r["type"] == "proc" and r["event"] == "exit"]
    assert len(exits) == 1
    assert exits[0]["arg"] == -9 and exits[0]["text"] == "killed by signal"
