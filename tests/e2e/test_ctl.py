"""ctl sessions on the debugger socket (docs/debugging.md, "Sessions"):
line commands with one JSON line back, beside gdb, each session owning
its watches.  The program is tests/progs/ctlme, driven through its stdin;
its own counts are the ground truth for the trace's hits."""
import json
import os
import re
import socket
import subprocess
import time

from conftest import MMSCOPE, GroupPopen, prog, run_group, show_json
from test_gdbstub import run_gdb, wait_socket

CTLME = prog("ctlme")


class Program:
    def __init__(self, tmp_path):
        self.trace = str(tmp_path / "t.d")
        self.sock = str(tmp_path / "gdb.sock")
        self.run = GroupPopen([MMSCOPE, "run", "-q", "-o", self.trace, "--map", "/memfd:ctlme*",
                               f"--gdb=unix:{self.sock}", "--", CTLME], 300,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, bufsize=1)
        m = re.match(r"READY (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+) (0x[0-9a-f]+)",
                     self.run.stdout.readline())
        assert m, "ctlme did not start"
        self.pid = int(m.group(1))
        self.counter, self.vars, self.one_store = (int(m.group(k), 16) for k in (2, 3, 4))
        wait_socket(self.sock, self.run)

    def store(self, n):
        self.run.stdin.write(f"store {n}\n")
        line = self.run.stdout.readline()
        assert line.startswith("STORED "), line
        return int(line.split()[1])

    def finish(self):
        self.run.stdin.write("quit\n")
        self.run.stdin.close()
        rest = self.run.stdout.read()
        self.run.wait(timeout=60)
        self.run.kill_group()
        return rest

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def fd_links(self):
        return sorted(os.readlink(f"/proc/{self.pid}/fd/{f}")
                      for f in os.listdir(f"/proc/{self.pid}/fd"))

    def rss_kb(self):
        """The anonymous part of the RSS: the program's and mmscope's own
        memory.  The rest is file pages, among them the trace's window,
        which fills with the sessions' WATCH records as it should."""
        status = open(f"/proc/{self.pid}/status").read()
        return int(re.search(r"^RssAnon:\s+(\d+) kB", status, re.M).group(1))


class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.f = self.s.makefile("r")

    def __call__(self, line):
        self.s.sendall((line + "\n").encode())
        return json.loads(self.f.readline())

    def close(self):
        self.f.close()
        self.s.close()


def no_watches_left(probe, timeout=30):
    """The watch list once every teardown has run: a closed session's
    teardown runs on the stub's thread after the close."""
    deadline = time.monotonic() + timeout
    while (ws := probe("watches")["watches"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    return ws


def snapshot(p, probe):
    """What sessions must leave as they found it."""
    assert no_watches_left(probe) == []
    return {"fds": p.fds(), "links": p.fd_links(), "rss": p.rss_kb(),
            "regions": probe("regions")["regions"]}


def check_unchanged(p, probe, before):
    assert no_watches_left(probe) == []
    assert probe("regions")["regions"] == before["regions"]
    assert p.fds() == before["fds"], (before["links"], p.fd_links())
    assert p.rss_kb() - before["rss"] <= 8, (before["rss"], p.rss_kb())


def test_a_ctl_session_answers_and_its_watch_records_every_hit_without_stopping(tmp_path):
    p = Program(tmp_path)
    try:
        c = Ctl(p.sock)
        hello = c("hello")
        assert hello["ok"] and hello["pid"] == p.pid, hello
        regs = c("regions")["regions"]
        assert [r["traced"] for r in regs] == [True], regs
        assert c("bogus")["error"].startswith("unknown command 'bogus'")
        w = c(f"watch w {p.counter:x} 8 counter")
        assert w == {"ok": True, "id": 1}, w
        ws = c("watches")["watches"]
        assert [(x["type"], int(x["addr"], 16), x["len"], x["mech"]) for x in ws] == \
            [("write", p.counter, 8, "page")], ws
        assert c("mark after the watch") == {"ok": True}
        assert p.store(25) == 25  # the program runs on: no stop
        assert c("unwatch 1") == {"ok": True}
        assert c("unwatch 1")["ok"] is False
        assert c("watches")["watches"] == []
        assert p.store(5) == 30
        c.close()
    finally:
        rest = p.finish()
    assert p.run.returncode == 0, rest
    recs = show_json(p.trace)
    hits = [r for r in recs if r["type"] == "hit"]
    assert len(hits) == 25, len(hits)
    assert [int(h["new"], 16) for h in hits] == list(range(1, 26)), hits[:3]
    assert [m["text"] for m in recs if m["type"] == "mark"] == ["after the watch"]


def test_sessions_beside_gdb_keep_their_own_watches(tmp_path):
    """gdb attaches, sets a breakpoint-free watch of its own on vars[0] and
    detaches; a ctl session's watch on counter lives through gdb's detach,
    and gdb's watch goes with gdb."""
    p = Program(tmp_path)
    try:
        c = Ctl(p.sock)
        assert c(f"watch w {p.counter:x} 8 counter")["ok"]
        g = run_gdb(["set breakpoint always-inserted on", f"watch *(long *){p.vars:#x}",
                     "monitor watches", "detach"], p.sock,
                    program=CTLME)
        assert re.search(r"ctl\d+ counter", g) and "gdb watch" in g, g
        ws = c("watches")["watches"]
        assert [int(x["addr"], 16) for x in ws] == [p.counter], ws
        assert p.store(3) == 3
        c.close()
    finally:
        rest = p.finish()
    assert p.run.returncode == 0, rest
    assert len([r for r in show_json(p.trace) if r["type"] == "hit"]) == 3


def thousand_sessions(tmp_path, session):
    """session(p, cycle) 1001 times (cycle -1 the warm-up: the stub's
    thread opens its own trace stream for the WATCH records once, and
    keeps it), then: nothing left of them, the program's stores run on
    and no watch hit is recorded."""
    p = Program(tmp_path)
    try:
        probe = Ctl(p.sock)
        session(p, -1)
        before = snapshot(p, probe)
        for cycle in range(1000):
            session(p, cycle)
        check_unchanged(p, probe, before)
        assert p.store(1000) == 1000
        probe.close()
    finally:
        rest = p.finish()
    assert p.run.returncode == 0, rest
    assert [r for r in show_json(p.trace) if r["type"] == "hit"] == []


def test_a_thousand_sessions_come_and_go_and_the_program_never_notices(tmp_path):
    """1000 times: connect, set 8 watches, disconnect.  The program's fd
    count, anonymous RSS (within two pages), armed pages and watches are as before,
    and its stores afterwards are neither slowed into hits nor wrong."""
    def session(p, cycle):
        c = Ctl(p.sock)
        for k in range(8 if cycle >= 0 else 1):
            r = c(f"watch rw {p.vars + 8 * k:x} 8 v{k}")
            assert r["ok"], (cycle, k, r)
        c.close()
    thousand_sessions(tmp_path, session)


class Rsp:
    """gdb's side of the remote protocol, as little as it takes."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.buf = b""

    def packet(self, payload):
        frame = f"${payload}#{sum(payload.encode()) % 256:02x}".encode()
        self.s.sendall(frame)
        while True:
            i = self.buf.find(b"#")
            j = self.buf.find(b"$")
            if j >= 0 and i > j and len(self.buf) >= i + 3:
                reply = self.buf[j + 1:i].decode()
                self.buf = self.buf[i + 3:]
                self.s.sendall(b"+")
                return reply
            chunk = self.s.recv(65536)
            assert chunk, "the stub closed the connection"
            self.buf += chunk

    def close(self):
        self.s.close()


def test_a_thousand_gdb_sessions_with_a_breakpoint_and_eight_watches_leave_nothing(tmp_path):
    """1000 times: connect as gdb (the program stops), insert a breakpoint
    in one_store and 8 watches on vars, and vanish without detaching.
    Afterwards the program's fds, anonymous RSS, regions and watches are
    as before, its text has no int3 left (one_store runs 1000 times), and
    no watch hit is recorded."""
    def session(p, cycle):
        r = Rsp(p.sock)
        if cycle < 0:
            r.packet("qSupported:swbreak+")
            assert r.packet(f"Z2,{p.vars:x},8") == "OK"
        else:
            assert "PacketSize" in r.packet("qSupported:swbreak+;hwbreak+")
            assert r.packet(f"Z0,{p.one_store:x},1") == "OK", cycle
            for k in range(8):
                assert r.packet(f"Z2,{p.vars + 8 * k:x},8") == "OK", (cycle, k)
        r.close()
    thousand_sessions(tmp_path, session)


def test_mmscope_ctl_resolves_a_symbol_and_its_watch_lives_as_long_as_the_session(tmp_path):
    """`mmscope ctl TRACE-DIR` reads commands from stdin: `watch counter`
    is resolved against ctlme's symbols and its load address; stores made
    while the session lasts are hits, the ones after it ends are not."""
    p = Program(tmp_path)
    try:
        one = subprocess.run([MMSCOPE, "ctl", p.trace, "regions"], capture_output=True,
                             text=True, timeout=30)
        assert one.returncode == 0, one.stderr
        assert [r["traced"] for r in json.loads(one.stdout)["regions"]] == [True], one.stdout
        # by the program's pid, and by the pid of the mmscope run that started it
        for pid in (p.pid, p.run.pid):
            by_pid = subprocess.run([MMSCOPE, "ctl", str(pid), "hello"], capture_output=True,
                                    text=True, timeout=30)
            assert by_pid.returncode == 0, by_pid.stderr
            assert json.loads(by_pid.stdout)["pid"] == p.pid, by_pid.stdout
        ctl = subprocess.Popen([MMSCOPE, "ctl", p.trace], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               bufsize=1)
        try:
            ctl.stdin.write("watch counter\n")
            assert json.loads(ctl.stdout.readline()) == {"ok": True, "id": 1}
            ctl.stdin.write("watches\n")
            ws = json.loads(ctl.stdout.readline())["watches"]
            assert [(int(w["addr"], 16), w["len"]) for w in ws] == [(p.counter, 8)], ws
            assert p.store(7) == 7
            ctl.stdin.write("watch no_such_symbol\n")
            ctl.stdin.close()
            assert ctl.wait(timeout=30) == 1  # the bad one failed
            err = ctl.stderr.read()
            assert "no_such_symbol" in err, err
        finally:
            ctl.kill()
        probe = Ctl(p.sock)
        assert no_watches_left(probe) == []
        probe.close()
        assert p.store(3) == 10
    finally:
        rest = p.finish()
    assert p.run.returncode == 0, rest
    assert len([r for r in show_json(p.trace) if r["type"] == "hit"]) == 7


def test_mmscope_ctl_says_why_it_cannot_connect(tmp_path):
    p = subprocess.run([MMSCOPE, "ctl", str(tmp_path), "regions"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1 and "is not a trace directory" in p.stderr, p.stderr
    trace = str(tmp_path / "t.d")
    r = subprocess.run([MMSCOPE, "run", "-q", "-o", trace, "--", "true"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    p = subprocess.run([MMSCOPE, "ctl", trace, "regions"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 1 and "no running process writes this trace" in p.stderr, p.stderr
    p = subprocess.run([MMSCOPE, "ctl", str(os.getpid()), "regions"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1 and "not traced by mmscope" in p.stderr, p.stderr
    p = subprocess.run([MMSCOPE, "ctl"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "usage: mmscope ctl" in p.stderr, p.stderr


def test_hostile_ctl_input_gets_errors_and_the_program_runs_on(tmp_path):
    """Nonsense, quotes, overlong lines, bad ids and wild addresses: each
    gets a JSON error (the answer stays valid JSON), and the program is
    unharmed."""
    p = Program(tmp_path)
    try:
        c = Ctl(p.sock)
        bad = ['"\\\x01{', "watch", "watch x 0 8", "watch w zz 8", "watch w 0 0",
               "watch w 0 8", f"watch w {p.counter:x} 100000", "watch rw ffffffffffffffff 8",
               "unwatch 0", "unwatch -5", "unwatch 99999999999", "unwatch", "mark",
               "x" * 5000, "watch w 10 8 " + '"' * 100]
        for line in bad:
            r = c(line)
            assert r["ok"] is False and r["error"], (line[:40], r)
        assert c("hello")["pid"] == p.pid
        assert c("watches")["watches"] == []
        c.close()
        assert p.store(4) == 4
    finally:
        rest = p.finish()
    assert p.run.returncode == 0, rest


def mmscope_gdb(target, *gdb_args):
    r = run_group([MMSCOPE, "gdb", str(target), "--batch", "-nx", *gdb_args], 120)
    return r.returncode, r.stdout + r.stderr


def test_mmscope_gdb_connects_gdb_by_pid_run_pid_and_trace_directory(tmp_path):
    """mmscope gdb finds the connection the way ctl does and gdb, given no
    file, reads the program's own counter: the program's count is the truth."""
    p = Program(tmp_path)
    try:
        for n, target in ((7, p.pid), (5, p.run.pid), (3, p.trace)):
            total = p.store(n)
            rc, out = mmscope_gdb(target, "-ex", "print/d counter", "-ex", "detach")
            assert rc == 0, out
            assert re.search(rf"^\$1 = {total}$", out, re.M), out
            assert "detached" in out, out
        assert p.store(1) == 16  # the program ran on after every detach
        assert p.finish() == ""
    finally:
        p.run.kill_group()


def test_mmscope_gdb_says_why_when_there_is_nothing_to_connect_to(tmp_path):
    """A pid that mmscope does not trace, a path that is nothing, a pid that
    has gone: each a clear error, and nothing is run."""
    rc, out = mmscope_gdb(os.getpid())
    assert rc == 1 and "not traced by mmscope" in out, out
    rc, out = mmscope_gdb(tmp_path / "nothing")
    assert rc == 1 and "No such file or directory" in out, out
    gone = subprocess.Popen(["true"])
    gone.wait()
    rc, out = mmscope_gdb(gone.pid)
    assert rc == 1 and f"process {gone.pid}" in out, out
