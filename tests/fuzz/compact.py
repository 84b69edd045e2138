#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""compact.py IN OUT: a small fuzz seed from a real stream file: a version
4 file (docs/trace-format.md) with a 1 KiB tail right after the header,
the stream's first ~2 KiB of records in the file and the next ones in
the tail, so that the fuzzer's mutations reach the file's records, the
tail and the header fields that tie them together."""
import struct
import sys

HEADER = struct.Struct("<8sIIIIQQQII8x")  # struct mms_file_header
REC_HDR = struct.Struct("<HHI")
TAIL = 1024


def walk(buf, off, end, out):
    while off + 8 <= end:
        rtype, size, _ = REC_HDR.unpack_from(buf, off)
        if rtype == 0 or size < 8 or off + size > end:
            return
        out.append(buf[off:off + size])
        off += size


def records(data):
    """The stream's records in order, as the reader takes them."""
    _, version, header_size, _, _, _, _, base, tail_off, tail_len = HEADER.unpack_from(data)
    out = []
    if version < 4:
        walk(data, header_size, len(data), out)
    elif base & 1 or base > len(data):
        walk(data, tail_off + tail_len, len(data), out)
    else:
        walk(data, tail_off + tail_len, base, out)
        walk(data[tail_off:tail_off + tail_len], 0, tail_len, out)
    return out


def main():
    data = open(sys.argv[1], "rb").read()
    magic, _, _, pid, tid, start, serial, _, _, _ = HEADER.unpack_from(data)
    in_file, in_tail = b"", b""
    for r in records(data):
        if len(in_file) + len(r) <= 2048 and not in_tail:
            in_file += r
        elif len(in_tail) + len(r) <= TAIL - 24:  # room for a LOST record
            in_tail += r
        else:
            break
    base = HEADER.size + TAIL + len(in_file)
    head = HEADER.pack(magic, 4, HEADER.size, pid, tid, start, serial, base, HEADER.size, TAIL)
    with open(sys.argv[2], "wb") as f:
        f.write(head + in_tail.ljust(TAIL, b"\0") + in_file)


main()
