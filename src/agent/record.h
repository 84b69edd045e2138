/* SPDX-License-Identifier: MIT */
/*
 * The one place that builds trace records (the layouts are
 * include/mmscope/trace-format.h).  Each thread writes only its own
 * stream.  ACCESS records coalesce: an access identical to the thread's
 * last record raises that record's count; the elements of a string
 * instruction fill one run record (two, alternating, for MOVS/CMPS with
 * both operands traced).  Anything else the thread records ends the run.
 *
 * Records made in normal context (MAP from an interposed call, PROC,
 * MARK, WATCH) are written with every signal blocked, so a program's
 * signal handler that touches traced memory cannot interleave its record
 * with a half-written one.  The fault path calls rec_access() from its
 * handler, where asynchronous signals already wait.
 */
#ifndef MMS_AGENT_RECORD_H
#define MMS_AGENT_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/emulate.h"
#include "engine/region.h"

struct thread_state;
struct watch;

/* signal context */
uint64_t rec_next_seq(void);
uint64_t rec_now(void);

/* signal context: one access the engine (or the slow path) completed in a
 * traced region; insn/insn_len are the instruction's bytes at pc */
void rec_access(struct thread_state *t, uint64_t pc, const uint8_t *insn, unsigned insn_len,
		const struct emu_access *a);

void rec_map(const struct region *r, const char *path, uint64_t pc, uint32_t flags);
void rec_unmap(const struct region *r, uint64_t pc);
void rec_proc(uint32_t event, int64_t arg, const char *text);
void rec_mark(const char *text);
/* `trace off|on` from the debugger: accesses stop being recorded (the
 * shadow register files still learn them), and a PROC note at each end
 * says so, the second with how many were left out. */
void rec_trace_pause(bool off);
/* Something is not traced: a PROC untraced record, a line in agent.log
 * and the count `mmscope run` reports. */
void rec_untraced(uint64_t addr, const char *text);
void rec_watch(const struct watch *w);
/* signal context: a watchpoint hit; frames: call chain, innermost first */
void rec_hit(struct thread_state *t, const struct watch *w, uint64_t pc, uint64_t addr,
	     unsigned width, int dir, uint16_t flags, const uint8_t *old, const uint8_t *new,
	     const uint64_t *frames, int nframes);

#endif
