"""Core dumps that include the device (issue 9, docs/core.md).

tests/progs/crashme maps a RAM memfd (traced) and a "device" memfd
(--device), writes and reads a few registers, parks two workers in
worker_wait() and dies.  It prints what the core must show: the mappings'
addresses, a global, each register's last value, the workers' tids.  The
real gdb reads the core mmscope writes and is checked against that, and
against the kernel's own core of the same crash run without mmscope.
"""
import json
import os
import re
import resource
import struct
import subprocess

import pytest

from conftest import MMSCOPE, GroupPopen, prog, run_group, show_json

CRASHME = prog("crashme")
RAM, DEV = "/memfd:mmscope-crash-ram*", "/memfd:mmscope-crash-dev*"
SIGNALS = {"segv": 11, "abort": 6, "fpe": 8, "raise": 6, "trap": 5}


def unlimited_core():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def crash(tmp_path, how, opts=(), kernel_core=False):
    """crashme HOW under mmscope in tmp_path: (the run, its trace dir)."""
    trace = str(tmp_path / "t.d")
    cmd = [MMSCOPE, "run", "-q", "-o", trace, "--map", RAM, "--device", DEV, *opts, "--",
           CRASHME, how]
    # (a sanitized mmscope, make check SAN=address, would lower the core
    # limit the program inherits: ASan's disable_coredump)
    env = dict(os.environ, ASAN_OPTIONS="disable_coredump=0") if kernel_core else None
    p = run_group(cmd, 120, cwd=str(tmp_path), env=env,
                  preexec_fn=unlimited_core if kernel_core else no_core)
    return p, trace


def printed(out):
    addr = re.search(r"^ADDR ram 0x([0-9a-f]+) dev 0x([0-9a-f]+)$", out, re.M)
    workers = re.search(r"^WORKERS (\d+) (\d+)$", out, re.M)
    return int(addr.group(1), 16), int(addr.group(2), 16), \
        [int(workers.group(1)), int(workers.group(2))]


def stable(out):
    """The program's output without what differs from run to run."""
    return [l for l in out.splitlines() if not l.startswith(("ADDR", "WORKERS"))]


def gdb(core, *cmds):
    argv = ["gdb", "-nx", "-batch", "-ex", "set pagination off"]
    for c in cmds:
        argv += ["-ex", c]
    argv += [CRASHME, core]
    return run_group(argv, 120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout


def core_notes(path):
    """[(owner, type, desc bytes)] of every note in the core."""
    data = open(path, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    notes = []
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", data, phoff + 56 * i)
        pos = off
        while ptype == 4 and pos < off + filesz:  # PT_NOTE
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            desc = pos + 12 + ((namesz + 3) & ~3)
            notes.append((data[pos + 12:pos + 11 + namesz].decode(), ntype,
                          data[desc:desc + descsz]))
            pos = desc + ((descsz + 3) & ~3)
    return notes


def device_notes(path):
    """{vaddr: (region, offset, known(byte) -> bool, seq(word) -> int)}"""
    out = {}
    for owner, ntype, d in core_notes(path):
        if owner == "MMSCOPE" and ntype == 0x4d4d0002:
            vaddr, length, offset, region = struct.unpack_from("<QQQI", d)
            known, seqs = d[32:32 + length // 8], d[32 + length // 8:]
            out[vaddr] = (region, offset, lambda b, k=known: bool(k[b // 8] >> (b % 8) & 1),
                          lambda w, q=seqs: struct.unpack_from("<Q", q, 8 * w)[0])
    return out


def core_state(path):
    """The MMSCOPE note's (version, state): state 1 whole, 0 partial."""
    for owner, ntype, d in core_notes(path):
        if owner == "MMSCOPE" and ntype == 0x4d4d0001:
            return struct.unpack_from("<II", d)
    return None


def thread_frames(g):
    """{LWP: [function names, innermost first]} from `thread apply all bt`."""
    frames, lwp = {}, None
    for line in g.splitlines():
        m = re.match(r"Thread \d+ \(.*LWP (\d+)\)\):", line)
        if m:
            lwp = int(m.group(1))
            frames[lwp] = []
            continue
        m = re.match(r"#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) \(", line)
        if m and lwp is not None:
            frames[lwp].append(m.group(1))
    return frames


def test_a_crash_writes_a_core_gdb_reads_with_every_thread_and_the_device(tmp_path):
    """(and untouched memory, the workers' 8 MiB stacks mostly, is holes
    in the file, as in the kernel's cores)"""
    native = run_group([CRASHME, "segv"], 60, cwd=str(tmp_path), preexec_fn=no_core)
    assert native.returncode == -11, native
    p, trace = crash(tmp_path, "segv")
    assert p.returncode == 128 + 11, (p.returncode, p.stdout, p.stderr)
    assert stable(p.stdout) == stable(native.stdout), (p.stdout, native.stdout)
    ram, dev, workers = printed(p.stdout)
    pid = int(re.search(r"^(\d+)-", sorted(n for n in os.listdir(trace)
                                            if n.endswith(".mms"))[0]).group(1))
    core = os.path.join(trace, f"core.{pid}")
    assert os.path.exists(core), os.listdir(trace)
    log = open(os.path.join(trace, "agent.log")).read()
    assert f"wrote core.{pid} (3 threads, signal 11)" in log, log
    assert core_state(core) == (1, 1)
    st = os.stat(core)
    assert st.st_blocks * 512 < st.st_size // 4, (st.st_blocks, st.st_size)
    g = gdb(core, "info threads", "thread apply all bt", "print crash_global",
            f"x/2wx {ram + 0x40}", f"x/wx {ram + 0x1000}", f"x/4wx {dev}",
            "print $_siginfo.si_signo")
    assert "Program terminated with signal SIGSEGV, Segmentation fault." in g, g
    frames = thread_frames(g)
    assert sorted(frames) == sorted([pid, *workers]), g
    assert frames[pid][:2] == ["die", "main"], g
    for w in workers:
        assert "worker_wait" in frames[w] and "worker" in frames[w], g
    assert "$1 = 1234" in g, g
    assert re.search(rf"0x{ram + 0x40:x}:\s+0xfeed0001\s+0xfeed0002", g), g
    assert re.search(rf"0x{ram + 0x1000:x}:\s+0xfeed0400", g), g
    # the device: the last value written or read at each register
    assert re.search(rf"0x{dev:x}:\s+0x00000000\s+0xc0de0001\s+0x00000000\s+0x9abcdef0", g), g
    assert "$2 = 11" in g, g
    # which device bytes the trace knew, and the record that last showed each word
    accesses = [a for a in show_json(trace) if a["type"] == "access"]
    devreg = next(a["region"] for a in accesses if a["value"] == "0xc0de0001")
    last = {}
    for a in accesses:
        if a["region"] == devreg:
            last[a["offset"] // 8] = a["seq"]
    notes = device_notes(core)
    assert list(notes) == [dev], notes
    region, offset, known, seq = notes[dev]
    assert (region, offset) == (devreg, 0)
    assert [known(b) for b in range(16)] == [False] * 4 + [True] * 12
    assert not any(known(b) for b in range(16, 8192))
    assert (seq(0), seq(1), seq(2)) == (last[0], last[1], 0), last


def test_the_same_crash_has_the_threads_and_backtraces_of_the_kernels_core(tmp_path):
    pattern = open("/proc/sys/kernel/core_pattern").read().strip()
    if pattern.startswith("|") or "/" in pattern:
        pytest.skip(f"the kernel's cores go elsewhere here (core_pattern {pattern!r})")
    (tmp_path / "native").mkdir()
    native = run_group([CRASHME, "segv"], 60, cwd=str(tmp_path / "native"),
                       preexec_fn=unlimited_core)
    assert native.returncode == -11, native
    kernel = [n for n in os.listdir(tmp_path / "native") if n.startswith("core")]
    if not kernel:
        pytest.skip(f"the kernel wrote no core (core_pattern {pattern!r})")
    _, _, nworkers = printed(native.stdout)
    k = thread_frames(gdb(str(tmp_path / "native" / kernel[0]), "thread apply all bt"))
    p, trace = crash(tmp_path, "segv", kernel_core=True)
    assert p.returncode == 128 + 11, p
    _, _, workers = printed(p.stdout)
    ours = [n for n in os.listdir(trace) if n.startswith("core.")]
    m = thread_frames(gdb(os.path.join(trace, ours[0]), "thread apply all bt"))
    assert len(k) == len(m) == 3, (k, m)
    # the same frames of the program's own code, thread by thread (ours
    # also show mmscope's thread start under each worker)
    mine = ("die", "main", "worker_wait", "worker")
    assert sorted([f for f in fr if f in mine] for fr in k.values()) == \
        sorted([f for f in fr if f in mine] for fr in m.values()), (k, m)
    # and the kernel still wrote its own core of the run under mmscope
    assert [n for n in os.listdir(tmp_path) if n.startswith("core")], os.listdir(tmp_path)


@pytest.mark.parametrize("how", ["abort", "fpe", "raise", "trap"])
def test_other_fatal_signals_write_a_core_and_the_program_dies_of_them(tmp_path, how):
    native = run_group([CRASHME, how], 60, cwd=str(tmp_path), preexec_fn=no_core)
    sig = SIGNALS[how]
    assert native.returncode == -sig, native
    p, trace = crash(tmp_path, how)
    assert p.returncode == 128 + sig, (p.returncode, p.stdout, p.stderr)
    assert stable(p.stdout) == stable(native.stdout), (p.stdout, native.stdout)
    ours = [n for n in os.listdir(trace) if n.startswith("core.")]
    assert len(ours) == 1, os.listdir(trace)
    g = gdb(os.path.join(trace, ours[0]), "bt")
    name = {5: "SIGTRAP", 6: "SIGABRT", 8: "SIGFPE"}[sig]
    assert f"Program terminated with signal {name}" in g, g
    assert re.search(r"#\d+ .* (die|main) \(", g), g


def test_core_off_writes_none_and_a_full_disk_leaves_a_core_marked_partial(tmp_path):
    p, trace = crash(tmp_path, "segv", ["--core=off"])
    assert p.returncode == 128 + 11, p
    assert not [n for n in os.listdir(trace) if n.startswith("core")], os.listdir(trace)
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    small = tmp_path / "small"
    small.mkdir()
    # (untouched pages are holes: --core=full has megabytes of real bytes)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                       capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        p, trace = crash(small, "segv", ["--core=full"])
        assert p.returncode == 128 + 11, (p.returncode, p.stdout, p.stderr)
        ours = [n for n in os.listdir(trace) if n.startswith("core.")]
        assert len(ours) == 1, os.listdir(trace)
        assert core_state(os.path.join(trace, ours[0])) == (1, 0)
        log = open(os.path.join(trace, "agent.log")).read()
        assert f"could not finish {ours[0]}: ENOSPC (the disk is full)" in log, log
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)


def test_bad_core_option_is_refused(tmp_path):
    p = subprocess.run([MMSCOPE, "run", "-o", str(tmp_path / "t.d"), "--core=sometimes", "--",
                        "true"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--core wants 'off', 'on' or 'full'" in p.stderr, p


def check_core_of_waiting(core, out, pid):
    ram, dev, workers = printed(out)
    g = gdb(core, "info threads", "thread apply all bt", "print crash_global",
            f"x/2wx {ram + 0x40}", f"x/4wx {dev}")
    frames = thread_frames(g)
    # the program's three, and mmscope's own that wrote the core
    extra = set(frames) - {pid, *workers}
    assert set(frames) >= {pid, *workers} and len(extra) == 1, g
    assert "core_dump_stopped" in frames[extra.pop()], g
    assert "main" in frames[pid], g
    for w in workers:
        assert "worker_wait" in frames[w], g
    assert "$1 = 1234" in g, g
    assert re.search(rf"0x{ram + 0x40:x}:\s+0xfeed0001\s+0xfeed0002", g), g
    assert re.search(rf"0x{dev:x}:\s+0x00000000\s+0xc0de0001\s+0x00000000\s+0x9abcdef0", g), g


def start_waiting(tmp_path, opts=()):
    trace = str(tmp_path / "t.d")
    run = GroupPopen([MMSCOPE, "run", "-q", "-o", trace, "--map", RAM, "--device", DEV, *opts,
                      "--", CRASHME, "wait"], 120, stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT, text=True)
    out = ""
    for line in run.stdout:
        out += line
        if line == "WAITING\n":
            break
    assert "WAITING" in out, out
    pid = int(re.search(r"^(\d+)-", sorted(n for n in os.listdir(trace)
                                            if n.endswith(".mms"))[0]).group(1))
    return run, trace, out, pid


def test_mmscope_dump_writes_a_core_of_a_running_program_which_goes_on(tmp_path):
    """The program was started without --gdb: mmscope dump opens the
    connection (as mmscope ctl does), stops it, writes the core, lets it
    go; a second dump, through ctl and relative to ctl's directory,
    finds it still running."""
    run, trace, out, pid = start_waiting(tmp_path)
    try:
        core = str(tmp_path / "running.core")
        d = run_group([MMSCOPE, "dump", str(pid), "-o", core], 120)
        assert d.returncode == 0, d
        assert d.stdout == f"mmscope dump: wrote {core} (4 threads)\n", d
        assert run.poll() is None, "the program did not go on"
        check_core_of_waiting(core, out, pid)
        assert core_state(core) == (1, 1)
        c = run_group([MMSCOPE, "ctl", trace, "dump", "--full", "again.core"], 120,
                      cwd=str(tmp_path))
        assert c.returncode == 0 and '"ok":true' in c.stdout, c
        assert os.path.getsize(tmp_path / "again.core") > os.path.getsize(core), c
        assert run.poll() is None
        bad = run_group([MMSCOPE, "dump", str(pid), "-o", str(tmp_path / "no" / "such")], 120)
        assert bad.returncode == 1 and "cannot create" in bad.stderr, bad
        assert run.poll() is None
    finally:
        run.kill_group()


def test_monitor_dump_from_gdb(tmp_path):
    sock = str(tmp_path / "gdb.sock")
    run, trace, out, pid = start_waiting(tmp_path, [f"--gdb=unix:{sock}"])
    try:
        core = str(tmp_path / "from-gdb.core")
        g = run_group(["gdb", "-nx", "-batch", "-ex", f"target remote {sock}",
                       "-ex", f"monitor dump {core}", "-ex", "monitor dump",
                       "-ex", "detach", CRASHME], 120,
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout
        assert f"wrote {core} (4 threads)" in g, g
        assert "dump [--full] [--device-reads] FILE: where to write the core" in g, g
        assert run.poll() is None
        check_core_of_waiting(core, out, pid)
    finally:
        run.kill_group()


@pytest.mark.parametrize("how", ["abort", "fpe"])
def test_a_crash_inside_the_core_writer_still_kills_with_the_original_signal(tmp_path, how):
    # MMSCOPE_TEST_CORE_CRASH makes the writer fault before it writes
    env = dict(os.environ, MMSCOPE_TEST_CORE_CRASH="1")
    trace = str(tmp_path / "t.d")
    p = run_group([MMSCOPE, "run", "-q", "-o", trace, "--map", RAM, "--device", DEV, "--",
                   CRASHME, how], 120, cwd=str(tmp_path), preexec_fn=no_core, env=env)
    assert p.returncode == 128 + SIGNALS[how], (p.returncode, p.stdout, p.stderr)
    ours = [n for n in os.listdir(trace) if n.startswith("core.")]
    assert len(ours) == 1 and os.path.getsize(os.path.join(trace, ours[0])) == 0, ours


def regs_at(trace, seq, *opts):
    p = run_group([MMSCOPE, "show", f"--regs-at={seq}", "--format=json", *opts, trace], 60)
    assert p.returncode == 0, p
    return [json.loads(l) for l in p.stdout.splitlines()]


def test_show_regs_at_rebuilds_each_register_file_at_any_record(tmp_path):
    """At every record of the crash's trace, the register files show
    --regs-at prints are those a plain model of the trace's accesses
    gives (the last value at each 4-byte register, the record that last
    touched its 8-byte word), and at the end they are what the core holds."""
    p, trace = crash(tmp_path, "segv")
    assert p.returncode == 128 + 11, p
    accesses = [a for a in show_json(trace) if a["type"] == "access"]
    assert accesses
    for upto in [a["seq"] for a in accesses] + [accesses[-1]["seq"] + 1000]:
        model = {}
        for a in accesses:
            if a["seq"] <= upto:
                assert a["width"] == 4 and a["count"] == 1, a
                regs = model.setdefault(a["region"], {})
                regs[a["offset"]] = a["value"]
                for off in (a["offset"] // 8 * 8, a["offset"] // 8 * 8 + 4):
                    if off in regs:
                        regs[(off, "seq")] = a["seq"]
        got = {r["region"]: {x["offset"]: x["value"] for x in r["registers"]}
               for r in regs_at(trace, upto)}
        seqs = {r["region"]: {x["offset"]: x["seq"] for x in r["registers"]}
                for r in regs_at(trace, upto)}
        want = {reg: {k: v for k, v in m.items() if not isinstance(k, tuple)}
                for reg, m in model.items()}
        assert {k: v for k, v in got.items() if v} == want, (upto, got, want)
        for reg, m in model.items():
            for k, v in m.items():
                if isinstance(k, tuple):
                    assert seqs[reg][k[0]] == v, (upto, reg, k, seqs)
    dev = printed(p.stdout)[1]
    devreg = next(a["region"] for a in accesses if a["value"] == "0xc0de0001")
    only = regs_at(trace, 10 ** 9, f"--region={devreg}")
    assert [r["region"] for r in only] == [devreg]
    region, offset, known, seq = device_notes(
        os.path.join(trace, [n for n in os.listdir(trace) if n.startswith("core.")][0]))[dev]
    for x in only[0]["registers"]:
        assert x["known"] == sum(known(x["offset"] + b) << b for b in range(4)), x
        assert x["seq"] == seq(x["offset"] // 8), x


@pytest.mark.parametrize("args,msg", [
    (["--regs-at=soon"], "--regs-at needs a record number"),
    (["--regs-at=5", "--format=mmiotrace"], "--regs-at prints register files"),
    (["--region=2"], "--region is for --regs-at"),
])
def test_bad_regs_at_options_are_refused(tmp_path, args, msg):
    p = subprocess.run([MMSCOPE, "show", *args, str(tmp_path)], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 2 and msg in p.stderr, p


def test_dump_device_reads_reads_the_device_for_the_core(tmp_path):
    """The device register at 0x20 changed behind the program's back (a
    write to the file): the core has 0 there and says the byte is unknown,
    unless --dump-device-reads reads the device for it."""
    for opts, want in (([], 0), (["--dump-device-reads"], 0x5a5a0020)):
        d = tmp_path / ("live" if opts else "shadow")
        d.mkdir()
        p, trace = crash(d, "segv", opts)
        assert p.returncode == 128 + 11, p
        dev = printed(p.stdout)[1]
        core = os.path.join(trace, [n for n in os.listdir(trace) if n.startswith("core.")][0])
        g = gdb(core, f"x/wx {dev + 0x20}", f"x/wx {dev + 4}")
        assert re.search(rf"0x{dev + 0x20:x}:\s+0x{want:08x}", g), g
        assert re.search(rf"0x{dev + 4:x}:\s+0xc0de0001", g), g
        raw = [x for o, t, x in core_notes(core) if o == "MMSCOPE" and t == 0x4d4d0002][0]
        assert struct.unpack_from("<I", raw, 28)[0] == (1 if opts else 0)
        _, _, known, _ = device_notes(core)[dev]
        assert not known(0x20) and known(4)


def test_a_program_with_thousands_of_mappings_gets_them_all_in_its_core(tmp_path):
    p, trace = crash(tmp_path, "many")
    assert p.returncode == 128 + 11, p
    log = open(os.path.join(trace, "agent.log")).read()
    assert "leaves out" not in log, log
    core = os.path.join(trace, [n for n in os.listdir(trace) if n.startswith("core.")][0])
    assert core_state(core) == (1, 1)
    phnum, = struct.unpack_from("<H", open(core, "rb").read(64), 56)
    assert phnum > 9000, phnum
    assert re.search(r"#1 .* in main \(", gdb(core, "bt")), core


def loads(core):
    data = open(core, "rb").read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    return [struct.unpack_from("<IIQQQQQ", data, phoff + 56 * i) for i in range(phnum)]


def test_core_full_adds_the_text_of_the_program_and_its_libraries(tmp_path):
    """--core=on leaves the code of files to the files, as the kernel
    does; full has every file's text."""
    sizes = {}
    for mode in ("on", "full"):
        d = tmp_path / mode
        d.mkdir()
        p, trace = crash(d, "segv", [f"--core={mode}"])
        assert p.returncode == 128 + 11, p
        core = os.path.join(trace, [n for n in os.listdir(trace) if n.startswith("core.")][0])
        # file-backed executable segments with bytes in the core
        nt_file = [d for o, t, d in core_notes(core) if o == "CORE" and t == 0x46494c45][0]
        count, = struct.unpack_from("<Q", nt_file, 0)
        files = [struct.unpack_from("<QQ", nt_file, 16 + 24 * i) for i in range(count)]
        sizes[mode] = sum(1 for t, f, _, vaddr, _, filesz, _ in loads(core)
                          if t == 1 and f & 1 and filesz
                          and any(lo <= vaddr < hi for lo, hi in files))
        g = gdb(core, "bt")
        assert re.search(r"#1 .* in main \(", g), g
    assert sizes["on"] == 0 and sizes["full"] >= 4, sizes  # crashme, libc, ld.so, mmscope
