"""--watch: every hit a watchpoint must report, checked against the ground
truth tests/progs/watchme.c prints (each store's old and new value, each
load's value, and the address of the instruction), with the watch in a
debug register and on pages."""
import json
import re
import subprocess

import pytest

from conftest import MMSCOPE, prog, run_group, show_json

WATCHME = prog("watchme")


def probe():
    p = subprocess.run([MMSCOPE, "probe", "--json"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def need_hw_slots(n):
    slots = probe()["slots"]
    if slots < n:
        pytest.skip(f"this host has {slots} working debug registers, the test needs {n}")


def truth(stdout):
    """watchme's lines: (kind, name, fields...) with ints."""
    out = []
    for line in stdout.splitlines():
        f = line.split()
        if f and f[0] in ("W", "R", "X"):
            out.append((f[0], f[1]) + tuple(int(v, 16) for v in f[2:]))
    return out


def expected_hits(lines, name, access):
    """The hits a watch of this access type on `name` must record, as
    (dir, old, new, pc): W and X lines write, R and X lines read."""
    hits = []
    for kind, n, *v in lines:
        if n != name:
            continue
        if kind == "R" and "r" in access:
            hits.append(("R", v[0], v[0], v[1]))
        if kind == "X" and "r" in access:
            hits.append(("R", v[0], v[0], v[2]))
        if kind in ("W", "X") and "w" in access:
            hits.append(("W", v[0], v[1], v[2]))
    return hits


def watch_records(run):
    recs = run.records("--watch-only")
    watches = {r["id"]: r for r in recs if r["type"] == "watch"}
    hits = [r for r in recs if r["type"] == "hit"]
    return watches, hits


def as_tuples(hits):
    return [(h["dir"], int(h["old"], 16), int(h["new"], 16), int(h["pc"], 16)) for h in hits]


@pytest.mark.parametrize("expr,name", [("counter", "counter"), ("table[3]", "table[3]"),
                                       ("table+24:8", "table[3]"),
                                       ("table[4]:8:w", "table[4]")])
def test_write_watch_on_pages_reports_every_store_exactly(mmscope_run, expr, name):
    run = mmscope_run([WATCHME, "basic"], opts=["--hw-slots=0", "--watch", expr])
    watches, hits = watch_records(run)
    assert [w["mech"] for w in watches.values()] == ["page"]
    assert all(h["flags"] == [] for h in hits), hits
    # page hits carry the accessing instruction's own address
    assert as_tuples(hits) == expected_hits(truth(run.stdout), name, "w")


def test_write_watch_in_a_debug_register_reports_every_store(mmscope_run):
    need_hw_slots(1)
    run = mmscope_run([WATCHME, "basic"], opts=["--hw-slots=1", "--watch", "counter"])
    watches, hits = watch_records(run)
    assert [w["mech"] for w in watches.values()] == ["hw"]
    want = expected_hits(truth(run.stdout), "counter", "w")
    assert len(hits) == len(want), (hits, want)
    for h, (d, old, new, pc) in zip(hits, want):
        assert (h["dir"], int(h["old"], 16), int(h["new"], 16)) == (d, old, new)
        # a data breakpoint traps after the instruction: pc is the next one
        assert h["flags"] == ["hw", "pc_after"]
        assert 0 < int(h["pc"], 16) - pc <= 15


def test_read_watch_uses_pages_and_sees_every_load(mmscope_run):
    run = mmscope_run([WATCHME, "basic"], opts=["--watch", "counter:r"])
    watches, hits = watch_records(run)
    # x86 debug registers cannot watch reads alone
    assert [w["mech"] for w in watches.values()] == ["page"]
    assert as_tuples(hits) == expected_hits(truth(run.stdout), "counter", "r")


def test_read_write_watch_on_pages_sees_both_halves_of_a_locked_add(mmscope_run):
    run = mmscope_run([WATCHME, "basic"], opts=["--hw-slots=0", "--watch", "counter:rw"])
    _, hits = watch_records(run)
    assert as_tuples(hits) == expected_hits(truth(run.stdout), "counter", "rw")
    assert any(h["dir"] == "W" and int(h["new"], 16) == 7 for h in hits)


def test_read_write_watch_in_a_debug_register(mmscope_run):
    need_hw_slots(1)
    run = mmscope_run([WATCHME, "basic"], opts=["--hw-slots=1", "--watch", "counter:rw"])
    watches, hits = watch_records(run)
    assert [w["mech"] for w in watches.values()] == ["hw"]
    lines = [l for l in truth(run.stdout) if l[1] == "counter"]
    # one trap per instruction; a trap that left the value alone cannot
    # tell a load from a store of the same value ("A"); the program's own
    # load of the old value before each store (model) is not in watchme's
    # output, so compare the stores and locked adds only
    writes = [(int(h["old"], 16), int(h["new"], 16)) for h in hits
              if h["dir"] == "W" and h["old"] != h["new"]]
    want = [(v[0], v[1]) for k, n, *v in lines if k in ("W", "X") and v[0] != v[1]]
    assert writes == want
    assert all(h["dir"] in ("W", "A") for h in hits)
    assert sum(1 for h in hits if h["dir"] == "A") >= sum(1 for l in lines if l[0] == "R")


def test_a_symbol_of_a_shared_library(mmscope_run):
    """glibc's own `timezone`, written by tzset(); watchme never names it."""
    run = mmscope_run([WATCHME, "tz"], opts=["--watch", "timezone"],
                      env={"TZ": "UTC+3", "PATH": "/usr/bin:/bin"})
    _, hits = watch_records(run)
    assert hits and int(hits[-1]["new"], 16) == 3 * 3600, hits


def test_sixty_four_watchpoints_debug_registers_then_pages(mmscope_run):
    opts = []
    for i in range(64):
        opts += ["--watch", f"many[{i}]"]
    run = mmscope_run([WATCHME, "many"], opts=opts)
    watches, hits = watch_records(run)
    assert len(watches) == 64
    slots = probe()["slots"]
    mechs = [w["mech"] for w in watches.values()]
    assert mechs.count("hw") == slots // 2 and mechs.count("page") == 64 - slots // 2
    by_watch = {h["watch"]: h for h in hits}
    assert len(hits) == 64 and len(by_watch) == 64
    lines = truth(run.stdout)
    for wid, w in watches.items():
        i = int(re.match(r"many\[(\d+)\]", w["expr"]).group(1))
        kind, name, old, new = lines[i][:4]
        assert name == w["expr"]
        h = by_watch[wid]
        assert (int(h["old"], 16), int(h["new"], 16)) == (old, new)


@pytest.mark.parametrize("slots", ["0", "1"])
def test_eight_threads_hammering_a_watched_counter_lose_no_hit(mmscope_run, slots):
    if slots == "1":
        need_hw_slots(1)
    run = mmscope_run([WATCHME, "threads", "8"], opts=[f"--hw-slots={slots}", "--watch", "hammer"])
    assert "HAMMER 80000" in run.stdout
    _, hits = watch_records(run)
    assert len(hits) == 80000
    if slots == "0":
        # on pages every LOCK INC is completed under one lock: the values
        # follow each other exactly
        assert sorted(int(h["new"], 16) for h in hits) == list(range(1, 80001))
        assert all(int(h["new"], 16) == int(h["old"], 16) + 1 for h in hits)


@pytest.mark.parametrize("arg,message", [
    ("no_such_symbol", "no symbol 'no_such_symbol' in"),
    ("counter:0", "length 0"),
    ("0xffffffffffff0000:64", "past the end of the user address space"),
    ("0x7ffffffff000:0x2000", "past the end of the user address space"),
    ("table[99]", "past the end of 'table'"),
    ("counter[1]", "'counter' is not an array"),
    ("counter:8:x", "'x' is neither a length nor r, w or rw"),
    ("counter:r:8", "the access type comes last"),
    (":8", "empty expression"),
])
def test_bad_watch_is_an_error_before_the_program_starts(tmp_path, arg, message):
    p = run_group([MMSCOPE, "run", "-o", str(tmp_path / "t"), "--watch", arg, "--",
                   WATCHME, "basic"], 60)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr, p.stderr
    assert "W counter" not in p.stdout     # the program never ran


def test_watch_on_an_unmapped_address_says_so_and_the_program_runs(mmscope_run):
    run = mmscope_run([WATCHME, "basic"], opts=["--watch", "0x10000:8"])
    assert "--watch 0x10000: not mapped when the program started; not watched" in run.stderr
    assert "R counter 2" in run.stdout
    notes = [r for r in run.records() if r["type"] == "proc" and r["event"] == "note"]
    assert any("not mapped" in n["text"] for n in notes)


def test_show_watch_only_text(mmscope_run):
    run = mmscope_run([WATCHME, "basic"], opts=["--hw-slots=0", "--watch", "counter"])
    p = subprocess.run([MMSCOPE, "show", "--watch-only", "--no-header", run.trace_dir],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert re.search(r'WATCH w1 0x[0-9a-f]+ len=8 w page "counter"$', lines[0]), lines[0]
    assert re.search(r"HIT   w1 W  8 0x[0-9a-f]+ 0x0000000000000000 -> 0x0000000000000001"
                     r"  pc=0x[0-9a-f]+$", lines[1]), lines[1]
    # each hit is followed by its call chain, one "at" line per frame
    assert re.match(r"        at 0x[0-9a-f]+ w\+0x[0-9a-f]+ \(watchme\) \S*watchme\.c:\d+$",
                    lines[2]), lines[2]
    assert all(" HIT " in l or " WATCH " in l or l.startswith("        at 0x") for l in lines)


def test_kernel_access_to_a_watched_page_works_and_is_recorded(mmscope_run):
    """read()/write() given a buffer on a watched page: without mmscope's
    bounce buffer the kernel would find the page closed (EFAULT)."""
    run = mmscope_run([WATCHME, "syscall"], opts=["--hw-slots=0", "--watch", "iobuf:16:rw"])
    assert run.stdout == "READ 16 hello, watcher!\nECHO 16 hello, watcher!\n"
    _, hits = watch_records(run)
    text = int.from_bytes(b"hello, watcher!\0", "little")
    by_kernel = [(h["dir"], int(h["old"], 16), int(h["new"], 16), h["width"])
                 for h in hits if h["flags"] == ["syscall"]]
    assert by_kernel == [
        ("W", 0, text, 16),         # read() filled it
        ("R", text, text, 16),      # write() sent it
    ]
    # the program's own loads of it (printf) are hits of their own
    assert any(h["dir"] == "R" and h["flags"] == [] for h in hits)


@pytest.mark.parametrize("slots", ["0", "1"])
def test_hits_carry_their_symbolised_call_chain(mmscope_run, slots):
    if slots == "1":
        need_hw_slots(1)
    run = mmscope_run([WATCHME, "basic"], opts=[f"--hw-slots={slots}", "--watch", "counter"])
    stores = [l for l in truth(run.stdout) if l[0] == "W" and l[1] == "counter"]
    _, hits = watch_records(run)
    assert len(hits) == len(stores) + 1         # and the locked add
    store_hits = [h for h in hits if int(h["pc"], 16) != 0 and
                  (int(h["old"], 16), int(h["new"], 16)) in
                  [(s[2], s[3]) for s in stores]]
    assert len(store_hits) == len(stores)
    for h, (_, _, old, new, pc, ret) in zip(store_hits, stores):
        f = h["frames"]
        assert len(f) >= 3, h
        # innermost: the access itself (after it, for a debug register),
        # inside w(); then w()'s caller, exactly where the program says
        # w() returns to; then main's callers
        assert int(f[0]["pc"], 16) == int(h["pc"], 16)
        assert f[0]["where"].startswith("w+") and "watchme.c:" in f[0]["where"], f[0]
        assert int(f[1]["pc"], 16) == ret
        assert f[1]["where"].startswith("main+"), f[1]


def test_a_watch_over_many_pages(mmscope_run):
    run = mmscope_run([WATCHME, "big"], opts=["--watch", "big"])
    watches, hits = watch_records(run)
    (w,) = watches.values()
    assert w["len"] == 8192 and w["mech"] == "page"
    base = int(w["addr"], 16)
    assert [(int(h["addr"], 16) - base, int(h["old"], 16), int(h["new"], 16), h["width"])
            for h in hits] == [(0, 0, 0xb0, 8), (600 * 8, 0, 0xb600, 8),
                               (1023 * 8, 0, 0xb1023, 8)]


def test_more_watches_than_registers_fall_back_to_pages_and_verbose_says_so(mmscope_run):
    need_hw_slots(1)
    run = mmscope_run([WATCHME, "basic"],
                      opts=["-v", "--hw-slots=1", "--watch", "counter", "--watch", "table[3]",
                            "--watch", "table[4]"])
    watches, _ = watch_records(run)
    assert [w["mech"] for w in watches.values()] == ["hw", "page", "page"]
    with open(run.trace_dir + "/agent.log") as f:
        log = f.read()
    assert "watch 2 (table[3]): every debug register mmscope may use is taken " \
           "(--hw-slots=1): pages" in log, log


def test_a_watch_on_memory_the_program_unmaps_ends_with_it(mmscope_run):
    run = mmscope_run([WATCHME, "unmap"], opts=["--hw-slots=0", "--watch", "gone[0]"])
    recs = run.records("--watch-only")
    assert [(r["type"], r.get("mech")) for r in recs] == [
        ("watch", "page"), ("hit", None), ("watch", "none")]


def test_page_watch_and_single_step_on_one_page_do_not_deadlock(mmscope_run):
    """One thread stores into a watched page (each store completed by the
    agent under its watch lock) while another's MASKMOVDQU into the same
    page takes the single-step slow path, parking the first thread each
    time.  A thread parked while holding the watch lock used to hang the
    stepping thread forever (issue 7, C.10: 3 of 3 runs hung)."""
    n = 3000
    run = mmscope_run([WATCHME, "step", str(n)], timeout=120,
                      opts=["--hw-slots=0", "--watch", "stepmate:rw"])
    m = re.search(r"^STEP (\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+)$", run.stdout, re.M)
    assert m, run.stdout
    stores, steps = int(m.group(1)), int(m.group(2))
    store_pc, step_pc = int(m.group(3), 16), int(m.group(4), 16)
    last = (n - 1) & 0xff
    assert f"TABLE {''.join(f'00{last:02x}' for _ in range(8))}" in run.stdout
    _, hits = watch_records(run)
    writes = [h for h in hits if h["dir"] == "W"]
    assert sum(int(h["pc"], 16) == store_pc for h in writes) == stores
    assert sum(int(h["pc"], 16) == step_pc for h in writes) == steps
