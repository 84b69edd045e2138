/* SPDX-License-Identifier: MIT */
/*
 * Raw mmap-family system calls (a `syscall` instruction in the program,
 * not a call to libc: statically linked liburing, Go, hand-rolled
 * runtimes).  At start the agent finds every `syscall` instruction in the
 * executable and its libraries other than libc, the dynamic loader, the
 * vDSO and itself, and installs a seccomp filter that traps mmap (shared
 * file mappings and fixed ones), munmap, mremap and mprotect made from
 * exactly those instructions; everything else, including every call libc
 * makes, runs untouched.  A trapped call arrives as SIGSYS and is
 * completed by the observer (observe.c) as if it had been made through
 * libc.  docs/design.md explains the choice and its limits.
 */
#ifndef MMS_AGENT_SECCOMP_H
#define MMS_AGENT_SECCOMP_H

#include <signal.h>
#include <stdbool.h>

/* Normal context, at start.  Says in the trace when it cannot. */
void seccomp_setup(void);
bool seccomp_active(void);
/* signal context: true if this SIGSYS was our filter's (and completed) */
bool seccomp_on_sigsys(siginfo_t *si, void *uc);

#endif
