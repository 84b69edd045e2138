/* SPDX-License-Identifier: MIT */
/*
 * The debug-register arbiter: who holds which of the few hardware
 * watchpoint slots.  The kwatch lesson (shared/seeds/001): the registers
 * are shared and scarce; a well-behaved tool takes them at the lowest
 * priority and gets out of the way, through callbacks, whenever the
 * program or a debugger wants them; only an explicitly invasive request
 * may take them from the program.
 *
 * Requests are caller-owned structs (kprobes style), never copied.  The
 * arbiter only decides; the caller arms and disarms real hardware in its
 * callbacks.  A holder that loses its slot is told before the slot is given
 * to anyone else and goes back to waiting: it is promoted again, oldest
 * first within the highest class, when a slot frees up.  Pure logic: no
 * signals, no allocation, not thread-safe (the caller serialises).
 * Callbacks must not call back into the arbiter.
 */
#ifndef MMS_ENGINE_ARBITER_H
#define MMS_ENGINE_ARBITER_H

#include <stdbool.h>
#include <stdint.h>

#define ARB_SLOTS_MAX 8

enum arb_class {
	ARB_TOOL = 0,	  /* mmscope's own watchpoints: well-behaved, lowest */
	ARB_PROGRAM = 1,  /* the program and any debugger it runs under */
	ARB_INVASIVE = 2, /* explicitly invasive: may take the program's */
};

struct arb_req {
	/* the caller's */
	enum arb_class cls;
	uint32_t owner;				     /* for arb_release_owner() */
	void (*gained)(struct arb_req *r, int slot); /* arm the slot now */
	void (*lost)(struct arb_req *r, int slot);   /* stop using it before returning */
	void *arg;
	/* the arbiter's */
	int slot;	      /* -1 when not holding one */
	bool active;	      /* holding or waiting */
	uint64_t order;	      /* when it asked: FIFO within a class */
	struct arb_req *next; /* waiting list */
};

struct arbiter {
	int nslots;   /* slots that work on this machine (probe) */
	int tool_max; /* at most this many held by ARB_TOOL */
	struct arb_req *holder[ARB_SLOTS_MAX];
	struct arb_req *waiting; /* by class (highest first), then order */
	uint64_t next_order;
};

void arb_init(struct arbiter *a, int nslots, int tool_max);

/* Ask for a slot.  Returns the slot number when granted now (after r's
 * gained callback ran; a lower-class holder may have lost it first), or
 * -EAGAIN when r waits for one, or -EINVAL / -EALREADY. */
int arb_request(struct arbiter *a, struct arb_req *r);

/* Withdraw r, holding or waiting (no callback for r); a slot it held goes to
 * the best waiting request. */
void arb_release(struct arbiter *a, struct arb_req *r);

/* Withdraw every request of one owner (a session closing; no callbacks
 * for them), then promote once; returns how many. */
int arb_release_owner(struct arbiter *a, uint32_t owner);

/* Change how many slots mmscope's own requests may hold (0 when a debugger
 * is seen: hand everything back).  Holders above the new limit lose their
 * slot, newest first; a higher limit promotes waiting requests. */
void arb_set_tool_max(struct arbiter *a, int tool_max);

/* How many slots class cls holds / how many requests wait. */
int arb_held(const struct arbiter *a, enum arb_class cls);
int arb_waiting(const struct arbiter *a);

#endif
