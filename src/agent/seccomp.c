/* SPDX-License-Identifier: MIT */
/*
 * Trapping raw mmap-family system calls (see seccomp.h).
 *
 * Why exact instruction addresses: a seccomp filter cannot be removed and
 * is inherited over exec, by programs that may not carry the agent (a
 * static binary, a setuid one, an environment without LD_PRELOAD).  Such
 * a program must never meet our SIGSYS, whose default action would kill
 * it.  A filter keyed on the addresses of this image's own `syscall`
 * instructions practically never matches code of another image (it would
 * need a `syscall` instruction at one of exactly those addresses), while
 * a filter keyed on "everything but libc" would trap every later image.
 * Syscall user dispatch is cleared on exec, but it traps every system
 * call, not only the mmap family: far too slow for I/O-heavy programs
 * (bench/RESULTS.md has the cost of this filter).
 *
 * Known limits (docs/design.md): code loaded later (dlopen) or generated
 * at run time is not scanned; a module with very many candidate bytes is
 * trapped by address range instead of by instruction.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ucontext.h>

#include "agent/agent.h"
#include "agent/observe.h"
#include "agent/real.h"
#include "agent/record.h"
#include "agent/seccomp.h"
#include "util/fmt.h"
#include "util/sys.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* si_code of a seccomp trap, asm-generic/siginfo.h */
#endif

#define COOKIE 0x6d73	     /* "ms": SECCOMP_RET_DATA of our traps */
#define SITES_MAX 1024	     /* exact instruction addresses */
#define RANGES_MAX 64	     /* modules trapped by range */
#define MODULE_SITES_MAX 256 /* more candidates than this: by range */
#define INSNS_MAX 4096	     /* BPF_MAXINSNS */

static uint64_t sites[SITES_MAX]; /* sorted: address after each `syscall` */
static int nsites;
static uint64_t ranges[RANGES_MAX][2]; /* [lo, hi) of return addresses */
static int nranges;
static bool active;

bool seccomp_active(void)
{
	return active;
}

/* ---- finding the instructions ---- */

struct scan {
	uint64_t skip[4][2]; /* modules never trapped: agent, libc, ld.so, vDSO */
	int nskip;
	bool overflow;
};

static bool skipped(const struct scan *sc, uint64_t addr)
{
	for (int i = 0; i < sc->nskip; i++)
		if (addr >= sc->skip[i][0] && addr < sc->skip[i][1])
			return true;
	return false;
}

static int module_bounds(struct dl_phdr_info *info, size_t size, void *arg)
{
	uint64_t *q = arg, lo = UINT64_MAX, hi = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (q[0] >= lo && q[0] < hi) {
		q[1] = lo;
		q[2] = hi;
		return 1;
	}
	return 0;
}

/* The loaded module containing addr, as [lo, hi). */
static void skip_module(struct scan *sc, uint64_t addr)
{
	uint64_t q[3] = { addr, 0, 0 };

	if (addr && sc->nskip < 4 && dl_iterate_phdr(module_bounds, q) && q[2]) {
		sc->skip[sc->nskip][0] = q[1];
		sc->skip[sc->nskip][1] = q[2];
		sc->nskip++;
	}
}

static int scan_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *sc = arg;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !(ph->p_flags & PF_R))
			continue;
		const uint8_t *lo = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *hi = lo + ph->p_filesz;
		if (skipped(sc, (uint64_t)lo) || hi - lo < 2)
			continue;
		/* every 0f 05 byte pair is a candidate: one that is not an
		 * instruction boundary is never executed, so trapping it
		 * costs nothing but a filter entry */
		int found = 0, first = nsites;
		for (const uint8_t *p = lo; p + 1 < hi; p++) {
			if (p[0] != 0x0f || p[1] != 0x05)
				continue;
			if (found++ < MODULE_SITES_MAX && nsites < SITES_MAX)
				sites[nsites++] = (uint64_t)p + 2;
		}
		if (found <= MODULE_SITES_MAX && nsites - first == found)
			continue;
		/* too many: the whole segment, by range */
		nsites = first;
		if (nranges == RANGES_MAX) {
			sc->overflow = true;
			continue;
		}
		ranges[nranges][0] = (uint64_t)lo + 2;
		ranges[nranges][1] = (uint64_t)hi + 2;
		nranges++;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- the filter ---- */

struct bpf {
	struct sock_filter f[INSNS_MAX];
	int n;
	bool full;
};

static int emit(struct bpf *b, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (b->n == INSNS_MAX) {
		b->full = true;
		return b->n;
	}
	b->f[b->n] = (struct sock_filter){ code, jt, jf, k };
	return b->n++;
}

#define LD(off) emit(b, BPF_LD | BPF_W | BPF_ABS, (off), 0, 0)
#define RET(v) emit(b, BPF_RET | BPF_K, (v), 0, 0)
#define OFF_NR offsetof(struct seccomp_data, nr)
#define OFF_ARCH offsetof(struct seccomp_data, arch)
#define OFF_IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI (OFF_IP_LO + 4)
#define OFF_ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))

/* Patch the jump at insn so that its true branch lands on target. */
static void jt_to(struct bpf *b, int insn, int target)
{
	if (target - insn - 1 > 255)
		b->full = true;
	b->f[insn].jt = (uint8_t)(target - insn - 1);
}

static void build(struct bpf *b)
{
	const uint32_t trap = SECCOMP_RET_TRAP | COOKIE, allow = SECCOMP_RET_ALLOW;
	int j_mmap, j_other[3], j_fixed, j_shared[2], sites_at;

	b->n = 0;
	LD(OFF_ARCH);
	emit(b, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	RET(allow);
	LD(OFF_NR);
	j_mmap = emit(b, BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 0);
	j_other[0] = emit(b, BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 0, 0);
	j_other[1] = emit(b, BPF_JMP | BPF_JEQ | BPF_K, SYS_mremap, 0, 0);
	j_other[2] = emit(b, BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, 0);
	RET(allow);
	/* mmap: a fixed mapping (it may replace a traced one), or a shared
	 * mapping of a file (it may be selected); the rest never matter */
	jt_to(b, j_mmap, LD(OFF_ARG_LO(3)));
	j_fixed = emit(b, BPF_JMP | BPF_JSET | BPF_K, MAP_FIXED, 0, 0);
	emit(b, BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 0, 1);
	RET(allow);
	emit(b, BPF_ALU | BPF_AND | BPF_K, MAP_TYPE, 0, 0);
	j_shared[0] = emit(b, BPF_JMP | BPF_JEQ | BPF_K, MAP_SHARED, 0, 0);
	j_shared[1] = emit(b, BPF_JMP | BPF_JEQ | BPF_K, MAP_SHARED_VALIDATE, 0, 0);
	RET(allow);
	int at_fd = LD(OFF_ARG_LO(4));
	jt_to(b, j_shared[0], at_fd);
	jt_to(b, j_shared[1], at_fd);
	emit(b, BPF_JMP | BPF_JSET | BPF_K, 0x80000000u, 0, 1); /* fd < 0 */
	RET(allow);
	sites_at = b->n;
	/* from here on: trap if the call came from one of our sites */
	jt_to(b, j_fixed, sites_at);
	for (int i = 0; i < 3; i++)
		jt_to(b, j_other[i], sites_at);
	for (int i = 0; i < nsites;) {
		uint32_t hi = (uint32_t)(sites[i] >> 32);
		int n = 0;
		while (i + n < nsites && (uint32_t)(sites[i + n] >> 32) == hi && n < 120)
			n++;
		LD(OFF_IP_HI);
		/* skip this group: its ld and its 2 * n checks */
		emit(b, BPF_JMP | BPF_JEQ | BPF_K, hi, 0, (uint8_t)(1 + 2 * n));
		LD(OFF_IP_LO);
		for (int k = 0; k < n; k++) {
			emit(b, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)sites[i + k], 0, 1);
			RET(trap);
		}
		i += n;
	}
	for (int i = 0; i < nranges; i++) {
		uint32_t hi = (uint32_t)(ranges[i][0] >> 32);
		if ((uint32_t)((ranges[i][1] - 1) >> 32) != hi)
			continue; /* a segment across a 4 GiB line: never seen */
		LD(OFF_IP_HI);
		emit(b, BPF_JMP | BPF_JEQ | BPF_K, hi, 0, 4);
		LD(OFF_IP_LO);
		emit(b, BPF_JMP | BPF_JGE | BPF_K, (uint32_t)ranges[i][0], 0, 2);
		emit(b, BPF_JMP | BPF_JGE | BPF_K, (uint32_t)ranges[i][1], 1, 0);
		RET(trap);
	}
	RET(allow);
}

/* ---- setup ---- */

static struct bpf filter;

void seccomp_setup(void)
{
	struct scan sc = { .nskip = 0 };
	char msg[256];
	size_t pos = 0;
	long r;

	if (agent.cfg.no_raw_mmap) {
		rec_untraced(0, "--raw-mmap=off: mappings made with a raw syscall instruction "
				"are not traced");
		return;
	}
	skip_module(&sc, (uint64_t)seccomp_setup);
	skip_module(&sc, (uint64_t)REAL(read));
	skip_module(&sc, getauxval(AT_BASE));
	skip_module(&sc, getauxval(AT_SYSINFO_EHDR));
	dl_iterate_phdr(scan_module, &sc);
	qsort(sites, (size_t)nsites, sizeof(sites[0]), cmp_u64);
	if (!nsites && !nranges)
		return; /* no raw system call anywhere: nothing to trap */
	build(&filter);
	if (filter.full || sc.overflow) {
		rec_untraced(0, "too many raw syscall instructions to trap them all: some "
				"mappings made with a raw syscall instruction may not be traced");
		if (filter.full)
			return;
	}
	struct sock_fprog prog = { .len = (unsigned short)filter.n, .filter = filter.f };
	r = sys_call3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
	if (r == -EACCES) {
		/* without CAP_SYS_ADMIN a filter needs no_new_privs: setuid
		 * programs this one runs will not gain their privileges */
		if (sys_call2(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1) == 0) {
			rec_proc(MMS_PROC_NOTE, 0,
				 "no_new_privs set to trap raw mmap system calls: setuid programs "
				 "this program executes run without their privileges "
				 "(mmscope run --raw-mmap=off avoids it)");
			r = sys_call3(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				      SECCOMP_FILTER_FLAG_TSYNC, &prog);
		}
	}
	if (r != 0) {
		fmt_str(msg, sizeof(msg), &pos, "cannot install the seccomp filter (errno ");
		fmt_u64(msg, sizeof(msg), &pos, (uint64_t)(r < 0 ? -r : r));
		fmt_str(msg, sizeof(msg), &pos,
			"): mappings made with a raw syscall instruction are not traced");
		rec_untraced(0, msg);
		return;
	}
	active = true;
}

/* ---- the trap ---- */

/* signal context */
static bool ours(uint64_t ip)
{
	int lo = 0, hi = nsites;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (sites[mid] < ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < nsites && sites[lo] == ip)
		return true;
	for (int i = 0; i < nranges; i++)
		if (ip >= ranges[i][0] && ip < ranges[i][1])
			return true;
	return false;
}

/* signal context */
bool seccomp_on_sigsys(siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;
	uint64_t ip = (uint64_t)si->si_call_addr, pc = ip - 2;
	long r;

	if (!active || si->si_code != SYS_SECCOMP || si->si_errno != COOKIE || !ours(ip))
		return false;
	switch (si->si_syscall) {
	case SYS_mmap:
		r = obs_mmap((uint64_t)g[REG_RDI], (uint64_t)g[REG_RSI], (int)g[REG_RDX],
			     (int)g[REG_R10], (int)g[REG_R8], (long)g[REG_R9], pc);
		break;
	case SYS_munmap:
		r = obs_munmap((uint64_t)g[REG_RDI], (uint64_t)g[REG_RSI], pc);
		break;
	case SYS_mremap:
		r = obs_mremap((uint64_t)g[REG_RDI], (uint64_t)g[REG_RSI], (uint64_t)g[REG_RDX],
			       (int)g[REG_R10], (uint64_t)g[REG_R8], pc);
		break;
	case SYS_mprotect:
		r = obs_mprotect((uint64_t)g[REG_RDI], (uint64_t)g[REG_RSI], (int)g[REG_RDX], pc);
		break;
	default:
		return false;
	}
	g[REG_RAX] = (greg_t)r;
	return true;
}
