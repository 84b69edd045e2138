/* SPDX-License-Identifier: MIT */
/*
 * segv_baseline: the cost of a bare SIGSEGV round trip, the floor under
 * mmscope's fault path.
 *
 *   segv_baseline load|store|mixed|avx512 N
 *
 * A one-page MAP_SHARED memfd mapping is made PROT_NONE, exactly the state
 * in which mmscope leaves a traced page.  A hand-encoded MOV touches it N
 * times: load (8b 07 = mov (%rdi),%eax), store (89 07 = mov %eax,(%rdi)),
 * mixed (store and load alternately, like traced_loop mixed) or avx512
 * (62 f1 fe 48 7f 07 / 62 f1 fe 48 6f 07 = vmovdqu64 %zmm0,(%rdi) and
 * back, alternately; exit 77 without AVX-512F).  Each touch raises
 * #PF -> SIGSEGV (SEGV_ACCERR), and the handler does nothing but add the
 * probe's length to the saved RIP so that rt_sigreturn resumes after it.
 * No mprotect, no system call in the handler: this is the kernel's
 * exception entry, VMA check, signal frame setup (XSAVE of the register
 * file), the user handler call and rt_sigreturn, and nothing else.
 * Flipping the protection instead (mprotect open, single-step, mprotect
 * close) would add two system calls and two TLB shootdowns that are not
 * inherent to "fault and return".  The handler is installed with the flags
 * mmscope's agent uses (SA_SIGINFO | SA_NODEFER).
 *
 * Prints: mode=M faults=N loop_ns=T ns_per_fault=F
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static volatile uint64_t faults;
static unsigned long probe_len; /* bytes of the faulting probe */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* signal context */
static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	uc->uc_mcontext.gregs[REG_RIP] += probe_len;
	faults++;
}

static inline void probe_load(void *p)
{
	uint32_t v;

	/* mov (%rdi),%eax: fixed encoding so the handler knows its length */
	__asm__ volatile(".byte 0x8b, 0x07" : "=a"(v) : "D"(p) : "memory");
	(void)v;
}

static inline void probe_store(void *p)
{
	/* mov %eax,(%rdi) */
	__asm__ volatile(".byte 0x89, 0x07" : : "a"(0x5a5a5a5a), "D"(p) : "memory");
}

/* the same encodings whatever the compiler's -m flags: 6 bytes each */
static inline void probe_store64(void *p)
{
	__asm__ volatile(".byte 0x62, 0xf1, 0xfe, 0x48, 0x7f, 0x07" : : "D"(p) : "memory");
}

static inline void probe_load64(void *p)
{
	__asm__ volatile(".byte 0x62, 0xf1, 0xfe, 0x48, 0x6f, 0x07" : : "D"(p) : "memory", "xmm0");
}

enum mode { LOAD, STORE, MIXED, AVX512 };

static void probe(enum mode m, void *p, long i)
{
	switch (m) {
	case LOAD:
		probe_load(p);
		break;
	case STORE:
		probe_store(p);
		break;
	case MIXED:
		i & 1 ? probe_load(p) : probe_store(p);
		break;
	case AVX512:
		i & 1 ? probe_load64(p) : probe_store64(p);
		break;
	}
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "load", "store", "mixed", "avx512" };
	struct sigaction sa;
	enum mode mode = LOAD;
	int fd, found = 0;
	long n, i;
	uint8_t *page;
	uint64_t t0, t1;

	for (int k = 0; argc == 3 && k < 4; k++)
		if (!strcmp(argv[1], names[k])) {
			mode = (enum mode)k;
			found = 1;
		}
	if (!found) {
		fprintf(stderr, "usage: segv_baseline load|store|mixed|avx512 N\n");
		return 2;
	}
	n = atol(argv[2]);
	probe_len = mode == AVX512 ? 6 : 2;
	if (mode == AVX512) {
		__builtin_cpu_init();
		if (!__builtin_cpu_supports("avx512f")) {
			printf("mode=avx512 skipped: no AVX-512F\n");
			return 77;
		}
	}

	fd = memfd_create("baseline", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		perror("memfd");
		return 1;
	}
	page = mmap(NULL, 4096, PROT_NONE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) < 0) {
		perror("sigaction");
		return 1;
	}

	/* warm up: handler page, signal stack pages, frame pages */
	for (i = 0; i < 1000; i++)
		probe(mode, page + 64, i);

	faults = 0;
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		probe(mode, page + ((i * 64) & 4095), i);
	}
	t1 = now_ns();
	if (mode == AVX512)
		__asm__ volatile("vzeroupper");

	if ((long)faults != n) {
		fprintf(stderr, "segv_baseline: %lu faults, expected %ld\n", (unsigned long)faults,
			n);
		return 1;
	}
	printf("mode=%s faults=%ld loop_ns=%llu ns_per_fault=%.1f\n", argv[1], n,
	       (unsigned long long)(t1 - t0), (double)(t1 - t0) / (double)n);
	return 0;
}
