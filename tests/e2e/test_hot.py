"""Hot sites (--hot=N, experimental, off by default): an instruction that
faulted N times is patched into a jump to a stub that completes its
accesses without a signal.  The trace must be the one --hot=off gives,
record for record, and the program's own results the native ones."""
import os

import pytest

from conftest import native, prog

HOT = prog("hotloop")
N = 20000


def _accesses(run):
    recs = [r for r in run.records() if r["type"] == "access"]
    return [(r["module_offset"], r["dir"], r["width"], r["offset"], r["value"], r["count"],
             tuple(r["flags"]), r["insn"]) for r in recs]


def test_patched_sites_give_the_records_of_the_fault_path(mmscope_run):
    truth = native([HOT, str(N)])
    assert truth.returncode == 0
    hot = mmscope_run([HOT, str(N)], maps=["/memfd:mmscope-hot*"], opts=["--hot=16"])
    off = mmscope_run([HOT, str(N)], maps=["/memfd:mmscope-hot*"], opts=["--hot=off"])
    assert hot.stdout == truth.stdout == off.stdout
    a, b = _accesses(hot), _accesses(off)
    assert len(a) == 2 * N
    assert a == b
    # the values are the program's: store i, then load i
    assert [int(x[4], 16) for x in a[:6]] == [0, 0, 1, 1, 2, 2]
    with open(os.path.join(hot.trace_dir, "agent.log")) as f:
        log = f.read()
    # both sites patched after 16 faults each; every later access went
    # through a stub
    assert f"hot sites: 2 patched, {2 * N - 32} accesses through them" in log, log
    with open(os.path.join(off.trace_dir, "agent.log")) as f:
        assert "hot sites" not in f.read()


def test_hot_wants_a_number_or_off(tmp_path):
    from conftest import MMSCOPE, run_group
    p = run_group([MMSCOPE, "run", "--hot=zero", "-o", str(tmp_path / "t"), "--", "/bin/true"],
                  30)
    assert p.returncode == 2
    assert "--hot wants a number of faults 1..1000000 or 'off', got 'zero'" in p.stderr


SIG = prog("hotsig")


def test_signals_never_see_a_stub_and_never_break_an_access(mmscope_run):
    """A SIGALRM every 50 us while both sites run patched: every handler
    sees a pc of the program's own text (the stub is rewound or moved on,
    an access being completed makes the signal wait), and every load
    returns what was stored."""
    n = 200000
    run = mmscope_run([SIG, str(n)], maps=["/memfd:mmscope-hot*"], opts=["--hot=16"])
    words = run.stdout.split()
    assert words[:2] == ["SUM", str(n * (n - 1) // 2)], run.stdout
    alarms, outside = int(words[3]), int(words[5])
    # enough signals to have landed inside stubs many times over
    assert alarms > 1000, run.stdout
    assert outside == 0, run.stdout
    with open(os.path.join(run.trace_dir, "agent.log")) as f:
        assert "hot sites: 2 patched" in f.read()
    assert len([a for a in run.accesses()]) == 2 * n


def _per_offset(run):
    seqs = {}
    for r in run.records():
        if r["type"] == "access":
            seqs.setdefault(r["offset"], []).append((r["dir"], r["width"], r["value"]))
    return seqs


@pytest.mark.parametrize("form", ["", "short"])
def test_threads_running_a_site_while_it_is_patched(mmscope_run, form):
    """Four threads released together run both sites while the first
    fault patches them (--hot=1): a thread that ran the original
    instruction just before the jump was written faults after it, and the
    fault path must complete the program's instruction, not decode our
    jump (uring_hammer died of that 60% of runs).  Every thread's records
    are the ones --hot=off gives, in its own order.  "short": 2-byte
    instructions, patched with a jump whose last 3 bytes are the next
    instructions'."""
    n, t = 3000, 4
    argv = [HOT, str(n), str(t)] + ([form] if form else [])
    truth = native(argv)
    assert truth.returncode == 0
    off = _per_offset(mmscope_run(argv, maps=["/memfd:mmscope-hot*"], opts=["--hot=off"]))
    assert len(off) == t and all(len(v) == 2 * n for v in off.values())
    for attempt in range(12):
        hot = mmscope_run(argv, maps=["/memfd:mmscope-hot*"], opts=["--hot=1"], check=False)
        assert hot.returncode == 0, (attempt, hot.stderr)
        assert hot.stdout == truth.stdout
        assert _per_offset(hot) == off, attempt
        with open(os.path.join(hot.trace_dir, "agent.log")) as f:
            log = f.read()
        if form:
            # the two are next to each other: the second one's bytes are
            # the first one's jump, so only one is patched
            assert "hot sites: 1 patched" in log, log
            assert "not patched (overlaps a patched neighbour's jump): 1 sites" in log, log
        else:
            assert "hot sites: 2 patched" in log, log


def test_a_core_of_a_patched_program_has_its_own_text_and_no_stub(tmp_path):
    """mmscope dump of a program running both sites patched: the core
    (--full, so the text is read from memory) shows the program's
    instructions at the sites, not our jumps; every thread's pc is in the
    program's text (a thread inside a stub was moved back or on); no
    stub memory is in it."""
    import re
    import time
    from conftest import GroupPopen, MMSCOPE, run_group
    trace = str(tmp_path / "t.d")
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", trace, "--map", "/memfd:mmscope-hot*",
                      "--hot=1", "--", HOT, "1000000000"], 120)
    try:
        pid = None
        for _ in range(100):
            names = [n for n in os.listdir(trace) if n.endswith(".mms")] \
                if os.path.isdir(trace) else []
            if names:
                pid = int(names[0].split("-")[0])
                break
            time.sleep(0.05)
        assert pid, "the program did not start"
        time.sleep(0.5)  # both sites fault once and are patched
        with open(f"/proc/{pid}/maps") as f:
            stubs = [int(l.split("-")[0], 16) for l in f
                     if l.split()[1] == "r-xp" and len(l.split()) == 5]
        assert stubs, "no stub memory: nothing was patched"
        core = str(tmp_path / "hot.core")
        d = run_group([MMSCOPE, "dump", str(pid), "--full", "-o", core], 120)
        assert d.returncode == 0, d
        assert run.poll() is None
    finally:
        run.kill_group()
    want = subprocess_gdb(None, "x/6xb hot_store", "x/6xb hot_load")
    got = subprocess_gdb(core, "x/6xb hot_store", "x/6xb hot_load", "info threads", "bt")
    bytes_of = lambda g: [b.split() for b in re.findall(
        r"^0x[0-9a-f]+ <[^>]+>:\s+((?:0x[0-9a-f]{2}\s*){6})", g, re.M)]
    assert len(bytes_of(want)) == 2 and bytes_of(got) == bytes_of(want), (want, got)
    assert "rounds" in got and "main" in got, got
    with open(core, "rb") as f:
        data = f.read()
    import struct
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phnum, = struct.unpack_from("<H", data, 0x38)
    vaddrs = {struct.unpack_from("<IIQQ", data, phoff + 56 * i)[3] for i in range(phnum)}
    assert not vaddrs & set(stubs), "stub memory in the core"


def subprocess_gdb(core, *cmds, remote=False):
    """gdb -batch on hotloop (and core), the commands in order; its output.
    remote: the commands connect (gdb's own target remote)."""
    from conftest import run_group
    argv = ["gdb", "-q", "-batch", "-nx"]
    if remote:
        argv += [HOT]
    for c in cmds:
        argv += ["-ex", c]
    argv += [] if remote else [HOT] + ([core] if core else [])
    p = run_group(argv, 120)
    return p.stdout + p.stderr


def _wait_stubs(pid, run, timeout=30):
    """Wait until the agent has mapped stub memory in pid (a site is
    patched); the addresses of its anonymous code mappings."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.poll() is None:
        with open(f"/proc/{pid}/maps") as f:
            stubs = [int(l.split("-")[0], 16) for l in f
                     if l.split()[1] == "r-xp" and len(l.split()) == 5]
        if stubs:
            return stubs
        time.sleep(0.02)
    raise AssertionError("no site was patched")


def test_gdb_sees_the_programs_text_and_its_breakpoint_on_a_patched_site_stops(tmp_path):
    """gdb connects to a program whose two sites are patched: they are put
    back for as long as it is connected, so it reads the program's bytes,
    a breakpoint on a site stops there and stepi goes to the next
    instruction; after detach they are patched again.  Every access is
    traced once."""
    import re
    import subprocess
    import time
    from conftest import GroupPopen, MMSCOPE
    trace, sock = str(tmp_path / "t.d"), str(tmp_path / "g.sock")
    run, pid = _batches(trace, sock)
    try:
        _wait_stubs(pid, run)
        g = subprocess_gdb(None, "set pagination off", f"target remote {sock}",
                           "x/6xb hot_store", "break hot_store", "continue", "p $pc",
                           "stepi", "p $pc", "delete", "detach", remote=True)
        _wait_patched(pid, run)  # again, after detach
        out, err = run.communicate(input="", timeout=240)
    finally:
        run.kill_group()
    n = _rounds(out)
    want = subprocess_gdb(None, "x/6xb hot_store")
    byte_lines = lambda t: re.findall(r"<[^>]+>:\s+((?:0x[0-9a-f]{2}\s*){6})", t)
    assert byte_lines(g) and byte_lines(g)[0].split() == byte_lines(want)[0].split(), g
    pcs = re.findall(r"^\$\d+ = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <([^>]+)>", g, re.M)
    assert len(pcs) == 2 and pcs[0] in ("hot_store", _in_rounds("hot_store")), g
    assert pcs[1] in ("hot_load", _in_rounds("hot_load")), g
    assert run.returncode == 0, err
    assert out == f"ROUNDS {n}\nSUM {n * (n - 1) // 2}\n"
    # the program's own, once each and in order (gdb's reads are flagged)
    from conftest import show_json
    seq = [(r["dir"], int(r["value"], 16)) for r in show_json(trace)
           if r["type"] == "access" and "debugger" not in (r["flags"] or [])]
    assert len(seq) == 2 * n
    assert seq == [(d, i) for i in range(n) for d in ("W", "R")]
    with open(os.path.join(trace, "agent.log")) as f:
        log = f.read()
    assert "2 hot sites unpatched while a debugger is connected" in log, log
    assert "hot sites: 2 patched" in log, log  # again, after detach


def test_a_fork_child_runs_the_patched_sites_into_its_own_trace(mmscope_run):
    """The child of a fork has the parent's patched text: its accesses go
    through the stubs into its own stream, the parent's go on into the
    parent's, each once and in order."""
    n = 20000
    run = mmscope_run([HOT, str(n), "fork"], maps=["/memfd:mmscope-hot*"], opts=["--hot=1"])
    child = int(run.stdout.split()[1])
    assert run.stdout == f"CHILD {child} SUM {n * (n - 1) // 2}\n" \
                         f"PARENT SUM {n * (n - 1)}\n", run.stdout
    by_pid = {}
    for r in run.records():
        if r["type"] == "access":
            by_pid.setdefault(r["pid"], []).append((r["dir"], int(r["value"], 16)))
    one = [(d, i) for i in range(n) for d in ("W", "R")]
    assert by_pid.pop(child) == one
    assert list(by_pid.values()) == [one + one]
    with open(os.path.join(run.trace_dir, "agent.log")) as f:
        log = f.read()
    # the child never faulted at a site: all 2n went through the stubs
    assert f"pid {child}: hot sites: 2 patched, {2 * n} accesses through them" in log, log


VEC = prog("hotvec")


@pytest.mark.parametrize("alarm", [False, True], ids=["plain", "signals"])
def test_the_programs_vector_state_survives_a_patched_access(mmscope_run, alarm):
    """ymm1's upper half, zmm17 and k1 (what the CPU has of them) hold the
    program's values across a patched store: the C library's string
    functions mmscope calls use them, so the stub saves all of it.  With a
    SIGALRM every 50 us, a signal that finds a thread inside the stub gets
    the program's state in its frame, not mmscope's."""
    n = 100000
    argv = [VEC, str(n)] + (["alarm"] if alarm else [])
    truth = native(argv)
    assert truth.returncode == 0 and "BAD 0\n" in truth.stdout, truth.stdout
    run = mmscope_run(argv, maps=["/memfd:mmscope-hot*"], opts=["--hot=1"])
    words = run.stdout.split()
    state = words[1]
    print(f"vector state checked: {state}")
    assert words[2:6] == ["ROUNDS", str(n), "BAD", "0"], run.stdout
    if alarm:
        assert int(words[7]) > 500, run.stdout
    with open(os.path.join(run.trace_dir, "agent.log")) as f:
        assert f"hot sites: 1 patched, {n - 1} accesses through them" in f.read()


def _batches(trace, sock):
    """hotloop in batches of 1000 rounds under --hot=1 with a debugger
    socket, until its stdin is closed (communicate(input="")): the test
    decides how long the sites run, not their pace.  (Popen, pid)."""
    import subprocess
    import time
    from conftest import GroupPopen, MMSCOPE
    run = GroupPopen([MMSCOPE, "run", "-o", trace, f"--gdb=unix:{sock}", "--map",
                      "/memfd:mmscope-hot*", "--hot=1", "--", HOT, "1000", "stdin"], 300,
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
    for _ in range(500):
        if os.path.exists(sock) and os.path.isdir(trace) and \
                any(x.endswith(".mms") for x in os.listdir(trace)):
            break
        time.sleep(0.01)
    pid = int([x for x in os.listdir(trace) if x.endswith(".mms")][0].split("-")[0])
    return run, pid


def _wait_patched(pid, run, timeout=30):
    """Wait until hot_store's first byte is our jump again."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.poll() is None:
        if _site_bytes(pid, "hot_store") == 0xe9:
            return
        time.sleep(0.01)
    raise AssertionError("hot_store was not patched again")


def _rounds(out):
    """The rounds hotloop says it ran, its output checked against them."""
    import re
    m = re.fullmatch(r"ROUNDS (\d+)\nSUM (\d+)\n", out)
    assert m, out
    n = int(m.group(1))
    assert int(m.group(2)) == n * (n - 1) // 2, out
    return n


def _symbols():
    import subprocess
    nm = subprocess.run(["nm", HOT], capture_output=True, text=True, check=True).stdout
    return {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines() if len(l.split()) == 3}


def _in_rounds(sym):
    """How gdb names sym's address: rounds+OFFSET."""
    syms = _symbols()
    return f"rounds+{syms[sym] - syms['rounds']}"


def _site_bytes(pid, sym):
    """The first byte of hotloop's instruction at sym in process pid, read
    from outside (/proc/PID/mem: what the CPU runs)."""
    value = _symbols()[sym]
    real = os.path.realpath(HOT)
    with open(f"/proc/{pid}/maps") as f:
        base = min(int(l.split("-")[0], 16) for l in f
                   if l.rstrip().endswith(real) and l.split()[2] == "00000000")
    with open(f"/proc/{pid}/mem", "rb") as f:
        f.seek(base + value)
        return f.read(1)[0]


def test_ctl_unpatch_puts_the_programs_bytes_back_and_patch_lets_them_be_patched(tmp_path):
    """mmscope ctl unpatch: both sites are the program's bytes again and
    stay so; patch: the next fault patches them again.  The program's
    results and its 2N accesses are as ever."""
    import json
    import subprocess
    import time
    from conftest import GroupPopen, MMSCOPE, run_group
    trace, sock = str(tmp_path / "t.d"), str(tmp_path / "g.sock")
    run, pid = _batches(trace, sock)
    try:
        _wait_stubs(pid, run)
        assert _site_bytes(pid, "hot_store") == 0xe9  # patched: jmp
        c = run_group([MMSCOPE, "ctl", sock, "unpatch"], 60)
        assert c.returncode == 0 and json.loads(c.stdout) == {"ok": True, "unpatched": 2}, c
        time.sleep(0.2)
        assert _site_bytes(pid, "hot_store") == 0x89 and _site_bytes(pid, "hot_load") == 0x8b
        c = run_group([MMSCOPE, "ctl", sock, "patch"], 60)
        assert c.returncode == 0 and json.loads(c.stdout) == {"ok": True}, c
        _wait_patched(pid, run)
        out, err = run.communicate(input="", timeout=240)
    finally:
        run.kill_group()
    n = _rounds(out)
    assert run.returncode == 0, err
    assert out == f"ROUNDS {n}\nSUM {n * (n - 1) // 2}\n"
    assert f"mmscope: {2 * n} accesses to 1 mapping" in err, err
