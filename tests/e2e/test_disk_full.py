"""Issue 7, C.12: a full or nearly full disk.  The trace directory is put
on a small tmpfs whose free space is set exactly; the program (storeloop:
N distinct 8-byte stores to a memfd, then 512 loads checking them) must run
as without mmscope, and every access it made must be either in the trace
or counted by a LOST record — exactly."""
import os
import re
import subprocess

import pytest

from conftest import MMSCOPE, prog, run_group, show_json

STORELOOP = prog("storeloop")
N = 40000
CHECK_LOADS = 512


@pytest.fixture
def small_fs(tmp_path):
    """A 4 MiB tmpfs; yields (mountpoint, fill(free_bytes))."""
    mnt = tmp_path / "fs"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {p.stderr.strip()}")

    def fill(free):
        st = os.statvfs(mnt)
        have = st.f_bavail * st.f_frsize
        if have > free:
            subprocess.run(["fallocate", "-l", str(have - free), str(mnt / "filler")],
                           check=True)
        st = os.statvfs(mnt)
        return st.f_bavail * st.f_frsize

    try:
        yield mnt, fill
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def run_storeloop(out, *extra_args):
    """The traced program in a process group of its own, killed whole on
    timeout."""
    return run_group([MMSCOPE, "run", "-o", str(out), "--map", "/memfd:mmscope-loop*",
                      "--", STORELOOP, str(N), *extra_args], 300)


@pytest.mark.parametrize("free_kib", [2048, 512])
def test_every_access_is_recorded_or_counted_lost_and_the_log_says_disk_full(small_fs,
                                                                            free_kib):
    mnt, fill = small_fs
    fill(free_kib * 1024)
    out = mnt / "t"
    p = run_storeloop(out)
    assert p.returncode == 0, p.stderr
    assert f"STORES {N}" in p.stdout and "CHECK ok" in p.stdout
    recs = show_json(str(out))
    accesses = sum(r.get("count", 1) for r in recs if r["type"] == "access")
    lost = sum(r["count"] for r in recs if r["type"] == "lost")
    assert lost > 0, "the disk was not full enough to lose anything"
    assert accesses + lost == N + CHECK_LOADS
    log = (out / "agent.log").read_text()
    assert "disk full" in log, log


def test_with_four_kib_free_the_program_runs_untouched(small_fs):
    """No room even for the sequence page: the program must not die of
    SIGBUS (it did, and so did mmscope run), and mmscope says why."""
    mnt, fill = small_fs
    fill(4096)
    p = run_storeloop(mnt / "t")
    assert p.returncode == 0, p.stderr
    assert f"STORES {N}" in p.stdout and "CHECK ok" in p.stdout
    assert re.search(r"No space left on device|disk full", p.stderr), p.stderr


def test_three_hundred_short_fork_children_leave_small_streams(mmscope_run):
    """Every fork child gets its own stream; each used to take a whole
    1 MiB window on disk (300 children: 302 MB for 1,200 accesses)."""
    run = mmscope_run([STORELOOP, "100", "300"], maps=["/memfd:mmscope-loop*"])
    assert "CHILDREN 300" in run.stdout and "CHECK ok" in run.stdout
    streams = [f for f in os.listdir(run.trace_dir) if f.endswith(".mms")]
    assert len(streams) >= 301
    used = sum(os.stat(os.path.join(run.trace_dir, f)).st_blocks * 512 for f in streams)
    # one store per child, plus its MAP/PROC records: far below a window each
    # (measured: 16 KiB, the first block, per child stream)
    assert used < len(streams) * 32 * 1024, f"{used} bytes on disk for {len(streams)} streams"
    acc = run.accesses()
    child_stores = [a for a in acc if a["dir"] == "W" and a["offset"] >= 4096]
    assert len(child_stores) == 300
