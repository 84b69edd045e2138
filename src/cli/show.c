/* SPDX-License-Identifier: MIT */
/*
 * mmscope show: print a trace in seq order as readable text, as JSON (one
 * object per line, for scripts and tests) or in the Linux kernel's
 * mmiotrace log format (for existing mmiotrace tools).  Decoding is done
 * by src/trace/reader.c; this file only formats.  Each output format is
 * one entry of the show_formats[] ops table.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cli/cmds.h"
#include "cli/show.h"
#include "cli/symbolize.h"
#include "trace/reader.h"
#include "util/log.h"

static const char *const map_flag_names[] = { "inherited", "mremap" };

static const char *const proc_event_names[] = {
	[MMS_PROC_START] = "start", [MMS_PROC_FORK] = "fork", [MMS_PROC_EXEC] = "exec",
	[MMS_PROC_EXIT] = "exit",   [MMS_PROC_NOTE] = "note", [MMS_PROC_UNTRACED] = "untraced",
};

/* "start", ..., or "event-N" for an event this mmscope does not know */
static const char *proc_event_label(uint32_t event, char *buf, size_t len)
{
	if (event < ARRAY_SIZE(proc_event_names) && proc_event_names[event])
		return proc_event_names[event];
	snprintf(buf, len, "event-%" PRIu32, event);
	return buf;
}

static bool proc_event_known(uint32_t event)
{
	return event < ARRAY_SIZE(proc_event_names) && proc_event_names[event];
}

static uint64_t rel_ns(const struct show_ctx *ctx, uint64_t ts)
{
	return ts > ctx->t0 ? ts - ctx->t0 : 0;
}

/* Value bytes are in memory order: print them as one little-endian number. */
void show_value(FILE *out, const uint8_t *v, unsigned int width)
{
	fputs("0x", out);
	while (width--)
		fprintf(out, "%02x", v[width]);
}

void show_value_or_unknown(FILE *out, const uint8_t *v, unsigned width, bool unknown, bool json)
{
	if (unknown) {
		fputs(json ? "null" : "?", out);
		return;
	}
	if (json)
		fputc('"', out);
	show_value(out, v, width);
	if (json)
		fputc('"', out);
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629, section 4:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t lo = 0x80, hi = 0xbf;
	size_t len;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/*
 * A quoted string.  JSON (RFC 8259, section 7): bytes that are not part of
 * valid UTF-8 become \u00XX, i.e. they are read as Latin-1, so any byte
 * string gives valid JSON and nothing is lost.  Text: C-style \xNN escapes
 * for the unprintable.
 */
static void quoted_string(FILE *out, const char *s, size_t n, bool json)
{
	const uint8_t *p = (const uint8_t *)s;

	fputc('"', out);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);

		if (p[i] == '"' || p[i] == '\\') {
			fputc('\\', out);
			fputc(p[i], out);
		} else if (json && p[i] == '\n') {
			fputs("\\n", out);
		} else if (json && p[i] == '\t') {
			fputs("\\t", out);
		} else if (p[i] < 0x20 || (!json && p[i] == 0x7f) || !len) {
			fprintf(out, json ? "\\u%04x" : "\\x%02x", p[i]);
		} else {
			fwrite(p + i, 1, len, out);
			i += len;
			continue;
		}
		i++;
	}
	fputc('"', out);
}

void show_json_string(FILE *out, const char *s, size_t n)
{
	quoted_string(out, s, n, true);
}

void show_text_string(FILE *out, const char *s, size_t n)
{
	quoted_string(out, s, n, false);
}

void show_flag_list(FILE *out, unsigned int flags, const char *const *names, size_t nnames,
		    bool json, unsigned int skip)
{
	bool first = true;

	for (size_t i = 0; i < nnames; i++) {
		if (!(flags & (1u << i)) || (skip & (1u << i)))
			continue;
		if (json)
			fprintf(out, "%s\"%s\"", first ? "" : ",", names[i]);
		else
			fprintf(out, "%s%s", first ? " [" : ",", names[i]);
		first = false;
	}
	if (!json && !first)
		fputc(']', out);
}

/* ---- text ---- */

static void text_header(struct show_ctx *ctx)
{
	fprintf(ctx->out,
		"# mmscope trace %s: %zu stream%s, %" PRIu64 " records; time 0 = first record\n",
		ctx->path, mms_trace_stream_count(ctx->trace),
		mms_trace_stream_count(ctx->trace) == 1 ? "" : "s",
		mms_trace_record_count(ctx->trace));
}

static void prot_string(char buf[4], uint32_t prot)
{
	buf[0] = prot & PROT_READ ? 'r' : '-';
	buf[1] = prot & PROT_WRITE ? 'w' : '-';
	buf[2] = prot & PROT_EXEC ? 'x' : '-';
	buf[3] = 0;
}

static const char *map_type_name(uint32_t mmap_flags)
{
	switch (mmap_flags & MAP_TYPE) {
	case MAP_SHARED:
		return "shared";
	case MAP_PRIVATE:
		return "private";
	case MAP_SHARED_VALIDATE:
		return "shared_validate";
	}
	return "?";
}

/* "where":..., "module":..., "module_offset":... (null when unknown) */
void show_json_where(FILE *out, const struct sym_where *w)
{
	fputs("\"where\":", out);
	show_json_string(out, w->text, strlen(w->text));
	if (!w->module) {
		fputs(",\"module\":null,\"module_offset\":null", out);
		return;
	}
	fputs(",\"module\":", out);
	show_json_string(out, w->module, strlen(w->module));
	fprintf(out, ",\"module_offset\":\"0x%" PRIx64 "\"", w->module_offset);
}

static void text_map(FILE *out, const struct mms_record *rec)
{
	const struct mms_rec_map *m = rec->map;
	char prot[4];

	prot_string(prot, m->prot);
	fprintf(out,
		"MAP   r%" PRIu32 " 0x%" PRIx64 " len=0x%" PRIx64 " %s %s off=0x%" PRIx64
		" pc=0x%" PRIx64 " ",
		m->region, m->addr, m->len, prot, map_type_name(m->mmap_flags), m->file_offset,
		m->pc);
	show_text_string(out, rec->text, rec->text_len);
	show_flag_list(out, m->flags, map_flag_names, ARRAY_SIZE(map_flag_names), false, 0);
}

/* "exit status=1", "fork parent=12", "exec": the text is printed by the caller */
static void proc_describe(FILE *out, const struct mms_rec_proc *p)
{
	char buf[24];

	fputs(proc_event_label(p->event, buf, sizeof(buf)), out);
	if (p->event == MMS_PROC_FORK)
		fprintf(out, " parent=%" PRId64, p->arg);
	else if (p->event == MMS_PROC_EXIT)
		fprintf(out, " status=%" PRId64, p->arg);
	else if (!proc_event_known(p->event) || p->arg)
		fprintf(out, " arg=%" PRId64, p->arg);
}

static void text_proc(FILE *out, const struct mms_record *rec)
{
	fputs("PROC  ", out);
	proc_describe(out, rec->proc);
	if (rec->text_len) {
		fputc(' ', out);
		show_text_string(out, rec->text, rec->text_len);
	}
}

static void text_record(struct show_ctx *ctx, const struct mms_record *rec)
{
	uint64_t t = rel_ns(ctx, rec->ts_ns);
	FILE *out = ctx->out;

	if (rec->type == MMS_REC_ACCESS && ctx->expand) {
		show_expand_access(ctx, rec);
		return;
	}
	fprintf(out, "%5" PRIu64 ".%09" PRIu64 " %" PRIu32 "/%" PRIu32 " ", t / 1000000000,
		t % 1000000000, rec->pid, rec->tid);
	switch (rec->type) {
	case MMS_REC_ACCESS:
		show_text_access(ctx, rec);
		break;
	case MMS_REC_MAP:
		text_map(out, rec);
		break;
	case MMS_REC_UNMAP:
		fprintf(out, "UNMAP r%" PRIu32 " 0x%" PRIx64 " len=0x%" PRIx64 " pc=0x%" PRIx64,
			rec->unmap->region, rec->unmap->addr, rec->unmap->len, rec->unmap->pc);
		break;
	case MMS_REC_MARK:
		fputs("MARK  ", out);
		show_text_string(out, rec->text, rec->text_len);
		break;
	case MMS_REC_PROC:
		text_proc(out, rec);
		break;
	case MMS_REC_LOST:
		fprintf(out, "LOST  %" PRIu64 " records", rec->lost->count);
		break;
	case MMS_REC_WATCH:
		show_text_watch(ctx, rec);
		break;
	case MMS_REC_HIT:
		show_text_hit(ctx, rec);
		break;
	}
	fputc('\n', out);
}

/* ---- json ---- */

static void json_map(FILE *out, const struct mms_record *rec)
{
	const struct mms_rec_map *m = rec->map;

	fprintf(out,
		",\"pc\":\"0x%" PRIx64 "\",\"region\":%" PRIu32 ",\"addr\":\"0x%" PRIx64
		"\",\"len\":%" PRIu64 ",\"file_offset\":%" PRIu64 ",\"prot\":%" PRIu32
		",\"mmap_flags\":%" PRIu32 ",\"path\":",
		m->pc, m->region, m->addr, m->len, m->file_offset, m->prot, m->mmap_flags);
	show_json_string(out, rec->text, rec->text_len);
	fputs(",\"flags\":[", out);
	show_flag_list(out, m->flags, map_flag_names, ARRAY_SIZE(map_flag_names), true, 0);
	fputc(']', out);
}

static void json_proc(FILE *out, const struct mms_record *rec)
{
	char buf[24];

	fprintf(out, ",\"event\":\"%s\",\"arg\":%" PRId64 ",\"text\":",
		proc_event_label(rec->proc->event, buf, sizeof(buf)), rec->proc->arg);
	show_json_string(out, rec->text, rec->text_len);
}

static void json_record(struct show_ctx *ctx, const struct mms_record *rec)
{
	static const char *const type_names[] = {
		[MMS_REC_ACCESS] = "access", [MMS_REC_MAP] = "map",   [MMS_REC_UNMAP] = "unmap",
		[MMS_REC_MARK] = "mark",     [MMS_REC_PROC] = "proc", [MMS_REC_LOST] = "lost",
		[MMS_REC_WATCH] = "watch",   [MMS_REC_HIT] = "hit",
	};
	FILE *out = ctx->out;

	fprintf(out,
		"{\"type\":\"%s\",\"seq\":%" PRIu64 ",\"ts_ns\":%" PRIu64 ",\"pid\":%" PRIu32
		",\"tid\":%" PRIu32,
		type_names[rec->type], rec->seq, rec->ts_ns, rec->pid, rec->tid);
	switch (rec->type) {
	case MMS_REC_ACCESS:
		show_json_access(ctx, rec);
		break;
	case MMS_REC_MAP:
		json_map(out, rec);
		break;
	case MMS_REC_UNMAP:
		fprintf(out,
			",\"pc\":\"0x%" PRIx64 "\",\"region\":%" PRIu32 ",\"addr\":\"0x%" PRIx64
			"\",\"len\":%" PRIu64,
			rec->unmap->pc, rec->unmap->region, rec->unmap->addr, rec->unmap->len);
		break;
	case MMS_REC_MARK:
		fputs(",\"text\":", out);
		show_json_string(out, rec->text, rec->text_len);
		break;
	case MMS_REC_PROC:
		json_proc(out, rec);
		break;
	case MMS_REC_LOST:
		fprintf(out, ",\"count\":%" PRIu64, rec->lost->count);
		break;
	case MMS_REC_WATCH:
		show_json_watch(ctx, rec);
		break;
	case MMS_REC_HIT:
		show_json_hit(ctx, rec);
		break;
	}
	fputs("}\n", out);
}

/* ---- mmiotrace ----
 *
 * The text log of the kernel's mmiotrace tracer: Documentation/trace/
 * mmiotrace.rst, section "Trace Log Format", and the printers in
 * kernel/trace/trace_mmiotrace.c (mmio_pipe_open, mmio_read,
 * mmio_print_rw, mmio_print_map, mmio_print_mark).  Lines:
 *   VERSION 20070824
 *   R|W width secs.usecs map-id address value pc pid
 *   UNKNOWN secs.usecs map-id address b0,b1,b2 pc pid  (opcode bytes)
 *   MAP secs.usecs map-id phys virt len pc pid
 *   UNMAP secs.usecs map-id pc pid
 *   MARK secs.usecs text
 * Our adaptations: there are no physical addresses, so R/W/UNKNOWN carry
 * the program virtual address and MAP gives the mapping's program address
 * as both phys and virt; map-id is our region id; pid is the thread id.
 * An access wider than 8 bytes becomes one R/W line per 8-byte piece
 * (addr, addr+8, ...).  An access whose value is unknown becomes one
 * UNKNOWN line, which the kernel uses for instructions it could not
 * decode; like the kernel we put the first three instruction bytes in it.
 * LOST becomes the kernel's own overrun line, "MARK <time> Lost N events."
 * (mmio_read).  PROC has no mmiotrace form; it becomes a MARK line starting
 * with "mmscope:" so the information is not dropped.
 */

void show_mmio_time(const struct show_ctx *ctx, uint64_t ts, char *buf, size_t len)
{
	uint64_t t = rel_ns(ctx, ts);

	snprintf(buf, len, "%" PRIu64 ".%06" PRIu64, t / 1000000000, t % 1000000000 / 1000);
}

/* MARK text runs to the end of the line: keep it on one line. */
static void mmio_text(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc((uint8_t)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i], out);
}

static void mmio_header(struct show_ctx *ctx)
{
	fputs("VERSION 20070824\n", ctx->out);
}

static void mmio_record(struct show_ctx *ctx, const struct mms_record *rec)
{
	FILE *out = ctx->out;
	char ts[32];

	show_mmio_time(ctx, rec->ts_ns, ts, sizeof(ts));
	switch (rec->type) {
	case MMS_REC_ACCESS:
		show_expand_access(ctx, rec);
		break;
	case MMS_REC_MAP:
		fprintf(out,
			"MAP %s %" PRIu32 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64
			" %" PRIu32 "\n",
			ts, rec->map->region, rec->map->addr, rec->map->addr, rec->map->len,
			rec->map->pc, rec->tid);
		break;
	case MMS_REC_UNMAP:
		fprintf(out, "UNMAP %s %" PRIu32 " 0x%" PRIx64 " %" PRIu32 "\n", ts,
			rec->unmap->region, rec->unmap->pc, rec->tid);
		break;
	case MMS_REC_MARK:
		fprintf(out, "MARK %s ", ts);
		mmio_text(out, rec->text, rec->text_len);
		fputc('\n', out);
		break;
	case MMS_REC_PROC:
		fprintf(out, "MARK %s mmscope: pid %" PRIu32 " tid %" PRIu32 " ", ts, rec->pid,
			rec->tid);
		proc_describe(out, rec->proc);
		if (rec->text_len) {
			fputc(' ', out);
			mmio_text(out, rec->text, rec->text_len);
		}
		fputc('\n', out);
		break;
	case MMS_REC_LOST:
		/* the kernel's own wording for overruns (mmio_read) */
		fprintf(out, "MARK %s Lost %" PRIu64 " events.\n", ts, rec->lost->count);
		break;
	case MMS_REC_WATCH:
	case MMS_REC_HIT:
		/* watchpoints have no mmiotrace form */
		break;
	}
}

static const struct show_format show_formats[] = {
	{ .name = "text", .header = text_header, .record = text_record },
	{ .name = "json", .record = json_record },
	{ .name = "mmiotrace", .header = mmio_header, .record = mmio_record },
};

/* ---- command ---- */

static void show_usage(FILE *f)
{
	fputs("usage: mmscope show [--format=text|json|mmiotrace] [--expand] [--pid=PID]\n"
	      "                    [--watch-only] [--follow] [--no-header]\n"
	      "                    [--debug-dir=DIR[:DIR...]] TRACE_DIR\n"
	      "       mmscope show --regs-at=SEQ [--region=ID] [--format=text|json] TRACE_DIR\n"
	      "\n"
	      "Print the records of a trace, all threads and processes merged in the\n"
	      "order they happened.\n"
	      "\n"
	      "options:\n"
	      "  --format=text       one readable line per record (default); time is\n"
	      "                      in seconds since the first record\n"
	      "  --format=json       one JSON object per line, for scripts\n"
	      "  --format=mmiotrace  the Linux kernel's mmiotrace log format, one line\n"
	      "                      per access (repeats and string runs expanded,\n"
	      "                      masked stores as the aligned pieces they wrote)\n"
	      "  --expand            text: one line per access instead of one per\n"
	      "                      record (a repeated poll \"(x1000, ...)\" becomes\n"
	      "                      1000 lines, a REP MOVS run one line per element)\n"
	      "  --pid=PID           only the records of process PID\n"
	      "  --watch-only        only watchpoints (WATCH) and their hits (HIT):\n"
	      "                      thread, pc, address, old -> new value\n"
	      "  -f, --follow        keep printing the records of a trace that is still\n"
	      "                      being written, until its program exits (Ctrl-C\n"
	      "                      stops earlier)\n"
	      "  --no-header         leave out the header line (text: the '#' summary,\n"
	      "                      mmiotrace: the VERSION line; json has none)\n"
	      "  --regs-at=SEQ       instead of the records: each traced region's\n"
	      "                      register file as the trace knew it at record SEQ\n"
	      "                      (the last value read or written at each 4-byte\n"
	      "                      register, ?? for bytes never seen, and the record\n"
	      "                      that last touched its 8-byte word); text or json\n"
	      "  --region=ID         with --regs-at: only region ID\n"
	      "  --debug-dir=DIR     also look for separate debug files (DIR/.build-id/\n"
	      "                      xx/yyyy.debug, or the .gnu_debuglink name) in DIR,\n"
	      "                      before " SYMBOLIZER_DEBUG_DIR "; repeat it or separate\n"
	      "                      DIRs with ':' for several\n"
	      "  -h, --help          show this help\n"
	      "\n"
	      "TRACE_DIR is the trace directory written by 'mmscope run'; a single\n"
	      "*.mms stream file is accepted too.  docs/trace-format.md describes the\n"
	      "formats.\n"
	      "\n"
	      "Exit status: 0 success; 1 the trace is unreadable or damaged (records\n"
	      "before the damage are still printed, the problem goes to stderr);\n"
	      "2 usage error.\n",
	      f);
}

static int show_usage_error(const char *msg, const char *arg)
{
	pr_err("show: %s%s%s%s; see 'mmscope show --help'", msg, arg ? " '" : "", arg ? arg : "",
	       arg ? "'" : "");
	return 2;
}

enum {
	OPT_FORMAT = 256,
	OPT_PID,
	OPT_NO_HEADER,
	OPT_WATCH_ONLY,
	OPT_DEBUG_DIR,
	OPT_EXPAND,
	OPT_REGS_AT,
	OPT_REGION
};

static const struct option show_options[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "no-header", no_argument, NULL, OPT_NO_HEADER },
	{ "watch-only", no_argument, NULL, OPT_WATCH_ONLY },
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "expand", no_argument, NULL, OPT_EXPAND },
	{ "regs-at", required_argument, NULL, OPT_REGS_AT },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "follow", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* getopt_long() said '?': say which option and why. */
static int show_bad_option(const char *arg)
{
	size_t n = strcspn(arg, "=");
	char opt[3] = { '-', (char)optopt, 0 };

	if (strncmp(arg, "--", 2)) /* short option, maybe inside a group */
		return show_usage_error("unknown option", opt);
	for (const struct option *o = show_options; o->name; o++)
		if (arg[n] && o->has_arg == no_argument && strlen(o->name) == n - 2 &&
		    !strncmp(arg + 2, o->name, n - 2))
			return show_usage_error("option takes no value:", arg);
	return show_usage_error("unknown option", arg);
}

static int parse_pid(const char *s, uint32_t *pid)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*pid = v;
	return 0;
}

/* Print one record unless a filter leaves it out. */
static void show_one(struct show_ctx *ctx, const struct mms_record *rec)
{
	if (rec->type == MMS_REC_PROC && rec->proc->event == MMS_PROC_START && !ctx->run_pid)
		ctx->run_pid = (uint64_t)rec->proc->arg;
	if (rec->type == MMS_REC_PROC && rec->proc->event == MMS_PROC_EXIT)
		ctx->exited = true;
	if (ctx->pid_filter && rec->pid != ctx->pid)
		return;
	if (ctx->watch_only && rec->type != MMS_REC_WATCH && rec->type != MMS_REC_HIT)
		return;
	ctx->fmt->record(ctx, rec);
	ctx->shown++;
}

void show_drain(struct show_ctx *ctx)
{
	struct mms_record rec;

	while (!mms_trace_next(ctx->trace, &rec))
		show_one(ctx, &rec);
}

/* After the last record: what was wrong, and whether the output is whole. */
static int show_finish(struct show_ctx *ctx)
{
	struct mms_stream_info info;
	int status = 0;

	show_expand_flush(ctx);
	if (fflush(ctx->out) || ferror(ctx->out)) {
		pr_err("show: writing the output failed: %s", strerror(errno));
		status = 1;
	}
	for (size_t i = 0; i < mms_trace_stream_count(ctx->trace); i++) {
		mms_trace_stream_info(ctx->trace, i, &info);
		if (info.status) {
			pr_err("%s", info.problem);
			status = 1;
		}
	}
	for (size_t i = ctx->warned; i < mms_trace_warning_count(ctx->trace); i++)
		pr_warn("show: %s", mms_trace_warning(ctx->trace, i));
	if (ctx->pid_filter && !ctx->shown)
		pr_warn("show: no records of pid %" PRIu32 " in %s", ctx->pid, ctx->path);
	return status;
}

int cmd_show(int argc, char **argv)
{
	const struct show_format *fmt = &show_formats[0];
	struct show_ctx ctx = { .out = stdout };
	bool header = true, expand = false, follow = false, regs = false;
	uint64_t regs_at = 0;
	long region = -1;
	const char *debug_dirs[64];
	struct symbolizer_opts sym_opts = { .debug_dirs = debug_dirs };
	char err[512];
	int c, status;

	optind = 0; /* glibc: restart scanning with a fresh argv */
	opterr = 0; /* our own messages below */
	while ((c = getopt_long(argc, argv, ":fh", show_options, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			fmt = NULL;
			for (size_t i = 0; i < ARRAY_SIZE(show_formats); i++)
				if (!strcmp(optarg, show_formats[i].name))
					fmt = &show_formats[i];
			if (!fmt)
				return show_usage_error("unknown format", optarg);
			break;
		case OPT_PID:
			if (parse_pid(optarg, &ctx.pid))
				return show_usage_error("--pid needs a process id, got", optarg);
			ctx.pid_filter = true;
			break;
		case OPT_NO_HEADER:
			header = false;
			break;
		case OPT_WATCH_ONLY:
			ctx.watch_only = true;
			break;
		case OPT_EXPAND:
			expand = true;
			break;
		case OPT_REGS_AT:
		case OPT_REGION: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    (c == OPT_REGION && v > UINT32_MAX))
				return show_usage_error(
					c == OPT_REGS_AT ? "--regs-at needs a record number, got"
							 : "--region needs a region id, got",
					optarg);
			if (c == OPT_REGS_AT)
				regs_at = v;
			else
				region = (long)v;
			regs = regs || c == OPT_REGS_AT;
			break;
		}
		case 'f':
			follow = true;
			break;
		case OPT_DEBUG_DIR:
			if (sym_opts.ndebug_dirs == ARRAY_SIZE(debug_dirs))
				return show_usage_error("too many --debug-dir options", NULL);
			debug_dirs[sym_opts.ndebug_dirs++] = optarg;
			break;
		case 'h':
			show_usage(stdout);
			return 0;
		case ':':
			return show_usage_error("option needs a value:", argv[optind - 1]);
		default:
			return show_bad_option(argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return show_usage_error("missing TRACE_DIR", NULL);
	if (optind + 1 < argc)
		return show_usage_error("unexpected argument", argv[optind + 1]);
	ctx.path = argv[optind];
	if (expand && strcmp(fmt->name, "text"))
		return show_usage_error(
			"--expand is for the text format (json keeps records whole, mmiotrace always expands)",
			NULL);

	if (region >= 0 && !regs)
		return show_usage_error("--region is for --regs-at", NULL);
	if (regs && (expand || follow || ctx.watch_only || !strcmp(fmt->name, "mmiotrace")))
		return show_usage_error(
			"--regs-at prints register files, in text or json; it takes "
			"none of --expand, --follow, --watch-only, --format=mmiotrace",
			NULL);
	if (mms_trace_open(ctx.path, &ctx.trace, err, sizeof(err))) {
		pr_err("%s", err);
		return 1;
	}
	ctx.t0 = mms_trace_first_ts(ctx.trace);
	ctx.sym = symbolizer_open(ctx.path, &sym_opts);
	ctx.fmt = fmt;
	if (regs) {
		status = show_regs_at(&ctx, regs_at, region);
		mms_trace_close(ctx.trace);
		symbolizer_close(ctx.sym);
		return status;
	}
	ctx.mmiotrace = fmt->record == mmio_record;
	ctx.expand = expand || ctx.mmiotrace;
	if (header && fmt->header)
		fmt->header(&ctx);
	/* files skipped go to stderr before the records, where a user sees them */
	for (; ctx.warned < mms_trace_warning_count(ctx.trace); ctx.warned++)
		pr_warn("show: %s", mms_trace_warning(ctx.trace, ctx.warned));
	show_drain(&ctx);
	if (follow)
		show_follow(&ctx);
	status = show_finish(&ctx);
	mms_trace_close(ctx.trace);
	symbolizer_close(ctx.sym);
	return status;
}
