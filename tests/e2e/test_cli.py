"""Bad input gets a clear error, and the program is never harmed.

Where a mistake can be caught before the program starts, the program must
not run at all: those tests run `touch MARKER` as the program and check
that the marker was not created.
"""
import os
import shutil
import struct
import subprocess

import pytest

from conftest import MMSCOPE, ROOT, prog, run_group, show_json, stream_records

MARKS = prog("marks")
MARKS_GLOB = "/memfd:mmscope-marks*"


def mmscope(*args, timeout=120):
    return run_group([MMSCOPE, *args], timeout=timeout)


@pytest.fixture
def marker(tmp_path):
    return str(tmp_path / "program-ran")


# --- mmscope run: options and program ------------------------------------

def test_unknown_option_exits_2_with_a_message(tmp_path, marker):
    p = mmscope("run", "--bogus", "-o", str(tmp_path / "t.d"), "--", "touch", marker)
    assert p.returncode == 2
    assert "bogus" in p.stderr
    assert not os.path.exists(marker)


def test_unknown_command_exits_2_with_a_message():
    p = mmscope("frobnicate")
    assert p.returncode == 2
    assert "frobnicate" in p.stderr


def test_no_program_exits_2_with_a_message(tmp_path):
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out)
    assert p.returncode == 2
    assert "no program" in p.stderr
    assert not os.path.exists(os.path.join(out, "seq"))


def test_nonexistent_program_exits_127_and_starts_no_trace(tmp_path):
    out = str(tmp_path / "t.d")
    missing = str(tmp_path / "no-such-program")
    p = mmscope("run", "-o", out, "--", missing)
    assert p.returncode == 127
    assert missing in p.stderr and "No such file" in p.stderr, p.stderr
    assert not os.path.exists(out), "a trace directory was made for a program that cannot run"


def test_program_found_on_path_runs(tmp_path, marker):
    p = mmscope("run", "-o", str(tmp_path / "t.d"), "--", "touch", marker)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(marker)


# --- mmscope run: the output directory -----------------------------------

def test_unwritable_output_dir_fails_before_the_program_starts(marker):
    # tests run as root, so permissions do not stop us: a path under a
    # regular file can never be created
    p = mmscope("run", "-o", "/etc/passwd/x", "--", "touch", marker)
    assert p.returncode != 0
    assert "/etc/passwd/x" in p.stderr, p.stderr
    assert not os.path.exists(marker), "the program ran although the trace cannot be written"


def test_existing_trace_is_refused_without_force(tmp_path, marker):
    out = str(tmp_path / "t.d")
    first = mmscope("run", "-o", out, "--", "true")
    assert first.returncode == 0, first.stderr
    before = sorted(os.listdir(out))
    p = mmscope("run", "-o", out, "--", "touch", marker)
    assert p.returncode != 0
    assert "--force" in p.stderr, p.stderr
    assert not os.path.exists(marker)
    assert sorted(os.listdir(out)) == before, "the old trace was touched"


def test_force_replaces_an_existing_trace(tmp_path, marker):
    out = str(tmp_path / "t.d")
    first = mmscope("run", "-o", out, "--", "true")
    assert first.returncode == 0, first.stderr
    old_streams = {f for f in os.listdir(out) if f.endswith(".mms")}
    assert old_streams
    p = mmscope("run", "--force", "-o", out, "--", "touch", marker)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(marker)
    assert not old_streams & set(os.listdir(out)), "old stream files left behind"
    starts = [r for r in show_json(out) if r["type"] == "proc" and r["event"] == "start"]
    assert len(starts) == 1 and starts[0]["text"].endswith("/touch")


def test_map_pattern_matching_nothing_warns_at_exit_naming_it(tmp_path):
    pattern = "/dev/shm/mmscope-no-such-ring*"
    p = mmscope("run", "-o", str(tmp_path / "t.d"), "--map", pattern, "--", "true")
    assert p.returncode == 0, p.stderr
    warnings = [l for l in p.stderr.splitlines() if "warning" in l and pattern in l]
    assert warnings, p.stderr


def test_map_pattern_that_matches_gives_no_warning(tmp_path):
    p = mmscope("run", "-o", str(tmp_path / "t.d"), "--map", MARKS_GLOB, "--", MARKS, "api")
    assert p.returncode == 0, p.stderr
    assert "warning" not in p.stderr, p.stderr


# --- mmscope show: damaged input ------------------------------------------

@pytest.fixture
def good_trace(tmp_path):
    out = str(tmp_path / "good.d")
    p = mmscope("run", "-o", out, "--map", MARKS_GLOB, "--", MARKS, "api")
    assert p.returncode == 0, p.stderr
    return out


def main_stream(trace_dir):
    names = [n for n in os.listdir(trace_dir) if n.endswith(".mms")]
    return max(names, key=lambda n: os.path.getsize(os.path.join(trace_dir, n)))


def record_offsets(data):
    """Offsets of the records written out to the file (a finished trace
    has them all there)."""
    return [off for off, _, _ in stream_records(data) if off < len(data)]


def damaged_copy(good_trace, tmp_path, damage):
    copy = str(tmp_path / "damaged.d")
    shutil.copytree(good_trace, copy)
    name = main_stream(copy)
    path = os.path.join(copy, name)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(damage(data))
    return copy, name


def test_show_of_garbage_in_the_middle_of_a_stream_fails_clearly(good_trace, tmp_path):
    full = show_json(good_trace)
    data = open(os.path.join(good_trace, main_stream(good_trace)), "rb").read()
    offsets = record_offsets(data)
    cut = len(offsets) // 2
    # a record header of an unknown type whose size is not a multiple of 8
    garbage = b"\xde\xad\xbe\xef\x01\x02\x03\x04" * 3
    copy, name = damaged_copy(good_trace, tmp_path,
                              lambda d: d[:offsets[cut]] + garbage + d[offsets[cut]:])
    p = mmscope("show", "--format=json", copy)
    assert p.returncode == 1
    assert name in p.stderr and "corrupt" in p.stderr, p.stderr
    assert str(offsets[cut]) in p.stderr, "the message should give the byte offset"
    got = show_json(copy, check=False)
    # the exit record `mmscope run` adds lives in a stream of its own
    from_run = lambda r: r["type"] == "proc" and r["event"] == "exit"
    own = lambda recs: [r for r in recs if not from_run(r)]
    assert own(got) == own(full)[:cut], "records before the damage must still be printed"
    assert [r for r in got if from_run(r)] == [r for r in full if from_run(r)]


def test_show_of_a_stream_with_bad_magic_fails_clearly(good_trace, tmp_path):
    copy, name = damaged_copy(good_trace, tmp_path, lambda d: b"NOTMMSCP" + d[8:])
    p = mmscope("show", copy)
    assert p.returncode == 1
    assert name in p.stderr and "magic" in p.stderr, p.stderr


def test_show_of_an_unknown_format_version_names_both_versions(good_trace, tmp_path):
    copy, name = damaged_copy(good_trace, tmp_path,
                              lambda d: d[:8] + struct.pack("<I", 7) + d[12:])
    p = mmscope("show", copy)
    assert p.returncode == 1
    assert name in p.stderr and "version 7" in p.stderr and "1 to 4" in p.stderr, p.stderr


def test_show_of_a_missing_directory_fails_with_a_message(tmp_path):
    missing = str(tmp_path / "no-such-trace.d")
    p = mmscope("show", missing)
    assert p.returncode != 0
    assert missing in p.stderr, p.stderr


def test_show_unknown_option_exits_2(good_trace):
    p = mmscope("show", "--bogus", good_trace)
    assert p.returncode == 2
    assert "bogus" in p.stderr


# --- help -------------------------------------------------------------------

@pytest.mark.parametrize("args, words", [
    (["--help"], ["run", "show", "mark"]),
    (["run", "--help"], ["--output", "--map", "--device", "--raw-mmap=trap|off", "--force",
                         "PROGRAM"]),
    (["mark", "--help"], ["--pid", "DIR", "TEXT"]),
    (["show", "--help"], ["--format", "json", "mmiotrace", "--pid"]),
])
def test_help_exits_0_and_describes_the_options(args, words):
    p = mmscope(*args)
    assert p.returncode == 0, p.stderr
    for w in words:
        assert w in p.stdout, f"{' '.join(args)} does not mention {w}"


# --- D.17: every mistake is caught before the program runs ---------------------

@pytest.mark.parametrize("pattern, why", [
    ("[", "not a valid glob"),
    ("/dev/[abc", "unterminated '['"),
    ("--", "neither an absolute path nor a kernel object name"),
    ("ring*", "neither an absolute path nor a kernel object name"),
    ("", "empty"),
    ("/dev/[z-a]", "range"),
])
def test_a_bad_map_pattern_is_refused_naming_the_option(tmp_path, marker, pattern, why):
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--map", pattern, "--", "touch", marker)
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith("mmscope run: --map: ") and why in p.stderr, p.stderr
    assert not os.path.exists(marker) and not os.path.exists(out)


@pytest.mark.parametrize("pattern", ["anon_inode:[io_uring]", "socket:[*]", "/memfd:x*",
                                     "anon_inode:\\[perf_event\\]", "[aio]"])
def test_kernel_names_are_accepted_as_map_patterns(tmp_path, pattern):
    p = mmscope("run", "-o", str(tmp_path / "t.d"), "--map", pattern, "--", "true")
    assert p.returncode == 0, p.stderr


def test_a_watch_longer_than_its_symbol_is_refused_with_the_size(tmp_path, marker):
    watchme = prog("watchme")
    p = mmscope("run", "-o", str(tmp_path / "t.d"), "--watch", "counter:1000000000", "--",
                watchme, "basic")
    assert p.returncode == 2, p.stderr
    assert "counter:1000000000" in p.stderr and "past the end of 'counter'" in p.stderr, \
        p.stderr


def test_a_program_that_is_not_executable_exits_126(tmp_path):
    f = tmp_path / "data"
    f.write_text("not a program\n")
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--", str(f))
    assert p.returncode == 126
    assert str(f) in p.stderr and "Permission denied" in p.stderr, p.stderr
    assert not os.path.exists(out)


# --- mmscope mark: mistakes ---------------------------------------------------------

@pytest.mark.parametrize("args, rc, words", [
    (["mark"], 2, ["which trace", "--pid"]),
    (["mark", "--pid"], 2, ["--pid wants a process id"]),
    (["mark", "--pid", "abc", "x"], 2, ["'abc' is not a process id"]),
    (["mark", "--pid", "1"], 2, ["no TEXT"]),
    (["mark", "--bogus", "x"], 2, ["unknown option '--bogus'"]),
    (["mark", "/nonexistent-trace.d", "x"], 1, ["/nonexistent-trace.d"]),
])
def test_mark_mistakes_say_what_is_wrong(args, rc, words):
    env = {k: v for k, v in os.environ.items() if k != "MMSCOPE_CONFIG"}
    p = run_group([MMSCOPE, *args], timeout=60, env=env)
    assert p.returncode == rc, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr


def test_mark_on_a_directory_that_is_no_trace_says_so(tmp_path):
    p = mmscope("mark", str(tmp_path), "x")
    assert p.returncode == 1
    assert str(tmp_path) in p.stderr and "not a trace directory" in p.stderr, p.stderr


def sanitized(binary):
    d = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    return "libasan" in d or "libubsan" in d


def test_mark_inside_a_traced_program_marks_its_own_trace(tmp_path):
    if sanitized(MMSCOPE):
        pytest.skip("a sanitized mmscope cannot run under the agent's LD_PRELOAD "
                    "(the ASan runtime must come first)")
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--", "sh", "-c", f"{MMSCOPE} mark from inside; echo $$")
    assert p.returncode == 0, p.stderr
    marks = [r for r in show_json(out) if r["type"] == "mark"]
    assert [m["text"] for m in marks] == ["from inside"]
    # the mark process is a child of the shell, traced itself
    assert marks[0]["pid"] != int(p.stdout.strip()) and marks[0]["pid"] == marks[0]["tid"]


# --- E: exec PATH search, install ---------------------------------------------------

def execs(out):
    return [r["text"] for r in show_json(out) if r["type"] == "proc" and r["event"] == "exec"]


def test_execvp_path_probes_are_not_recorded_as_exec(tmp_path):
    noexec = tmp_path / "noexec"
    noexec.mkdir()
    (noexec / "true").write_text("#!/bin/sh\n")      # no x bit: EACCES, skipped
    path = f"/nonexistent-1:{noexec}:/nonexistent-2/x:/usr/bin:/bin"
    out = str(tmp_path / "t.d")
    # env(1) runs its command with execvp
    p = mmscope("run", "-o", out, "--", "env", f"PATH={path}", "true")
    assert p.returncode == 0, p.stderr
    assert execs(out) == ["/usr/bin/true"]


def test_execvp_that_finds_only_unexecutable_files_fails_with_eacces_and_no_exec(tmp_path):
    noexec = tmp_path / "noexec"
    noexec.mkdir()
    (noexec / "prog").write_text("#!/bin/sh\n")
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--", "env", f"PATH=/nonexistent:{noexec}", "prog")
    assert p.returncode == 126, p.stderr          # env: EACCES
    assert "Permission denied" in p.stderr
    assert execs(out) == []


def test_execvp_runs_a_script_without_shebang_with_bin_sh(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "hello"
    script.write_text("echo hello from sh\n")
    script.chmod(0o755)
    out = str(tmp_path / "t.d")
    p = mmscope("run", "-o", out, "--", "env", f"PATH={bindir}", "hello")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "hello from sh\n"
    assert execs(out) == [str(script), "/bin/sh"]
    notes = [r["text"] for r in show_json(out) if r["type"] == "proc" and r["event"] == "note"]
    assert any(str(script) in n and "failed" in n for n in notes), notes


def test_make_install_gives_a_tree_that_finds_its_agent_after_moving(tmp_path):
    dest = tmp_path / "dest"
    build = os.environ.get("MMS_BUILD", os.path.join(ROOT, "build"))
    p = subprocess.run(["make", "--no-print-directory", "-C", ROOT, f"B={build}",
                        f"DESTDIR={dest}", "PREFIX=/opt/mms", "install"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    tree = dest / "opt" / "mms"
    for f in ("bin/mmscope", "lib/mmscope/libmmscope-agent.so", "include/mmscope/mmscope.h",
              "share/doc/mmscope/README.md", "share/mmscope/mmscope.gdb"):
        assert (tree / f).is_file(), f
    moved = tmp_path / "moved"
    shutil.copytree(tree, moved, symlinks=True)
    out = str(tmp_path / "t.d")
    r = run_group([str(moved / "bin" / "mmscope"), "run", "-o", out, "--map", MARKS_GLOB,
                      "--", MARKS, "api"], timeout=120)
    assert r.returncode == 0, r.stderr
    assert [x for x in show_json(out) if x["type"] == "access"], "nothing traced"
    # without its agent, the binary says where it looked
    os.unlink(moved / "lib" / "mmscope" / "libmmscope-agent.so")
    r = run_group([str(moved / "bin" / "mmscope"), "run", "-o", str(tmp_path / "u.d"),
                      "--", "true"], timeout=60)
    assert r.returncode == 1
    assert f"{moved}/bin/../lib/mmscope" in r.stderr and "make install" in r.stderr, r.stderr
