"""Opening the debugger connection later, in a program started without
--gdb (docs/debugging.md, "Opening the connection later").  The program is
tests/progs/lateme: its threads stand where programs stand (its own code,
poll, epoll_wait, nanosleep, read) and count what they would notice if
mmscope disturbed them -- EINTR, a signal, a sleep cut short.  Its own
counts and stores are the ground truth."""
import json
import os
import re
import subprocess
import time

from conftest import MMSCOPE, GroupPopen, prog, run_group, show_json

LATEME = prog("lateme")


class Late:
    def __init__(self, tmp_path, *args):
        self.trace = str(tmp_path / "t.d")
        self.run = GroupPopen([MMSCOPE, "run", "-q", "-o", self.trace, "--map", "/memfd:lateme*",
                               "--", LATEME, *args], 300,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, bufsize=1)
        m = re.match(r"READY (\d+) (0x[0-9a-f]+)", self.run.stdout.readline())
        assert m, "lateme did not start"
        self.pid = int(m.group(1))
        self.commands = self.run.stdin
        time.sleep(0.3)  # every thread has reached its wait

    @classmethod
    def on_fifo(cls, tmp_path, *mode):
        """lateme reading its commands from a FIFO: main waits in open()
        until open_commands() opens it for writing."""
        fifo = str(tmp_path / "cmds")
        os.mkfifo(fifo)
        p = cls(tmp_path, fifo, *mode)
        p.fifo = fifo
        return p

    def open_commands(self):
        self.commands = open(self.fifo, "w")  # main's open() returns now

    def send(self, line):
        self.commands.write(line + "\n")
        self.commands.flush()
        return self.run.stdout.readline()

    def finish(self):
        self.commands.write("quit\n")
        self.commands.close()
        rest = self.run.stdout.read()
        self.run.wait(timeout=60)
        self.run.kill_group()
        return rest


def mmscope(*args, timeout=120):
    r = run_group([MMSCOPE, *map(str, args)], timeout)
    return r.returncode, r.stdout + r.stderr


def gdb_late(target, *cmds):
    argv = ["gdb", target, "--batch", "-nx"]
    for c in cmds:
        argv += ["-ex", c]
    return mmscope(*argv)


def stores_in_trace(trace):
    return [int(r["value"], 16) for r in show_json(trace)
            if r["type"] == "access" and r["dir"] == "W"]


def test_mmscope_gdb_opens_the_connection_later_and_the_program_notices_nothing(tmp_path):
    p = Late(tmp_path)
    try:
        assert p.send("store 10") == "STORED 10\n"
        rc, out = gdb_late(p.pid, "info threads", "print/d counter", "detach")
        assert rc == 0, out
        assert re.search(r"^\$1 = 10$", out, re.M), out
        threads = re.findall(r"^\*?\s+\d+\s+Thread \d+\.(\d+)", out, re.M)
        assert len(threads) == 5, out  # main and its four; not mmscope's
        assert "detached" in out, out
        assert p.send("store 5") == "STORED 15\n"
        # the connection stays: ctl by trace directory and gdb again use it
        rc, out = mmscope("ctl", p.trace, "regions")
        assert rc == 0, out
        assert [r["traced"] for r in json.loads(out)["regions"]] == [True], out
        rc, out = gdb_late(p.trace, "print/d counter", "detach")
        assert rc == 0 and re.search(r"^\$1 = 15$", out, re.M), out
        status = p.send("status").split()
        assert status[0] == "STATUS" and int(status[1]) > 0, status  # it spun on
        assert p.finish() == "DONE 0 0 0\n"  # no EINTR, no signal, no short sleep
    finally:
        p.run.kill_group()
    assert p.run.returncode == 0
    assert stores_in_trace(p.trace) == list(range(1, 16))
    log = open(os.path.join(p.trace, "agent.log")).read()
    assert "debugger connection opened later" in log, log
    assert not os.path.exists(os.path.join(p.trace, f"gdb-{p.pid}.sock"))  # gone at exit


def test_a_running_thread_is_used_when_main_waits_where_mmscope_must_not(tmp_path):
    """main waits in open() of a FIFO (never used: the C library may hold
    a lock there); the spinning thread is used instead.  ctl by the run's
    pid opens it, and its watch sees every store after."""
    p = Late.on_fifo(tmp_path)
    ctl = GroupPopen([MMSCOPE, "ctl", str(p.run.pid)], 120, stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        ctl.stdin.write("watch counter\n")
        answer = ctl.stdout.readline()
        assert json.loads(answer)["ok"], answer
        p.open_commands()
        assert p.send("store 4") == "STORED 4\n"
        ctl.stdin.close()  # the session ends, its watch with it
        assert ctl.wait(timeout=60) == 0, ctl.stdout.read()
        deadline = time.monotonic() + 30  # its teardown runs on the stub's thread
        while json.loads(mmscope("ctl", p.pid, "watches")[1])["watches"]:
            assert time.monotonic() < deadline, "the session's watch stayed"
            time.sleep(0.02)
        assert p.send("store 2") == "STORED 6\n"
        assert p.finish() == "DONE 0 0 0\n"
    finally:
        ctl.kill_group()
        p.run.kill_group()
    assert p.run.returncode == 0
    hits = [int(r["new"], 16) for r in show_json(p.trace) if r["type"] == "hit"]
    assert hits == [1, 2, 3, 4], hits


def test_a_thread_in_epoll_wait_is_looked_at_and_never_sees_eintr(tmp_path):
    """epoll_wait ends with EINTR at ptrace's stop itself; mmscope runs it
    again.  The epoll thread is the first looked at (main waits in open()),
    then the poll thread is used."""
    p = Late.on_fifo(tmp_path, "epoll-first")
    try:
        rc, out = mmscope("ctl", p.pid, "hello")
        assert rc == 0 and json.loads(out)["pid"] == p.pid, out
        p.open_commands()
        assert p.send("store 1") == "STORED 1\n"
        assert p.finish() == "DONE 0 0 0\n"
    finally:
        p.run.kill_group()
    assert p.run.returncode == 0


def test_no_thread_standing_well_is_a_clear_error_and_harmless(tmp_path):
    p = Late.on_fifo(tmp_path, "alone")
    try:
        t0 = time.monotonic()
        rc, out = gdb_late(p.pid, "info threads")
        assert rc == 1, out
        assert f"no thread of process {p.pid} stood where the connection can be opened" \
            in out, out
        assert "in system call 257" in out, out  # openat
        assert time.monotonic() - t0 < 30
        p.open_commands()
        assert p.send("store 2") == "STORED 2\n"
        assert p.finish() == "DONE 0 0 0\n"
    finally:
        p.run.kill_group()
    assert p.run.returncode == 0


def test_a_program_another_tracer_holds_is_refused_with_its_name(tmp_path):
    p = Late(tmp_path)
    strace = GroupPopen(["strace", "-o", "/dev/null", "-p", str(p.pid)], 120,
                        stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while "TracerPid:\t0\n" in open(f"/proc/{p.pid}/status").read():
            assert time.monotonic() < deadline, "strace did not attach"
            time.sleep(0.02)
        rc, out = gdb_late(p.pid, "info threads")
        assert rc == 1, out
        assert f"process {p.pid} is being traced by process {strace.pid}" in out, out
        strace.terminate()
        strace.wait(timeout=30)
        assert p.send("store 3") == "STORED 3\n"
        assert p.finish() == "DONE 0 0 0\n"
    finally:
        strace.kill_group()
        p.run.kill_group()


def test_an_execd_child_of_a_program_run_with_gdb_gets_a_connection_of_its_own(tmp_path):
    """sh runs with --gdb and starts sleep: the connection is sh's, and
    sleep (same trace, same config) says nothing about it on stderr.  ctl
    by sleep's pid opens sleep's own; by the run's pid it reaches sh's."""
    trace, sock = str(tmp_path / "t.d"), str(tmp_path / "gdb.sock")
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", trace, f"--gdb=unix:{sock}", "--", "sh", "-c",
                      "sleep 60 & echo CHILD $! $$; wait"], 120, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
    try:
        _, child, shell = run.stdout.readline().split()
        deadline = time.monotonic() + 30
        while not os.path.exists(sock):
            assert time.monotonic() < deadline and run.poll() is None, "no socket"
            time.sleep(0.02)
        time.sleep(0.3)  # sleep has started, under the agent
        rc, out = mmscope("ctl", child, "hello")
        assert rc == 0 and json.loads(out)["pid"] == int(child), out
        rc, out = mmscope("ctl", run.pid, "hello")
        assert rc == 0 and json.loads(out)["pid"] == int(shell), out
        os.kill(int(child), 15)
        assert run.wait(timeout=60) == 0
        assert "cannot listen" not in run.stderr.read()
    finally:
        run.kill_group()
