/* SPDX-License-Identifier: MIT */
/* mmscope show: what the output formats share (show.c), and the watchpoint
 * records' printers (show-watch.c). */
#ifndef MMS_CLI_SHOW_H
#define MMS_CLI_SHOW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/reader.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct symbolizer;
struct sym_where;

struct show_ctx {
	FILE *out;
	const char *path;
	struct mms_trace *trace;
	uint64_t t0;		/* earliest ts_ns: time zero of the output */
	struct symbolizer *sym; /* NULL: addresses stay numbers */
};

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

void show_text_watch(struct show_ctx *ctx, const struct mms_record *rec);
void show_text_hit(struct show_ctx *ctx, const struct mms_record *rec);
void show_json_watch(struct show_ctx *ctx, const struct mms_record *rec);
void show_json_hit(struct show_ctx *ctx, const struct mms_record *rec);

#endif
