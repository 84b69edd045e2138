"""`mmscope probe` reports what the debug hardware really does.  Ground
truth: gdb, which programs the same debug registers through ptrace, can
watch exactly as many variables in hardware as probe says fire, and fails
to insert one more."""
import json
import os
import re
import subprocess

import pytest

from conftest import MMSCOPE, prog, run_group

HWSLOTS = prog("hwslots")


def probe_json():
    p = subprocess.run([MMSCOPE, "probe", "--json"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def gdb_watch(n):
    """gdb hardware-watches g1..gn of hwslots; returns its output."""
    cmd = ["gdb", "-nx", "-batch"]
    for i in range(1, n + 1):
        cmd += ["-ex", f"watch g{i}"]
    cmd += ["-ex", "run"] + ["-ex", "continue"] * n + [HWSLOTS]
    p = run_group(cmd, 120)
    return p.stdout + p.stderr


def test_probe_json_is_consistent_with_the_kernel():
    j = probe_json()
    assert j["page_size"] == os.sysconf("SC_PAGE_SIZE")
    assert j["perf_breakpoints"] is True, j["perf_error"]
    assert 0 <= j["write_fire"] <= j["write_open"] <= 8
    assert 0 <= j["exec_fire"] <= j["exec_open"] <= 8
    # x86 debug registers cannot watch reads alone (Intel SDM 17.2.5)
    assert j["read_only_accepted"] is False
    assert set(j["lengths"]) <= {1, 2, 4, 8}
    assert j["slots"] == (j["write_fire"] if j["sigtrap"] else 0)


def test_probe_slot_count_matches_what_gdb_can_watch():
    n = probe_json()["write_fire"]
    if n < 1:
        pytest.skip("this host's data watchpoints do not fire: no slot count to compare")
    out = gdb_watch(n)
    hits = re.findall(r"^Hardware watchpoint (\d+): g\d+\n\nOld value = 0\nNew value = (\d+)",
                      out, re.M)
    assert [(int(a), int(b)) for a, b in hits] == [(i, i) for i in range(1, n + 1)], out
    out = gdb_watch(n + 1)
    # gdb names whichever watchpoint it failed on
    assert re.search(r"Could not insert hardware watchpoint \d+\.", out), out


def test_probe_text_names_every_measure():
    p = subprocess.run([MMSCOPE, "probe"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    j = probe_json()
    assert f"write watchpoints                 {j['write_open']} open at once, " \
           f"{j['write_fire']} fire" in p.stdout
    assert re.search(r"^page size +%d$" % j["page_size"], p.stdout, re.M)
    assert re.search(r"^hardware slots mmscope can use +%d" % j["slots"], p.stdout, re.M)


def test_probe_rejects_arguments():
    p = subprocess.run([MMSCOPE, "probe", "extra"], capture_output=True, text=True)
    assert p.returncode == 2
    assert "unexpected argument 'extra'" in p.stderr
