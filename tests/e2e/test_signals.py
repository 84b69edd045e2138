"""Signals: a program's own SIGSEGV/SIGTRAP handling and signal masks behave
exactly as without mmscope, while its traced accesses are still recorded.

tests/progs/own_segv (see its header for the modes) prints what it saw;
natively and under mmscope the output must be the same, and every traced
access it prints ("ACCESS R|W 0x<offset> 0x<value>", 8 bytes wide) must be
in the trace, in order.
"""
import re
import signal

from conftest import native, prog

OWN_SEGV = prog("own_segv")
GLOB = "/memfd:mmscope-own-segv*"
PATH = "/memfd:mmscope-own-segv"


def printed_accesses(stdout):
    return [(d, int(off, 16), int(val, 16))
            for d, off, val in re.findall(r"^ACCESS ([RW]) 0x([0-9a-f]+) 0x([0-9a-f]+)$",
                                          stdout, re.M)]


def traced_accesses(run):
    records = run.records()
    regions = {r["region"] for r in records
               if r["type"] == "map" and r["path"].startswith(PATH)}
    assert regions, "no MAP record for the own_segv memfd"
    return [(a["dir"], a["offset"], None if a["value"] is None else int(a["value"], 16))
            for a in records if a["type"] == "access" and a["region"] in regions
            and a["width"] == 8]


def lines_with(text, word):
    return [l for l in text.splitlines() if word in l]


def run_both(mmscope_run, mode):
    nat = native([OWN_SEGV, mode])
    traced = mmscope_run([OWN_SEGV, mode], maps=[GLOB], check=False)
    return nat, traced


def test_own_sigsegv_and_sigtrap_handlers_run_exactly_as_natively(mmscope_run):
    nat, traced = run_both(mmscope_run, "handlers")
    assert nat.returncode == 0, nat.stdout + nat.stderr
    assert "segv handler runs: 8" in nat.stdout
    assert "trap handler runs: 9" in nat.stdout
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert traced.stdout == nat.stdout


def test_sigaction_hands_the_program_its_own_handlers_back(mmscope_run):
    _, traced = run_both(mmscope_run, "handlers")
    answers = lines_with(traced.stdout, "returns own handler")
    assert len(answers) == 4, traced.stdout
    assert all(l.endswith(": yes") for l in answers), "\n".join(answers)
    for l in lines_with(traced.stdout, "flags:"):
        got, want = re.search(r"flags: (0x[0-9a-f]+) \(set (0x[0-9a-f]+)\)", l).groups()
        assert got == want, l


def test_traced_accesses_between_own_faults_and_traps_are_all_recorded(mmscope_run):
    _, traced = run_both(mmscope_run, "handlers")
    want = printed_accesses(traced.stdout)
    assert len(want) == 16
    assert traced_accesses(traced) == want


def test_sigaction_returns_the_sa_mask_the_program_set(mmscope_run):
    """The program put SIGSEGV, SIGTRAP and SIGUSR1 in its handlers' sa_mask;
    asking sigaction() must give that mask back, as natively."""
    nat, traced = run_both(mmscope_run, "sa-mask")
    assert nat.returncode == 0 and traced.returncode == 0, traced.stderr
    assert all(l.endswith(": yes") for l in lines_with(nat.stdout, "sa_mask has"))
    assert lines_with(traced.stdout, "sa_mask has") == lines_with(nat.stdout, "sa_mask has")


def test_genuine_null_write_kills_with_sigsegv_as_natively(mmscope_run):
    nat, traced = run_both(mmscope_run, "null")
    assert nat.returncode == -signal.SIGSEGV, nat.stdout + nat.stderr
    assert traced.returncode == 128 + signal.SIGSEGV, traced.stdout + traced.stderr
    assert traced.stdout == nat.stdout
    assert "still alive" not in traced.stdout
    assert re.search(r"killed by signal 11", traced.stderr), traced.stderr
    # the accesses before the crash are in the trace
    assert traced_accesses(traced) == printed_accesses(traced.stdout)


def test_program_blocking_all_signals_is_traced_from_main_and_new_thread(mmscope_run):
    nat, traced = run_both(mmscope_run, "blocked")
    assert nat.returncode == 0, nat.stdout + nat.stderr
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert printed_accesses(traced.stdout) == printed_accesses(nat.stdout)
    want = printed_accesses(traced.stdout)
    assert len(want) == 6
    assert sorted(traced_accesses(traced)) == sorted(want)


def test_blocked_mask_is_reported_back_to_the_main_thread(mmscope_run):
    nat, traced = run_both(mmscope_run, "blocked")
    want = lines_with(nat.stdout, "main (")
    assert want and all(l.count(": yes") == 3 for l in want), nat.stdout
    assert lines_with(traced.stdout, "main (") == want


def test_thread_created_while_all_blocked_also_sees_sigsegv_blocked(mmscope_run):
    """A new thread inherits its creator's mask; asking for it must show
    SIGSEGV and SIGTRAP blocked, as natively."""
    nat, traced = run_both(mmscope_run, "blocked")
    want = lines_with(nat.stdout, "thread (")
    assert want and all(l.count(": yes") == 3 for l in want), nat.stdout
    assert lines_with(traced.stdout, "thread (") == want


def test_sa_resethand_handler_runs_once_then_second_fault_kills(mmscope_run):
    nat, traced = run_both(mmscope_run, "resethand")
    assert nat.returncode == -signal.SIGSEGV, nat.stdout + nat.stderr
    assert "resethand: handler ran" in nat.stdout
    assert "disposition is SIG_DFL: yes" in nat.stdout
    assert traced.returncode == 128 + signal.SIGSEGV, traced.stdout + traced.stderr
    assert traced.stdout == nat.stdout


def test_traced_accesses_keep_working_after_sa_resethand_fired(mmscope_run):
    _, traced = run_both(mmscope_run, "resethand")
    want = printed_accesses(traced.stdout)
    assert len(want) == 4
    assert traced_accesses(traced) == want


def test_after_sa_resethand_sigaction_reports_what_the_kernel_keeps(mmscope_run):
    """The kernel resets only the handler of an SA_RESETHAND action (its
    sa_flags and sa_mask stay, kernel/signal.c get_signal()); a program
    asking afterwards must see the same under mmscope."""
    nat, traced = run_both(mmscope_run, "resethand-query")
    assert nat.returncode == 0, nat.stdout + nat.stderr
    assert "handler is SIG_DFL: yes" in nat.stdout
    assert traced.returncode == 0, traced.stdout + traced.stderr
    assert lines_with(traced.stdout, "after reset") == lines_with(nat.stdout, "after reset")
    assert traced.stdout == nat.stdout


FAULTS = prog("faults")


def test_sigbus_sigill_sigfpe_reach_the_program_as_natively(mmscope_run):
    """tests/progs/faults: a division by zero, ud2, a load past the end of a
    truncated file; unhandled, handled once (siginfo as the kernel made
    it), and handled but blocked (the kernel kills all the same).  The
    output and the way it ends are the same under mmscope."""
    for kind, sig in (("fpe", signal.SIGFPE), ("ill", signal.SIGILL), ("bus", signal.SIGBUS)):
        for mode in ([], ["handled"], ["blocked"]):
            nat = native([FAULTS, kind, *mode])
            traced = mmscope_run([FAULTS, kind, *mode], maps=["/memfd:mmscope-faults*"],
                                 check=False)
            want = 0 if mode == ["handled"] else -sig
            assert nat.returncode == want, (kind, mode, nat.stdout, nat.stderr)
            assert traced.returncode == (0 if want == 0 else 128 + sig), \
                (kind, mode, traced.stdout, traced.stderr)
            assert traced.stdout == nat.stdout, (kind, mode)


def test_a_fault_signal_the_program_ignores_stays_ignored_across_exec(mmscope_run):
    """sh ignores SIGFPE and execs a shell that sends itself SIGFPE: ignored
    on entry, it survives.  mmscope's handler for SIGFPE must not turn the
    inherited SIG_IGN into the default action at exec."""
    script = 'trap "" FPE BUS ILL; exec sh -c "kill -FPE \\$\\$; kill -BUS \\$\\$; ' \
             'kill -ILL \\$\\$; echo alive"'
    nat = native(["sh", "-c", script])
    assert nat.returncode == 0 and nat.stdout == "alive\n", nat
    traced = mmscope_run(["sh", "-c", script], check=False)
    assert traced.returncode == 0 and traced.stdout == "alive\n", \
        (traced.returncode, traced.stdout, traced.stderr)


SIGME = prog("sigme")
SIGME_CASES = {"abort": (["abort"], -signal.SIGABRT), "usr1": (["usr1"], 0),
               "usr1-restart": (["usr1", "restart"], 0), "term": (["term"], -signal.SIGTERM),
               "alarm": (["alarm", "100"], 0)}


def test_signals_that_are_not_faults_reach_the_program_as_natively(mmscope_run):
    """tests/progs/sigme: abort(), a SIGUSR1 from another process into a
    handler without and with SA_RESTART while the program waits in read(),
    a SIGTERM that kills it there, timer ticks.  No debugger here: mmscope
    leaves these signals alone; output and end are the native run's."""
    for name, (args, want) in SIGME_CASES.items():
        nat = native([SIGME, *args])
        traced = mmscope_run([SIGME, *args], maps=["/memfd:mmscope-sigme*"], check=False)
        assert nat.returncode == want, (name, nat)
        assert traced.returncode == (want if want >= 0 else 128 - want), \
            (name, traced.stdout, traced.stderr)
        assert traced.stdout == nat.stdout, (name, traced.stdout, nat.stdout)
