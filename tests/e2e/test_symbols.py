"""Where an access was made, when the module has lost its names.  `show`
prints `func+0xOFF (module) file:line` when it can: a pc in a stripped
program prints as `module+0xOFF` (OFF the address addr2line takes), a
stripped library still names its exported functions from .dynsym, and a
separate debug file found by build-id or .gnu_debuglink in a
`show --debug-dir` directory gives back function, offset and line.  JSON
adds `module` and `module_offset`.  HIT call chains get the same.

tests/progs/symbols.c prints each store it makes to its memfd with the
name and run-time address of the function that made it, and libc's load
address from dladdr(); the Makefile builds stripped/ and debug-split
copies of it and of lib/symlib.c.  The expected names and offsets come
from that ground truth and from binutils (nm, addr2line, readelf) run on
the unstripped builds, never from numbers written here.
"""
import json
import os
import re
import shutil
import signal
import subprocess

from conftest import MMSCOPE, PROGS, show_json

SYMBOLS = os.path.join(PROGS, "symbols")
SYMLIB = os.path.join(PROGS, "libsymlib.so")
STRIPPED = os.path.join(PROGS, "stripped", "symbols")
STRIPPED_DL = os.path.join(PROGS, "stripped", "symbols-dl")
STRIPPED_LIB = os.path.join(PROGS, "stripped", "libsymlib.so")
DEBUG_FILE = os.path.join(PROGS, "debug", "symbols.debug")
SYSTEM_DEBUG_DIR = "/usr/lib/debug"
MAP = "/memfd:mmscope-symbols*"
TIMEOUT = 300


def run_traced(tmp_path, argv, opts=(), name="trace.d"):
    """mmscope run in a session of its own, the whole group killed on a
    timeout; returns (program stdout, trace dir)."""
    out = str(tmp_path / name)
    cmd = [MMSCOPE, "run", "-q", "-o", out, "--map", MAP, *opts, "--", *argv]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        stdout, stderr = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    return stdout, out


def show_text(trace, *extra):
    p = subprocess.run([MMSCOPE, "show", "--no-header", *extra, trace], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    return p.stdout


def truth(stdout):
    """The program's single stores: {offset: (value, function, function address)}."""
    return {int(o, 16): (int(v, 16), f, int(a, 16)) for o, v, f, a in
            re.findall(r"^W 0x([0-9a-f]+) 0x([0-9a-f]+) (\w+) 0x([0-9a-f]+)$", stdout, re.M)}


def libc_base(stdout):
    """(path, load address) of libc, as the program's dladdr() saw it."""
    m = re.search(r"^B (\S+) 0x([0-9a-f]+)$", stdout, re.M)
    assert m, stdout
    return m.group(1), int(m.group(2), 16)


def writes(trace, *extra):
    return [r for r in show_json(trace, *extra) if r["type"] == "access" and r["dir"] == "W"]


def at(recs, offset):
    """The one write at offset."""
    found = [r for r in recs if r["offset"] == offset]
    assert len(found) == 1, (offset, found)
    return found[0]


def hits(trace, *extra):
    return [r for r in show_json(trace, "--watch-only", *extra) if r["type"] == "hit"]


def symbols(path, *flags):
    """[(name, value, size)] of the defined symbols nm lists (size 0 if none)."""
    p = subprocess.run(["nm", "-S", "--defined-only", *flags, path], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = []
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) == 4:
            out.append((f[3].split("@")[0], int(f[0], 16), int(f[1], 16)))
        elif len(f) == 3:
            out.append((f[2].split("@")[0], int(f[0], 16), 0))
    return out


def value_of(path, name, *flags):
    found = {v for n, v, _ in symbols(path, *flags) if n == name}
    assert len(found) == 1, (path, name, found)
    return found.pop()


def names_at(path, off, *flags):
    """{name: value} of the functions whose [value, value + size) holds off."""
    return {n: v for n, v, s in symbols(path, *flags) if v <= off < v + s}


def function_at(path, off):
    found = names_at(path, off)
    assert len(found) == 1, (path, hex(off), found)
    return next(iter(found))


def addr2line(path, off):
    """(function, file, line) binutils addr2line gives for off in path."""
    p = subprocess.run(["addr2line", "-f", "-e", path, hex(off)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    func, loc = p.stdout.splitlines()[:2]
    m = re.match(r"^(.*?):(\d+)(?: \(discriminator \d+\))?$", loc)
    assert m, loc
    return func, m.group(1), int(m.group(2))


def bias(path, func, addr):
    """Load bias of path's module: func's run-time address minus its value
    in the unstripped file's symbol table."""
    return addr - value_of(path, func)


def expect_module(rec, module, off):
    """rec's (or a frame's) module and module_offset keys."""
    assert (rec["module"], rec["module_offset"]) == (module, f"0x{off:x}"), rec


def expect_line(where, path, off, func, func_off, module):
    """where is "func+0xOFF (module) file:line" with the function, file and
    line that addr2line gives for off of the unstripped path."""
    name, file, line = addr2line(path, off)
    assert name == func
    m = re.match(r"^(\w+)\+0x([0-9a-f]+) \(([^)]+)\) (.+):(\d+)$", where)
    assert m, where
    assert m.group(1) == func and int(m.group(2), 16) == func_off, where
    assert m.group(3) == module, where
    # DWARF names the file as the compiler was given it; addr2line puts
    # the compilation directory in front
    assert file == m.group(4) or file.endswith("/" + m.group(4)), (where, file)
    assert int(m.group(5)) == line, (where, line)


def in_dynsym(stripped, func):
    """Whether func is in the stripped file's .dynsym, having checked that
    the file is stripped (no .symtab, no DWARF): the test's precondition."""
    p = subprocess.run(["readelf", "-SW", stripped], capture_output=True, text=True, timeout=60)
    assert ".dynsym" in p.stdout, stripped
    assert ".symtab" not in p.stdout and ".debug_info" not in p.stdout, stripped
    return func in {n for n, _, _ in symbols(stripped, "-D")}


def build_id(path):
    p = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, timeout=60)
    m = re.search(r"Build ID: ([0-9a-f]+)", p.stdout)
    assert m, p.stdout
    return m.group(1)


def test_unstripped_accesses_name_function_module_and_line(tmp_path):
    stdout, trace = run_traced(tmp_path, [SYMBOLS, SYMLIB])
    t = truth(stdout)
    assert [(o, t[o][0], t[o][1]) for o in (4, 8, 0xc)] == [
        (4, 0x11, "local_poke"), (8, 0x22, "symlib_poke"), (0xc, 0x33, "symlib_local")]
    acc = writes(trace)
    for off, path in ((4, SYMBOLS), (8, SYMLIB), (0xc, SYMLIB)):
        a, (value, func, addr) = at(acc, off), t[off]
        assert int(a["value"], 16) == value
        pc = int(a["pc"], 16)
        file_off = pc - bias(path, func, addr)
        expect_line(a["where"], path, file_off, func, pc - addr, os.path.basename(path))
        expect_module(a, os.path.basename(path), file_off)


def test_stripped_program_prints_module_plus_offset(tmp_path):
    assert not in_dynsym(STRIPPED, "local_poke")
    stdout, trace = run_traced(tmp_path, [STRIPPED, STRIPPED_LIB])
    _, func, addr = truth(stdout)[4]
    a = at(writes(trace), 4)
    off = int(a["pc"], 16) - bias(SYMBOLS, func, addr)
    assert a["where"] == f"symbols+0x{off:x}"
    expect_module(a, "symbols", off)
    # the offset is the one addr2line takes: it maps back into local_poke
    assert function_at(SYMBOLS, off) == "local_poke"
    assert addr2line(SYMBOLS, off)[0] == "local_poke"
    # text output: "in module+offset" after the pc
    line = next(l for l in show_text(trace).splitlines() if " +0x0004 = " in l)
    assert line.endswith(f"  pc={a['pc']}  in symbols+0x{off:x}"), line


def test_stripped_library_names_exported_functions_from_dynsym(tmp_path):
    assert in_dynsym(STRIPPED_LIB, "symlib_poke")
    assert not in_dynsym(STRIPPED_LIB, "symlib_local")
    stdout, trace = run_traced(tmp_path, [STRIPPED, STRIPPED_LIB])
    t = truth(stdout)
    acc = writes(trace)
    # exported: its name from .dynsym, no line (no DWARF left)
    poke, (_, func, addr) = at(acc, 8), t[8]
    pc = int(poke["pc"], 16)
    assert poke["where"] == f"symlib_poke+0x{pc - addr:x} (libsymlib.so)"
    expect_module(poke, "libsymlib.so", pc - bias(SYMLIB, func, addr))
    # static: the library's name and the offset addr2line takes
    local, (_, func, addr) = at(acc, 0xc), t[0xc]
    off = int(local["pc"], 16) - bias(SYMLIB, func, addr)
    assert local["where"] == f"libsymlib.so+0x{off:x}"
    expect_module(local, "libsymlib.so", off)
    assert function_at(SYMLIB, off) == "symlib_local"
    assert addr2line(SYMLIB, off)[0] == "symlib_local"
    line = next(l for l in show_text(trace).splitlines() if " +0x0008 = " in l)
    assert line.endswith(f"  in {poke['where']}"), line


def test_libc_is_named_from_its_own_tables_or_its_installed_debug_file(tmp_path):
    """memset's stores are made by an implementation its IFUNC picked,
    which libc's .dynsym does not name; frexp is exported.  Both are named
    by the symbols binutils finds in libc's debug file under
    /usr/lib/debug (libc6-dbg) if installed, else in libc's .dynsym, or
    print as libc.so.6+OFF when neither has them.  --debug-dir adds a
    directory: /usr/lib/debug is still searched (with libc6-dbg installed,
    the names show it)."""
    stdout, trace = run_traced(tmp_path, [STRIPPED, STRIPPED_LIB])
    libc, base = libc_base(stdout)
    module = os.path.basename(libc)
    dbg = os.path.join(SYSTEM_DEBUG_DIR, ".build-id", build_id(libc)[:2],
                       build_id(libc)[2:] + ".debug")
    table, flags = (dbg, ()) if os.path.exists(dbg) else (libc, ("-D",))
    assert "M 0x40 0x40 0x44 memset" in stdout.splitlines()
    value, func, frexp_addr = truth(stdout)[0x80]
    assert (value, func) == (4, "frexp")
    empty = tmp_path / "empty"
    empty.mkdir()
    for extra in ((), (f"--debug-dir={empty}",)):
        acc = writes(trace, *extra)
        memset = [a for a in acc if 0x40 <= a["offset"] < 0x80]
        covered = set()
        for a in memset:
            assert set(bytes.fromhex(a["value"][2:])) == {0x44}, a
            covered |= set(range(a["offset"], a["offset"] + a["width"]))
        assert covered == set(range(0x40, 0x80))
        frexp = at(acc, 0x80)
        assert int(frexp["value"], 16) == 4
        for a in memset + [frexp]:
            pc = int(a["pc"], 16)
            off = pc - base
            expect_module(a, module, off)
            names = names_at(table, off, *flags)
            if a is frexp:
                assert "frexp" in names and names["frexp"] == frexp_addr - base, names
            elif table == dbg:
                assert any("memset" in n for n in names), names
            if not names:
                assert a["where"] == f"{module}+0x{off:x}", a
                continue
            m = re.match(rf"^(\w+)\+0x([0-9a-f]+) \({re.escape(module)}\)( .+:\d+)?$",
                         a["where"])
            assert m and m.group(1) in names, (a["where"], names)
            assert int(m.group(2), 16) == off - names[m.group(1)], (a["where"], names)


def test_separate_debug_file_by_build_id(tmp_path):
    bid = build_id(STRIPPED)
    assert bid == build_id(DEBUG_FILE)
    debug = tmp_path / "debug"
    (debug / ".build-id" / bid[:2]).mkdir(parents=True)
    shutil.copy(DEBUG_FILE, debug / ".build-id" / bid[:2] / f"{bid[2:]}.debug")
    empty = tmp_path / "empty"
    empty.mkdir()
    stdout, trace = run_traced(tmp_path, [STRIPPED, STRIPPED_LIB])
    _, func, addr = truth(stdout)[4]
    pc = int(at(writes(trace), 4)["pc"], 16)
    off = pc - bias(SYMBOLS, func, addr)
    a = at(writes(trace, f"--debug-dir={debug}"), 4)
    expect_line(a["where"], SYMBOLS, off, "local_poke", pc - addr, "symbols")
    expect_module(a, "symbols", off)
    # the names came from that directory: not without it, nor from another
    assert at(writes(trace), 4)["where"] == f"symbols+0x{off:x}"
    assert at(writes(trace, f"--debug-dir={empty}"), 4)["where"] == f"symbols+0x{off:x}"
    # the library has no debug file anywhere: unchanged
    assert at(writes(trace, f"--debug-dir={debug}"), 0xc)["where"].startswith("libsymlib.so+0x")


def test_separate_debug_file_by_debuglink(tmp_path):
    # the section is the file name, NUL, padding, CRC32 (not text)
    p = subprocess.run(["readelf", "--string-dump=.gnu_debuglink", STRIPPED_DL],
                       capture_output=True, timeout=60)
    assert b"]  symbols.debug\n" in p.stdout, p.stdout
    debug = tmp_path / "debug"
    debug.mkdir()
    shutil.copy(DEBUG_FILE, debug / "symbols.debug")
    empty = tmp_path / "empty"
    empty.mkdir()
    stdout, trace = run_traced(tmp_path, [STRIPPED_DL, STRIPPED_LIB])
    _, func, addr = truth(stdout)[4]
    pc = int(at(writes(trace), 4)["pc"], 16)
    off = pc - bias(SYMBOLS, func, addr)
    assert at(writes(trace), 4)["where"] == f"symbols-dl+0x{off:x}"
    # several directories: repeated, colon-separated, and relative to the
    # current directory
    for opts, cwd in (([f"--debug-dir={empty}", f"--debug-dir={debug}"], None),
                      ([f"--debug-dir={empty}:{debug}"], None),
                      (["--debug-dir=empty:debug"], tmp_path)):
        p = subprocess.run([MMSCOPE, "show", "--format=json", *opts, trace], cwd=cwd,
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert p.returncode == 0 and not p.stderr, p.stderr
        a = at([r for r in map(json.loads, p.stdout.splitlines())
                if r["type"] == "access" and r["dir"] == "W"], 4)
        expect_line(a["where"], SYMBOLS, off, "local_poke", pc - addr, "symbols-dl")
        expect_module(a, "symbols-dl", off)


def test_a_missing_debug_directory_is_reported(tmp_path):
    _, trace = run_traced(tmp_path, [STRIPPED, STRIPPED_LIB])
    missing = tmp_path / "no-such-dir"
    p = subprocess.run([MMSCOPE, "show", f"--debug-dir={missing}", trace], capture_output=True,
                       text=True, timeout=TIMEOUT)
    assert p.returncode == 0
    assert f"debug directory {missing}: No such file or directory" in p.stderr, p.stderr


def test_call_chains_get_the_same_fallbacks(tmp_path):
    """Page watches (no debug register needed): the watched variable is
    exported, so the stripped program can still be watched by name."""
    stdout, trace = run_traced(tmp_path, [STRIPPED, STRIPPED_LIB],
                               opts=["--hw-slots=0", "--watch", "sym_watched"])
    t = truth(stdout)
    exe, lib = bias(SYMBOLS, *t[4][1:]), bias(SYMLIB, *t[0xc][1:])
    h = hits(trace)
    assert [int(x["new"], 16) for x in h] == [0x11, 0x33]

    def frames(hit, n):
        """The innermost n frames (ours: the outer ones are libc's)."""
        assert len(hit["frames"]) >= n, hit
        for f in hit["frames"][:n]:
            assert f["module"] in ("symbols", "libsymlib.so"), f
            module_bias = exe if f["module"] == "symbols" else lib
            expect_module(f, f["module"], int(f["pc"], 16) - module_bias)
        return [(int(f["pc"], 16), f["where"]) for f in hit["frames"][:n]]

    # local_poke's store, called from main: both only module+offset
    (pc0, w0), (pc1, w1) = frames(h[0], 2)
    assert w0 == f"symbols+0x{pc0 - exe:x}" and function_at(SYMBOLS, pc0 - exe) == "local_poke"
    # a return address: the call is the byte before it
    assert w1 == f"symbols+0x{pc1 - exe:x}" and function_at(SYMBOLS, pc1 - 1 - exe) == "main"
    # symlib_local's store, called by the exported symlib_poke_via_local,
    # called from main
    (pc0, w0), (pc1, w1), (pc2, w2) = frames(h[1], 3)
    assert w0 == f"libsymlib.so+0x{pc0 - lib:x}"
    assert function_at(SYMLIB, pc0 - lib) == "symlib_local"
    via = lib + value_of(STRIPPED_LIB, "symlib_poke_via_local", "-D")
    assert w1 == f"symlib_poke_via_local+0x{pc1 - via:x} (libsymlib.so)"
    assert w2 == f"symbols+0x{pc2 - exe:x}" and function_at(SYMBOLS, pc2 - 1 - exe) == "main"
    # text: the same strings on the "at" lines
    text = show_text(trace, "--watch-only")
    assert f"        at 0x{pc0:x} libsymlib.so+0x{pc0 - lib:x}\n" in text, text
    assert f"        at 0x{pc1:x} {w1}\n" in text, text
