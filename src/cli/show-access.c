/* SPDX-License-Identifier: MIT */
/*
 * mmscope show: ACCESS records.  One record may stand for many accesses
 * (docs/trace-format.md, "What one ACCESS record stands for"): identical
 * repeats, the elements of a string run, two runs whose elements
 * alternate (MOVS, CMPS), and a masked access touches only some of its
 * bytes.  JSON prints a record as it is, with its count, elements and
 * mask; text prints it on one line, summed up; the mmiotrace export and
 * `--expand` print one line per access, in the order they happened, so
 * nothing is lost to a tool that counts lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/show.h"
#include "cli/symbolize.h"

static const char *const access_flag_names[] = {
	"value_unknown", "locked", "unknown_insn", "split",    "masked",
	"string",	 "paired", "down",	   "debugger",
};

/* elements of a string run printed on its text line; --expand prints all */
#define TEXT_RUN_ELEMENTS 8

static uint64_t rel_ns(const struct show_ctx *ctx, uint64_t ts)
{
	return ts > ctx->t0 ? ts - ctx->t0 : 0;
}

static bool byte_on(uint64_t mask, unsigned int i)
{
	return i >= 64 || (mask >> i & 1);
}

/* The value as one little-endian number; "--" for the bytes a masked
 * access left alone. */
static void text_value(FILE *out, const uint8_t *v, unsigned int width, uint64_t mask)
{
	fputs("0x", out);
	while (width--) {
		if (byte_on(mask, width))
			fprintf(out, "%02x", v[width]);
		else
			fputs("--", out);
	}
}

static void text_where(struct show_ctx *ctx, const struct mms_record *rec)
{
	struct sym_where where;

	symbolizer_describe(ctx->sym, rec->pid, rec->seq, rec->acc.pc, false, &where);
	if (where.text[0])
		fprintf(ctx->out, "  in %s", where.text);
}

static void text_flags(FILE *out, unsigned int flags)
{
	/* "?" already says the value is unknown */
	show_flag_list(out, flags, access_flag_names, ARRAY_SIZE(access_flag_names), false,
		       MMS_AF_VALUE_UNKNOWN);
}

static void text_time(FILE *out, uint64_t t)
{
	fprintf(out, "%" PRIu64 ".%09" PRIu64, t / 1000000000, t % 1000000000);
}

static bool value_unknown(const struct mms_access_view *a)
{
	return (a->flags & MMS_AF_VALUE_UNKNOWN) || !a->width; /* width 0: no value */
}

static uint64_t element_offset(const struct mms_access_view *a, uint64_t i)
{
	uint64_t d = i * a->width;

	return a->flags & MMS_AF_DOWN ? a->offset - d : a->offset + d;
}

void show_text_access(struct show_ctx *ctx, const struct mms_record *rec)
{
	const struct mms_access_view *a = &rec->acc;
	FILE *out = ctx->out;
	uint64_t n;

	fprintf(out, "%c %2u r%" PRIu32 " +0x%04" PRIx64 " = ", a->dir == MMS_DIR_WRITE ? 'W' : 'R',
		a->width, a->region, a->offset);
	if (!(a->flags & MMS_AF_STRING)) {
		if (value_unknown(a))
			fputc('?', out);
		else
			text_value(out, a->value, a->width, a->mask);
		if (a->count > 1) {
			fprintf(out, " (x%" PRIu32 ", the last at ", a->count);
			text_time(out, rel_ns(ctx, a->last_ts_ns));
			fputc(')', out);
		}
	} else {
		n = a->count < TEXT_RUN_ELEMENTS ? a->count : TEXT_RUN_ELEMENTS;
		for (uint64_t i = 0; i < n; i++) {
			if (i)
				fputc(' ', out);
			if (value_unknown(a))
				fputc('?', out);
			else
				show_value(out, a->value + i * a->width, a->width);
		}
		if (a->count > n)
			fputs(" ...", out);
		fprintf(out, " (%" PRIu32 " element%s", a->count, a->count == 1 ? "" : "s");
		if (a->count > 1)
			fprintf(out, " to +0x%04" PRIx64, element_offset(a, a->count - 1));
		fputc(')', out);
	}
	fprintf(out, "  pc=0x%" PRIx64, a->pc);
	text_flags(out, a->flags);
	text_where(ctx, rec);
}

void show_json_access(struct show_ctx *ctx, const struct mms_record *rec)
{
	FILE *out = ctx->out;
	const struct mms_access_view *a = &rec->acc;
	struct sym_where where;

	fprintf(out,
		",\"pc\":\"0x%" PRIx64 "\",\"region\":%" PRIu32 ",\"addr\":\"0x%" PRIx64
		"\",\"offset\":%" PRIu64 ",\"width\":%u,\"dir\":\"%c\",\"value\":",
		a->pc, a->region, a->addr, a->offset, a->width,
		a->dir == MMS_DIR_WRITE ? 'W' : 'R');
	show_value_or_unknown(out, a->value, a->width, value_unknown(a), true);
	fputs(",\"mask\":", out);
	if (a->flags & MMS_AF_MASKED)
		fprintf(out, "\"0x%" PRIx64 "\"", a->mask);
	else
		fputs("null", out);
	fprintf(out, ",\"count\":%" PRIu32 ",\"last_ts_ns\":%" PRIu64, a->count, a->last_ts_ns);
	if (a->flags & MMS_AF_STRING) {
		/* a string run: element i at addr + i * width (minus with "down") */
		fputs(",\"elements\":[", out);
		for (size_t i = 0; i * a->width < a->value_len; i++) {
			if (i)
				fputc(',', out);
			show_value_or_unknown(out, a->value + i * a->width, a->width,
					      value_unknown(a), true);
		}
		fputc(']', out);
	}
	fputs(",\"flags\":[", out);
	show_flag_list(out, a->flags, access_flag_names, ARRAY_SIZE(access_flag_names), true, 0);
	fputs("],\"insn\":\"", out);
	for (unsigned int i = 0; i < a->insn_len; i++)
		fprintf(out, "%02x", a->insn[i]);
	fputs("\",", out);
	symbolizer_describe(ctx->sym, rec->pid, rec->seq, a->pc, false, &where);
	show_json_where(out, &where);
}

/* ---- one line per access ---- */

/* The i-th access a record stands for: its place, its bytes, its time. */
struct one_access {
	uint64_t addr, offset, ts;
	const uint8_t *value;
};

static uint64_t nth_count(const struct mms_access_view *a)
{
	return a->count ? a->count : 1;
}

static void nth_access(const struct mms_record *rec, uint64_t i, struct one_access *o)
{
	const struct mms_access_view *a = &rec->acc;
	uint64_t d = i * a->width;

	/* the first at ts_ns, the last at last_ts_ns: the record keeps no
	 * time for the ones in between, so they carry the first's */
	o->ts = i + 1 == nth_count(a) ? a->last_ts_ns : rec->ts_ns;
	if (!(a->flags & MMS_AF_STRING)) {
		o->addr = a->addr;
		o->offset = a->offset;
		o->value = a->value;
		return;
	}
	o->addr = a->flags & MMS_AF_DOWN ? a->addr - d : a->addr + d;
	o->offset = element_offset(a, i);
	o->value = a->value + d;
}

/* text --expand: one access line */
static void text_one(struct show_ctx *ctx, const struct mms_record *rec, const struct one_access *o)
{
	const struct mms_access_view *a = &rec->acc;
	uint64_t t = rel_ns(ctx, o->ts);
	FILE *out = ctx->out;

	fprintf(out, "%5" PRIu64 ".%09" PRIu64 " %" PRIu32 "/%" PRIu32 " ", t / 1000000000,
		t % 1000000000, rec->pid, rec->tid);
	fprintf(out, "%c %2u r%" PRIu32 " +0x%04" PRIx64 " = ", a->dir == MMS_DIR_WRITE ? 'W' : 'R',
		a->width, a->region, o->offset);
	if (value_unknown(a))
		fputc('?', out);
	else
		text_value(out, o->value, a->width, a->mask);
	fprintf(out, "  pc=0x%" PRIx64, a->pc);
	text_flags(out, a->flags & ~(MMS_AF_PAIRED | MMS_AF_DOWN));
	text_where(ctx, rec);
	fputc('\n', out);
}

static uint64_t value_u64(const uint8_t *v, unsigned int width)
{
	uint64_t x = 0;

	while (width--)
		x = x << 8 | v[width];
	return x;
}

static void mmio_line(struct show_ctx *ctx, const struct mms_record *rec, const char *ts,
		      uint64_t addr, const uint8_t *v, unsigned int w)
{
	fprintf(ctx->out,
		"%c %u %s %" PRIu32 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " %" PRIu32 "\n",
		rec->acc.dir == MMS_DIR_WRITE ? 'W' : 'R', w, ts, rec->acc.region, addr,
		value_u64(v, w), rec->acc.pc, rec->tid);
}

/* the largest of 8, 4, 2, 1 bytes that addr is aligned to and that fits */
static unsigned int aligned_piece(uint64_t addr, unsigned int left)
{
	unsigned int w = 8;

	while (w > 1 && (addr % w || w > left))
		w /= 2;
	return w;
}

/*
 * mmiotrace: an access wider than 8 bytes as 8-byte pieces; a masked one
 * as naturally aligned pieces of the bytes it touched; an unknown value as
 * the kernel's UNKNOWN line.
 */
static void mmio_one(struct show_ctx *ctx, const struct mms_record *rec, const struct one_access *o)
{
	const struct mms_access_view *a = &rec->acc;
	char ts[32];

	show_mmio_time(ctx, o->ts, ts, sizeof(ts));
	if (value_unknown(a)) {
		uint8_t op[3] = { 0 };

		memcpy(op, a->insn, a->insn_len < 3 ? a->insn_len : 3);
		fprintf(ctx->out,
			"UNKNOWN %s %" PRIu32 " 0x%" PRIx64 " %02x,%02x,%02x 0x%" PRIx64 " %" PRIu32
			"\n",
			ts, a->region, o->addr, op[0], op[1], op[2], a->pc, rec->tid);
		return;
	}
	if (!(a->flags & MMS_AF_MASKED)) {
		for (unsigned int off = 0; off < a->width; off += 8)
			mmio_line(ctx, rec, ts, o->addr + off, o->value + off,
				  a->width - off < 8 ? a->width - off : 8);
		return;
	}
	for (unsigned int i = 0; i < a->width;) {
		unsigned int end = i, w;

		if (!byte_on(a->mask, i)) {
			i++;
			continue;
		}
		while (end < a->width && byte_on(a->mask, end))
			end++;
		for (; i < end; i += w) {
			w = aligned_piece(o->addr + i, end - i);
			mmio_line(ctx, rec, ts, o->addr + i, o->value + i, w);
		}
	}
}

static void expand_one(struct show_ctx *ctx, const struct mms_record *rec, uint64_t i)
{
	struct one_access o;

	nth_access(rec, i, &o);
	if (ctx->mmiotrace)
		mmio_one(ctx, rec, &o);
	else
		text_one(ctx, rec, &o);
}

/* a paired run and its partner, alternating: e0 f0 e1 f1 ... */
static void expand_pair(struct show_ctx *ctx, const struct mms_record *e,
			const struct mms_record *f)
{
	uint64_t ne = f ? nth_count(&e->acc) : 0, nf = f ? nth_count(&f->acc) : 0;

	if (!f) {
		for (uint64_t i = 0; i < nth_count(&e->acc); i++)
			expand_one(ctx, e, i);
		return;
	}
	for (uint64_t i = 0; i < ne || i < nf; i++) {
		if (i < ne)
			expand_one(ctx, e, i);
		if (i < nf)
			expand_one(ctx, f, i);
	}
}

/* A run whose partner is the next ACCESS record of its stream waits. */
static struct show_pending *pending_of(struct show_ctx *ctx, const char *stream)
{
	for (size_t i = 0; i < ctx->npending; i++)
		if (ctx->pending[i].stream == stream)
			return &ctx->pending[i];
	return NULL;
}

static void pending_drop(struct show_ctx *ctx, struct show_pending *p)
{
	*p = ctx->pending[--ctx->npending];
}

void show_expand_access(struct show_ctx *ctx, const struct mms_record *rec)
{
	struct show_pending *p = pending_of(ctx, rec->stream);

	if (p) {
		struct mms_record first = p->rec;

		pending_drop(ctx, p);
		expand_pair(ctx, &first, rec);
		return;
	}
	if (!(rec->acc.flags & MMS_AF_PAIRED)) {
		expand_pair(ctx, rec, NULL);
		return;
	}
	if (ctx->npending == ARRAY_SIZE(ctx->pending)) {
		/* more threads inside a MOVS at once than we wait for */
		struct mms_record oldest = ctx->pending[0].rec;

		pending_drop(ctx, &ctx->pending[0]);
		expand_pair(ctx, &oldest, NULL);
	}
	ctx->pending[ctx->npending].stream = rec->stream;
	ctx->pending[ctx->npending++].rec = *rec;
}

void show_expand_flush(struct show_ctx *ctx)
{
	while (ctx->npending) {
		struct mms_record first = ctx->pending[0].rec;

		pending_drop(ctx, &ctx->pending[0]);
		expand_pair(ctx, &first, NULL);
	}
}
