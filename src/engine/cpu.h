/* SPDX-License-Identifier: MIT */
/*
 * The program's register state as the engine sees it: general-purpose
 * registers in hardware encoding order (the order of ModRM reg numbers and
 * of Zydis' RAX..R15), plus the XSAVE image the kernel saved for the signal.
 * The agent converts from/to ucontext; unit tests build one by hand.
 */
#ifndef MMS_ENGINE_CPU_H
#define MMS_ENGINE_CPU_H

#include <stdint.h>

enum cpu_gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	GPR_COUNT
};

#define CPU_FLAG_CF (1u << 0)
#define CPU_FLAG_TF (1u << 8)
#define CPU_FLAG_DF (1u << 10)
#define CPU_FLAG_ZF (1u << 6)
/* Arithmetic flags an instruction may produce (Intel SDM vol. 1, 3.4.3). */
#define CPU_FLAGS_ARITH 0x8d5u

struct cpu {
	uint64_t gpr[GPR_COUNT];
	uint64_t rip;
	uint64_t rflags;
	uint64_t fs_base;
	uint64_t gs_base;
	void *xsave;	    /* XSAVE standard-format image, NULL if none */
	uint64_t xfeatures; /* components valid in *xsave */
};

#endif
