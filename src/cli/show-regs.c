/* SPDX-License-Identifier: MIT */
/*
 * mmscope show --regs-at SEQ: the register file of each traced region as
 * the trace knew it at record SEQ, rebuilt from the trace alone by the
 * same shadow logic the agent keeps for the debugger and the core dumper
 * (trace/shadow.h): the last value read or written at each byte, and the
 * record that last touched each 8-byte word.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/show.h"
#include "mmscope/trace-format.h"
#include "trace/reader.h"
#include "trace/shadow.h"

#define LOG_DOMAIN "show"
#include "util/log.h"

struct regfile {
	uint32_t id;
	char path[256];
	struct shadow sh;
	void *mem;
};

static struct regfile *files;
static size_t nfiles;

static struct regfile *file_of(uint32_t id)
{
	for (size_t i = 0; i < nfiles; i++)
		if (files[i].id == id)
			return &files[i];
	return NULL;
}

/* A MAP record: a region's register file, grown when mremap made it
 * longer (what it knew stays). */
static int on_map(const struct mms_rec_map *m)
{
	struct regfile *f = file_of(m->region);
	uint64_t len = m->len;

	if (f && f->sh.len >= len)
		return 0;
	void *mem = calloc(1, shadow_size(len));
	if (!mem)
		return -ENOMEM;
	if (!f) {
		struct regfile *more = realloc(files, (nfiles + 1) * sizeof(*files));
		if (!more) {
			free(mem);
			return -ENOMEM;
		}
		files = more;
		f = &files[nfiles++];
		memset(f, 0, sizeof(*f));
		f->id = m->region;
		snprintf(f->path, sizeof(f->path), "%s", m->path);
	}
	struct shadow grown;
	shadow_init(&grown, mem, len);
	if (f->mem) {
		memcpy(grown.value, f->sh.value, f->sh.len);
		memcpy(grown.seq, f->sh.seq, (f->sh.len + 7) / 8 * 8);
		memcpy(grown.known, f->sh.known, (f->sh.len + 7) / 8);
		free(f->mem);
	}
	f->mem = mem;
	f->sh = grown;
	return 0;
}

/* One 4-byte register at off: its value with ?? for bytes never seen. */
static void word_text(const struct shadow *s, uint64_t off, char *out)
{
	size_t o = 0;

	o += (size_t)sprintf(out, "0x");
	for (int b = 3; b >= 0; b--)
		o += (size_t)(off + (uint64_t)b < s->len && shadow_known(s, off + (uint64_t)b)
				      ? sprintf(out + o, "%02x", s->value[off + (uint64_t)b])
				      : sprintf(out + o, "??"));
}

/* which bytes of the register at off were seen: bit b for byte off+b */
static unsigned known_mask(const struct shadow *s, uint64_t off)
{
	unsigned mask = 0;

	for (unsigned b = 0; b < 4; b++)
		mask |= (unsigned)shadow_known(s, off + b) << b;
	return mask;
}

static void print_file(FILE *out, const struct regfile *f, uint64_t at, bool json)
{
	const struct shadow *s = &f->sh;
	size_t known = 0;
	bool first = true;

	for (uint64_t off = 0; off < s->len; off += 4)
		known += known_mask(s, off) != 0;
	if (json) {
		fprintf(out, "{\"region\":%" PRIu32 ",\"path\":", f->id);
		show_json_string(out, f->path, strlen(f->path));
		fprintf(out, ",\"len\":%" PRIu64 ",\"at\":%" PRIu64 ",\"registers\":[", s->len, at);
	} else {
		fprintf(out,
			"# region %" PRIu32 " %s, %" PRIu64 " bytes, at record %" PRIu64
			": %zu register%s known\n",
			f->id, f->path, s->len, at, known, known == 1 ? "" : "s");
	}
	for (uint64_t off = 0; off < s->len; off += 4) {
		unsigned mask = known_mask(s, off);
		char v[16];
		if (!mask)
			continue;
		word_text(s, off, v);
		uint64_t seq = s->seq[off / 8];
		if (json)
			fprintf(out,
				"%s{\"offset\":%" PRIu64
				",\"value\":\"%s\",\"known\":%u,\"seq\":%" PRIu64 "}",
				first ? "" : ",", off, v, mask, seq);
		else
			fprintf(out, "+0x%04" PRIx64 " = %s   record %" PRIu64 "\n", off, v, seq);
		first = false;
	}
	if (json)
		fprintf(out, "]}\n");
}

int show_regs_at(struct show_ctx *ctx, uint64_t at, long region)
{
	struct mms_record rec;
	bool json = !strcmp(ctx->fmt->name, "json"), any = false;
	int status = 0;

	while (!mms_trace_next(ctx->trace, &rec)) {
		if (rec.seq > at || (ctx->pid_filter && rec.pid != ctx->pid))
			continue;
		if (rec.type == MMS_REC_MAP &&
		    (region < 0 || rec.map->region == (uint32_t)region)) {
			if (on_map(rec.map) < 0) {
				pr_err("show: out of memory for region %" PRIu32 " (%" PRIu64
				       " bytes)",
				       rec.map->region, rec.map->len);
				status = 1;
				break;
			}
		} else if (rec.type == MMS_REC_ACCESS) {
			struct regfile *f = file_of(rec.access->region);
			if (f)
				shadow_apply_record(&f->sh, rec.access);
		}
	}
	for (size_t i = 0; i < nfiles; i++) {
		print_file(ctx->out, &files[i], at, json);
		any = true;
		free(files[i].mem);
	}
	free(files);
	files = NULL;
	nfiles = 0;
	if (!any && !status)
		pr_warn("show: no %s mapped by record %" PRIu64 " in %s",
			region < 0 ? "traced region" : "such region", at, ctx->path);
	return status;
}
