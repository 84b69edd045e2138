"""Traced memory passed to read/write/pread/pwrite/send/recv works as
without mmscope (the kernel is given the alias; the program's view is
PROT_NONE and would make these calls fail with EFAULT)."""
from conftest import native, prog

KBUF = prog("kbuf")


def test_syscalls_on_traced_buffers_behave_as_natively(mmscope_run):
    nat = native([KBUF])
    assert nat.returncode == 0
    assert "write 64" in nat.stdout
    # without the fix a failed send leaves recv blocked: fail fast
    run = mmscope_run([KBUF], maps=["/memfd:mmscope-kbuf*"], timeout=60)
    assert run.stdout == nat.stdout
    # the program's own stores and loads are traced: 64 fill stores and
    # 64 checksum loads
    acc = run.accesses()
    assert sum(1 for r in acc if r["dir"] == "W") == 64
    assert sum(1 for r in acc if r["dir"] == "R") == 64
