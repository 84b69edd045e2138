"""liburing maps its rings with raw syscalls; mmscope still traces them
(the agent reconciles with /proc/self/maps around liburing's setup and
teardown) and the program is unharmed."""
import pytest

from conftest import native, prog

NOP = prog("uring_nop")
SQES_OFF = 0x10000000   # IORING_OFF_SQES, include/uapi/linux/io_uring.h


def test_liburing_rings_are_traced_and_program_unharmed(mmscope_run):
    nat = native([NOP, "16"])
    if nat.stdout.startswith("SETUP-FAILED"):
        pytest.skip("io_uring_setup refused on this kernel: " + nat.stdout.strip())
    assert nat.returncode == 0
    run = mmscope_run([NOP, "16"], maps=["anon_inode:[io_uring]"])
    assert run.stdout == nat.stdout
    recs = run.records()
    maps = {r["region"]: r for r in recs if r["type"] == "map"}
    assert any(m["file_offset"] == SQES_OFF for m in maps.values())
    sqe_regions = {i for i, m in maps.items() if m["file_offset"] == SQES_OFF}
    sqe_writes = [r for r in recs if r["type"] == "access"
                  and r["region"] in sqe_regions and r["dir"] == "W"]
    # each NOP's user_data (offset 32 in the 64-byte SQE) is written, in order
    user_data = [int(r["value"], 16) for r in sqe_writes
                 if r["offset"] % 64 == 32 and r["width"] == 8]
    assert user_data == [1000 + i for i in range(16)]
    # teardown (a raw munmap) is noticed: every region is unmapped at the end
    unmapped = {r["region"] for r in recs if r["type"] == "unmap"}
    assert unmapped == set(maps)
