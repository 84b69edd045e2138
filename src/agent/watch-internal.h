/* SPDX-License-Identifier: MIT */
/*
 * Between watch.c (the --watch watches, the two mechanisms, hits) and
 * watchdbg.c (the debugger's watches).  Private to those two files.
 */
#ifndef MMS_AGENT_WATCH_INTERNAL_H
#define MMS_AGENT_WATCH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/watch.h"

/* watch.c */
/* w's mechanism is now mech: a WATCH record says so when it changes */
void watch_set_mech(struct watch *w, uint8_t mech);
/* the protection of the page at addr (-errno unmapped); *private: not
 * MAP_SHARED */
int watch_page_prot(uint64_t addr, bool *private);
void watch_pages_arm(struct watch *w);
void watch_pages_disarm(struct watch *w);
/* does [lo, hi) overlap a traced region? */
bool watch_in_traced(uint64_t lo, uint64_t hi);

/* watchdbg.c */
/* signal context: the debugger's watch i, NULL if unused */
struct watch *watch_debugger_at(uint32_t i);
/* slots ever described: the fault path's loops stop there */
uint32_t watch_debugger_made(void);
bool watch_is_debuggers(const struct watch *w);
/* is w gdb's, whose hits stop the program? */
bool watch_stops_debugger(const struct watch *w);
/* in a fork child: the pages go back to it */
void watch_debugger_after_fork(void);

#endif
