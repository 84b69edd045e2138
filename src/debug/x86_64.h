/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 register file as gdb numbers it, read from and written into
 * a thread's signal context, and the target description that names it
 * (GDB manual, "Target Descriptions" and "i386 Features").  Pure: the
 * caller supplies the context and the values only the thread itself can
 * know (segment bases).
 */
#ifndef MMS_DEBUG_X86_64_H
#define MMS_DEBUG_X86_64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ucontext.h>

/* gdb's numbers of the registers a stop reply carries (the order below) */
#define X86_REG_RBP 6
#define X86_REG_RSP 7
#define X86_REG_RIP 16
#define X86_REG_FS_BASE 58
#define X86_REG_GS_BASE 59
#define X86_REGS_BASE 60 /* without AVX */
#define X86_REGS_AVX 76	 /* with ymm0h..ymm15h */
#define X86_REG_MAX_SIZE 16

struct x86_regctx {
	ucontext_t *uc;
	uint64_t fs_base, gs_base;
	bool fs_base_set, gs_base_set; /* written: the thread must apply them */
	bool readonly;		       /* writes are refused (-EPERM) */
};

/* Does the context carry AVX state (an XSAVE area with YMM)? */
bool x86_has_avx(const ucontext_t *uc);
int x86_reg_count(bool avx);
/* Register n's size in bytes, or -EINVAL. */
int x86_reg_size(int n);
/* Register n into out (x86_reg_size bytes, target byte order); its size,
 * or -EINVAL for a number that does not exist. */
int x86_reg_get(const struct x86_regctx *c, int n, uint8_t *out);
/* Register n from in; its size, or -EINVAL, or -EPERM for one that
 * cannot be changed (orig_rax). */
int x86_reg_set(struct x86_regctx *c, int n, const uint8_t *in);
/* The target description document; static, NUL-terminated. */
const char *x86_target_xml(bool avx, size_t *len);

#endif
