/* SPDX-License-Identifier: MIT */
/*
 * What the debugger connection's two halves share: debugsock.c (the
 * socket, who may connect, the serving thread) and debugtarget.c (the
 * program as gdb sees it: threads, registers, memory, breakpoints, stops).
 * Private to those two files.
 */
#ifndef MMS_AGENT_DEBUGSTATE_H
#define MMS_AGENT_DEBUGSTATE_H

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/park.h"
#include "debug/rsp.h"
#include "debug/target.h"

/* why a thread stopped itself (park_slot.event) */
enum { EV_SWBREAK = 1, EV_STEP, EV_ENTRY, EV_WATCH, EV_RWATCH, EV_AWATCH, EV_SIGNAL, EV_HWBREAK };

struct debug_state {
	bool on;
	bool exit_hooked;   /* on_exit(on_program_exit) done */
	bool was_connected; /* gdb connected once: a stop after it left is stray */
	int listen_fd, client_fd, event_fd;
	int tid;
	char where[PATH_MAX + 8]; /* as the config says it, for messages */
	char path[PATH_MAX];	  /* the UNIX socket, "" for TCP */
	char sock_dir[PATH_MAX];  /* its private directory, "" none */
	bool stopped;		  /* we hold the park */
	int reported;
	unsigned mem_flags;
	uint64_t entry; /* --gdb-wait: the entry point's breakpoint, 0 none */
	uint8_t entry_orig;
	struct dbg_session sess;
	struct rsp_parser parser;
	char reply[RSP_PACKET_MAX + 8];
	char framed[2 * RSP_PACKET_MAX + 16];
	struct x86_regctx ctx[PARK_MAX_THREADS];
	int exit_status; /* 0x100 | status: the program is in exit();
			    0x200 | sig: it dies of sig */
	int exit_sent;	 /* the debugger was told */
};

extern struct debug_state dbg;
extern const struct dbg_ops debug_target_ops;

/* signal context: the program dies of sig now: X to the debugger */
void debug_program_dies(int sig);
/* the serving thread: all of [p, p+n) to the peer on fd; 0 or -errno */
int debug_send(int fd, const char *p, size_t n);
/* any context: wake the serving thread (a thread stopped itself) */
void debug_notify(void);
/* Park and hold every thread and fill st with the stop to report; false
 * when woken by an event already reported (the threads run again). */
bool debug_stop_all(int sig, bool from_event, struct dbg_stop *st);
/* Let the threads go as r says (NULL: all continue, a thread stopped by
 * a signal with that signal, as after a detach). */
void debug_resume(const struct dbg_resume *r);
/* Every breakpoint, debugger watch and pending step goes. */
void debug_remove_all(void);
/* In a fork child: the parent's int3s come out of the child's text. */
void debug_target_after_fork(void);
/* the parked thread tid's slot, NULL if it is not parked */
struct park_slot *debug_slot_of(int tid);
/* The regions mmscope traces or watches, a line each for `monitor
 * regions`, or a JSON array for ctl; bytes written (debugtarget.c). */
long debug_describe_regions(char *out, size_t cap, bool json);
/* gdb's `monitor CMD` (debugmon.c): its output into out; length */
long debug_monitor(void *arg, const char *cmd, char *out, size_t cap);

/* debugsock.c: stop the program for a moment (a ctl session changes
 * watches): true if this stopped it (false: gdb has it stopped already);
 * debug_release lets it run again, or reports to gdb an event a thread
 * stopped for meanwhile. */
bool debug_hold(struct dbg_stop *st);
void debug_release(bool held, const struct dbg_stop *st);

/* debugctl.c: the ctl sessions */
#define CTL_MAX 8
void ctl_init(void);
/* their descriptors for poll: how many were put in p */
int ctl_pollfds(struct pollfd *p, int max);
/* a new session whose first bytes were read already; 0 or -ENOSPC */
int ctl_add(int fd, const uint8_t *bytes, size_t n);
void ctl_bytes(int fd, const uint8_t *bytes, size_t n);
/* fd, a session's, is readable */
void ctl_readable(int fd);
/* in a fork child: not the child's */
void ctl_after_fork(void);

#endif
