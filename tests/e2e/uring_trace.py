"""What the io_uring protocol requires of a submitter, checked on a trace
(include/uapi/linux/io_uring.h, io_uring_setup(2), io_uring_enter(2)):
the rings' mappings, the SQ tail found from the trace, the SQEs each tail
store publishes, and the user_data published against the user_data the
CQEs give back.  Shared by tests/e2e/test_fio.py and the peer suites
(tests/e2e/test_peers_fio.py runs fio over a matrix of io_uring set-ups,
test_peers_liburing.py a liburing program linked both ways)."""
import bisect
import collections
import ctypes
import errno
import os

from peer_trace import accessed_bytes, expand, value_bytes

IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 0x8000000
IORING_OFF_SQES = 0x10000000
SQE_SIZE = 64           # sizeof(struct io_uring_sqe) without IORING_SETUP_SQE128
SQE_USER_DATA = 32      # offsetof(struct io_uring_sqe, user_data), 8 bytes
NR_IO_URING_SETUP = 425  # x86-64
URING_PATH = "anon_inode:[io_uring]"


def io_uring_refused():
    """None if this kernel lets us create an io_uring, else why not."""
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)   # struct io_uring_params
    fd = libc.syscall(NR_IO_URING_SETUP, 4, params)
    if fd >= 0:
        os.close(fd)
        return None
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EPERM, errno.EACCES):
        disabled = "?"
        try:
            with open("/proc/sys/kernel/io_uring_disabled") as f:
                disabled = f.read().strip()
        except OSError:
            pass
        return (f"the kernel refuses io_uring_setup ({errno.errorcode[err]}; "
                f"/proc/sys/kernel/io_uring_disabled = {disabled})")
    return None


def uring_pid(records):
    """The one process that mapped an io_uring in this trace."""
    pids = {r["pid"] for r in records if r["type"] == "map" and r["path"] == URING_PATH}
    assert len(pids) == 1, f"io_uring mapped by processes {pids}"
    return pids.pop()


class Ring:
    """The io_uring mappings of one process and their accesses in seq order.
    entries is the SQ ring's size: what io_uring_setup was asked for,
    rounded up to a power of two (the SQ array index of tail t is
    t % entries).  tail_off, when the program told it, is the SQ tail's
    offset in the SQ ring mapping; else it is found from the trace.  A
    process that maps the SQ and CQ rings with one mmap
    (IORING_FEAT_SINGLE_MMAP, as liburing does) has its CQ ring accesses in
    the SQ ring's region."""

    def __init__(self, records, pid, entries, tail_off=None):
        self.entries = entries
        self._tail_off = tail_off
        self.maps = {}
        for r in records:
            if r["type"] == "map" and r["pid"] == pid and r["path"] == "anon_inode:[io_uring]":
                self.maps.setdefault(r["file_offset"], []).append(r["region"])
        sq = self.maps.get(IORING_OFF_SQ_RING, [])
        sqes = self.maps.get(IORING_OFF_SQES, [])
        self.sq_region = sq[0] if len(sq) == 1 else None
        self.sqes_region = sqes[0] if len(sqes) == 1 else None
        acc = sorted((r for r in expand(records) if r["pid"] == pid), key=lambda r: r["seq"])
        self.sq = [a for a in acc if a["region"] == self.sq_region]
        self.sqe_writes = [a for a in acc if a["region"] == self.sqes_region and a["dir"] == "W"]
        cq = set(self.maps.get(IORING_OFF_CQ_RING, [self.sq_region]))
        self.cq = [a for a in acc if a["region"] in cq]

    def tail_offset(self):
        """The SQ tail is found from the trace, not from a kernel layout: the
        offsets in struct io_sqring_offsets are whatever io_uring_setup
        returned (they changed across kernels, e.g. when struct io_rings
        stopped cache-line-aligning head and tail), and fio does not print
        them.  Among the 4-byte words of the SQ ring only two kinds are
        written by the application: the tail, which only ever grows, and
        the SQ array slots, which hold SQE indices (< entries) and are
        rewritten with repeating values.  So the tail is the one word written
        more than entries times with strictly increasing values."""
        if self._tail_off is not None:
            return self._tail_off
        writes = collections.defaultdict(list)
        for a in self.sq:
            if a["dir"] == "W" and a["width"] == 4:
                writes[a["offset"]].append(int(a["value"], 16))
        found = [off for off, vals in writes.items()
                 if len(vals) > self.entries and all(b > a for a, b in zip(vals, vals[1:]))]
        assert len(found) == 1, f"cannot tell the SQ tail: candidates {found}, " \
            f"written words {sorted(writes)}"
        return found[0]


def publications(ring):
    """[(seq of the tail store, [SQ array positions it published])]."""
    tail_off = ring.tail_offset()
    tail = None
    out = []
    for a in ring.sq:
        if a["offset"] != tail_off or a["width"] != 4:
            continue
        value = int(a["value"], 16)
        if a["dir"] == "R" and tail is None:
            tail = value        # fio reads the tail before its first store
        elif a["dir"] == "W":
            old = 0 if tail is None else tail
            advance = (value - old) & 0xffffffff
            assert 0 < advance <= ring.entries, f"tail went from {old} to {value}"
            out.append((a["seq"], list(range(old, old + advance))))
            tail = value
    return tail_off, out


def _last_before(seqs, lo, hi):
    """Position in sorted seqs of the last one in (lo, hi), or None."""
    i = bisect.bisect_left(seqs, hi) - 1
    return i if i >= 0 and seqs[i] > lo else None


def published_indices(ring, fresh_array=True):
    """[(seq of the tail store, SQE index)] for every SQE published, in
    publication order: the SQ array slot of tail position t is read as the
    program last wrote it before the store.  fresh_array: the program
    writes the slot for every submission (fio does), so it must have been
    written since the previous tail store; liburing instead fills the
    array once, at set-up, with the identity."""
    tail_off, pubs = publications(ring)
    # The SQ array starts where the first SQ ring write that is not the tail
    # stored an index: fio fills slot 0 for its first submission, liburing
    # fills the array at set-up, before any other word of the ring is written.
    array_writes = [a for a in ring.sq if a["dir"] == "W" and a["offset"] != tail_off]
    assert array_writes, "no SQ array writes"
    array_base = array_writes[0]["offset"]
    slot_writes = collections.defaultdict(list)
    for a in array_writes:
        slot_writes[a["offset"]].append((a["seq"], int(a["value"], 16)))
    out = []
    prev_store = -1
    for store_seq, positions in pubs:
        for t in positions:
            writes = slot_writes[array_base + 4 * (t % ring.entries)]
            i = _last_before([w[0] for w in writes], prev_store if fresh_array else -1, store_seq)
            assert i is not None, f"tail {t + 1} published SQ array slot " \
                f"{t % ring.entries}, not written" + \
                (" since the previous tail store" if fresh_array else "")
            index = writes[i][1]
            assert 0 <= index < ring.entries, f"SQ array slot holds {index}"
            out.append((store_seq, index))
        prev_store = store_seq
    return out


def check_publication_order(ring, fresh_array=True):
    """Every SQE write precedes the tail store that publishes it, every
    published SQE had its user_data written since it was last published,
    the user_data published is, value for value, what the CQEs gave back
    (read as the only 8-byte field of struct io_uring_cqe, once per
    completion), and no SQE write comes after its last publication.
    Raises AssertionError naming the first thing that does not hold."""
    sqe_writes = collections.defaultdict(list)
    user_data_writes = collections.defaultdict(list)
    for a in ring.sqe_writes:
        assert a["offset"] // SQE_SIZE == (a["offset"] + a["width"] - 1) // SQE_SIZE, \
            f"an SQE write straddles two SQEs: {a}"
        index, rel = divmod(a["offset"], SQE_SIZE)
        sqe_writes[index].append(a["seq"])
        if rel <= SQE_USER_DATA and rel + a["width"] >= SQE_USER_DATA + 8:
            shift = 8 * (SQE_USER_DATA - rel)
            user_data_writes[index].append(
                (a["seq"], (int(a["value"], 16) >> shift) & (2 ** 64 - 1)))

    last_pub = collections.defaultdict(lambda: -1)  # SQE index -> seq published
    published_user_data = []
    for store_seq, index in published_indices(ring, fresh_array):
        assert _last_before(sqe_writes[index], last_pub[index], store_seq) is not None, \
            f"SQE {index} published by the tail store at seq {store_seq} was not " \
            f"written since it was last published (seq {last_pub[index]})"
        # fio_ioring_prep() and io_uring_sqe_set_data() set sqe->user_data
        # for every submission
        ud = user_data_writes[index]
        i = _last_before([w[0] for w in ud], last_pub[index], store_seq)
        assert i is not None, f"SQE {index} published at seq {store_seq} without " \
            f"its user_data written since it was last published"
        published_user_data.append(ud[i][1])
        last_pub[index] = store_seq

    # The kernel copies user_data into the CQE; the program reads
    # cqe->user_data (the only 8-byte field of struct io_uring_cqe) once per
    # completion.  What was published must be exactly what came back.
    completed = [int(a["value"], 16) for a in ring.cq if a["dir"] == "R" and a["width"] == 8]
    assert collections.Counter(completed) == collections.Counter(published_user_data)

    # and no SQE write is left unpublished, i.e. after its last publication
    late = [a for a in ring.sqe_writes if a["seq"] > last_pub[a["offset"] // SQE_SIZE]]
    assert not late, f"{len(late)} SQE writes come after the last tail store that " \
        f"publishes them, first: {late[0]}"


def published_sqes(ring, fresh_array=True):
    """[bytes(64)] for every SQE published, in publication order: the SQE as
    the program's traced writes had made it when the tail store published
    it (bytes it never wrote are 0: the kernel hands out the SQE array
    zeroed)."""
    image = bytearray(SQE_SIZE * ring.entries)
    writes = iter(ring.sqe_writes)
    pending = next(writes, None)
    out = []
    for store_seq, index in published_indices(ring, fresh_array):
        while pending is not None and pending["seq"] < store_seq:
            lo = pending["offset"]
            for i, (b, on) in enumerate(zip(value_bytes(pending), accessed_bytes(pending))):
                if on:
                    image[lo + i] = b
            pending = next(writes, None)
        out.append(bytes(image[index * SQE_SIZE:(index + 1) * SQE_SIZE]))
    return out
