"""The debugger connection (issue 8): gdb, unmodified, talks to the stub
mmscope serves from inside the program (`mmscope run --gdb=...`).  The
program is tests/progs/gdbdrv, a small driver whose "bar0" memfd mmscope
traces; what gdb shows and changes is checked against what the program
prints, and the trace against the program's own count of accesses."""
import os
import re
import socket
import subprocess
import time

import pytest

from conftest import MMSCOPE, GroupPopen, expand, prog, run_group, show_json

GDBDRV = prog("gdbdrv")


# run a command as a second uid (tests of who may connect)
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def free_port():
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_socket(path, p, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        if p.poll() is not None:
            break
        time.sleep(0.02)
    raise AssertionError(f"no socket {path}; mmscope: {p.communicate()}")


def session(tmp_path, gdb_cmds, opts=(), target=None, gdb_prefix=(), maps=("/memfd:bar0*",),
            program=None, args=(), with_status=False):
    """Run gdbdrv under mmscope, stopped at its entry until gdb (batch,
    gdb_cmds after `target remote`) connects; returns (gdb output, the
    program's and mmscope's output, the trace directory)."""
    trace = str(tmp_path / "t.d")
    sock = str(tmp_path / "gdb.sock")
    spec = target or f"unix:{sock}"
    cmd = [MMSCOPE, "run", "-q", "-o", trace]
    for m in maps:
        cmd += ["--map", m]
    program = program or GDBDRV
    cmd += [f"--gdb={spec}", "--gdb-wait", *opts, "--", program, *args]
    run = GroupPopen(cmd, 120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if spec.startswith("unix:"):
            wait_socket(sock, run)
            remote = sock
        else:
            remote = spec[4:]
            wait_log(trace, "listening on")
        g = run_gdb(gdb_cmds, remote, gdb_prefix, program)
        out, _ = run.communicate(timeout=60)
    finally:
        run.kill_group()
    if with_status:
        return g, out, trace, run.returncode
    return g, out, trace


def run_gdb(gdb_cmds, remote, prefix=(), program=None):
    argv = [*prefix, "gdb", "-nx", "-batch", "-ex", "set pagination off",
            "-ex", f"target remote {remote}"]
    for c in gdb_cmds:
        argv += ["-ex", c]
    argv.append(program or GDBDRV)
    g = run_group(argv, 90, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return g.stdout


def wait_log(trace, text, timeout=30):
    log = os.path.join(trace, "agent.log")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(log) and text in open(log).read():
            return
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in {log}")


def program_accesses(out):
    """What gdbdrv itself did to bar0: three submits of a store and a
    read-modify-write, the workers' polls, and the four reads it prints."""
    polls = int(re.search(r"^POLLS (\d+)$", out, re.M).group(1))
    return 3 * 3 + polls + 4


def debuggers(a):
    return "debugger" in (a.get("flags") or [])


def check_trace_exact(out, trace):
    """The trace holds the program's accesses, each once: none lost while
    the program was stopped, and the debugger's own (flagged "debugger")
    apart.  Returns the debugger's."""
    accesses = expand(show_json(trace))
    program = [a for a in accesses if not debuggers(a)]
    assert len(program) == program_accesses(out), out
    stores = [(a["offset"], a["value"]) for a in program if a["dir"] == "W" and a["offset"] == 4]
    assert [v for _, v in stores] == ["0x00000001", "0x00000002", "0x00000003"], stores
    return [a for a in accesses if debuggers(a)]


def test_gdb_stops_at_a_breakpoint_and_sees_every_thread_and_its_stack(tmp_path):
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "info threads", "bt", "print v",
        "thread 2", "bt 6", "delete", "detach"])
    assert re.search(r"hit Breakpoint 1, submit \(v=v@entry=1\) at .*gdbdrv.c:\d+", g), g
    threads = re.findall(r"^\*?\s+(\d+)\s+Thread \d+\.\d+ \"gdbdrv\"", g, re.M)
    assert sorted(threads) == ["1", "2", "3"], g
    assert re.search(r"#1 .* in main \(\) at .*gdbdrv.c", g), g
    assert "$1 = 1" in g, g
    # a worker, parked in its sleep or inside mmscope's fault handler,
    # shows the program's own frames
    assert re.search(r"#[0-5] .*\bworker \(", g), g
    assert "[Inferior 1 (process" in g and "detached]" in g, g
    assert "SUBMIT 3\n" in out and "DONE\n" in out, out
    check_trace_exact(out, trace)


def test_hbreak_stops_every_time_and_says_hwbreak_and_the_program_runs_on(tmp_path):
    # gdb's Z1: an int3 here (no debug register fires on this machine,
    # `mmscope probe`), reported as a hardware breakpoint; with a break on
    # the same line, one int3 serves both and the stop says swbreak
    g, out, trace = session(tmp_path, [
        "hbreak submit", "set debug remote 1", "continue", "set debug remote 0",
        "info threads", "bt 2", "continue", "print v", "break submit", "continue",
        "info breakpoints", "delete", "detach"])
    assert "Hardware assisted breakpoint 1 at" in g, g
    # (gdb's packet log splits the first hit's line)
    assert "hit Breakpoint 1, submit (" in g, g
    hits = re.findall(r"hit Breakpoint (\d+), submit \(v=v@entry=(\d)\)", g)
    assert hits[-2:] == [("1", "2"), ("1", "3")], g
    # the stop reply of the first hit names the kind gdb asked for
    assert re.search(r"Packet received: T05[^\n]*hwbreak:;", g), g
    assert not re.search(r"Packet received: T05[^\n]*swbreak:;", g.split("set debug remote 0")[0]), g
    assert re.search(r"#1 .* in main \(\) at .*gdbdrv.c", g), g
    assert "$1 = 2" in g, g
    assert re.search(r"^1\s+hw breakpoint\s+keep y.*\n\s+breakpoint already hit 3 times", g, re.M), g
    assert "SUBMIT 3\n" in out and "DONE\n" in out, out
    check_trace_exact(out, trace)


def test_gdb_reads_and_writes_the_traced_mapping_and_the_program_sees_the_write(tmp_path):
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "continue", "x/4wx bar0",
        "set var bar0[2] = 0x1234", "print/x bar0[2]", "print global_counter",
        "set var global_counter = 100", "delete", "detach"])
    # at the second submit: the first one's store and increment are there
    m = re.search(r"0x[0-9a-f]+:\s+0x00000000\s+0x00000001\s+0x00000000\s+0x00000001", g)
    assert m, g
    assert "$1 = 0x1234" in g and "$2 = 8" in g, g
    assert "BAR0 0 0x3 0x1234 0x3\n" in out, out
    assert "COUNTER 102\n" in out, out
    check_trace_exact(out, trace)


def test_stepi_over_a_traced_store_ends_after_it_and_traces_it_once(tmp_path):
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "delete", "display/i $pc",
        *["stepi"] * 6, "print/x bar0[1]", "print/x bar0[3]", "detach"])
    steps = re.findall(r"=> (0x[0-9a-f]+) <submit\+(\d+)>:\s+(.*)", g)
    assert len(steps) == 6, g  # display prints after each stepi
    offsets = [int(s[1]) for s in steps]
    assert offsets == sorted(offsets) and len(set(offsets)) == 6, steps
    # the store ran once, through the engine, and the step ended right after it
    store = [i for i, s in enumerate(steps) if re.match(r"mov\s+%edi,0x4\(%r", s[2])]
    assert store and store[0] + 1 < len(steps), steps
    assert "$1 = 0x1" in g and "$2 = 0x1" in g, g
    check_trace_exact(out, trace)


def test_single_stepping_the_whole_program_steps_over_mmscopes_own_code(tmp_path):
    """gdb's software watchpoint single-steps main from its first
    instruction: through memfd_create, mmap and pthread_create, which are
    mmscope's (a step into them runs the call and ends where it returns:
    inside, mmscope blocks signals and a trap would kill the program),
    printf, and the traced stores of submit.  The watch stops at each of
    the three increments with the right values, the program's output and
    trace are as without a debugger, and the MAP record names main as the
    caller of mmap, not the step's trampoline."""
    g, out, trace = session(tmp_path, [
        "break main", "continue", "delete", "set can-use-hw-watchpoints 0",
        "watch global_counter", "continue", "continue", "continue", "continue"])
    changes = re.findall(r"Old value = (\d+)\nNew value = (\d+)", g)
    assert changes == [("7", "8"), ("8", "9"), ("9", "10")], g
    assert "exited normally" in g, g
    assert "COUNTER 10\n" in out and "DONE\n" in out, out
    check_trace_exact(out, trace)
    recs = show_json(trace)
    maps = [r for r in recs if r["type"] == "map"]
    # the caller of mmap is gdbdrv's main: in the executable, beside
    # submit's stores
    store_pc = next(int(r["pc"], 16) for r in recs if r["type"] == "access" and r["dir"] == "W")
    assert len(maps) == 1 and abs(int(maps[0]["pc"], 16) - store_pc) < 4096, (maps, store_pc)


OWN_SEGV = prog("own_segv")


def test_the_programs_own_fault_stops_it_and_passing_it_on_kills_it_as_without_gdb(tmp_path):
    """own_segv null writes to NULL.  gdb is told (SIGSEGV at the faulting
    line, the stack intact, $_siginfo as the kernel made it), `signal 0` runs the instruction again, which
    faults again; `continue` passes the signal on: the program dies of it
    as it would have, and gdb hears so (X) before the connection goes."""
    g, out, trace, rc = session(tmp_path, [
        "continue", "bt 2", "print $_siginfo.si_signo", "print $_siginfo.si_code",
        "print $_siginfo._sifields._sigfault.si_addr", "signal 0", "continue"],
        program=OWN_SEGV, args=["null"],
        maps=("/memfd:mmscope-own*",), with_status=True)
    stops = re.findall(r"Program received signal SIGSEGV, Segmentation fault\.\nmode_null \(\) at "
                       r".*own_segv\.c:(\d+)", g)
    assert len(stops) == 2 and stops[0] == stops[1], g
    assert re.search(r"#1 .*main \(", g), g
    # $_siginfo is the kernel's: SIGSEGV, SEGV_MAPERR, at address 0
    assert "$1 = 11\n$2 = 1\n$3 = (void *) 0x0\n" in g, g
    assert "Program terminated with signal SIGSEGV" in g, g
    assert "writing to NULL" in out, out
    assert rc in (128 + 11, -11), (rc, out)


def test_a_fault_the_programs_handler_takes_reaches_it_once(tmp_path):
    """own_segv resethand handles its first fault (SA_RESETHAND) and dies
    of the second.  With gdb passing SIGSEGV without stopping, it prints
    exactly what it prints without mmscope and dies the same way."""
    native = run_group([OWN_SEGV, "resethand"], 30, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    g, out, trace, rc = session(tmp_path, [
        "handle SIGSEGV nostop noprint pass", "continue"], program=OWN_SEGV,
        args=["resethand"], maps=("/memfd:mmscope-own*",), with_status=True)
    assert native.returncode == -11, native
    assert out == native.stdout, (out, native.stdout)
    assert "Program terminated with signal SIGSEGV" in g, g
    assert rc in (128 + 11, -11), (rc, out)


FAULTS = prog("faults")
FAULT_KINDS = {"fpe": ("SIGFPE", "Arithmetic exception", 8, 1),
               "ill": ("SIGILL", "Illegal instruction", 4, 2),
               "bus": ("SIGBUS", "Bus error", 7, 2)}


def test_the_other_faults_stop_the_program_and_passing_them_on_is_as_without_gdb(tmp_path):
    """faults KIND divides by zero, runs ud2, or loads past the end of a
    truncated file.  gdb is told (signal, $_siginfo as the kernel made it,
    the faulting function on the stack); passed on, the signal kills the
    program as it does without mmscope, or reaches its handler once."""
    for kind, (name, text, signo, code) in FAULT_KINDS.items():
        native = run_group([FAULTS, kind], 30, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert native.returncode == -signo, native
        d = tmp_path / kind
        d.mkdir()
        g, out, trace, rc = session(d, [
            "continue", "bt 1", "print $_siginfo.si_signo", "print $_siginfo.si_code",
            "continue"], program=FAULTS, args=[kind], maps=("/memfd:mmscope-faults*",),
            with_status=True)
        assert f"Program received signal {name}, {text}." in g, g
        assert re.search(r"#0 .*(fault|divide) \(", g), g
        assert f"$1 = {signo}\n$2 = {code}\n" in g, g
        assert f"Program terminated with signal {name}" in g, g
        assert out == native.stdout, (out, native.stdout)
        assert rc in (128 + signo, -signo), (rc, out)
        d = tmp_path / (kind + "-handled")
        d.mkdir()
        g, out, trace, rc = session(d, ["continue", "continue"], program=FAULTS,
                                    args=[kind, "handled"], maps=("/memfd:mmscope-faults*",),
                                    with_status=True)
        assert f"Program received signal {name}, {text}." in g, g
        assert "exited normally" in g, g
        assert out == f"FAULTING {kind}\nCAUGHT {signo} {code}\nSURVIVED\n", out
        assert rc == 0, (rc, out)


def hits(trace):
    return [r for r in show_json(trace) if r["type"] == "hit"]


def test_watch_on_an_untraced_variable_stops_after_each_store_with_old_and_new(tmp_path):
    g, out, trace = session(tmp_path, [
        "watch global_counter", "continue", "continue", "bt 2", "delete", "continue"])
    # submit(1) and submit(2) each add one: gdb saw both stores, in submit
    assert re.search(r"Hardware watchpoint 1: global_counter\s+Old value = 7\s+"
                     r"New value = 8\s+.*in submit \(v=v@entry=1\)", g), g
    assert re.search(r"Old value = 8\s+New value = 9\s+.*in submit \(v=v@entry=2\)", g), g
    assert re.search(r"#1 .* in main \(\) at .*gdbdrv.c", g), g
    assert "COUNTER 10\n" in out and "DONE\n" in out, out
    # gdb is told the program exited, with its status
    assert re.search(r"\[Inferior 1 \(process \d+\) exited normally\]", g), g
    # the trace holds the two hits gdb stopped on, as watch records
    h = [(x["old"], x["new"]) for x in hits(trace)]
    assert h == [("0x00000007", "0x00000008"), ("0x00000008", "0x00000009")], h
    check_trace_exact(out, trace)


def test_awatch_and_rwatch_on_the_traced_mapping(tmp_path):
    """x86 has no read-only debug register; rwatch is exact here: a
    worker's poll of bar0[0] stops it.  main stays stopped meanwhile
    (scheduler-locking: vCont continues one thread)."""
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "delete",
        "awatch -location bar0[3]", "continue", "continue", "delete",
        "set scheduler-locking on", "thread 2", "rwatch -location bar0[0]", "continue",
        "bt 1", "delete", "set scheduler-locking off", "continue"])
    # submit(1)'s read-modify-write of bar0[3]: its read, then its write
    assert re.search(r"hit Hardware access \(read/write\) watchpoint 2: -location bar0\[3\]"
                     r"\s+Value = 0\s+.*in submit \(v=v@entry=1\)", g), g
    assert re.search(r"watchpoint 2: -location bar0\[3\]\s+Old value = 0\s+New value = 1\s+"
                     r"(.* in )?submit \(v=v@entry=1\)", g), g
    assert re.search(r"Thread 2 \"gdbdrv\" hit Hardware read watchpoint 3: -location bar0\[0\]"
                     r"\s+Value = 0\s+worker \(", g), g
    assert re.search(r"#0 .*\bworker \(", g), g
    assert "SUBMIT 3\n" in out and "BAR0 0 0x3 0 0x3\n" in out, out
    check_trace_exact(out, trace)


def test_sixty_four_watches_are_accepted_and_the_one_that_is_hit_stops(tmp_path):
    """gdbserver stops at four debug registers; the engine takes them all."""
    cmds = ["break submit", "continue", "delete"]
    cmds += [f"watch -location bar0[{k}]" for k in range(8, 72)]
    cmds += ["watch global_counter", "continue", "info watchpoints", "delete", "continue"]
    g, out, trace = session(tmp_path, cmds)
    assert "Could not insert" not in g, g
    assert len(re.findall(r"^Hardware watchpoint \d+: -location bar0\[\d+\]$", g, re.M)) == 64, g
    assert re.search(r"hit Hardware watchpoint 66: global_counter\s+Old value = 7\s+"
                     r"New value = 8", g), g
    assert "COUNTER 10\n" in out and "DONE\n" in out, out
    check_trace_exact(out, trace)


def test_a_watch_on_a_threads_stack_is_refused_and_the_program_runs_on(tmp_path):
    """Pages on a stack cannot be closed (the fault's own signal frame
    goes there): gdb is told it cannot insert the watch, the log says why."""
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "delete", "set scheduler-locking on", "thread 2",
        "frame function worker", "watch -location ts.tv_nsec", "continue", "delete",
        "set scheduler-locking off", "continue"])
    assert "Could not insert hardware watchpoint 2" in g, g
    log = open(os.path.join(trace, "agent.log")).read()
    assert re.search(r"cannot watch 0x[0-9a-f]+,8: code or a thread's stack", log), log
    assert "SUBMIT 3\n" in out and "DONE\n" in out, out
    check_trace_exact(out, trace)


def test_gdb_over_tcp_on_loopback(tmp_path):
    port = free_port()
    g, out, trace = session(tmp_path, ["break submit", "continue", "print v", "detach"],
                            target=f"tcp:127.0.0.1:{port}")
    assert "$1 = 1" in g, g
    assert "DONE\n" in out, out
    check_trace_exact(out, trace)


def test_a_peer_that_could_not_ptrace_the_program_is_refused(tmp_path):
    """A second uid (nobody) connecting over loopback TCP gets a clear
    refusal and a line in agent.log; the program is not stopped by it and
    the owner's gdb then connects as usual."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run gdb as a second uid (setpriv)")
    port = free_port()
    trace = str(tmp_path / "t.d")
    os.chmod(tmp_path, 0o755)
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", trace, "--map", "/memfd:bar0*",
                      f"--gdb=tcp:{port}", "--gdb-wait", "--", GDBDRV], 120,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_log(trace, "listening on")
        refused = run_gdb(["info threads"], f"127.0.0.1:{port}", NOBODY)
        assert "mmscope: uid 65534 may not debug process" in refused, refused
        assert "Thread" not in refused, refused
        wait_log(trace, "refused a debugger")
        g = run_gdb(["break submit", "continue", "print v", "detach"], f"127.0.0.1:{port}")
        out, _ = run.communicate(timeout=60)
    finally:
        run.kill_group()
    assert "$1 = 1" in g, g
    assert "DONE\n" in out, out
    check_trace_exact(out, trace)


@pytest.fixture
def netns():
    """A network namespace joined to this one by a veth pair: a peer run
    in it connects from "another machine" (10.213.N.2 to 10.213.N.1)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make a network namespace")
    n = os.getpid() % 250 + 1
    name, a, b = f"mms{os.getpid()}", f"mmsa{n}", f"mmsb{n}"
    steps = [["ip", "netns", "add", name],
             ["ip", "link", "add", a, "type", "veth", "peer", "name", b],
             ["ip", "link", "set", b, "netns", name],
             ["ip", "addr", "add", f"10.213.{n}.1/30", "dev", a], ["ip", "link", "set", a, "up"],
             ["ip", "netns", "exec", name, "ip", "addr", "add", f"10.213.{n}.2/30", "dev", b],
             ["ip", "netns", "exec", name, "ip", "link", "set", b, "up"]]
    try:
        for st in steps:
            r = subprocess.run(st, capture_output=True, text=True, timeout=30)
            if r.returncode:
                pytest.skip(f"cannot make a network namespace here: {' '.join(st)}: "
                            f"{r.stderr.strip()}")
        yield ["ip", "netns", "exec", name], f"10.213.{n}.1"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", a], capture_output=True, timeout=30)


def test_gdb_bind_opens_the_stub_to_the_network_and_still_checks_local_peers(tmp_path, netns):
    """--gdb-bind=0.0.0.0: gdb in another network namespace (another
    machine, as far as the stub can tell) debugs the program, and the log
    says it came from the network; a second uid on this machine is still
    refused, connecting to the same non-loopback address."""
    inside, addr = netns
    port = free_port()
    trace = str(tmp_path / "t.d")
    os.chmod(tmp_path, 0o755)
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", trace, "--map", "/memfd:bar0*",
                      f"--gdb=tcp:{port}", "--gdb-bind=0.0.0.0", "--gdb-wait", "--", GDBDRV],
                     120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_log(trace, "listening on")
        assert "open to the network (--gdb-bind)" in open(os.path.join(trace, "agent.log")).read()
        refused = run_gdb(["info threads"], f"{addr}:{port}", NOBODY)
        assert "mmscope: uid 65534 may not debug process" in refused, refused
        g = run_gdb(["break submit", "continue", "print v", "detach"], f"{addr}:{port}",
                    inside)
        out, _ = run.communicate(timeout=60)
    finally:
        run.kill_group()
    assert "$1 = 1" in g, g
    assert "DONE\n" in out, out
    log = open(os.path.join(trace, "agent.log")).read()
    assert re.search(r"accepted a debugger from 10\.213\.\d+\.2:\d+ on the network", log), log
    check_trace_exact(out, trace)


def start_waiting(tmp_path, sock, name="t.d"):
    trace = str(tmp_path / name)
    return trace, GroupPopen([MMSCOPE, "run", "-q", "-o", trace, f"--gdb=unix:{sock}",
                              "--gdb-wait", "--", GDBDRV], 60, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)


def leftovers(d):
    return sorted(n for n in os.listdir(d) if n.startswith(".mmscope-gdb") or n == "gdb.sock")


def test_the_unix_socket_is_private_and_goes_when_the_program_does(tmp_path):
    """The socket (0600) is made in a fresh 0700 directory of its own, so
    nobody else can reach it at any moment; the path given is a link to
    it.  Socket, directory and link go when the program exits."""
    sock = str(tmp_path / "gdb.sock")
    trace, run = start_waiting(tmp_path, sock)
    try:
        wait_socket(sock, run)
        assert os.path.islink(sock)
        real = os.path.realpath(sock)
        sdir = os.path.dirname(real)
        assert os.path.dirname(sdir) == str(tmp_path), real
        assert os.path.basename(sdir).startswith(".mmscope-gdb-"), real
        assert os.stat(sdir).st_mode & 0o777 == 0o700 and os.stat(sdir).st_uid == os.geteuid()
        assert os.stat(real).st_mode & 0o777 == 0o600
        g = run_gdb(["continue"], sock)
        out, _ = run.communicate(timeout=60)
    finally:
        run.kill_group()
    assert "exited normally" in g, g
    assert "DONE\n" in out, out
    assert leftovers(tmp_path) == [], os.listdir(tmp_path)


def test_a_stale_socket_is_taken_over_and_a_foreign_file_is_left_alone(tmp_path):
    sock = str(tmp_path / "gdb.sock")
    # a run killed with everything it had (mmscope run too): its socket stays
    trace, run = start_waiting(tmp_path, sock, "a.d")
    try:
        wait_socket(sock, run)
    finally:
        run.kill_group()
    run.wait(timeout=30)
    assert os.path.islink(sock) and len(leftovers(tmp_path)) == 2, os.listdir(tmp_path)
    trace, run = start_waiting(tmp_path, sock, "b.d")
    try:
        deadline = time.monotonic() + 30
        while "listening on" not in (open(os.path.join(trace, "agent.log")).read()
                                     if os.path.exists(os.path.join(trace, "agent.log")) else ""):
            assert time.monotonic() < deadline, "the second run never listened"
            time.sleep(0.05)
        g = run_gdb(["continue"], sock)
        out, _ = run.communicate(timeout=60)
    finally:
        run.kill_group()
    assert "exited normally" in g and "DONE\n" in out, (g, out)
    assert leftovers(tmp_path) == [], os.listdir(tmp_path)
    # a file that is not mmscope's at the path: refused, untouched, and
    # the program runs without a debugger connection
    with open(sock, "w") as f:
        f.write("mine\n")
    p = run_group([MMSCOPE, "run", "-q", "-o", str(tmp_path / "c.d"), f"--gdb=unix:{sock}",
                   "--", GDBDRV], 60, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert "cannot listen for a debugger on unix:" in p.stdout, p.stdout
    assert "Address already in use" in p.stdout and "DONE\n" in p.stdout, p.stdout
    assert open(sock).read() == "mine\n"
    assert leftovers(tmp_path) == ["gdb.sock"], os.listdir(tmp_path)


def test_device_reads_come_from_the_shadow_register_file_unless_asked(tmp_path):
    """With bar0 declared device memory, gdb's reads are answered from the
    shadow register file (the last value the program read or wrote at each
    byte) and never reach the device: bar0[2], which the program never
    touched, is an error.  `monitor device-reads live` reads the device
    (each read in the trace, flagged "debugger"); a debugger write goes
    through, is traced, and the shadow learns it."""
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "continue", "monitor device-reads",
        "x/2wx bar0", "x/wx &bar0[3]", "x/wx &bar0[2]",
        "monitor device-reads live", "x/4wx bar0", "set var bar0[2] = 5",
        "monitor device-reads shadow", "x/wx &bar0[2]", "delete", "detach"],
        opts=["--device", "/memfd:bar0*"])
    assert "device reads: shadow\n" in g and "device reads: live" in g, g
    # at the second submit: the workers read 0, the first submit wrote
    # 1 to bar0[1] and incremented bar0[3] from 0 to 1
    assert re.search(r"0x[0-9a-f]+:\s+0x00000000\s+0x00000001\n", g), g
    assert re.search(r"<bar0\+12>|0x[0-9a-f]+:\s+0x00000001\n", g), g
    assert re.search(r"Cannot access memory at address 0x[0-9a-f]+", g), g
    assert re.search(r"0x[0-9a-f]+:\s+0x00000000\s+0x00000001\s+0x00000000\s+0x00000001", g), g
    assert re.search(r"0x[0-9a-f]+:\s+0x00000005\n", g), g
    assert "BAR0 0 0x3 0x5 0x3\n" in out, out
    dbg = check_trace_exact(out, trace)
    reads = [a for a in dbg if a["dir"] == "R"]
    writes = [(a["offset"], a["width"], a["value"]) for a in dbg if a["dir"] == "W"]
    # only the live x/4wx read the device: 16 bytes in naturally aligned
    # pieces, each byte once
    covered = sorted(o for a in reads for o in range(a["offset"], a["offset"] + a["width"]))
    assert covered == list(range(16)), dbg
    assert writes == [(8, 4, "0x00000005")], dbg
    assert all(int(a["pc"], 16) == 0 for a in dbg), dbg


def test_debugger_accesses_to_a_ram_mapping_are_traced_as_the_debuggers(tmp_path):
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "x/wx &bar0[1]", "set var bar0[1] = 9", "delete", "detach"])
    assert re.search(r"0x[0-9a-f]+(?: <[^>]*>)?:\s+0x00000000\n", g), g
    dbg = check_trace_exact(out, trace)
    assert [(a["dir"], a["offset"], a["value"]) for a in dbg
            if a["offset"] == 4] == [("R", 4, "0x00000000"), ("W", 4, "0x00000009")], dbg


def test_monitor_help_and_regions(tmp_path):
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "monitor help", "monitor regions", "monitor bogus",
        "detach"])
    assert "device-reads live|shadow" in g and "mark TEXT" in g, g
    assert re.search(r"r1\s+0x[0-9a-f]{16} 0x[0-9a-f]{16} rw-\s+traced", g), g
    assert "unknown monitor command 'bogus'" in g, g
    check_trace_exact(out, trace)


def test_monitor_trace_off_leaves_accesses_out_and_the_trace_says_how_many(tmp_path):
    """`trace off` at the first submit, `trace on` at the third: the first
    two submits' accesses and the workers' polls meanwhile are not
    recorded, and the notes at both ends say so, the second with the
    count; recorded plus left out is every access the program made."""
    g, out, trace = session(tmp_path, [
        "break submit", "continue", "monitor trace off", "continue", "continue",
        "monitor trace on", "delete", "detach"])
    assert "trace off\n" in g and "trace on\n" in g, g
    recs = show_json(trace)
    notes = [r["text"] for r in recs if r["type"] == "proc" and "trace o" in (r.get("text") or "")]
    assert len(notes) == 2 and notes[0].startswith("trace off"), notes
    left_out = int(re.search(r"trace on \(the debugger\): (\d+) accesses", notes[1]).group(1))
    program = [a for a in expand(recs) if not debuggers(a)]
    assert len(program) + left_out == program_accesses(out), (len(program), left_out, out)
    stores = [a["value"] for a in program if a["dir"] == "W" and a["offset"] == 4]
    assert stores == ["0x00000003"], stores
    assert left_out >= 6


def test_monitor_watches_lists_the_inserted_ones_and_mark_reaches_the_trace(tmp_path):
    # gdb takes watches out at every stop unless told to keep them in
    g, out, trace = session(tmp_path, [
        "set breakpoint always-inserted on", "break submit", "continue",
        "watch global_counter", "rwatch -location bar0[0]", "monitor watches",
        "monitor mark before the second submit", "delete", "monitor watches", "detach"])
    tables = g.split("id   type    mech  address            len  what\n")
    assert len(tables) == 3, g
    rows = re.findall(r"^w(\d+)\s+(\w+)\s+page\s+0x([0-9a-f]{16}) (\d+)\s+gdb (\w+) 0x", tables[1],
                      re.M)
    assert [(r[1], r[3], r[4]) for r in rows] == [("write", "4", "watch"), ("read", "4", "rwatch")], g
    bar0 = int(re.search(r"^READY \d+ (0x[0-9a-f]+)$", out, re.M).group(1), 16)
    assert int(rows[1][2], 16) == bar0, (rows, out)
    assert not tables[2].startswith("w"), g  # none after delete
    marks = [r for r in show_json(trace) if r["type"] == "mark"]
    assert [m["text"] for m in marks] == ["before the second submit"], marks
    check_trace_exact(out, trace)


@pytest.mark.parametrize("args,msg", [
    (["--gdb=bogus"], "--gdb wants unix:PATH or tcp:[HOST:]PORT"),
    (["--gdb=tcp:10.1.2.3:1234"], "must be an IPv4 loopback address"),
    (["--gdb=tcp:0.0.0.0:1234"], "--gdb=tcp:PORT --gdb-bind=ADDR"),
    (["--gdb-bind=0.0.0.0"], "--gdb-bind needs --gdb=tcp:PORT"),
    (["--gdb=unix:/tmp/x.sock", "--gdb-bind=0.0.0.0"], "--gdb-bind=0.0.0.0 needs --gdb=tcp"),
    (["--gdb=tcp:127.0.0.1:1234", "--gdb-bind=0.0.0.0"], "give the address once"),
    (["--gdb=tcp:1234", "--gdb-bind=everywhere"], "--gdb-bind=everywhere: not an IPv4"),
    (["--gdb=tcp:0"], "the port must be 1..65535"),
    (["--gdb-wait"], "--gdb-wait needs --gdb"),
    (["--device-reads=maybe"], "--device-reads wants 'shadow' or 'live'"),
])
def test_bad_debugger_options_are_refused_clearly(tmp_path, args, msg):
    p = subprocess.run([MMSCOPE, "run", "-o", str(tmp_path / "t.d"), *args, "--", "true"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p
    assert msg in p.stderr, p.stderr


SIGME = prog("sigme")


def sigme_session(tmp_path, name, cmds, args):
    native = run_group([SIGME, *args], 30, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    d = tmp_path / name
    d.mkdir()
    g, out, trace, rc = session(d, cmds, program=SIGME, args=args,
                                maps=("/memfd:mmscope-sigme*",), with_status=True)
    assert out == native.stdout, (out, native.stdout, g)
    return g, rc, native.returncode


def test_abort_stops_the_program_in_abort_and_passing_it_on_kills_it_as_without_gdb(tmp_path):
    g, rc, native = sigme_session(tmp_path, "abort", [
        "continue", "bt 8", "print $_siginfo.si_signo", "continue"], ["abort"])
    assert "Program received signal SIGABRT, Aborted." in g, g
    assert re.search(r"#\d .* in (__GI_)?abort \(", g) and re.search(r"#\d .*give_up \(", g), g
    assert "$1 = 6\n" in g, g
    assert "Program terminated with signal SIGABRT" in g, g
    assert native == -6 and rc in (-6, 128 + 6), (native, rc)


@pytest.mark.parametrize("restart", [False, True], ids=["eintr", "sa_restart"])
def test_a_signal_from_another_process_stops_and_reaches_the_handler_as_without_gdb(
        tmp_path, restart):
    """sigme usr1: a child process sends SIGUSR1 while the program waits in
    read().  gdb stops for it with the sender's siginfo; passed on, the
    handler runs once and read() fails with EINTR or restarts, as the
    handler's SA_RESTART says (the program's output is the native run's)."""
    args = ["usr1", "restart"] if restart else ["usr1"]
    g, rc, native = sigme_session(tmp_path, "usr1", [
        "continue", "bt 3", "print $_siginfo.si_signo", "print $_siginfo.si_code",
        "continue"], args)
    assert "Program received signal SIGUSR1, User defined signal 1." in g, g
    assert re.search(r"#\d .*\b(__GI___libc_)?read ", g), g
    assert "$1 = 10\n$2 = 0\n" in g, g  # SI_USER
    assert "exited normally" in g, g
    assert native == 0 and rc == 0, (native, rc)


def test_a_signal_gdb_passes_without_stopping_never_stops_the_program(tmp_path):
    # handle nostop: gdb says so with QPassSignals; the default nostop
    # ones (SIGALRM among them) too: 300 timer ticks, no stop
    g, rc, _ = sigme_session(tmp_path, "pass", [
        "set debug remote 1", "handle SIGUSR1 nostop noprint pass", "continue"], ["usr1"])
    m = re.search(r"Sending packet: \$QPassSignals:([0-9a-f;]+)#", g)
    assert m and "1e" in m.group(1).split(";") and "e" in m.group(1).split(";"), g
    assert "received signal" not in g and not re.search(r"Packet received: T1e", g), g
    assert rc == 0, rc
    g, rc, _ = sigme_session(tmp_path, "alarm", ["set debug remote 1", "continue"],
                             ["alarm", "300"])
    assert "exited normally" in g and not re.search(r"Packet received: T0e", g), g
    assert rc == 0, rc


def test_sigterm_from_another_process_stops_and_then_kills_as_without_gdb(tmp_path):
    g, rc, native = sigme_session(tmp_path, "term", ["continue", "continue"], ["term"])
    assert "Program received signal SIGTERM, Terminated." in g, g
    assert "Program terminated with signal SIGTERM" in g, g
    assert native == -15 and rc in (-15, 128 + 15), (native, rc)


def test_after_gdb_detached_signals_reach_the_program_as_without_gdb(tmp_path):
    """From gdb's connection on, mmscope's handler stands in for the
    program's (so that gdb can stop): after a detach it hands every
    signal on as the kernel would, SA_RESTART and default actions alike."""
    from test_signals import SIGME_CASES
    for name, (args, want) in SIGME_CASES.items():
        g, rc, native = sigme_session(tmp_path, name, ["detach"], args)
        assert "detached]" in g, g
        assert native == want and rc in (want, 128 - want), (name, native, rc)
