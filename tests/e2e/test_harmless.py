"""Issue 7, C: mmscope's own failure never harms the program."""
import os

from conftest import prog

NOMEM = prog("nomem")


def test_no_memory_for_a_threads_state_gives_the_region_back(mmscope_run):
    """A thread's first traced access comes when RLIMIT_AS leaves no room
    for mmscope's per-thread buffers.  That fault used to be handed to the
    program as SIGSEGV; now the region is untraced, said so, and the
    program's stores and loads work as without mmscope."""
    run = mmscope_run([NOMEM], maps=["/memfd:mmscope-nomem*"], timeout=120)
    assert "THREAD ok" in run.stdout and "MAIN ok" in run.stdout
    log = open(os.path.join(run.trace_dir, "agent.log")).read()
    assert "untraced: no memory for mmscope's state of a thread" in log, log
    # the main thread's first store, made before, is in the trace
    acc = run.accesses()
    assert [(a["dir"], a["offset"], int(a["value"], 16)) for a in acc][:1] == [("W", 0, 1)]
