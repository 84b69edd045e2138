"""`mmscope show` on bytes it did not write: a trace can be damaged, cut, or
handed over by someone else.  Whatever the bytes, show ends (no hang, no
signal, no sanitizer report) with status 0 or with status 1 and a message.

Three sources of input:
- hand-made records at the edges of the format, each with the outcome
  the format's rules (docs/trace-format.md) give it;
- tests/fuzz/corpus/: the afl-cmin'ed queue of a `make fuzz` run (inputs
  that reach distinct paths of the reader and of every output format);
- tests/fuzz/regress/: anything `make fuzz` found crashing or hanging
  (empty while nothing is known to be wrong).
Under `make check SAN=address,undefined` the mmscope run here is the
sanitized one, so a memory error in the reader fails these tests.
"""
import glob
import json
import os
import struct
import subprocess

import pytest

from conftest import MMSCOPE, ROOT, run_group

FUZZ = os.path.join(ROOT, "tests", "fuzz")
READ, WRITE = 1, 2
VALUE_UNKNOWN, UNKNOWN_INSN, MASKED, STRING, PAIRED, DOWN = 1, 4, 16, 32, 64, 128
# (how show is asked, the extra arguments)
FORMATS = {"text": [], "expand": ["--expand"], "json": ["--format=json"],
           "mmiotrace": ["--format=mmiotrace"]}


# --- a trace written by hand, byte by byte (docs/trace-format.md) ---------

def header(version=3, pid=1, tid=1):
    return b"MMSCOPE1" + struct.pack("<IIIIQQ", version, 64, pid, tid, 1000, 1) + bytes(24)


def record(rtype, body, count=0):
    size = (8 + len(body) + 7) // 8 * 8
    return struct.pack("<HHI", rtype, size, count) + body + bytes(size - 8 - len(body))


def map_rec(seq=1, addr=0x2000, length=0x1000, region=1, path=b"/dev/x\0"):
    return record(2, struct.pack("<QQQQQQIIII", seq, 100 + seq, 0, addr, length, 0,
                                 region, 3, 1, 0) + path)


def access(width, direction, flags=0, count=0, value=b"", mask=0, addr=0x2000,
           insn=b"", seq=2, last_ts=None):
    off = (addr - 0x2000) % 2**64
    body = struct.pack("<QQQQQIBBHB7s16sQQ", seq, 100 + seq, 0x1000, addr, off, 1,
                       width, direction, flags, len(insn), bytes(7),
                       insn.ljust(16, b"\0"), 100 + seq if last_ts is None else last_ts,
                       mask) + value
    return record(1, body, count)


def show(path, fmt, timeout=60):
    try:
        # mmiotrace passes MARK text through as bytes, like the kernel's
        return run_group([MMSCOPE, "show", *FORMATS[fmt], path], timeout=timeout,
                         errors="backslashreplace")
    except subprocess.TimeoutExpired:
        pytest.fail(f"mmscope show {' '.join(FORMATS[fmt])} {path}: no end after {timeout} s")


def sane(p, what):
    """The outcome any input may have: 0, or 1 with a message; never a
    signal, never a sanitizer report; JSON output stays JSON."""
    problems = []
    if p.returncode not in (0, 1):
        problems.append(f"exit status {p.returncode}")
    if "Sanitizer" in p.stderr or "runtime error" in p.stderr:
        problems.append("sanitizer report: " + p.stderr[-2000:])
    if p.returncode == 1 and "mmscope: " not in p.stderr:
        problems.append("status 1 without a message")
    if "--format=json" in p.args:
        for line in p.stdout.splitlines():
            try:
                json.loads(line)
            except ValueError:
                problems.append(f"not JSON: {line[:200]!r}")
                break
    return [f"{what}: {x}" for x in problems]


def mmio_lines(p, kind):
    return [l for l in p.stdout.splitlines() if l.split(" ", 1)[0] == kind]


# name: (the ACCESS record, the error show must report or None, {kind: how
# many mmiotrace lines of that kind})
CASES = {
    "masked store, no byte enabled": (
        access(64, WRITE, MASKED, value=bytes(64), mask=0), None, {"W": 0}),
    "masked store, every byte enabled": (
        access(64, WRITE, MASKED, value=bytes(64), mask=2**64 - 1), None, {"W": 8}),
    "masked string run": (  # bytes 0 and 2 of 4 elements of 4 bytes
        access(4, WRITE, MASKED | STRING, count=4, value=bytes(16), mask=0x5), None,
        {"W": 8}),
    "paired run without its partner": (
        access(4, READ, STRING | PAIRED, count=3, value=bytes(12)), None, {"R": 3}),
    "masked paired run going down": (
        access(8, WRITE, MASKED | STRING | PAIRED | DOWN, count=5, value=bytes(40),
               mask=0xf0), None, {"W": 5}),
    "repeated masked store": (
        access(16, WRITE, MASKED, count=5, value=bytes(16), mask=0x8001), None, {"W": 10}),
    "repeated undecodable instruction": (
        access(0, READ, UNKNOWN_INSN, count=3), None, {"UNKNOWN": 3, "R": 0}),
    "instruction of 16 bytes": (
        access(4, READ, value=bytes(4), insn=b"\xf0" * 16), None, {"R": 1}),
    "string run of width 0": (
        access(0, READ, STRING | UNKNOWN_INSN, count=0x7fffffff), "width 0", {}),
    "masked access of width 0": (
        access(0, WRITE, MASKED | UNKNOWN_INSN, mask=1), "width 0", {}),
    "string run wrapping below address 0": (
        access(8, WRITE, STRING | DOWN, count=4, value=bytes(32), addr=8),
        "wraps around", {}),
    "string run wrapping above 2^64": (
        access(8, WRITE, STRING, count=4, value=bytes(32), addr=2**64 - 16),
        "wraps around", {}),
    "string run longer than its record": (
        access(64, READ, STRING, count=2**32 - 1, value=bytes(64)), "too small", {}),
    "repeat ending before it begins": (
        access(4, READ, count=3, value=bytes(4), last_ts=50), "before it begins", {}),
    "single access with an older last_ts (unused)": (
        access(4, READ, value=bytes(4), last_ts=50), None, {"R": 1}),
    "width 65": (access(65, READ, value=bytes(72)), "outside 1..64", {}),
    "direction 3": (access(4, 3, value=bytes(4)), "neither read nor write", {}),
}


@pytest.mark.parametrize("name", CASES)
def test_show_of_a_handmade_record(name, tmp_path):
    rec, error, lines = CASES[name]
    path = str(tmp_path / "1-1-1.mms")
    with open(path, "wb") as f:
        f.write(header() + map_rec() + rec)
    problems = []
    for fmt in FORMATS:
        if error is None and fmt == "mmiotrace" and not lines:
            continue
        p = show(path, fmt)
        problems += sane(p, fmt)
        if error is not None:
            if p.returncode != 1 or error not in p.stderr:
                problems.append(f"{fmt}: expected status 1 and {error!r}, got "
                                f"{p.returncode}: {p.stderr.strip()}")
            if "MAP" not in p.stdout and "map" not in p.stdout:
                problems.append(f"{fmt}: the MAP before the bad record is not printed")
            continue
        if p.returncode != 0 or p.stderr:
            problems.append(f"{fmt}: status {p.returncode}: {p.stderr.strip()}")
        if fmt == "mmiotrace":
            for kind, n in lines.items():
                got = len(mmio_lines(p, kind))
                if got != n:
                    problems.append(f"mmiotrace: {got} {kind} lines, expected {n}:\n{p.stdout}")
    assert not problems, "\n".join(problems)


def test_a_repeat_count_of_2_to_the_32_minus_1_is_shown_not_expanded(tmp_path):
    path = str(tmp_path / "1-1-1.mms")
    with open(path, "wb") as f:
        f.write(header() + map_rec() + access(1, READ, count=2**32 - 1, value=b"\x07"))
    p = show(path, "text")
    assert p.returncode == 0 and not p.stderr, p.stderr
    assert "x4294967295" in p.stdout, p.stdout
    j = show(path, "json")
    acc = [r for r in map(json.loads, j.stdout.splitlines()) if r["type"] == "access"]
    assert [a["count"] for a in acc] == [2**32 - 1], j.stdout


def inputs():
    return sorted(glob.glob(os.path.join(FUZZ, "corpus", "*.mms")) +
                  glob.glob(os.path.join(FUZZ, "regress", "*.mms")))


@pytest.mark.parametrize("fmt", FORMATS)
def test_show_of_every_fuzz_input_ends_cleanly(fmt):
    files = inputs()
    assert len(files) > 50, f"tests/fuzz/corpus/ has only {len(files)} inputs"
    problems, status = [], {0: 0, 1: 0}
    for path in files:
        p = show(path, fmt)
        problems += sane(p, os.path.relpath(path, ROOT))
        status[p.returncode] = status.get(p.returncode, 0) + 1
    assert not problems, "\n".join(problems)
    # the corpus is worth running only if it holds both readable traces and
    # damaged ones
    assert status[0] > 10 and status[1] > 10, status
