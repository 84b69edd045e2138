/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of the trace reader share: one stream file as the
 * reader holds it (reader-stream.c maps, checks and scans it; reader.c
 * lists the directory and merges the streams by seq).
 */
#ifndef MMS_TRACE_READER_INTERNAL_H
#define MMS_TRACE_READER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/reader.h"

struct seq_off {
	uint64_t seq;
	uint64_t off;
};

/* an earlier, smaller mapping of a grown file: records handed out still
 * point into it, so it lives until the trace is closed */
struct rd_old_map {
	struct rd_old_map *next;
	void *addr;
	size_t len;
};

/* v4: records read from a stream's tail (trace-format.h), copied: the
 * writer reuses the tail; they stand at stream offsets [lo, hi) */
struct rd_seg {
	uint64_t lo, hi;
	uint8_t *bytes;
};

struct rd_stream {
	char *path; /* for messages */
	char *name; /* relative to the trace's directory (or the path itself) */
	struct mms_file_header hdr;
	bool have_hdr;	     /* hdr holds a checked header */
	const uint8_t *data; /* whole file as of the last look, read-only */
	size_t size, map_len;
	struct rd_old_map *old_maps;
	struct rd_seg *segs; /* v4: in stream order; kept until the trace closes */
	size_t nsegs;
	uint64_t begin; /* first record */
	uint64_t end;	/* where decoding stopped */
	uint64_t nrecords;
	uint64_t first_ts;
	int status;
	char *problem;
	/* Only when seq is not monotonic in the file: records by seq. */
	struct seq_off *order;
	size_t order_cap;
	/* merge cursor: file offset, or index into order[] */
	uint64_t pos;
	uint64_t cur_seq;
	bool in_heap;
};

/*
 * Open, map, check and scan the file `name` in dir_fd (AT_FDCWD: a path).
 * in_dir: the file was found in a directory listing, so a symlink or a
 * special file there is not followed and not opened for reading (-ENOTSUP
 * with the reason in err: the caller skips it with a warning).  A file
 * whose header is zero but which holds data is skipped the same way.
 */
int rd_stream_load(struct rd_stream *s, int dir_fd, bool in_dir, char *err, size_t errlen);
/*
 * Look at the file again: map what it has grown by and decode the records
 * written since.  Returns how many new records there are, or -errno.
 */
int64_t rd_stream_refresh(struct rd_stream *s, int dir_fd, bool in_dir);
void rd_stream_free(struct rd_stream *s);

void rd_err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* the record at stream offset off: in the file, or in a copy of the tail */
const uint8_t *rd_at(const struct rd_stream *s, uint64_t off);
uint64_t rd_rec_seq(const struct rd_stream *s, uint64_t off);
uint16_t rd_rec_size(const struct rd_stream *s, uint64_t off);

#endif
