"""Reading a trace that is still being written (issue 7, D.16).

`show` on a growing trace reported false corruption (~2% of runs: a record
crossing the end the file had when show looked at it); `show --follow`
prints records as they come and stops when the program has exited; a FIFO
named *.mms hung `show`, and a stream whose header was zeroed vanished
without a word.  Ground truth: storeloop's stores (value i + 1 at slot
i % 512) and the trace `show` gives once the run is over."""
import glob
import json
import os
import shutil
import time

from conftest import MMSCOPE, GroupPopen, prog, run_group

LOOP = prog("storeloop")
MAP = "/memfd:mmscope-loop*"


def _start(tmp_path, n, opts=()):
    out = str(tmp_path / "live.d")
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", out, *opts, "--map", MAP, "--", LOOP, str(n)], 300,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not glob.glob(os.path.join(out, "*.mms")):
        assert run.poll() is None, f"mmscope run ended early: {run.communicate()}"
        assert time.monotonic() < deadline, "no stream file appeared"
        time.sleep(0.01)
    return run, out


def _json(stdout):
    return [json.loads(l) for l in stdout.splitlines() if l.strip()]


def _stores(records):
    return [(r["offset"], int(r["value"], 16)) for r in records
            if r["type"] == "access" and r["dir"] == "W"]


import subprocess  # noqa: E402  (GroupPopen's pipes)


def test_show_during_the_run_never_reports_corruption(tmp_path):
    # far more stores than it makes before the 40th look: killed then.  On
    # the fault path: that pace is the premise (a patched site makes the
    # 20M stores in seconds, before the looks are done; the records of a
    # patched site are checked against the fault path's in test_hot*.py)
    run, out = _start(tmp_path, 20_000_000, opts=["--hot=off"])
    looks, problems = 0, []
    try:
        while run.poll() is None and looks < 40:
            # --watch-only: every record is decoded and checked, few printed;
            # every tenth look prints all of them
            full = looks % 10 == 9
            p = run_group([MMSCOPE, "show", "--format=mmiotrace", "--no-header",
                           *([] if full else ["--watch-only"]), out], 120)
            looks += 1
            if p.returncode != 0 or p.stderr:
                problems.append(p.stderr.strip()[-500:])
            # what it printed is a prefix of what the program did
            values = [int(l.split()[5], 16) for l in p.stdout.splitlines() if l.startswith("W ")]
            assert values == list(range(1, len(values) + 1)), f"look {looks}: not a prefix"
            assert values or not full, f"look {looks} saw no stores"
            time.sleep(0.05)  # spread the looks over a growing trace
        assert run.poll() is None, f"the run ended early: {run.communicate()}"
    finally:
        run.kill_group()
    assert looks == 40
    assert not problems, f"{len(problems)} of {looks} looks complained: {problems[:3]}"


def test_follow_prints_every_record_and_stops_when_the_program_exits(tmp_path):
    n = 100000
    run, out = _start(tmp_path, n)
    try:
        follow = run_group([MMSCOPE, "show", "--follow", "--format=json", out], 300)
        stdout, stderr = run.communicate(timeout=300)
    finally:
        run.kill_group()
    assert "CHECK ok" in stdout, stderr
    assert follow.returncode == 0, follow.stderr
    after = run_group([MMSCOPE, "show", "--format=json", out], 300)
    assert after.returncode == 0, after.stderr
    got, want = _json(follow.stdout), _json(after.stdout)
    assert sorted(r["seq"] for r in got) == [r["seq"] for r in want]
    assert sorted(_stores(got)) == sorted(((i % 512) * 8, i + 1) for i in range(n))
    assert got[-1]["type"] == "proc" and got[-1]["event"] == "exit", got[-1]


def test_special_files_and_zeroed_headers_are_skipped_with_a_warning(tmp_path):
    out = str(tmp_path / "t.d")
    p = run_group([MMSCOPE, "run", "-q", "-o", out, "--map", MAP, "--", LOOP, "10"], 120)
    assert p.returncode == 0, p.stderr
    stream = sorted(glob.glob(os.path.join(out, "*.mms")))[0]
    os.mkfifo(os.path.join(out, "fifo.mms"))
    os.symlink(stream, os.path.join(out, "link.mms"))
    zeroed = os.path.join(out, "99999-99999-1.mms")
    shutil.copy(stream, zeroed)
    with open(zeroed, "r+b") as f:
        f.write(bytes(64))
    p = run_group([MMSCOPE, "show", "--format=json", out], 30)
    assert p.returncode == 0, p.stderr
    assert len(_stores(_json(p.stdout))) == 10
    assert f"{out}/fifo.mms: not a regular file" in p.stderr
    assert f"{out}/link.mms: a symbolic link, not followed" in p.stderr
    assert f"{zeroed}: the stream header is all zero but the file holds data" in p.stderr
