/* SPDX-License-Identifier: MIT */
/*
 * The agent's internal interface.  The agent is thin glue around the
 * engine: it owns the process-wide state (config, region table, trace
 * directory, shared sequence counter) and the per-thread state (stream,
 * scratch and out-of-line code buffers), all allocated with raw mmap so
 * the fault path never needs malloc.
 */
#ifndef MMS_AGENT_AGENT_H
#define MMS_AGENT_AGENT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/arbiter.h"
#include "engine/emulate.h"
#include "engine/icache.h"
#include "engine/watch.h"
#include "engine/region.h"
#include "util/lock.h"
#include "trace/stream.h"
#include "util/config.h"

#define MMS_EXPORT __attribute__((visibility("default")))
#define AGENT_FD_MIN 900
/* The reserved real-time signal that parks threads during a slow path. */
#define AGENT_SIG_PARK (SIGRTMAX - 1)

/* An ACCESS record still open for coalescing (record.c). */
struct rec_run {
	struct mms_rec_access *r;
	uint64_t off; /* its file offset */
	uint32_t gen; /* the stream window it lies in */
	uint32_t cap; /* elements it has room for */
};

/* One of the program's own breakpoints with sigtrap, as a step began:
 * its perf count then (hwshare.c). */
struct bp_snap {
	int fd;
	uint64_t count, period, sig_data, bp_addr;
};

struct thread_state {
	uint32_t gen; /* agent.gen when created (fork check) */
	int tid;
	struct stream stream;
	bool stream_failed;	/* its first lost record was reported */
	struct rec_run runs[2]; /* the last records, while they may grow */
	int nruns;
	uint8_t *scratch; /* 64-byte aligned */
	uint8_t *code;	  /* RWX */
	struct icache *icache;
	/* single-step slow path */
	int stepping;
	uint64_t step_ranges[4][2];
	int step_nranges;
	uint64_t step_saved_tf;
	uint32_t step_region;
	uint64_t step_addr;
	uint8_t step_insn[16];
	uint8_t step_len, step_width, step_dir;
	uint64_t step_pc;
	sigset_t step_saved_mask;   /* the program's mask during the step */
	uint8_t step_why;	    /* enum step_why */
	bool step_rmw, step_locked; /* read-modify-write (atomic) */
	bool step_value_known;	    /* step_value holds the access's bytes */
	uint8_t step_value[8];
	ZydisRegister step_load_reg; /* a MOV load: its value lands here */
	struct bp_snap step_bps[4];  /* the program's breakpoints, before */
	int step_nbps;
	/* what the program believes it has blocked among our signals */
	sigset_t prog_blocked;
};

struct agent {
	bool active;
	int trace_paused;	  /* the debugger said `trace off` */
	uint64_t paused_accesses; /* accesses not recorded meanwhile */
	struct config cfg;
	int dirfd;
	struct mms_seq_page *page; /* the trace's shared seq page */
	uint32_t gen;		   /* bumped in a fork child */
	int pid;
	struct region_table regions;
	/* watchpoints (watch.c) */
	int memfd;	       /* /proc/self/mem: bytes of watched private pages */
	struct mlock arb_lock; /* serialises the arbiter and arming */
	struct arbiter arb;
	uint32_t nwatches;
	struct watch **watches; /* fixed after setup: read without locks */
	bool backtraces;	/* hits carry their call chain */
	int watch_owner;	/* tid holding watch_lock(), 0 if none */
	int watch_depth;
	sigset_t watch_saved; /* the holder's signal mask before it */
};

extern struct agent agent;

/* main.c: move a descriptor of ours above the program's low numbers */
int agent_high_fd(int fd);
void agent_save_maps(void);

/* thread.c */
struct thread_state *thread_get(void); /* signal context */
/* the calling thread's state if it has one already, else NULL (no
 * allocation: the hot sites' fast path) */
struct thread_state *thread_current(void);
void thread_after_fork(void);
void thread_release(void); /* the calling thread is exiting */

/* signals.c */
void signals_install(void);
/* Around the execve system call: ignored faults stay ignored in the new
 * image (signals.c). */
/* Our handler also stands in for the program's signals in which (bit
 * sig-1) that would interrupt it anyway: every one from the first
 * debugger connection on, so that the debugger stops for them; those
 * that dump core from the start, for the core dumper. */
void signals_borrow(uint64_t which);
void signals_before_exec(void);
void signals_after_failed_exec(void);
void signals_chain(int sig, siginfo_t *si, void *uc); /* signal context */
/* signal context: would chaining sig (si) end the program (its
 * disposition is the default, or it is a fault the program ignores)? */
bool signals_chain_kills(int sig, const siginfo_t *si);
int signals_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
void signals_block_all(sigset_t *old);
/* Every signal but the synchronous ones and ours. */
void signals_async_set(sigset_t *set);
void signals_restore(const sigset_t *old);

/* fault.c */
void fault_on_segv(int sig, siginfo_t *si, void *uc);
void fault_on_trap(int sig, siginfo_t *si, void *uc);

/* signal context: the program's registers from / into a signal context */
void fault_cpu_from_uc(struct cpu *c, const ucontext_t *uc);
/* ucontext gregs index of each enum cpu_gpr */
extern const int fault_greg_of[GPR_COUNT];
/* signal context: the engine's context for thread t (its buffers, the
 * region table, ce's cached re-encoding if any, the records to record) */
struct emu_ctx fault_ctx(struct thread_state *t, struct icache_entry *ce,
			 void (*record)(void *, const struct insn *, const struct cpu *,
					const struct emu_access *));
/* signal context: the engine's record callback (arg: the thread_state) */
void fault_record(void *arg, const struct insn *in, const struct cpu *c,
		  const struct emu_access *a);

/* step.c */
/* the thread stepping through the slow path under the trap flag, 0 none */
extern volatile int mmscope_stepping_tid;
/* Why an instruction runs natively under the trap flag. */
enum step_why {
	STEP_UNDECODED, /* not decoded: width, direction and value unknown */
	STEP_ENGINE,	/* decoded, but the engine cannot complete it */
	STEP_PROGRAM_BP /* the program's own breakpoint must see it (C.11) */
};
/* Begin single-stepping the faulting instruction (signal context); in is
 * NULL when it could not be decoded, c its registers then. */
void step_begin(struct thread_state *t, void *uc, const struct region *r, uint64_t addr,
		const struct insn *in, const struct cpu *c, enum step_why why);
int step_on_fault(struct thread_state *t, void *uc, uint64_t addr);
/* signal context: the step is over; 1 when the program's own breakpoint
 * fired during it and *perf holds the SIGTRAP the kernel did not deliver
 * (its TRAP_PERF merges into the step's trap), 0 otherwise */
int step_on_trap(struct thread_state *t, void *uc, siginfo_t *perf);
/* signal context: the slow path without the trap flag, for the
 * instructions that can run out of line on the opened page (see step.c);
 * 0 with *c advanced past the instruction, or -errno: use step_begin */
int step_out_of_line(struct thread_state *t, struct cpu *c, const struct region *r, uint64_t addr,
		     const struct insn *in);

/* watch.c */
void watch_setup(void);
void watch_after_fork(void);
/* After an arbiter call (arb_lock held): a watch granted a register it
 * could not arm (the kernel said no on some thread) stays on pages. */
void watch_settle(void);
/* hwshare.c: normal context, from interposed library calls: notice a
 * debugger that attached or detached, give the registers back or take them */
void watch_check_tracer(void);
/* hwshare.c, signal context: has the program a hardware breakpoint open? */
bool hwshare_any(void);
/* hwshare.c, signal context: would an access of [addr, addr + len) by
 * thread tid trigger one of the program's own hardware breakpoints? */
bool hwshare_would_trap(int tid, uint64_t addr, uint64_t len, bool rd, bool wr);
/* hwshare.c, signal context: the program's breakpoints with sigtrap that
 * count on thread tid, with their counts now (at most max) */
int hwshare_snap(int tid, struct bp_snap *s, int max);
/* hwshare.c, signal context: did one of s[0..n) count since its snap and
 * reach the end of a sample period?  Then *si is its TRAP_PERF. */
bool hwshare_fired(const struct bp_snap *s, int n, siginfo_t *si);
/* The program unmapped or moved [lo, hi): its watches there stop. */
void watch_on_unmapped(uint64_t lo, uint64_t hi);
/* The protection the program's view of region r must have: PROT_NONE for
 * a traced mapping, and for a watched page unless its watchpoints only
 * watch writes (then it stays readable as the program made it). */
int agent_view_prot(const struct region *r);
/* signal context: one thread at a time completes accesses to watched
 * private pages and updates watch values (recursive per thread) */
void watch_lock(void);
void watch_unlock(void);
/* signal context: an access the engine completed in a watched region */
void watch_on_access(struct thread_state *t, uint64_t pc, const struct emu_access *a,
		     uint16_t hit_flags);
/* signal context: after a single-stepped access to a watched region */
void watch_on_stepped(struct thread_state *t, uint64_t pc, uint64_t addr, unsigned width, int dir);
/* signal context: true if this SIGTRAP is one of our data breakpoints */
bool watch_on_trap(siginfo_t *si, void *uc);
/* The debugger's watches (the program stopped): insert or remove one of
 * type (enum mms_watch_type) for session owner (0: gdb, whose hits stop
 * the program; else a ctl session's, whose hits are only recorded), expr
 * its name in WATCH records (NULL: gdb's form); 0 or -errno (-EINVAL
 * length, -EFAULT not mapped, -EPERM code or a stack, -ENOSPC pool
 * full). */
int watch_debugger_set(int owner, bool insert, int type, uint64_t addr, uint64_t len,
		       const char *expr);
/* remove every one of owner's now (detach, a closed session) */
void watch_debugger_clear(int owner);
/* The program is about to run: disarm the watches removed since it
 * stopped and not inserted again. */
void watch_debugger_commit(void);
/* Every watch inserted now, one line each for `monitor watches`, or a
 * JSON array for ctl; bytes written (entries that do not fit whole are
 * left out). */
long watch_describe(char *out, size_t cap, bool json);
/* signal context: addr was in a watched page disarmed a moment ago (a
 * fault raised before the disarm: retry the instruction) */
bool watch_recently_disarmed(uint64_t addr);

#endif
