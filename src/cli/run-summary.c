/* SPDX-License-Identifier: MIT */
/*
 * The end of `mmscope run`: what was traced, and every way the trace
 * falls short of the program's real accesses (lost records, mappings
 * left untraced, patterns that selected nothing), so that a short trace
 * is never mistaken for a complete one.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli/run-summary.h"
#include "mmscope/trace-format.h"
#include "trace/reader.h"
#include "util/config.h"

/* untraced mappings listed one per line; the rest are counted */
#define SUMMARY_UNTRACED_MAX 10

struct tally {
	unsigned long accesses, maps, unknown, procs, watch_hits;
	uint64_t lost;		/* from LOST records */
	unsigned long untraced; /* PROC untraced records */
	unsigned long map_hits[CONFIG_MAPS_MAX], device_hits[CONFIG_DEVICES_MAX];
};

static void count(struct tally *t, const struct config *cfg, const struct mms_record *rec)
{
	switch (rec->type) {
	case MMS_REC_ACCESS:
		t->accesses += rec->acc.count;
		if (rec->acc.flags & MMS_AF_UNKNOWN_INSN)
			t->unknown += rec->acc.count;
		break;
	case MMS_REC_MAP:
		t->maps++;
		for (int i = 0; i < cfg->nmaps; i++)
			t->map_hits[i] += config_pattern_matches(cfg->maps[i], rec->map->path);
		for (int i = 0; i < cfg->ndevices; i++)
			t->device_hits[i] +=
				config_pattern_matches(cfg->devices[i], rec->map->path);
		break;
	case MMS_REC_PROC:
		if (rec->proc->event == MMS_PROC_START)
			t->procs++;
		if (rec->proc->event != MMS_PROC_UNTRACED)
			break;
		if (t->untraced++ < SUMMARY_UNTRACED_MAX)
			fprintf(stderr, "mmscope run: warning: pid %" PRIu32 ": %.*s\n", rec->pid,
				(int)rec->text_len, rec->text);
		break;
	case MMS_REC_HIT:
		t->watch_hits++;
		break;
	case MMS_REC_LOST:
		t->lost += rec->lost->count;
		break;
	}
}

static void report_lost(const struct tally *t, const struct mms_seq_page *page)
{
	uint64_t lost = t->lost;
	unsigned err = page ? page->fail_errno : 0;

	/* the page also counts what no LOST record could hold */
	if (page && page->lost > lost)
		lost = page->lost;
	if (!lost)
		return;
	fprintf(stderr, "mmscope run: warning: %" PRIu64 " record%s lost", lost,
		lost == 1 ? "" : "s");
	if (err == ENOSPC)
		fprintf(stderr, ": disk full; free space where the trace is and run again");
	else if (err)
		fprintf(stderr, ": the trace could not grow (%s)", strerror((int)err));
	fprintf(stderr, "; the trace is incomplete (LOST records say where)\n");
}

void run_summary(const struct config *cfg, const char *dir, const struct mms_seq_page *page,
		 bool quiet)
{
	static struct tally t;
	struct mms_trace *tr;
	struct mms_record rec;
	char err[PATH_MAX + 128];
	unsigned untraced_total;

	memset(&t, 0, sizeof(t));
	if (mms_trace_open(dir, &tr, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmscope run: warning: cannot read back the trace: %s\n", err);
		report_lost(&t, page);
		return;
	}
	while (mms_trace_next(tr, &rec) == 0)
		count(&t, cfg, &rec);
	untraced_total = page && page->untraced > t.untraced ? page->untraced : t.untraced;
	if (untraced_total > SUMMARY_UNTRACED_MAX)
		fprintf(stderr,
			"mmscope run: warning: %u mappings or calls in all were not traced; "
			"'mmscope show %s' lists them (proc untraced)\n",
			untraced_total, dir);
	for (int i = 0; i < cfg->nmaps; i++)
		if (!t.map_hits[i])
			fprintf(stderr,
				"mmscope run: warning: --map '%s' matched no mapping during the run\n",
				cfg->maps[i]);
	for (int i = 0; i < cfg->ndevices; i++)
		if (!t.device_hits[i])
			fprintf(stderr,
				"mmscope run: warning: --device '%s' matched no mapping during the "
				"run\n",
				cfg->devices[i]);
	report_lost(&t, page);
	if (!t.procs && page && page->fail_errno == ENOSPC)
		fprintf(stderr, "mmscope run: warning: disk full: the agent could not record "
				"anything; free space where the trace is and run again\n");
	else if (!t.procs)
		fprintf(stderr, "mmscope run: warning: the agent did not start in the program "
				"(statically linked, or LD_PRELOAD removed): nothing was traced\n");
	if (mms_trace_status(tr) < 0)
		fprintf(stderr, "mmscope run: warning: the trace has a damaged stream "
				"('mmscope show' names it)\n");
	if (!quiet) {
		fprintf(stderr, "mmscope: %lu accesses to %lu mapping%s", t.accesses, t.maps,
			t.maps == 1 ? "" : "s");
		if (t.unknown)
			fprintf(stderr, " (%lu completed by single-step)", t.unknown);
		if (cfg->nwatches)
			fprintf(stderr, ", %lu watchpoint hit%s", t.watch_hits,
				t.watch_hits == 1 ? "" : "s");
		if (untraced_total)
			fprintf(stderr, ", %u not traced", untraced_total);
		fprintf(stderr, "; trace in %s (mmscope show %s)\n", dir, dir);
	}
	mms_trace_close(tr);
}
