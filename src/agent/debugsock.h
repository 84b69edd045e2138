/* SPDX-License-Identifier: MIT */
/*
 * The debugger connection (issue 8): an agent thread serving the GDB
 * remote protocol from inside the program (docs/debugging.md).
 */
#ifndef MMS_AGENT_DEBUGSOCK_H
#define MMS_AGENT_DEBUGSOCK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* The longest watch the debugger may set (gdb sends a whole `watch
 * array` as one Z2). */
#define DEBUG_WATCH_LEN_MAX 256

/* Normal context, at start: listen where the config says (if it does). */
void debug_start(void);
/* Normal context: listen on spec ("unix:PATH", "tcp:HOST:PORT") and
 * start the debugger's thread; 0, or -errno (also in agent.log).  At
 * start, or later for mmscope gdb (debuglate.c). */
int debug_open(const char *spec);
/* In a fork child: no debugger here; the parent's breakpoints go. */
void debug_after_fork(void);
/* signal context: a SIGTRAP that is the debugger's (a breakpoint it set,
 * or the end of its single step); the thread has stopped and run again */
bool debug_on_trap(siginfo_t *si, void *uc);
/* signal context: the faulting instruction was completed by mmscope (the
 * engine, or the slow path): if the debugger was single-stepping this
 * thread, its step ends here */
void debug_after_step(void *uc);
/* signal context: the access being completed hit a debugger watch of
 * type (enum mms_watch_type) at addr */
void debug_watch_hit(int type, uint64_t addr);
/* signal context: sig (si) is the program's own fault, about to be
 * chained to its handler or default action.  With a debugger connected,
 * true: debug_after_fault stops for it first and then chains it (or not,
 * as the debugger says). */
bool debug_on_signal(int sig, const siginfo_t *si);
/* signal context, at the end of mmscope's fault and trap handlers: stop
 * for a watch hit in the access just completed, or for the program's
 * fault (debug_on_signal) */
void debug_after_fault(void *uc);
/* Is pc in the agent's own code (known once a debugger connection was
 * opened)? */
bool debug_in_agent(uint64_t pc);
/* Normal context, at start: where the agent's own code is. */
void debug_find_agent_text(void);
/* A return address as the program made it (not the step-over trampoline
 * the debugger's step may have put in its place). */
uint64_t debug_caller(uint64_t ra);
/* The program is stopped: does [lo, hi) overlap a thread's stack? */
bool debug_is_stack(uint64_t lo, uint64_t hi);

#endif
