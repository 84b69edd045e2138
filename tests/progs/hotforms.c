/* SPDX-License-Identifier: MIT */
/*
 * hotforms R: ground truth for the forms a patched hot site completes on
 * its fast path (src/agent/hot-fast.c): MOV loads into 8-, 16-, 32- and
 * 64-bit registers (merged, zero-extended), MOVZX, MOVSX, MOVSXD, MOV
 * stores from registers (SIL, R8B and friends included) and of
 * immediates (a negative imm32 sign-extended to 8 bytes), with base,
 * index, scale and a 32-bit displacement, and the same forms shorter than
 * 5 bytes (no or an 8-bit displacement), each run R times on a traced
 * memfd ("mmscope-hotforms") with a new value and a new register preset
 * every round.
 *
 * The program checks every result against what the instruction must
 * give, computed here in C: "FAIL <form> round <r>: ..." on stderr and
 * exit 1 on a mismatch; "OK <forms> forms, <R> rounds" otherwise.  After
 * the rounds, "ro-store": the mapping made read-only, one more round of
 * a store form must give the program a SIGSEGV at the store's own
 * address and pc ("SEGV ok"), the memory unchanged.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "memfd_map.h"

#define DISP 0x100 /* a 32-bit displacement: every form >= 5 bytes */

static volatile uint8_t *mem;
static unsigned failures;

/* A load: preset the destination, load from DISP(p), the whole register
 * after.  name, instruction, the destination's 64-bit name. */
#define LOAD(name, insn, reg)                                                                 \
	__attribute__((noinline)) static uint64_t name(volatile void *p, uint64_t pre)        \
	{                                                                                     \
		uint64_t out;                                                                 \
		__asm__ volatile("mov %[pre], %%" reg "\n\t" insn "\n\tmov %%" reg ", %[out]" \
				 : [out] "=r"(out)                                            \
				 : [pre] "r"(pre), [p] "r"(p)                                 \
				 : reg, "memory");                                            \
		return out;                                                                   \
	}
/* a store of a register: set it to v, store it at DISP(p) */
#define STORE(name, insn, reg)                                                   \
	__attribute__((noinline)) static void name(volatile void *p, uint64_t v) \
	{                                                                        \
		__asm__ volatile("mov %[v], %%" reg "\n\t" insn                  \
				 :                                               \
				 : [v] "r"(v), [p] "r"(p)                        \
				 : reg, "memory");                               \
	}
/* a store of an immediate */
#define STORE_IMM(name, insn)                                                    \
	__attribute__((noinline)) static void name(volatile void *p, uint64_t v) \
	{                                                                        \
		(void)v;                                                         \
		__asm__ volatile(insn ::[p] "r"(p) : "memory");                  \
	}

LOAD(ld_al, "movb 0x100(%[p]), %%al", "rax")
LOAD(ld_sil, "movb 0x100(%[p]), %%sil", "rsi")
LOAD(ld_r9b, "movb 0x100(%[p]), %%r9b", "r9")
LOAD(ld_ax, "movw 0x100(%[p]), %%ax", "rax")
LOAD(ld_r10w, "movw 0x100(%[p]), %%r10w", "r10")
LOAD(ld_eax, "movl 0x100(%[p]), %%eax", "rax")
LOAD(ld_r11d, "movl 0x100(%[p]), %%r11d", "r11")
LOAD(ld_rax, "movq 0x100(%[p]), %%rax", "rax")
LOAD(ld_idx, "mov $3, %%rcx\n\tmovl 0xf4(%[p],%%rcx,4), %%edx", "rdx") /* 0xf4 + 12 */
LOAD(zx_bw, "movzbw 0x100(%[p]), %%ax", "rax")
LOAD(zx_bl, "movzbl 0x100(%[p]), %%eax", "rax")
LOAD(zx_wq, "movzwq 0x100(%[p]), %%r12", "r12")
LOAD(sx_bw, "movsbw 0x100(%[p]), %%ax", "rax")
LOAD(sx_bl, "movsbl 0x100(%[p]), %%eax", "rax")
LOAD(sx_bq, "movsbq 0x100(%[p]), %%rax", "rax")
LOAD(sx_wl, "movswl 0x100(%[p]), %%r13d", "r13")
LOAD(sx_wq, "movswq 0x100(%[p]), %%rax", "rax")
LOAD(sx_lq, "movslq 0x100(%[p]), %%r14", "r14")
STORE(st_al, "movb %%al, 0x100(%[p])", "rax")
STORE(st_dil, "movb %%dil, 0x100(%[p])", "rdi")
STORE(st_r8b, "movb %%r8b, 0x100(%[p])", "r8")
STORE(st_ax, "movw %%ax, 0x100(%[p])", "rax")
STORE(st_r15w, "movw %%r15w, 0x100(%[p])", "r15")
STORE(st_eax, "movl %%eax, 0x100(%[p])", "rax")
STORE(st_rbx, "movq %%rbx, 0x100(%[p])", "rbx")
STORE(st_idx, "mov $-2, %%rcx\n\tmovq %%rsi, 0x110(%[p],%%rcx,8)", "rsi") /* 0x110 - 16 */
STORE_IMM(im_b, "movb $0xa5, 0x100(%[p])")
STORE_IMM(im_w, "movw $0x8001, 0x100(%[p])")
STORE_IMM(im_l, "movl $0x87654321, 0x100(%[p])")
STORE_IMM(im_q, "movq $-0x789abcdf, 0x100(%[p])")
/* shorter than 5 bytes (no displacement, or 8 bits of it): patched with
 * a jump whose last bytes are the next instruction's, where that reaches */
LOAD(sh_al, "movb (%[p]), %%al", "rax")
LOAD(sh_ax, "movw (%[p]), %%ax", "rax")
LOAD(sh_eax, "movl (%[p]), %%eax", "rax")
LOAD(sh_rax, "movq (%[p]), %%rax", "rax")
LOAD(sh_zx, "movzbl (%[p]), %%eax", "rax")
LOAD(sh_sx, "movsbq (%[p]), %%rax", "rax")
LOAD(sh_sxd, "movslq (%[p]), %%r14", "r14")
LOAD(sh_d8, "movl 4(%[p]), %%r11d", "r11")
STORE(sh_st_al, "movb %%al, (%[p])", "rax")
STORE(sh_st_ax, "movw %%ax, (%[p])", "rax")
STORE(sh_st_eax, "movl %%eax, (%[p])", "rax")
STORE(sh_st_rbx, "movq %%rbx, (%[p])", "rbx")
STORE(sh_st_d8, "movq %%rsi, -8(%[p])", "rsi")
STORE_IMM(sh_im_b, "movb $0xa5, (%[p])")

enum how { MERGE, ZERO, SIGN, STORE_REG, STORE_IMM };

static const struct form {
	const char *name;
	void *fn;
	enum how how;
	unsigned width; /* bytes of memory */
	unsigned dest;	/* load: bytes of the destination; store imm: 0 */
	uint64_t imm;
	int at; /* the pointer the form gets: mem + at */
} forms[] = {
	{ "mov m8,al", ld_al, MERGE, 1, 1 },
	{ "mov m8,sil", ld_sil, MERGE, 1, 1 },
	{ "mov m8,r9b", ld_r9b, MERGE, 1, 1 },
	{ "mov m16,ax", ld_ax, MERGE, 2, 2 },
	{ "mov m16,r10w", ld_r10w, MERGE, 2, 2 },
	{ "mov m32,eax", ld_eax, ZERO, 4, 4 },
	{ "mov m32,r11d", ld_r11d, ZERO, 4, 4 },
	{ "mov m64,rax", ld_rax, ZERO, 8, 8 },
	{ "mov m32 indexed", ld_idx, ZERO, 4, 4 },
	{ "movzx m8,ax", zx_bw, ZERO, 1, 2 },
	{ "movzx m8,eax", zx_bl, ZERO, 1, 4 },
	{ "movzx m16,r12", zx_wq, ZERO, 2, 8 },
	{ "movsx m8,ax", sx_bw, SIGN, 1, 2 },
	{ "movsx m8,eax", sx_bl, SIGN, 1, 4 },
	{ "movsx m8,rax", sx_bq, SIGN, 1, 8 },
	{ "movsx m16,r13d", sx_wl, SIGN, 2, 4 },
	{ "movsx m16,rax", sx_wq, SIGN, 2, 8 },
	{ "movsxd m32,r14", sx_lq, SIGN, 4, 8 },
	{ "mov al,m8", st_al, STORE_REG, 1 },
	{ "mov dil,m8", st_dil, STORE_REG, 1 },
	{ "mov r8b,m8", st_r8b, STORE_REG, 1 },
	{ "mov ax,m16", st_ax, STORE_REG, 2 },
	{ "mov r15w,m16", st_r15w, STORE_REG, 2 },
	{ "mov eax,m32", st_eax, STORE_REG, 4 },
	{ "mov rbx,m64", st_rbx, STORE_REG, 8 },
	{ "mov rsi,m64 indexed", st_idx, STORE_REG, 8 },
	{ "mov imm8,m8", im_b, STORE_IMM, 1, 0, 0xa5 },
	{ "mov imm16,m16", im_w, STORE_IMM, 2, 0, 0x8001 },
	{ "mov imm32,m32", im_l, STORE_IMM, 4, 0, 0x87654321 },
	{ "mov imm32,m64", im_q, STORE_IMM, 8, 0, (uint64_t)-0x789abcdfll },
	{ "short mov m8,al", sh_al, MERGE, 1, 1, 0, 0 },
	{ "short mov m16,ax", sh_ax, MERGE, 2, 2, 0, 0 },
	{ "short mov m32,eax", sh_eax, ZERO, 4, 4, 0, 0 },
	{ "short mov m64,rax", sh_rax, ZERO, 8, 8, 0, 0 },
	{ "short movzx m8,eax", sh_zx, ZERO, 1, 4, 0, 0 },
	{ "short movsx m8,rax", sh_sx, SIGN, 1, 8, 0, 0 },
	{ "short movsxd m32,r14", sh_sxd, SIGN, 4, 8, 0, 0 },
	{ "short mov disp8 m32,r11d", sh_d8, ZERO, 4, 4, 0, -4 },
	{ "short mov al,m8", sh_st_al, STORE_REG, 1, 0, 0, 0 },
	{ "short mov ax,m16", sh_st_ax, STORE_REG, 2, 0, 0, 0 },
	{ "short mov eax,m32", sh_st_eax, STORE_REG, 4, 0, 0, 0 },
	{ "short mov rbx,m64", sh_st_rbx, STORE_REG, 8, 0, 0, 0 },
	{ "short mov disp8 rsi,m64", sh_st_d8, STORE_REG, 8, 0, 0, 8 },
	{ "short mov imm8,m8", sh_im_b, STORE_IMM, 1, 0, 0xa5, 0 },
};

static uint64_t mask(unsigned bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/* what a load of v (width bytes) leaves in a register preset to pre */
static uint64_t expect_load(const struct form *f, uint64_t v, uint64_t pre)
{
	uint64_t x = v & mask(f->width);

	if (f->how == SIGN && (x >> (8 * f->width - 1)) & 1)
		x |= ~mask(f->width);
	if (f->dest == 4)
		return x & mask(4);
	return (pre & ~mask(f->dest)) | (x & mask(f->dest));
}

static uint64_t mem_read(unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t)mem[DISP + i] << (8 * i);
	return v;
}

/* the pointer a form is given: its operand at DISP either way */
static volatile uint8_t *at(const struct form *f)
{
	return f->at || !strncmp(f->name, "short", 5) ? mem + DISP + f->at : mem;
}

static void fail(const struct form *f, int r, const char *what, uint64_t got, uint64_t want)
{
	fprintf(stderr, "FAIL %s round %d: %s 0x%llx, want 0x%llx\n", f->name, r, what,
		(unsigned long long)got, (unsigned long long)want);
	failures++;
}

static void run(const struct form *f, int r)
{
	uint64_t v = 0x8182838485868788ull ^ ((uint64_t)r * 0x0101010101010101ull);
	uint64_t pre = 0x1122334455667788ull + (uint64_t)r;

	if (f->how <= SIGN) {
		for (unsigned i = 0; i < 8; i++)
			mem[DISP + i] = (uint8_t)(v >> (8 * i));
		uint64_t got = ((uint64_t(*)(volatile void *, uint64_t))f->fn)(at(f), pre);
		if (got != expect_load(f, v, pre))
			fail(f, r, "register", got, expect_load(f, v, pre));
		return;
	}
	for (unsigned i = 0; i < 8; i++)
		mem[DISP + i] = 0;
	((void (*)(volatile void *, uint64_t))f->fn)(at(f), v);
	uint64_t want = (f->how == STORE_IMM ? f->imm : v) & mask(f->width);
	if (mem_read(8) != want)
		fail(f, r, "memory", mem_read(8), want);
}

static sigjmp_buf back;
static volatile uint64_t segv_addr, segv_pc;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	segv_addr = (uint64_t)si->si_addr;
	segv_pc = (uint64_t)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
	siglongjmp(back, 1);
}

/* the read-only store: the program's own SIGSEGV, at the store */
static void ro_store(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	uint64_t site = (uint64_t)st_eax; /* the store is after a 3-byte mov */

	sigaction(SIGSEGV, &sa, NULL);
	for (unsigned i = 0; i < 8; i++)
		mem[DISP + i] = 0x5a;
	if (mprotect((void *)mem, 4096, PROT_READ) < 0) {
		perror("mprotect");
		exit(2);
	}
	if (!sigsetjmp(back, 1)) {
		st_eax(mem, 0x12345678);
		fprintf(stderr, "FAIL ro-store: no SIGSEGV\n");
		failures++;
		return;
	}
	if (segv_addr != (uint64_t)(mem + DISP) || segv_pc < site || segv_pc > site + 16 ||
	    mem_read(8) != 0x5a5a5a5a5a5a5a5aull) {
		fprintf(stderr, "FAIL ro-store: SIGSEGV at 0x%llx pc 0x%llx (function 0x%llx)\n",
			(unsigned long long)segv_addr, (unsigned long long)segv_pc,
			(unsigned long long)site);
		failures++;
		return;
	}
	printf("SEGV ok\n");
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 8;
	size_t n = sizeof(forms) / sizeof(forms[0]);

	mem = (volatile uint8_t *)memfd_map("mmscope-hotforms", 4096, NULL);
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++)
			run(&forms[i], r);
	ro_store();
	if (failures)
		return 1;
	printf("OK %zu forms, %d rounds\n", n, rounds);
	return 0;
}
