/* SPDX-License-Identifier: MIT */
/*
 * Completing a faulting access exactly once.  Given the program's register
 * state and the decoded instruction at RIP, perform the instruction's
 * memory access on the regions' aliases (untraced parts directly), report
 * each traced access through the record callback, update the registers and
 * advance RIP.  Target-independent: no signals here; the agent supplies the
 * per-thread scratch and executable code buffers.  signal context.
 */
#ifndef MMS_ENGINE_EMULATE_H
#define MMS_ENGINE_EMULATE_H

#include <stdint.h>

#include "engine/cpu.h"
#include "engine/insn.h"
#include "engine/region.h"

struct emu_access {
	uint64_t addr;
	uint64_t offset; /* addr - region base (the MAP record's address) */
	uint32_t region;
	uint8_t width;
	uint8_t dir;	      /* MMS_DIR_READ / MMS_DIR_WRITE */
	uint16_t flags;	      /* MMS_AF_* */
	uint32_t rflags;      /* the region's enum region_flags */
	uint64_t mask;	      /* MMS_AF_MASKED: bytes accessed (bit i = byte i) */
	uint32_t run_left;    /* MMS_AF_STRING: elements of this run still to
				 come, this one included (REP: from RCX), a
				 hint for the recorder; 1 otherwise */
	const uint8_t *value; /* width bytes */
};

struct icache_entry;

struct emu_ctx {
	const struct region_table *regions;
	uint8_t *scratch; /* >= EMU_SCRATCH_SIZE bytes, 64-byte aligned */
	uint8_t *code;	  /* >= EMU_CODE_SIZE bytes, writable + executable */
	void (*record)(void *arg, const struct insn *in, const struct cpu *c,
		       const struct emu_access *a);
	void *arg;
	struct icache_entry *cached; /* optional: re-encoding kept in its
					   xcode slot, used instead of code */
	/* The bytes of a region without alias (page watchpoints on private
	 * memory); 0 or -errno.  The caller makes every access to such
	 * regions mutually exclusive: LOCK-prefixed instructions on them run
	 * as read, modify, write. */
	int (*peek)(uint64_t addr, void *buf, unsigned len);
	int (*poke)(uint64_t addr, const void *buf, unsigned len);
	/* Out: with EMU_NOT_OURS, the address the CPU would report in
	 * si_addr when it is not the one that faulted (a later element of a
	 * gather or scatter); 0 otherwise. */
	uint64_t fault_addr;
};

#define EMU_SCRATCH_SIZE 256
#define EMU_CODE_SIZE 64

enum emu_result {
	EMU_DONE = 0,	  /* completed, RIP advanced */
	EMU_NOT_OURS = 1, /* the program really faulted: deliver it */
	EMU_SLOW = 2,	  /* cannot emulate: single-step fallback */
};

void emu_init(void);
/* signal context: make ce's re-encoding now, into ce->xcode (which may
 * be any buffer: the bytes are position-independent and can be copied
 * to where ce->xcode will point); 0 or -EINVAL when the instruction has
 * none (it is not one the engine runs out of line). */
int emu_prepare(struct icache_entry *ce);
enum emu_result emu_complete(struct emu_ctx *e, const struct insn *in, struct cpu *c);

/* The AVX-512 opmask register k (0..7) from the XSAVE image (0 if none;
 * k0 as a write mask means "no mask": all ones). */
uint64_t emu_read_kreg(const struct cpu *c, int k);

#endif
