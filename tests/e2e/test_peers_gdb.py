"""gdb through mmscope's stub into a program users run: Debian's sqlite3
in WAL mode, its wal-index (the DB-shm file) traced.  gdb stops at
sqlite3_step (libsqlite3's own export) three times and then at the
fourteenth call (`ignore`), shows the stack, reads
the traced wal-index through the stub, and detaches.  Ground truth: the
shell's output is identical to a native run's; the word gdb reads at the
wal-index's start is sqlite's WAL version (3007000, walformat.html), the
value the trace says sqlite last stored there, and the trace has that read
as the debugger's."""
import re
import subprocess

from conftest import MMSCOPE, GroupPopen, run_group, show_json
from peer_trace import expand, need
from test_gdbstub import wait_socket
from test_peers_sqlite import SCRIPT, SQLITE3

GDB_PY = """\
python
import re
regs = gdb.execute("monitor regions", to_string=True)
m = re.search(r"^r\\d+\\s+(0x[0-9a-f]+) .*traced", regs, re.M)
print("SHM", m.group(1) if m else "none")
if m:
    gdb.execute("x/1wx " + m.group(1))
end
"""


def test_gdb_stops_inside_sqlite_reads_its_traced_wal_index_and_the_shell_is_unchanged(tmp_path):
    need(SQLITE3, "sqlite3")
    nat = run_group([SQLITE3, str(tmp_path / "native.db")], 120, input=SCRIPT)
    assert nat.returncode == 0 and not nat.stderr, nat.stderr
    trace, sock = str(tmp_path / "t.d"), str(tmp_path / "gdb.sock")
    py = tmp_path / "regions.py.gdb"
    py.write_text(GDB_PY)
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", trace, "--map", "*-shm", f"--gdb=unix:{sock}",
                      "--gdb-wait", "--", SQLITE3, str(tmp_path / "traced.db")], 180,
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                     text=True)
    try:
        wait_socket(sock, run)
        # the script waits in the pipe while the program is stopped
        run.stdin.write(SCRIPT)
        run.stdin.close()
        g = run_group(["gdb", "-nx", "-batch", "-ex", "set pagination off",
                       "-ex", f"target remote {sock}", "-ex", "break sqlite3_step",
                       "-ex", "continue", "-ex", "continue", "-ex", "continue",
                       "-ex", "ignore 1 10", "-ex", "continue", "-ex", "bt 2", "-x", str(py), "-ex", "delete", "-ex", "detach",
                       SQLITE3], 120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
        out = run.stdout.read()
        err = run.stderr.read()
        run.wait(timeout=120)
    finally:
        run.kill_group()
    # three stops, then the fourteenth, by when the WAL is in use
    assert len(re.findall(r"Breakpoint 1, 0x[0-9a-f]+ in sqlite3_step \(\)", g)) == 4, g
    assert re.search(r"#0 +0x[0-9a-f]+ in sqlite3_step \(\) from .*libsqlite3", g), g
    assert "detached]" in g, g
    assert run.returncode == 0, err
    assert out == nat.stdout, (out, nat.stdout)
    addr = re.search(r"^SHM (0x[0-9a-f]+)$", g, re.M)
    assert addr, g
    shown = re.search(rf"^{hex(int(addr.group(1), 16))}:\s+(0x[0-9a-f]{{8}})$", g, re.M)
    assert shown and int(shown.group(1), 16) == 3007000, g
    acc = expand(show_json(trace))
    dbg = [a for a in acc if "debugger" in (a.get("flags") or [])]
    assert [(a["dir"], a["offset"], a["width"], int(a["value"], 16)) for a in dbg] == \
        [("R", 0, 4, 3007000)], dbg
    # what the trace says sqlite had stored at offset 0 before the read
    before = [a for a in acc if a["seq"] < dbg[0]["seq"] and a["dir"] == "W" and
              a["offset"] <= 0 < a["offset"] + a["width"] and "debugger" not in (a.get("flags") or [])]
    assert before, "no store by sqlite at the wal-index's start before gdb read it"
    last = before[-1]
    word = int(last["value"], 16) >> (8 * (0 - last["offset"])) & 0xffffffff
    assert word == 3007000, last


def test_mmscope_gdb_opens_a_connection_in_sqlite_started_without_gdb_and_the_shell_is_unchanged(
        tmp_path):
    """sqlite3 runs under mmscope without --gdb.  Half-way through its
    script, while it waits for more input, mmscope gdb opens the connection
    (one thread stopped with ptrace for the call), gdb shows where it
    waits, reads the traced wal-index (sqlite's WAL version, 3007000) and
    detaches.  The shell's output is the native run's, it exits 0."""
    need(SQLITE3, "sqlite3")
    nat = run_group([SQLITE3, str(tmp_path / "native.db")], 120, input=SCRIPT)
    assert nat.returncode == 0 and not nat.stderr, nat.stderr
    first, rest = SCRIPT.split("SELECT count(*)", 1)
    trace = str(tmp_path / "t.d")
    py = tmp_path / "regions.py.gdb"
    py.write_text(GDB_PY)
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", trace, "--map", "*-shm", "--", SQLITE3,
                      str(tmp_path / "traced.db")], 180, stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run.stdin.write(first + "SELECT 'HALF';\n")
        run.stdin.flush()
        out = ""
        while not out.endswith("HALF\n"):
            line = run.stdout.readline()
            assert line, run.stderr.read()
            out += line
        out = out[:-len("HALF\n")]
        pid = run_group(["pgrep", "-P", str(run.pid), "-x", "sqlite3"], 30).stdout.split()
        g = run_group([MMSCOPE, "gdb", pid[0], "--batch", "-nx", "-ex", "bt 8", "-x", str(py),
                       "-ex", "detach"], 120, stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT).stdout
        run.stdin.write("SELECT count(*)" + rest)
        run.stdin.close()
        out += run.stdout.read()
        err = run.stderr.read()
        run.wait(timeout=120)
    finally:
        run.kill_group()
    assert re.search(r"#\d+ .* in (__GI___libc_read|read|__libc_read) ", g), g
    assert "detached]" in g, g
    addr = re.search(r"^SHM (0x[0-9a-f]+)$", g, re.M)
    assert addr, g
    shown = re.search(rf"^{hex(int(addr.group(1), 16))}:\s+(0x[0-9a-f]{{8}})$", g, re.M)
    assert shown and int(shown.group(1), 16) == 3007000, g
    assert run.returncode == 0, err
    assert out == nat.stdout, (out, nat.stdout)
