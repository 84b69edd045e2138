/* SPDX-License-Identifier: MIT */
/*
 * Opening the debugger connection in a program started without --gdb
 * (docs/debugging.md, "Opening the connection later").  `mmscope gdb` and
 * `mmscope ctl` (src/cli/attach.c) stop one program thread with ptrace at
 * a point where it holds no lock of the C library, give it a call of
 * mmscope_attach returning to mmscope_attach_done, let it run, and put its
 * registers back when it traps there.  The program sees nothing: ptrace's
 * stop restarts an interrupted system call as if no signal had come.
 *
 * mmscope_attach runs on the thread's stack only long enough to claim a
 * stack of its own (the thread's may be a small one) and opens the
 * connection as --gdb=unix:OUT/gdb-PID.sock would have.  Its answer, in
 * %rax, is 0 or -errno.
 */
#define LOG_DOMAIN "gdb"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/debugsock.h"
#include "agent/debugstate.h"
#include "agent/observe.h"
#include "agent/park.h"
#include "util/log.h"
#include "util/sys.h"

#define LATE_STACK_SIZE 262144
#define LATE_STR2(x) #x
#define LATE_STR(x) LATE_STR2(x)

static char late_stack[LATE_STACK_SIZE] __attribute__((aligned(64), used));
static int late_busy __attribute__((used)); /* one call at a time */

__attribute__((used, visibility("hidden"))) long debug_attach_late(void);

/*
 * mmscope_attach: entered as a call (%rsp % 16 == 8); another call in
 * flight (a second mmscope gdb at the same moment) gets -EBUSY.
 * mmscope_attach_done: where it returns to, an int3 the caller waits for.
 */
__asm__(".pushsection .text\n"
	".globl mmscope_attach\n"
	".type mmscope_attach, @function\n"
	"mmscope_attach:\n"
	"\tpush %rbp\n"
	"\tmov %rsp, %rbp\n"
	"\tmov $1, %eax\n"
	"\txchg %eax, late_busy(%rip)\n"
	"\ttest %eax, %eax\n"
	"\tjnz 1f\n"
	"\tlea late_stack(%rip), %rsp\n"
	"\tadd $" LATE_STR(LATE_STACK_SIZE) ", %rsp\n"
					    "\tcall debug_attach_late\n"
					    "\tmov %rbp, %rsp\n"
					    "\tmovl $0, late_busy(%rip)\n"
					    "\tpop %rbp\n"
					    "\tret\n"
					    "1:\tmov $-16, %rax\n" /* -EBUSY */
					    "\tpop %rbp\n"
					    "\tret\n"
					    ".size mmscope_attach, . - mmscope_attach\n"
					    ".globl mmscope_attach_done\n"
					    ".type mmscope_attach_done, @function\n"
					    "mmscope_attach_done:\n"
					    "\tint3\n"
					    "\tud2\n"
					    ".size mmscope_attach_done, . - mmscope_attach_done\n"
					    ".popsection\n");

long debug_attach_late(void)
{
	char spec[sizeof(agent.cfg.gdb)];
	int r;

	if (getpid() != agent.pid || !agent.cfg.out[0])
		return -ENOTCONN; /* not set up for tracing */
	if ((size_t)snprintf(spec, sizeof(spec), "unix:%s/gdb-%d.sock", agent.cfg.out,
			     (int)agent.pid) >= sizeof(spec))
		return -ENAMETOOLONG;
	if (dbg.on)
		return strcmp(dbg.where, spec) ? -EEXIST : 0;
	int tid = (int)sys_gettid();
	if (agent_table_held_by(tid) || park_held_by(tid) ||
	    __atomic_load_n(&agent.watch_owner, __ATOMIC_ACQUIRE) == tid)
		return -EAGAIN; /* stopped inside mmscope: another time */
	r = debug_open(spec);
	if (r == 0)
		pr_info("debugger connection opened later, for mmscope gdb or ctl");
	return r;
}
