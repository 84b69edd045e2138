/* SPDX-License-Identifier: MIT */
/* What `mmscope run` says about a trace when the program has exited. */
#ifndef MMS_CLI_RUN_SUMMARY_H
#define MMS_CLI_RUN_SUMMARY_H

#include <stdbool.h>

struct config;
struct mms_seq_page;

/*
 * Read the trace in dir back and report on stderr: --map/--device patterns
 * that matched nothing, records lost (and why: "disk full"), everything
 * the agent could not trace, a trace the agent never wrote to; and, unless
 * quiet, the one-line summary.  page is the trace's shared page (its loss
 * counts), or NULL.  Problems are reported even when quiet.
 */
void run_summary(const struct config *cfg, const char *dir, const struct mms_seq_page *page,
		 bool quiet);

#endif
