/* SPDX-License-Identifier: MIT */
/*
 * Trace reader: opens a trace directory written by the agent, validates
 * every stream file, and hands back the records of all streams merged into
 * one sequence ordered by the global `seq` counter.  Used by `mmscope show`
 * and by the tests.  The on-disk layout is include/mmscope/trace-format.h;
 * docs/trace-format.md explains the rules enforced here.
 *
 * A trace may be read while it is written: a record that crosses the end
 * the file had when it was first looked at is read once the file has grown.
 *
 * Two kinds of trouble are told apart:
 *  - a stream whose file header is unusable (bad magic, unsupported
 *    version, bad header_size, unreadable file) makes mms_trace_open()
 *    fail: the trace as a whole cannot be trusted;
 *  - a corrupt record only ends its stream: the records before it stay
 *    readable and the stream's status/problem describe what was wrong and
 *    where.  A zero record header or the end of the file after complete
 *    records is the normal end of a stream, not a problem.
 */
#ifndef MMS_TRACE_READER_H
#define MMS_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "mmscope/trace-format.h"

struct mms_trace;

/*
 * An ACCESS record of any version, decoded: what a reader needs without
 * knowing the layout of each version.  count is at least 1.  value has
 * value_len bytes: width for a single or repeated access, count * width for
 * a string run (MMS_AF_STRING).  mask is meaningful with MMS_AF_MASKED
 * (version 3); for older traces it is the bytes up to width.
 */
struct mms_access_view {
	uint64_t pc, addr, offset;
	uint32_t region;
	uint8_t width, dir;
	uint16_t flags;
	uint8_t insn_len;
	const uint8_t *insn;
	uint32_t count;
	uint64_t last_ts_ns;
	uint64_t mask;
	const uint8_t *value;
	size_t value_len;
};

/* One decoded record.  Pointers stay valid until mms_trace_close(). */
struct mms_record {
	uint16_t type; /* enum mms_rec_type */
	uint16_t size; /* bytes, as in the record header */
	uint32_t pid;  /* from the stream's file header */
	uint32_t tid;
	uint64_t seq;
	uint64_t ts_ns;
	const char *stream; /* path of the stream file, for messages */
	uint64_t offset;    /* byte offset of the record in that file */
	/*
	 * The record itself, in the mapped file.  The reader has checked
	 * that the fixed part and, for ACCESS, all `width` value bytes lie
	 * inside the record.
	 */
	union {
		const void *raw;
		const struct mms_rec_common *common;
		const struct mms_rec_access *access;
		const struct mms_rec_map *map;
		const struct mms_rec_unmap *unmap;
		const struct mms_rec_mark *mark;
		const struct mms_rec_proc *proc;
		const struct mms_rec_lost *lost;
		const struct mms_rec_watch *watch;
		const struct mms_rec_hit *hit;
	};
	/*
	 * MAP path, MARK text, PROC text, WATCH expression: the bytes before the first NUL,
	 * bounded by the record (not necessarily NUL-terminated when the
	 * writer left no NUL).  NULL/0 for the other types.
	 */
	const char *text;
	size_t text_len;
	uint32_t version;	    /* the stream's format version */
	struct mms_access_view acc; /* ACCESS only */
};

/* What the reader found in one stream file. */
struct mms_stream_info {
	const char *path; /* "<dir>/<pid>-<tid>-<serial>.mms" */
	uint32_t pid;
	uint32_t tid;
	uint64_t serial;
	uint64_t start_ns;
	uint64_t nrecords;   /* complete, valid records */
	uint64_t end;	     /* offset where decoding stopped */
	int status;	     /* 0, or -EBADMSG: a corrupt record ended it */
	const char *problem; /* message for status != 0, else NULL */
};

/*
 * Open a trace directory (every "*.mms" file in it) or a single stream
 * file.  On failure returns -errno and, when err is not NULL, a one-line
 * message naming the file at fault, e.g.
 *   "t.d/1-1-1.mms: trace format version 7 is not supported by this
 *    mmscope (supports 1)".
 * -ENOENT: no such path or no stream file in it; -EPROTONOSUPPORT:
 * unsupported version; -EBADMSG: bad magic or header; others from the
 * system calls.
 */
int mms_trace_open(const char *path, struct mms_trace **tracep, char *err, size_t errlen);
void mms_trace_close(struct mms_trace *trace);

/*
 * Next record in `seq` order (ties: stream order, then file order).
 * Returns 0 and fills *rec, or -ENODATA after the last record.
 */
int mms_trace_next(struct mms_trace *trace, struct mms_record *rec);
/* Start mms_trace_next() from the first record again. */
void mms_trace_rewind(struct mms_trace *trace);
/*
 * Look at a trace that is still being written again: records appended to
 * its streams and stream files that appeared since are decoded, and
 * mms_trace_next() goes on with them (so a record that was committed late
 * can come after one with a higher seq that was given out before).
 * *nnew (may be NULL): how many records were added.  0 or -errno.
 */
int mms_trace_refresh(struct mms_trace *trace, uint64_t *nnew);

/*
 * Files of the directory that were skipped: a FIFO or other special file
 * or a symbolic link named *.mms, a stream whose header is zero although
 * the file holds data.  One message each, naming the file.
 */
size_t mms_trace_warning_count(const struct mms_trace *trace);
const char *mms_trace_warning(const struct mms_trace *trace, size_t i);

/* Streams are ordered by (pid, tid, serial). */
size_t mms_trace_stream_count(const struct mms_trace *trace);
int mms_trace_stream_info(const struct mms_trace *trace, size_t i, struct mms_stream_info *info);

/* 0 when every stream decoded to a clean end, else -EBADMSG. */
int mms_trace_status(const struct mms_trace *trace);
/* Valid records in all streams. */
uint64_t mms_trace_record_count(const struct mms_trace *trace);
/* Smallest ts_ns of any valid record; 0 when there is none. */
uint64_t mms_trace_first_ts(const struct mms_trace *trace);

#endif
