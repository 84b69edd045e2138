/* SPDX-License-Identifier: MIT */
/*
 * Hot access sites (docs/design.md, "Hot sites").  An instruction that
 * has faulted on a traced region --hot=N times is rewritten into a jump
 * to a stub of its own: the stub saves the program's registers and calls
 * mms_hot_enter(), which completes the access with the engine exactly as
 * the fault path would (same emulation, same record), without a signal.
 * When it cannot (another region, untraced memory, a watched page, the
 * program's own breakpoint), the stub runs a copy of the original
 * instruction and jumps back: the fault path or the CPU take it.
 *
 * The program never sees the stub: a signal that arrives while a thread
 * is in it finds the thread's context moved back to the site (nothing
 * done yet) or forward past it (the access complete), and one that
 * arrives while the access is being completed waits until it is.
 */
#ifndef MMS_AGENT_HOT_H
#define MMS_AGENT_HOT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ucontext.h>

#include "engine/icache.h"
#include "engine/region.h"
#include "util/hotstub.h"

#define HOT_DEFAULT 16 /* faults before a site is patched */
#define HOT_SITES_MAX 4096
#define HOT_SLOT HOTSTUB_SLOT /* bytes of stub per site */

enum hot_state {
	HOT_NONE,     /* never patched (an entry of the heat table only) */
	HOT_PATCHING, /* our int3 may be at the site */
	HOT_PATCHED,
	HOT_UNPATCHING, /* our int3 may be at the site */
	HOT_UNPATCHED,
};

/* How the fast path completes a site (hot-fast.c), kind 0 if it cannot. */
struct hot_fast {
	uint8_t kind;	  /* enum fast_kind */
	uint8_t width;	  /* bytes accessed: 1, 2, 4, 8 */
	int8_t base;	  /* enum cpu_gpr, 16 for rip, -1 for none */
	int8_t index;	  /* enum cpu_gpr, -1 for none */
	uint8_t scale;	  /* 1, 2, 4, 8 */
	uint8_t reg;	  /* the register loaded or stored */
	uint8_t reg_size; /* its bytes as the instruction names it */
	bool sign;	  /* the load sign-extends */
	int64_t disp;
	uint64_t imm; /* the immediate a store writes */
};

struct hot_site {
	uint64_t pc;
	uint8_t len;
	uint8_t orig[15];   /* the instruction's bytes */
	int state;	    /* enum hot_state */
	uint64_t stub;	    /* its HOT_SLOT bytes of code */
	uint64_t copy;	    /* the original instruction in the stub */
	uint64_t hits;	    /* accesses completed through it (not exact
			     under threads: a statistic) */
	uint64_t fast_hits; /* ... of which on the fast path */
	struct hot_fast fast;
	struct icache_entry ce; /* decoded, with its re-encoding */
};

/* The frame the stub builds on the program's stack (hot-common.S). */
struct hot_frame {
	uint64_t gpr[16]; /* enum cpu_gpr order; gpr[RSP] unused */
	uint64_t rflags;
	uint64_t index; /* the site */
	uint64_t cont;	/* where the stub goes on */
	uint8_t red_zone[128];
}; /* the program's rsp is just above */

/* Per thread (initial-exec TLS: hot-common.S reaches it through %fs). */
enum hot_busy { HOT_IDLE, HOT_BUSY, HOT_DONE };
struct hot_tls {
	uint64_t state;		 /* enum hot_busy */
	struct hot_frame *frame; /* of the latest entry */
	uint64_t accessed;	 /* the access happened: no going back */
	uint64_t deferred;	 /* signals (bit sig-1) put off meanwhile */
	sigset_t saved_mask;	 /* the thread's mask before the first */
	uint64_t vector;	 /* the frame has the XSAVE area below it */
};

/* Setup, from the config (--hot). */
void hot_setup(void);
/* signal context: the fault path completed ce's instruction at pc on a
 * traced region with alias; count it, and patch the site when it is hot. */
void hot_note(uint64_t pc, const struct icache_entry *ce);

/* signal context: is pc in a stub?  Then the program pc it stands for
 * (the site for the copy of the instruction, the next one for its jump
 * back); pc itself otherwise.  For records and the debugger. */
uint64_t hot_program_pc(uint64_t pc);

/* signal context, first in every handler of ours that may run the
 * program's handler or park the thread: put the context uc back where
 * the program is.  false: the thread is completing an access, the signal
 * (sig, si) is put off until it is done (hot_defer did it). */
bool hot_fix(int sig, siginfo_t *si, ucontext_t *uc);
/* signal context: mmscope's own fault while completing an access (an
 * alias unmapped meanwhile): abandon it, restart at the site.  true if
 * that was it. */
bool hot_abandon(ucontext_t *uc);
/* signal context: a SIGTRAP on one of our temporary int3 bytes: sent on
 * to where the site's code is now.  true if it was ours. */
bool hot_on_int3(const siginfo_t *si, ucontext_t *uc);

/* signal context: the n bytes at code, read from pc just before, with
 * the program's own put back if they are a site's jump or our int3 on
 * the way to it.  The fault path decodes from them: a thread that ran
 * the instruction just before it was patched faults after the bytes
 * changed. */
void hot_orig_fix(uint64_t pc, uint8_t *code, size_t n);
/* signal context: the bytes [addr, addr+len) read into buf, with the
 * program's own bytes put back where a site is patched (what the
 * debugger and a core show). */
void hot_overlay(uint64_t addr, void *buf, size_t len);
/* signal context: is [lo, hi) stub memory, all of it?  (Not the
 * program's: a core leaves it out.) */
bool hot_is_stubs(uint64_t lo, uint64_t hi);
/* signal context: is a site in [lo, hi) patched (or being patched or
 * unpatched)?  Its page has a private copy because of mmscope. */
bool hot_patched_in(uint64_t lo, uint64_t hi);
/* In a fork child: its text and stubs are the parent's, patched alike. */
void hot_after_fork(void);
/* Who wants the program's text as it was (bits) */
enum hot_freeze {
	HOT_FOR_DEBUGGER = 1, /* a gdb session is open */
	HOT_FOR_USER = 2,     /* mmscope ctl unpatch */
};
/* Put every patched site back to the program's bytes and patch none until
 * hot_thaw(why); the sites unpatched.  Not in signal context (it writes
 * text and synchronises every core); threads inside a stub finish there. */
int hot_unpatch_all(enum hot_freeze why);
/* Patching again, once nobody else froze it: a site that faults again
 * is patched again at once. */
void hot_thaw(enum hot_freeze why);
/* The summary line for agent.log at exit. */
void hot_report(void);

/* signal context: the site whose stub holds pc, or NULL */
struct hot_site *hot_stub_site(uint64_t pc);

/* The fast path's plan for in (hot-fast.c), made when a site is. */
void hot_fast_plan(struct hot_fast *p, const struct insn *in);

/* hot-common.S calls mms_hot_fast first (general registers saved only),
 * then, when it returns 0, saves the vector state and calls
 * mms_hot_enter.  Both end with hot_done: the thread HOT_DONE, the
 * signals put off meanwhile delivered. */
int mms_hot_fast(struct hot_frame *f);
void mms_hot_enter(struct hot_frame *f);
void hot_done(void);
extern __thread struct hot_tls mms_hot_tls;
extern uint64_t mms_hot_xsave_size;
extern struct hot_site *hot_sites;

#endif
