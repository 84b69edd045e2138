/* SPDX-License-Identifier: MIT */
/*
 * mmscope show --follow: like `tail -f`, print the records of a trace that
 * is still being written as they arrive.  The reader looks at the files
 * again every 100 ms (records appended, streams of new threads and
 * processes); show stops when the exit record that `mmscope run` writes
 * after its program has ended is in, when the `mmscope run` named in the
 * trace is gone without writing one, or on Ctrl-C / SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli/show.h"
#include "util/log.h"

#define FOLLOW_POLL_NS (100 * 1000000L)
/* with the run gone: how long nothing new must arrive before we stop */
#define FOLLOW_GONE_POLLS 10

static volatile sig_atomic_t follow_stop;

static void follow_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

static bool run_gone(uint64_t pid)
{
	return pid && pid <= INT32_MAX && kill((pid_t)pid, 0) && errno == ESRCH;
}

void show_follow(struct show_ctx *ctx)
{
	struct sigaction sa = { .sa_handler = follow_signal }, old_int, old_term;
	const struct timespec poll = { 0, FOLLOW_POLL_NS };
	unsigned int quiet = 0;
	uint64_t n;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	while (!ctx->exited && !follow_stop) {
		fflush(ctx->out);
		nanosleep(&poll, NULL);
		if (mms_trace_refresh(ctx->trace, &n) == 0 && n) {
			quiet = 0;
			if (!ctx->t0)
				ctx->t0 = mms_trace_first_ts(ctx->trace);
			show_drain(ctx);
		} else if (run_gone(ctx->run_pid) && ++quiet >= FOLLOW_GONE_POLLS) {
			pr_warn("show: mmscope run (pid %llu) is gone and the trace has no exit "
				"record: stopped following",
				(unsigned long long)ctx->run_pid);
			break;
		}
		for (; ctx->warned < mms_trace_warning_count(ctx->trace); ctx->warned++)
			pr_warn("show: %s", mms_trace_warning(ctx->trace, ctx->warned));
	}
	/* what came in with the last look */
	if (mms_trace_refresh(ctx->trace, NULL) == 0)
		show_drain(ctx);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
}
