/* SPDX-License-Identifier: MIT */
/*
 * What this machine's debug hardware really does, measured by arming
 * perf_event_open breakpoints in the calling process and triggering them
 * (the KVM/ARM lesson: on some hosts the registers exist and never fire).
 * `mmscope probe` prints it; `mmscope run` passes the slot count it found
 * to the agent.
 */
#ifndef MMS_CLI_HWPROBE_H
#define MMS_CLI_HWPROBE_H

#include <stdbool.h>

#define HWPROBE_MAX 8 /* more than any x86 has (DR0-DR3) */

struct hwprobe {
	long page_size;
	int perf_errno;		  /* 0, or why no breakpoint could be opened */
	bool sigtrap;		  /* sigtrap events deliver SIGTRAP/TRAP_PERF with
				   their cookie */
	int exec_open, exec_fire; /* execute breakpoints open at once / fired */
	int data_open, data_fire; /* write watchpoints open at once / fired */
	bool rw_fires_on_read;	  /* a read/write watchpoint fires on a load */
	int read_only_errno;	  /* 0 if a read-only watchpoint was accepted */
	bool read_only_fires;
	unsigned len_ok; /* bit i: length 1<<i accepted and fired */
	int slots;	 /* data slots mmscope can use: those that
				   fired, 0 without sigtrap */
};

/* Measure; changes no lasting state of the process (SIGTRAP's action is
 * restored, every event is closed). */
void hwprobe_run(struct hwprobe *p);

#endif
