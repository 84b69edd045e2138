/* SPDX-License-Identifier: MIT */
/* mmscope show: what the output formats share (show.c), the access
 * records' printers (show-access.c) and the watchpoint records' printers
 * (show-watch.c). */
#ifndef MMS_CLI_SHOW_H
#define MMS_CLI_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/reader.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct symbolizer;
struct sym_where;

/* a paired string run waiting for the next ACCESS record of its stream */
struct show_pending {
	const char *stream;
	struct mms_record rec;
};

struct show_ctx;

struct show_format {
	const char *name;
	void (*header)(struct show_ctx *ctx);
	void (*record)(struct show_ctx *ctx, const struct mms_record *rec);
};

struct show_ctx {
	FILE *out;
	const struct show_format *fmt;
	const char *path;
	struct mms_trace *trace;
	uint64_t t0;		/* earliest ts_ns: time zero of the output */
	struct symbolizer *sym; /* NULL: addresses stay numbers */
	bool expand;		/* one line per access (text --expand, mmiotrace) */
	bool mmiotrace;		/* ... in mmiotrace's form */
	struct show_pending pending[64];
	size_t npending;
	/* filters: --pid, --watch-only */
	bool pid_filter, watch_only;
	uint32_t pid;
	uint64_t shown;	  /* records printed */
	size_t warned;	  /* reader warnings already printed */
	uint64_t run_pid; /* `mmscope run` that made the trace (PROC start's arg) */
	bool exited;	  /* its exit record has been seen */
};

/* --regs-at (show-regs.c): the register file of each traced region (or
 * of region id only, -1 all) as the records up to seq at made it; 0, or
 * 1 when it could not be built. */
int show_regs_at(struct show_ctx *ctx, uint64_t at, long region);

/* Print every record the reader has, in order, through the filters. */
void show_drain(struct show_ctx *ctx);
/* --follow (show-follow.c): go on printing the records of a trace being
 * written until its program has exited or the user interrupts. */
void show_follow(struct show_ctx *ctx);

/* Value bytes in memory order, as one little-endian hex number. */
void show_value(FILE *out, const uint8_t *v, unsigned int width);
/* The value, or "?" (text) / null (json) when unknown; json quotes it. */
void show_value_or_unknown(FILE *out, const uint8_t *v, unsigned width, bool unknown, bool json);
void show_json_string(FILE *out, const char *s, size_t n);
void show_text_string(FILE *out, const char *s, size_t n);
/* the "where", "module" and "module_offset" keys of a pc (no comma first) */
void show_json_where(FILE *out, const struct sym_where *w);
/* Names of the set bits, "[a,b]" style for text (nothing if none), or the
 * inside of a JSON array; bits in skip are left out. */
void show_flag_list(FILE *out, unsigned int flags, const char *const *names, size_t count,
		    bool json, unsigned int skip);

/* "secs.usecs" since t0, mmiotrace's time stamp */
void show_mmio_time(const struct show_ctx *ctx, uint64_t ts, char *buf, size_t len);

/* ACCESS records (show-access.c): one text line or JSON object per
 * record; or, expanded, one text or mmiotrace line per access, a paired
 * run kept until its partner comes (show_expand_flush: at the end). */
void show_text_access(struct show_ctx *ctx, const struct mms_record *rec);
void show_json_access(struct show_ctx *ctx, const struct mms_record *rec);
void show_expand_access(struct show_ctx *ctx, const struct mms_record *rec);
void show_expand_flush(struct show_ctx *ctx);

void show_text_watch(struct show_ctx *ctx, const struct mms_record *rec);
void show_text_hit(struct show_ctx *ctx, const struct mms_record *rec);
void show_json_watch(struct show_ctx *ctx, const struct mms_record *rec);
void show_json_hit(struct show_ctx *ctx, const struct mms_record *rec);

#endif
