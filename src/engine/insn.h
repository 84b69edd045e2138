/* SPDX-License-Identifier: MIT */
/*
 * Instruction analysis for the fault path: decode with Zydis, find the
 * memory operand, classify how the access can be completed, compute the
 * effective address from a register state, and re-encode the instruction
 * with its memory operand replaced by [tmp] so it can run out of line.
 * Pure functions; no allocation; safe in signal context.
 */
#ifndef MMS_ENGINE_INSN_H
#define MMS_ENGINE_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <Zydis/Zydis.h>

#include "engine/cpu.h"

enum insn_class {
	INSN_NOMEM,	  /* touches no data memory we can see */
	INSN_XOL,	  /* one memory operand: re-executed out of line */
	INSN_STRING,	  /* MOVS/STOS/LODS/CMPS/SCAS, with or without REP */
	INSN_PUSH_MEM,	  /* PUSH m16/m64 */
	INSN_POP_MEM,	  /* POP m16/m64 */
	INSN_BRANCH_MEM,  /* CALL/JMP through memory */
	INSN_XLAT,	  /* XLAT: a byte load from [rbx + al] */
	INSN_VSIB,	  /* gather or scatter: one access per element */
	INSN_UNSUPPORTED, /* needs the single-step slow path */
};

/* The string instruction of an INSN_STRING (one list, in insn.c). */
enum insn_str {
	INSN_STR_NONE,
	INSN_STR_MOVS,
	INSN_STR_STOS,
	INSN_STR_LODS,
	INSN_STR_CMPS,
	INSN_STR_SCAS,
};

/* How a locked read-modify-write reveals its old and new value. */
enum insn_lock {
	INSN_LOCK_NONE,
	INSN_LOCK_REVEALS, /* XCHG, XADD, CMPXCHG*: returns the old value */
	INSN_LOCK_ADD,	   /* ADD, SUB, INC, DEC, ADC, SBB: new = old + d,
			      done as one LOCK XADD of d */
	INSN_LOCK_CAS,	   /* AND, OR, XOR, NOT, NEG, BTS, BTR, BTC: a
			      compare-exchange loop (RAM-backed only) */
};

/* A gather or scatter (Intel SDM vol. 2, VGATHER*, VPGATHER*, VSCATTER*,
 * VPSCATTER*): element j is at base + index[j] * scale + disp. */
struct insn_vsib {
	uint8_t n;     /* elements */
	uint8_t esize; /* bytes per data element (4, 8) */
	uint8_t isize; /* bytes per index element (4, 8) */
	bool evex;     /* AVX-512: opmask k; else AVX2: mask vector */
	bool scatter;
	int8_t data;  /* vector register: gather destination, scatter source */
	int8_t index; /* vector register holding the indices */
	int8_t mask;  /* AVX2: vector register; AVX-512: k register */
};

/* How the access of an INSN_XOL instruction is completed. */
enum insn_mode {
	MODE_LOAD,   /* exact-width load into scratch, run on scratch */
	MODE_STORE,  /* run on scratch, exact-width store out */
	MODE_RMW,    /* load, run on scratch, store */
	MODE_ATOMIC, /* run directly on the alias (LOCK / XCHG) */
};

struct insn {
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	uint8_t bytes[16];
	uint8_t len;
	enum insn_class cls;
	enum insn_mode mode;
	int8_t mem;	       /* index into op[] of the memory operand, -1 */
	uint8_t width;	       /* bytes accessed at the memory operand */
	bool rd, wr;	       /* memory is read / written */
	bool locked;	       /* atomic read-modify-write */
	bool nt;	       /* non-temporal hint */
	bool masked;	       /* AVX-512 write mask other than k0 */
	bool compress;	       /* VCOMPRESS*, VEXPAND*: the enabled elements
			     are contiguous in memory */
	bool bt_reg;	       /* BT* with register bit offset */
	bool rsp_operand;      /* RSP is an explicit register operand */
	bool uses_vector;      /* touches x87/SSE/AVX/mask state */
	uint32_t gprs;	       /* bitmask of enum cpu_gpr the insn references */
	enum insn_str str;     /* INSN_STRING: which one */
	enum insn_lock lock;   /* MODE_ATOMIC: how values are found */
	struct insn_vsib vsib; /* INSN_VSIB */
	const char *why;       /* for INSN_UNSUPPORTED: a short reason */
};

/* Decode the instruction at code[0..avail).  0 or -EINVAL. */
int insn_decode(struct insn *in, const uint8_t *code, size_t avail);

/* Effective address of the memory operand (segment base included; for BT*
 * with a register offset, the address the CPU really accesses; for XLAT,
 * rbx + al).  Not for INSN_VSIB: see insn_vsib_addr. */
uint64_t insn_mem_addr(const struct insn *in, const struct cpu *c);

/* For BT* with a register bit offset: the displacement the CPU adds to the
 * effective address (Intel SDM vol. 2A, BT); 0 otherwise. */
int64_t insn_bt_delta(const struct insn *in, const struct cpu *c);

/* Address of element j of a gather or scatter, given the index vector
 * register's bytes. */
uint64_t insn_vsib_addr(const struct insn *in, const struct cpu *c, const uint8_t *index,
			unsigned j);

/* Value of a (possibly sub-) general-purpose register, zero-extended. */
uint64_t insn_reg_read(const struct cpu *c, ZydisRegister reg);
int insn_gpr_index(ZydisRegister reg); /* -1 if not a GPR */

/*
 * Pick a scratch GPR the instruction does not reference.  Returns its
 * enum cpu_gpr index or -1.
 */
int insn_pick_tmp(const struct insn *in, uint32_t also_avoid);

/*
 * Encode the instruction with its memory operand replaced by [tmp] (no
 * displacement, no index, no segment) and, if rsp_sub >= 0, explicit RSP
 * register operands renamed to that GPR.  Appends a RET.  Returns the
 * number of bytes written, or -EINVAL if Zydis cannot encode it.
 */
int insn_rewrite(const struct insn *in, int tmp, int rsp_sub, uint8_t *out, size_t cap);

/* The byte mask (bit i = byte i accessed) of a masked vector memory
 * operand, given the opmask register value: the enabled elements' bytes,
 * or for VCOMPRESS/VEXPAND the first popcount(enabled) elements'. */
uint64_t insn_byte_mask(const struct insn *in, uint64_t kmask);

#endif
