/* SPDX-License-Identifier: MIT */
/*
 * Writing one trace stream file (see include/mmscope/trace-format.h).
 * The file is written through a MAP_SHARED window that slides along it, so
 * a record is in the page cache the moment it is committed: a SIGKILL of
 * the program loses nothing that was recorded.  Blocks are reserved with
 * fallocate() so a full disk is an error code, never a SIGBUS.  Only raw
 * system calls: safe in signal context.  One writer per stream.
 */
#ifndef MMS_TRACE_STREAM_H
#define MMS_TRACE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "mmscope/trace-format.h"

#define STREAM_WINDOW (1u << 20)

struct stream {
	int fd;	      /* -1 when closed */
	uint8_t *win; /* mapping of [win_off, win_off + STREAM_WINDOW) */
	uint64_t win_off;
	uint64_t pos;  /* file offset of the next record */
	uint64_t lost; /* records that could not be written */
};

/* signal context.  Creates dir/name exclusively and writes the header. */
int stream_open(struct stream *s, int dirfd, const char *name, const struct mms_file_header *h);
/* signal context.  Space for a record of size bytes (multiple of 8), zeroed;
 * NULL if the disk is full (counted in s->lost). */
void *stream_reserve(struct stream *s, size_t size);
/* signal context.  Publish: the header word is stored last. */
void stream_commit(struct stream *s, void *rec, uint16_t type, size_t size);
void stream_close(struct stream *s);
/* Forget a stream inherited over fork without touching the parent's file. */
void stream_forget(struct stream *s);

#endif
