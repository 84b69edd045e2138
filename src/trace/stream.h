/* SPDX-License-Identifier: MIT */
/*
 * Writing one trace stream file, format version 4 (see
 * include/mmscope/trace-format.h).  Records are written into the file's
 * tail, STREAM_TAIL_LEN bytes at STREAM_TAIL_OFF kept mapped MAP_SHARED,
 * so a record is in the page cache the moment it is committed: a SIGKILL
 * of the program loses nothing that was recorded.  When the next record
 * does not fit, the tail's records are appended to the file with one
 * pwrite and the tail starts again.  The same pages take every record:
 * a record costs a store to memory the CPU has seen, never the first
 * touch of a new page (~10 us on a VM with shadow paging), and the
 * kernel's copy in pwrite is ~20 ns a record.
 *
 * Emptying the tail, for a reader that looks meanwhile: the records are
 * written to the file first, then tail_base gets bit 0 (the file holds
 * them all), then the tail's first header word is zeroed, then tail_base
 * is the new base.  Every record is zeroed when it is reserved, with the
 * header word after it, so stale records of an earlier round never
 * follow the newest one.
 *
 * Losing records: the tail keeps room for one LOST record at its end.
 * When the file cannot grow (the pwrite fails: a full disk is an error
 * code, never a SIGBUS), the next record that does not fit becomes a
 * LOST record there, and every further record that cannot be written
 * raises its count in place; writing the tail out is retried with a
 * backoff (10 ms, doubling to 1 s), not for every record.  Once it is
 * written the LOST record's count is final and records continue.
 *
 * Only raw system calls, and no C library function on the record path
 * (the hot sites' fast path saves no vector register): safe in signal
 * context.  One writer per stream.
 */
#ifndef MMS_TRACE_STREAM_H
#define MMS_TRACE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "mmscope/trace-format.h"

#define STREAM_TAIL_OFF 4096u
#define STREAM_TAIL_LEN (68u << 10) /* the largest record (65528 bytes) and a LOST */
#define STREAM_DATA_OFF (STREAM_TAIL_OFF + STREAM_TAIL_LEN)
#define STREAM_LOST_ROOM sizeof(struct mms_rec_lost)

struct stream {
	int fd;			       /* -1 when closed */
	uint8_t *map;		       /* the file's [0, STREAM_DATA_OFF): header and tail */
	uint64_t base;		       /* file offset of the tail's first byte */
	uint32_t win_gen;	       /* bumped each time the tail is emptied */
	uint64_t pos;		       /* file offset of the next record */
	uint64_t lost;		       /* records of this stream that could not be written */
	int err;		       /* why the file last failed to grow (-errno), 0 */
	struct mms_rec_lost *lost_rec; /* the LOST record being counted, or NULL */
	uint64_t retry_ns, backoff_ns;
	struct mms_seq_page *page; /* sequence numbers and shared loss counts, or NULL */
};

/* signal context.  Creates dir/name exclusively (0600, never following a
 * symlink) and writes the header.  page (may be NULL) gives LOST records
 * their sequence numbers and receives the loss counts. */
int stream_open(struct stream *s, int dirfd, const char *name, const struct mms_file_header *h,
		struct mms_seq_page *page);
/* signal context.  Space for a record of size bytes (multiple of 8), zeroed;
 * NULL if it cannot be written (counted: see above). */
void *stream_reserve(struct stream *s, size_t size);
/* signal context.  Publish: the header word is stored last. */
void stream_commit(struct stream *s, void *rec, uint16_t type, size_t size);
/* signal context.  Republish the header word of a committed record (a
 * count grown in place); rec must lie in the tail. */
void stream_republish(void *rec, uint16_t type, uint16_t size, uint32_t count);
/* signal context: the record at file offset off if it is in the tail */
void *stream_at(const struct stream *s, uint64_t off);
void stream_close(struct stream *s);
/* Forget a stream inherited over fork without touching the parent's file. */
void stream_forget(struct stream *s);

#endif
