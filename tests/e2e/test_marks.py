"""Markers: mmscope_mark() from the program and `mmscope mark PID TEXT` from
outside become MARK records, ordered (by seq) with the accesses around them.

tests/progs/marks prints, in program order, "ACCESS R|W 0x<off> 0x<value>"
for each traced access and "MARK <text>" for each mmscope_mark() call.
"""
import re
import subprocess

import pytest

from conftest import MMSCOPE, GroupPopen, native, prog, show_json

MARKS = prog("marks")
GLOB = "/memfd:mmscope-marks*"
PATH = "/memfd:mmscope-marks"


def printed(stdout):
    out = []
    for line in stdout.splitlines():
        m = re.match(r"ACCESS ([RW]) 0x([0-9a-f]+) 0x([0-9a-f]+)$", line)
        if m:
            out.append(("access", m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
        elif line.startswith("MARK "):
            out.append(("mark", line[len("MARK "):]))
    return out


def timeline(records):
    """Accesses to the marks memfd and MARK records, in seq order."""
    regions = {r["region"] for r in records
               if r["type"] == "map" and r["path"].startswith(PATH)}
    out = []
    for r in sorted(records, key=lambda r: r["seq"]):
        if r["type"] == "access" and r["region"] in regions:
            out.append(("access", r["dir"], r["offset"],
                        None if r["value"] is None else int(r["value"], 16)))
        elif r["type"] == "mark":
            out.append(("mark", r["text"]))
    return out


def test_program_marks_appear_in_order_with_the_accesses_around_them(mmscope_run):
    run = mmscope_run([MARKS, "api"], maps=[GLOB])
    want = printed(run.stdout)
    assert sum(1 for w in want if w[0] == "mark") == 4
    assert timeline(run.records()) == want


def test_program_marks_come_from_the_calling_thread(mmscope_run):
    run = mmscope_run([MARKS, "api"], maps=[GLOB])
    pid = int(re.search(r"^PID (\d+)$", run.stdout, re.M).group(1))
    marks = [r for r in run.records() if r["type"] == "mark"]
    assert marks and all(r["pid"] == pid and r["tid"] == pid for r in marks)


def test_marker_api_is_a_no_op_without_mmscope():
    p = native([MARKS, "api"])
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert [w[0] for w in printed(p.stdout)].count("mark") == 4


class Waiting:
    """`marks wait` under mmscope (or natively), stopped at READY."""

    def __init__(self, argv, trace_dir=None):
        self.trace_dir = trace_dir
        self.p = GroupPopen(argv, 600, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
        self.lines = []
        for line in self.p.stdout:
            self.lines.append(line)
            if line.startswith("READY"):
                break
        assert self.lines and self.lines[-1].startswith("READY"), "".join(self.lines)
        self.pid = int(re.search(r"^PID (\d+)$", "".join(self.lines), re.M).group(1))

    def finish(self):
        out, err = self.p.communicate("go\n", timeout=120)
        self.stdout = "".join(self.lines) + out
        self.stderr = err
        return self.p.returncode

    def kill(self):
        self.p.kill_group()


@pytest.fixture
def waiting(tmp_path):
    started = []

    def start(traced=True):
        if traced:
            out = str(tmp_path / f"trace{len(started)}.d")
            w = Waiting([MMSCOPE, "run", "-o", out, "--map", GLOB, "--", MARKS, "wait"], out)
        else:
            w = Waiting([MARKS, "wait"])
        started.append(w)
        return w

    yield start
    for w in started:
        w.kill()


def mmscope_mark(pid, *text):
    return subprocess.run([MMSCOPE, "mark", str(pid), *text], capture_output=True,
                          text=True, timeout=60)


def test_mmscope_mark_from_outside_lands_between_the_accesses(waiting):
    w = waiting()
    m = mmscope_mark(w.pid, "from", "outside")
    assert m.returncode == 0, m.stderr
    assert w.finish() == 0, w.stderr
    recs = show_json(w.trace_dir)
    assert timeline(recs) == [("access", "W", 0, 0xbef0), ("mark", "from outside"),
                              ("access", "W", 8, 0xaf7e)]
    mark = [r for r in recs if r["type"] == "mark"]
    assert mark[0]["pid"] == w.pid


def test_several_outside_marks_keep_their_order(waiting):
    w = waiting()
    for text in ("first", "second", "third"):
        m = mmscope_mark(w.pid, text)
        assert m.returncode == 0, m.stderr
    assert w.finish() == 0, w.stderr
    assert timeline(show_json(w.trace_dir)) == [
        ("access", "W", 0, 0xbef0), ("mark", "first"), ("mark", "second"),
        ("mark", "third"), ("access", "W", 8, 0xaf7e)]


def test_mmscope_mark_on_a_process_not_under_mmscope_is_refused(waiting):
    w = waiting(traced=False)
    m = mmscope_mark(w.pid, "nobody", "listens")
    assert m.returncode == 1
    assert "not running under mmscope" in m.stderr, m.stderr
    assert str(w.pid) in m.stderr
    assert w.finish() == 0      # and the program was not disturbed


def test_mmscope_mark_on_a_nonexistent_pid_is_an_error():
    # pid_max is at most 2^22; this pid cannot exist
    pid = 2 ** 22 + 1
    m = mmscope_mark(pid, "nobody")
    assert m.returncode == 1, m.stderr
    assert str(pid) in m.stderr, m.stderr
