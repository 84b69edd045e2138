"""A thread that exits (return, pthread_exit, cancellation) gives back its
stream window: 64 short-lived threads leave no stream file mapped in the
program, and each of their streams -- and the main thread's, at exit --
ends exactly after its last record."""
import glob
import os

from conftest import prog

TEXIT = prog("threadexit")


def test_exited_threads_leave_no_stream_mapped(mmscope_run):
    run = mmscope_run([TEXIT], maps=["/memfd:mmscope-texit*"])
    assert "STORES 64" in run.stdout
    # only the main thread's own stream (it wrote the start and map
    # records); 65 if the exited threads' windows stayed
    assert "MAPPED_STREAMS 1" in run.stdout, run.stdout
    acc = [r for r in run.records() if r["type"] == "access"]
    assert len(acc) == 64
    assert len({r["tid"] for r in acc}) == 64
    # every stream but the one `mmscope run` appends the exit record to:
    # made after the program exited, it has the highest serial
    serial = lambda p: int(os.path.basename(p).split("-")[2].split(".")[0])
    streams = sorted(glob.glob(os.path.join(run.trace_dir, "*.mms")), key=serial)[:-1]
    assert len(streams) == 65
    for p in streams:
        with open(p, "rb") as f:
            data = f.read()
        # closed at exit: truncated to its records, no zeroed window tail
        assert len(data) > 64 and data[-8:] != b"\0" * 8, (p, len(data))
