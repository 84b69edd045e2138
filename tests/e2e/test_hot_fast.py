"""The fast path of a patched site (src/agent/hot-fast.c): plain MOV,
MOVZX, MOVSX, MOVSXD loads and stores of 1-8 bytes completed with the
general registers alone.  The program checks every register and memory
result itself (tests/progs/hotforms.c); the records must be those of the
fault path; and the machine code the path runs must not touch a vector
register, which it never saved."""
import json
import os
import re
import subprocess

import pytest

from conftest import BUILD, native, prog

FORMS = prog("hotforms")
ROUNDS = 8
NFORMS = 44


def _accesses(run):
    return [(r["module_offset"], r["dir"], r["width"], r["offset"], r["value"], r["count"],
             tuple(r["flags"]), r["insn"]) for r in run.records() if r["type"] == "access"]


def _log(run):
    with open(os.path.join(run.trace_dir, "agent.log")) as f:
        return f.read()


def test_fast_forms_give_the_native_results_and_the_fault_paths_records(mmscope_run):
    truth = native([FORMS, str(ROUNDS)])
    assert truth.returncode == 0, truth.stderr
    assert truth.stdout == f"SEGV ok\nOK {NFORMS} forms, {ROUNDS} rounds\n"
    hot = mmscope_run([FORMS, str(ROUNDS)], maps=["/memfd:mmscope-hotforms*"], opts=["--hot=1"])
    off = mmscope_run([FORMS, str(ROUNDS)], maps=["/memfd:mmscope-hotforms*"],
                      opts=["--hot=off"])
    assert hot.stdout == off.stdout == truth.stdout
    a, b = _accesses(hot), _accesses(off)
    assert len(a) > NFORMS * ROUNDS
    assert a == b
    # every form patched at its first fault, the other rounds on the fast
    # path: the read-only store went the whole way, to the program's SIGSEGV
    m = re.search(r"hot sites: (\d+) patched, (\d+) accesses through them "
                  r"\((\d+) on the fast path\)", _log(hot))
    assert m, _log(hot)
    assert int(m.group(1)) >= NFORMS
    assert int(m.group(3)) >= NFORMS * (ROUNDS - 1), m.group(0)


def _functions(so):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", so], capture_output=True,
                         text=True, check=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            cur = m.group(1)
            funcs[cur] = []
        elif cur and "\t" in line:
            funcs[cur].append(line.split("\t", 1)[1].strip())
    return funcs


VECTOR_REG = re.compile(r"%([xyz]mm\d+|k[0-7]\b|st\b|st\()")
VECTOR_OP = re.compile(r"^(f[a-z0-9]+|v[a-z0-9]+|ldmxcsr|stmxcsr|xsave\w*|xrstor\w*|emms)\b")
CALL = re.compile(r"^(call|jmp)\s+[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>")


def test_the_fast_path_touches_no_vector_register():
    """Every function mms_hot_fast can reach in libmmscope-agent.so (direct
    calls and jumps followed): no x87/SSE/AVX/mask register, no indirect
    call, and of the C library only clock_gettime (the vDSO)."""
    funcs = _functions(os.path.join(BUILD, "libmmscope-agent.so"))
    assert "mms_hot_fast" in funcs
    seen, todo, bad = set(), ["mms_hot_fast"], []
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        assert f in funcs, f"{f}: not in the agent"
        for ins in funcs[f]:
            code = ins.split("#")[0]
            if VECTOR_REG.search(code) or VECTOR_OP.match(code):
                bad.append(f"{f}: {ins}")
            m = CALL.match(ins)
            if m and m.group(2).endswith("@plt"):
                if m.group(1) == "call" and m.group(2) != "clock_gettime@plt":
                    bad.append(f"{f}: calls {m.group(2)}")
            elif m:
                todo.append(m.group(2))
            elif re.match(r"(call|jmp)\s+\*", ins) and ins.startswith("call"):
                bad.append(f"{f}: {ins}")
    # the path reaches the recorder, the stream and the region table
    assert {"rec_access", "stream_reserve", "region_find"} <= seen, sorted(seen)
    assert not bad, "\n".join(bad)


def test_a_process_that_ends_with__exit_reports_its_sites(mmscope_run, tmp_path):
    """fio's job process ends with _exit, which skips destructors: the
    agent's own _exit still writes its line (and closes its stream); fio's
    report is the ground truth for the I/O done under patched sites."""
    fio = "/usr/bin/fio"
    if not os.path.exists(fio):
        pytest.skip("no /usr/bin/fio (scripts/deps.sh installs it)")
    report = tmp_path / "fio.json"
    argv = [fio, "--name=hot", f"--filename={tmp_path}/data", "--size=1M", "--bs=4k",
            "--rw=randread", "--ioengine=io_uring", "--direct=0", "--iodepth=1",
            "--output-format=json", f"--output={report}"]
    run = mmscope_run(argv, maps=["anon_inode:[io_uring]"], opts=["--hot=16"])
    job = json.load(open(report))["jobs"][0]
    assert job["error"] == 0 and job["read"]["total_ios"] == 256
    lines = re.findall(r"pid (\d+): hot sites: (\d+) patched, (\d+) accesses through them",
                       _log(run))
    assert len(lines) == 2, _log(run)  # fio and its job process
    job_line = [x for x in lines if int(x[1]) > 0]
    assert job_line and int(job_line[0][2]) > 0, _log(run)
