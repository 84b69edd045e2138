/* SPDX-License-Identifier: MIT */
/* mmscope show: WATCH and HIT records, text and JSON, with each hit's call
 * chain symbolised when the trace holds the process's memory map. */
#include <inttypes.h>
#include <string.h>

#include "cli/show.h"
#include "cli/symbolize.h"
#include "mmscope/trace-format.h"

static const char *const hit_flag_names[] = { "hw", "pc_after", "old_unknown", "new_unknown",
					      "syscall" };
static const char *const watch_type_names[] = { "?", "r", "w", "rw" };
static const char *const watch_mech_names[] = { "none", "hw", "page" };

static const char *watch_type_name(uint8_t t)
{
	return watch_type_names[t < 4 ? t : 0];
}

static const char *watch_mech_name(uint8_t m)
{
	return m < 3 ? watch_mech_names[m] : "?";
}

/* The old and new value bytes and the frames of a HIT record. */
static const uint8_t *hit_old(const struct mms_rec_hit *x)
{
	return x->data;
}

static const uint8_t *hit_new(const struct mms_rec_hit *x)
{
	return x->data + ((x->width + 7u) & ~7u);
}

static uint64_t hit_frame(const struct mms_rec_hit *x, unsigned i)
{
	uint64_t v;
	memcpy(&v, x->data + 2 * ((x->width + 7u) & ~7u) + 8 * i, 8);
	return v;
}

static char hit_dir(const struct mms_rec_hit *x)
{
	return x->dir == MMS_DIR_WRITE ? 'W' : x->dir == MMS_DIR_READ ? 'R' : 'A';
}

/* Frame i's description; the first frame is the access itself unless the
 * pc is already past it (a data breakpoint, a system call's return). */
static void frame_where(struct show_ctx *ctx, const struct mms_record *rec, unsigned i,
			struct sym_where *w)
{
	const struct mms_rec_hit *x = rec->hit;
	bool call_site = i > 0 || (x->flags & (MMS_HF_PC_AFTER | MMS_HF_SYSCALL));

	symbolizer_describe(ctx->sym, rec->pid, rec->seq, hit_frame(x, i), call_site, w);
}

void show_text_watch(struct show_ctx *ctx, const struct mms_record *rec)
{
	const struct mms_rec_watch *w = rec->watch;

	fprintf(ctx->out, "WATCH w%" PRIu32 " 0x%" PRIx64 " len=%" PRIu64 " %s %s ", w->id, w->addr,
		w->len, watch_type_name(w->type), watch_mech_name(w->mech));
	show_text_string(ctx->out, rec->text, rec->text_len);
}

void show_text_hit(struct show_ctx *ctx, const struct mms_record *rec)
{
	const struct mms_rec_hit *x = rec->hit;
	FILE *out = ctx->out;
	struct sym_where where;

	fprintf(out, "HIT   w%" PRIu32 " %c %2u 0x%" PRIx64 " ", x->watch, hit_dir(x), x->width,
		x->addr);
	show_value_or_unknown(out, hit_old(x), x->width, x->flags & MMS_HF_OLD_UNKNOWN, false);
	fputs(" -> ", out);
	show_value_or_unknown(out, hit_new(x), x->width, x->flags & MMS_HF_NEW_UNKNOWN, false);
	fprintf(out, "  pc=0x%" PRIx64, x->pc);
	show_flag_list(out, x->flags, hit_flag_names, ARRAY_SIZE(hit_flag_names), false,
		       MMS_HF_OLD_UNKNOWN | MMS_HF_NEW_UNKNOWN);
	for (unsigned i = 0; i < x->nframes; i++) {
		frame_where(ctx, rec, i, &where);
		fprintf(out, "\n        at 0x%" PRIx64 "%s%s", hit_frame(x, i),
			where.text[0] ? " " : "", where.text);
	}
}

void show_json_watch(struct show_ctx *ctx, const struct mms_record *rec)
{
	const struct mms_rec_watch *w = rec->watch;

	fprintf(ctx->out,
		",\"id\":%" PRIu32 ",\"addr\":\"0x%" PRIx64 "\",\"len\":%" PRIu64
		",\"access\":\"%s\",\"mech\":\"%s\",\"expr\":",
		w->id, w->addr, w->len, watch_type_name(w->type), watch_mech_name(w->mech));
	show_json_string(ctx->out, rec->text, rec->text_len);
}

void show_json_hit(struct show_ctx *ctx, const struct mms_record *rec)
{
	const struct mms_rec_hit *x = rec->hit;
	FILE *out = ctx->out;
	struct sym_where where;

	fprintf(out,
		",\"watch\":%" PRIu32 ",\"pc\":\"0x%" PRIx64 "\",\"addr\":\"0x%" PRIx64
		"\",\"width\":%u,\"dir\":\"%c\",\"old\":",
		x->watch, x->pc, x->addr, x->width, hit_dir(x));
	show_value_or_unknown(out, hit_old(x), x->width, x->flags & MMS_HF_OLD_UNKNOWN, true);
	fputs(",\"new\":", out);
	show_value_or_unknown(out, hit_new(x), x->width, x->flags & MMS_HF_NEW_UNKNOWN, true);
	fputs(",\"flags\":[", out);
	show_flag_list(out, x->flags, hit_flag_names, ARRAY_SIZE(hit_flag_names), true, 0);
	fputs("],\"frames\":[", out);
	for (unsigned i = 0; i < x->nframes; i++) {
		frame_where(ctx, rec, i, &where);
		fprintf(out, "%s{\"pc\":\"0x%" PRIx64 "\",", i ? "," : "", hit_frame(x, i));
		show_json_where(out, &where);
		fputc('}', out);
	}
	fputc(']', out);
}
