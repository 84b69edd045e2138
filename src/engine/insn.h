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
	INSN_UNSUPPORTED, /* needs the single-step slow path */
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
	int8_t mem;	  /* index into op[] of the memory operand, -1 */
	uint8_t width;	  /* bytes accessed at the memory operand */
	bool rd, wr;	  /* memory is read / written */
	bool locked;	  /* atomic read-modify-write */
	bool nt;	  /* non-temporal hint */
	bool masked;	  /* AVX-512 write mask other than k0 */
	bool bt_reg;	  /* BT* with register bit offset */
	bool rsp_operand; /* RSP is an explicit register operand */
	bool uses_vector; /* touches x87/SSE/AVX/mask state */
	uint32_t gprs;	  /* bitmask of enum cpu_gpr the insn references */
	const char *why;  /* for INSN_UNSUPPORTED: a short reason */
};

/* Decode the instruction at code[0..avail).  0 or -EINVAL. */
int insn_decode(struct insn *in, const uint8_t *code, size_t avail);

/* Effective address of the memory operand (segment base included; for BT*
 * with a register offset, the address the CPU really accesses). */
uint64_t insn_mem_addr(const struct insn *in, const struct cpu *c);

/* For BT* with a register bit offset: the displacement the CPU adds to the
 * effective address (Intel SDM vol. 2A, BT); 0 otherwise. */
int64_t insn_bt_delta(const struct insn *in, const struct cpu *c);

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

/* Bytes per element and the byte mask (bit i = byte i accessed) for a
 * masked vector memory operand, given the opmask register value. */
uint64_t insn_byte_mask(const struct insn *in, uint64_t kmask);

#endif
