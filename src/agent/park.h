/* SPDX-License-Identifier: MIT */
/*
 * The one stop-the-world: the slow path, the debugger's all-stop and
 * (later) core dumps park every other thread with AGENT_SIG_PARK.  A
 * parked thread waits inside the signal handler, its context in hand; a
 * debugger stop also keeps it held after the release until the debugger
 * lets it run (park_slot.hold), and publishes that context for registers.
 */
#ifndef MMS_AGENT_PARK_H
#define MMS_AGENT_PARK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ucontext.h>

#define PARK_MAX_THREADS 4096

/* A thread stopped for the debugger (debugsock.c reads and writes it). */
struct park_slot {
	int tid;	/* 0: free */
	int hold;	/* 1: stays stopped after the park ends (futex word) */
	ucontext_t *uc; /* the program's context where it stopped */
	uint64_t fs_base, gs_base;
	bool fs_base_set, gs_base_set; /* the debugger changed them */
	int event;		       /* why it stopped itself (debugsock's enum), 0: parked */
	bool in_handler;	       /* parked inside mmscope's fault handler: uc is where the
			    program faulted, and the handler will rewrite it */
	uint64_t event_addr;
	int stop_sig;	/* stopped by a signal of its own (the debugger's) */
	int resume_sig; /* the debugger lets it go with this signal */
};

/* signal context: mmscope's fault and trap handlers say where the
 * program was when they began (NULL when they end): a thread parked
 * inside one shows the debugger that context, not mmscope's code. */
void park_handler_enter(ucontext_t *uc, ucontext_t **saved);
void park_handler_leave(ucontext_t *saved);

/* signal context: the AGENT_SIG_PARK handler */
void park_on_signal(int sig, siginfo_t *si, void *uc);
/* signal context: take the park lock (one stop at a time) and park every
 * thread but the caller and the exempt one */
void park_begin(int self);
/* signal context: let the parked threads go (held ones stay) and unlock */
void park_end(void);
/* Is thread tid running a stop (it holds the park lock)? */
bool park_held_by(int tid);
/* The debugger's own thread: never parked. */
void park_exempt(int tid);

/* A debugger stop: park_begin with every parked thread given a slot and
 * held; the slots are park_slots()[0..PARK_MAX_THREADS), tid != 0. */
void park_begin_debug(int self);
struct park_slot *park_slots(void);
/* Wake a held thread whose hold was cleared (before park_end). */
void park_unhold(struct park_slot *s);
/* signal context: the calling thread stops itself for the debugger with
 * its context uc, why (non-zero) and addr; notify() is called once it is
 * held; returns when the debugger lets it run, with the signal it is to
 * take (struct park_slot.resume_sig), 0 none. */
int park_stop_self(ucontext_t *uc, int why, uint64_t addr, void (*notify)(void));

#endif
