"""Bad input gets a clear error, and the program is never harmed.

Where a mistake can be caught before the program starts, the program must
not run at all: those tests run `touch MARKER` as the program and check
that the marker was not created.
"""
import os
import shutil
import struct

import pytest

from conftest import MMSCOPE, prog, run_group, show_json

MARKS = prog("marks")
MARKS_GLOB = "/memfd:mmscope-marks*"
REC_HDR = struct.Struct("<HHI")


def mmscope(*args, timeout=120):
    return run_group([MMSCOPE, *args], timeout)


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
    off = struct.unpack_from("<I", data, 12)[0]
    out = []
    while off + 8 <= len(data):
        rtype, size, _ = REC_HDR.unpack_from(data, off)
        if rtype == 0:
            break
        out.append(off)
        off += size
    return out


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
    # the exit record `mmscope run` adds lives in a stream of its own (tid 0)
    own = lambda recs: [r for r in recs if r["tid"] != 0]
    assert own(got) == own(full)[:cut], "records before the damage must still be printed"
    assert [r for r in got if r["tid"] == 0] == [r for r in full if r["tid"] == 0]


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
    assert name in p.stderr and "version 7" in p.stderr and "1 to 3" in p.stderr, p.stderr


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
    (["run", "--help"], ["--output", "--map", "--force", "PROGRAM"]),
    (["show", "--help"], ["--format", "json", "mmiotrace", "--pid"]),
])
def test_help_exits_0_and_describes_the_options(args, words):
    p = mmscope(*args)
    assert p.returncode == 0, p.stderr
    for w in words:
        assert w in p.stdout, f"{' '.join(args)} does not mention {w}"
