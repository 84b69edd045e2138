/* SPDX-License-Identifier: MIT */
/*
 * Writing one trace stream file (see include/mmscope/trace-format.h).
 * The file is written through a MAP_SHARED window that slides along it, so
 * a record is in the page cache the moment it is committed: a SIGKILL of
 * the program loses nothing that was recorded.  Space is reserved with
 * fallocate() in blocks that start small (a short-lived process leaves a
 * small file) and double up to STREAM_BLOCK_MAX, so a full disk is an
 * error code, never a SIGBUS.
 *
 * Losing records: every block keeps room for one LOST record at its end.
 * When the file cannot grow, the next record that does not fit becomes a
 * LOST record there, and every further record that cannot be written
 * raises its count in place; growing is retried with a backoff (10 ms,
 * doubling to 1 s), not for every record.  Once the file grows again the
 * LOST record is finished and records continue after it.
 *
 * Only raw system calls: safe in signal context.  One writer per stream.
 */
#ifndef MMS_TRACE_STREAM_H
#define MMS_TRACE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "mmscope/trace-format.h"

#define STREAM_BLOCK_MIN (16u << 10)
#define STREAM_BLOCK_MAX (1u << 20)
#define STREAM_LOST_ROOM sizeof(struct mms_rec_lost)

struct stream {
	int fd;	      /* -1 when closed */
	uint8_t *win; /* mapping of [win_off, win_off + win_len) */
	uint64_t win_off;
	size_t win_len;
	uint32_t win_gen;	       /* bumped each time the window moves */
	uint32_t block;		       /* size of the next block to allocate */
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
 * count grown in place); rec must lie in the current window. */
void stream_republish(void *rec, uint16_t type, uint16_t size, uint32_t count);
/* signal context: the record at file offset off if it is in the window */
void *stream_at(const struct stream *s, uint64_t off);
void stream_close(struct stream *s);
/* Forget a stream inherited over fork without touching the parent's file. */
void stream_forget(struct stream *s);

#endif
