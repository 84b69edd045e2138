"""The device rule (docs/design.md): a mapping selected with --device is
device memory, whose reads have side effects, so mmscope never reads it
more than the program does.  LOCKed arithmetic that returns no old value
(or, and, xor, bts, btr, btc, not, neg) is then recorded as exactly one
read and one write with the values unknown; add/sub/inc/dec get theirs
from the one LOCK XADD that performs them.  The same program on the same
memfd without --device (RAM) has every value recorded.

tests/progs/lockrmw prints "OP NAME 0x<off> <width> 0x<old> 0x<new>
xadd|cas" before each operation, runs it between MARK "op NAME" and MARK
"end NAME", and checks the memory result and the carry flag itself (exit
1 on a mismatch), so a run under mmscope also proves the result correct.
"""
import os
import re

import pytest

from conftest import MMSCOPE, prog, run_group, show_json

LOCKRMW = prog("lockrmw")
GLOB = "/memfd:mmscope-lockrmw*"


def ground_truth(stdout):
    ops = {}
    for line in stdout.splitlines():
        m = re.match(r"OP (\S+) 0x([0-9a-f]+) (\d+) 0x([0-9a-f]+) 0x([0-9a-f]+) (xadd|cas)$",
                     line)
        if m:
            ops[m.group(1)] = dict(offset=int(m.group(2), 16), width=int(m.group(3)),
                                   old=int(m.group(4), 16), new=int(m.group(5), 16),
                                   kind=m.group(6))
    return ops


def windows(records):
    """{op name: access records of the lockrmw memfd between its marks}"""
    regions = {r["region"] for r in records
               if r["type"] == "map" and r["path"].startswith("/memfd:mmscope-lockrmw")}
    out, current = {}, None
    for r in sorted(records, key=lambda r: r["seq"]):
        if r["type"] == "mark":
            current = r["text"][3:] if r["text"].startswith("op ") else None
            if current:
                out[current] = []
        elif r["type"] == "access" and current and r["region"] in regions:
            out[current].append(r)
    return out


def traced(tmp_path, name, *opts):
    out = str(tmp_path / name)
    p = run_group([MMSCOPE, "run", "-o", out, *opts, "--", LOCKRMW], timeout=120)
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    ops = ground_truth(p.stdout)
    assert len(ops) == 12, p.stdout
    return ops, windows(show_json(out)), p


def value(r):
    return None if r["value"] is None else int(r["value"], 16)


@pytest.fixture(scope="module")
def native_ops():
    p = run_group([LOCKRMW], timeout=60)
    assert p.returncode == 0, p.stderr
    return ground_truth(p.stdout)


def test_device_lock_rmw_is_one_read_and_one_write_and_values_unknown_without_xadd(
        tmp_path, native_ops):
    ops, win, _ = traced(tmp_path, "device.d", "--device", GLOB)
    assert ops == native_ops
    for name, op in ops.items():
        recs = win.get(name)
        assert recs is not None, f"{name}: no MARK window"
        got = [(r["dir"], r["offset"], r["width"], "locked" in (r.get("flags") or []))
               for r in recs]
        assert got == [("R", op["offset"], op["width"], True),
                       ("W", op["offset"], op["width"], True)], name
        if op["kind"] == "xadd":
            assert [value(r) for r in recs] == [op["old"], op["new"]], name
        else:
            assert [value(r) for r in recs] == [None, None], \
                f"{name}: a device value was read to record it"


def test_the_same_memfd_without_device_records_every_value(tmp_path, native_ops):
    ops, win, _ = traced(tmp_path, "ram.d", "--map", GLOB)
    assert ops == native_ops
    for name, op in ops.items():
        recs = win[name]
        assert [(r["dir"], r["offset"], r["width"], value(r)) for r in recs] == [
            ("R", op["offset"], op["width"], op["old"]),
            ("W", op["offset"], op["width"], op["new"])], name


def test_device_alone_selects_the_mapping_and_map_does_not_make_it_ram(tmp_path):
    # --device also selects; given with a --map that matches too, the
    # mapping is still a device
    _, win, _ = traced(tmp_path, "both.d", "--map", "/memfd:*", "--device", GLOB)
    assert [value(r) for r in win["lock_or_m32_r"]] == [None, None]


def test_device_pattern_matching_nothing_warns_naming_it(tmp_path):
    _, _, p = traced(tmp_path, "none.d", "--map", GLOB, "--device", "/dev/no-such-bar*")
    assert re.search(r"warning: --device '/dev/no-such-bar\*' matched no mapping", p.stderr), \
        p.stderr


@pytest.mark.parametrize("pattern, why", [
    ("[", "not a valid glob"),
    ("", "empty"),
    ("bar0*", "neither an absolute path nor a kernel object name"),
])
def test_a_bad_device_pattern_is_refused_before_the_program_runs(tmp_path, pattern, why):
    marker = str(tmp_path / "ran")
    out = str(tmp_path / "t.d")
    p = run_group([MMSCOPE, "run", "-o", out, "--device", pattern, "--", "touch", marker],
                     timeout=60)
    assert p.returncode == 2
    assert "--device" in p.stderr and why in p.stderr, p.stderr
    assert not os.path.exists(marker) and not os.path.exists(out)


def test_device_is_a_config_key_the_agent_reads(tmp_path):
    out = str(tmp_path / "cfg.d")
    p = run_group([MMSCOPE, "run", "-o", out, "--device", GLOB, "--", "true"], timeout=60)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(out, "config")) as f:
        assert f"device {GLOB}\n" in f.read()
