/* SPDX-License-Identifier: MIT */
/*
 * bpshare: the program's own hardware breakpoints on memory mmscope
 * traces or watches (issue 7, C.11).  It opens a write breakpoint on
 * near[1], a global that shares its page with near[0] (watch it with
 * `--watch near[0] --hw-slots=0` and the page is mmscope's), and a
 * read/write breakpoint on word 8 of a memfd mapping ("mmscope-bp", trace
 * it with --map), both with sigtrap and a cookie, on the main thread, then
 * makes the accesses below, each at a labelled pc, and has a second thread
 * store to both (no trap: the breakpoints are the main thread's).  Its SIGTRAP handler prints what the
 * kernel gave it, so a run without mmscope is the ground truth.
 *
 * Output, in order:
 *   "TRAP <site> code=<si_code> addr=<what> data=<si_perf_data> type=<si_perf_type>
 *    flags=<si_perf_flags> errno=<si_errno>"
 *                           <site>: the access site the trap came after
 *                           (by its pc), <what>: near[1] / ring[8] / other
 *   "COUNT near <n>", "COUNT ring <n>"   each breakpoint's perf count
 *   "SUM <n>"                            the values its loads returned
 * `bpshare hammer ROUNDS`: ROUNDS of the accesses while two more threads
 * store to ring[16] and near[0] all the while; then, instead of the TRAP
 * lines, "TRAPS <site> <n>" per site and "HAMMER ring[16] <n>",
 * "HAMMER near[0] <n>": the stores each hammer made.
 * Exit 0 when both breakpoints opened.  `bpshare default` installs no
 * SIGTRAP handler: the first trap kills it with SIGTRAP (it prints
 * "SURVIVED ..." if not).
 */
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sigtrap_bp.h"

#define COOKIE_NEAR 0x4e454152ull
#define COOKIE_RING 0x52494e47ull

volatile uint64_t near[2] __attribute__((aligned(4096)));
static volatile uint64_t *ring;

/* the pc after each access (a trap reports it): the asm labels below */
extern const char after_store_near[], after_store_far[], after_load_ring[], after_store_ring[],
	after_add_ring[], after_load_far[], after_store_ring_hi[];

static const struct {
	const char *name;
	const char *pc;
} sites[] = {
	{ "store_near", after_store_near },	  { "store_far", after_store_far },
	{ "load_ring", after_load_ring },	  { "store_ring", after_store_ring },
	{ "add_ring", after_add_ring },		  { "load_far", after_load_far },
	{ "store_ring_hi", after_store_ring_hi },
};

struct trap {
	int code, err, type;
	uint32_t flags;
	uint64_t addr, data, pc;
};
static struct trap traps[64];
static volatile sig_atomic_t ntraps;
static volatile long per_site[16]; /* traps after sites[i] (hammer mode) */
static volatile int stop;
static volatile unsigned long hammered[2];

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct trap *t;

	(void)sig;
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++)
		if ((uint64_t)uc->uc_mcontext.gregs[REG_RIP] == (uint64_t)sites[i].pc)
			per_site[i]++;
	if (ntraps == 64)
		return;
	t = &traps[ntraps++];
	t->code = si->si_code;
	t->err = si->si_errno;
	t->addr = (uint64_t)si->si_addr;
	memcpy(&t->data, (char *)si + 24, 8);  /* si_perf_data */
	memcpy(&t->type, (char *)si + 32, 4);  /* si_perf_type */
	memcpy(&t->flags, (char *)si + 36, 4); /* si_perf_flags */
	t->pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
}

static const char *where(uint64_t addr)
{
	if (addr == (uint64_t)&near[1])
		return "near[1]";
	if (addr == (uint64_t)&ring[8])
		return "ring[8]";
	return "other";
}

static const char *site(uint64_t pc)
{
	for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++)
		if (pc == (uint64_t)sites[i].pc)
			return sites[i].name;
	return "unknown-pc";
}

static uint64_t count(int fd)
{
	uint64_t n = 0;

	return read(fd, &n, sizeof(n)) == sizeof(n) ? n : (uint64_t)-1;
}

/* One function per site (noipa: never cloned, so each label is defined
 * once), the label right after its access. */
#define STORE_SITE(name, type, insn, dst)                                                 \
	__attribute__((noipa)) static void name(type v)                                   \
	{                                                                                 \
		__asm__ volatile(insn " %1, %0\n.globl after_" #name "\nafter_" #name ":" \
				 : "=m"(dst)                                              \
				 : "r"(v)                                                 \
				 : "memory");                                             \
	}
#define LOAD_SITE(name, src)                                                             \
	__attribute__((noipa)) static uint64_t name(void)                                \
	{                                                                                \
		uint64_t v;                                                              \
		__asm__ volatile("movq %1, %0\n.globl after_" #name "\nafter_" #name ":" \
				 : "=r"(v)                                               \
				 : "m"(src)                                              \
				 : "memory");                                            \
		return v;                                                                \
	}

STORE_SITE(store_near, uint64_t, "movq", near[1])
STORE_SITE(store_far, uint64_t, "movq", near[0])
STORE_SITE(store_ring, uint64_t, "movq", ring[8])
/* the upper half of ring[8]: the breakpoint still names its own address */
STORE_SITE(store_ring_hi, uint32_t, "movl", *(volatile uint32_t *)((volatile char *)&ring[8] + 4))
LOAD_SITE(load_ring, ring[8])
LOAD_SITE(load_far, ring[0])

__attribute__((noipa)) static void add_ring(void)
{
	__asm__ volatile("lock addq %1, %0\n.globl after_add_ring\nafter_add_ring:"
			 : "+m"(ring[8])
			 : "r"((uint64_t)1)
			 : "memory");
}

/* another thread: the breakpoints count on the main thread only */
static void *other_thread(void *arg)
{
	(void)arg;
	store_near(40);
	store_ring(41);
	return NULL;
}

/* hammer mode: stores to ring[16] (traced) and near[0] (the watched
 * page) by threads of their own, all the while */
static void *hammer(void *arg)
{
	long which = (long)arg;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		if (which)
			near[0] = hammered[1] + 100;
		else
			ring[16] = hammered[0] + 100;
		__atomic_store_n(&hammered[which], hammered[which] + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	uint64_t sum = 0;
	pthread_t th, ham[2];
	int dflt, hammering, rounds;
	int mfd = memfd_create("mmscope-bp", 0), fn, fr;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mfd < 0 || ftruncate(mfd, 4096) < 0)
		return 2;
	ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (ring == MAP_FAILED)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_trap;
	sa.sa_flags = SA_SIGINFO;
	/* "bpshare default": no handler, the first trap kills it */
	dflt = argc > 1 && !strcmp(argv[1], "default");
	hammering = argc > 2 && !strcmp(argv[1], "hammer");
	rounds = hammering ? atoi(argv[2]) : 3;
	if (!dflt)
		sigaction(SIGTRAP, &sa, NULL);
	near[0] = 1;
	ring[0] = 1;
	fn = sigtrap_bp(&near[1], HW_BREAKPOINT_W, COOKIE_NEAR);
	fr = sigtrap_bp(&ring[8], HW_BREAKPOINT_RW, COOKIE_RING);
	if (fn < 0 || fr < 0) {
		perror("perf_event_open");
		return 1;
	}
	for (long i = 0; hammering && i < 2; i++)
		if (pthread_create(&ham[i], NULL, hammer, (void *)i))
			return 2;
	for (int k = 0; k < rounds; k++) {
		store_near((uint64_t)k + 10); /* near[1]: traps */
		if (dflt)
			puts("SURVIVED a trap with no handler");
		store_far((uint64_t)k + 20);  /* near[0], the same page: does not */
		sum += load_ring();	      /* ring[8]: a load, a store and */
		store_ring((uint64_t)k + 30); /* a locked add trap */
		add_ring();
		sum += load_far(); /* ring[0]: does not */
		store_ring_hi((uint32_t)k + 50);
	}
	if (pthread_create(&th, NULL, other_thread, NULL) || pthread_join(th, NULL))
		return 2;
	sum += load_ring();
	if (hammering) {
		__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
		for (int i = 0; i < 2; i++)
			pthread_join(ham[i], NULL);
		for (size_t i = 0; i < sizeof(sites) / sizeof(sites[0]); i++)
			printf("TRAPS %s %ld\n", sites[i].name, per_site[i]);
		printf("COUNT near %llu\n", (unsigned long long)count(fn));
		printf("COUNT ring %llu\n", (unsigned long long)count(fr));
		printf("SUM %llu\n", (unsigned long long)sum);
		printf("HAMMER ring[16] %lu\nHAMMER near[0] %lu\n", hammered[0], hammered[1]);
		return 0;
	}
	for (int i = 0; i < ntraps; i++)
		printf("TRAP %s code=%d addr=%s data=%#llx type=%d flags=%u errno=%d\n",
		       site(traps[i].pc), traps[i].code, where(traps[i].addr),
		       (unsigned long long)traps[i].data, traps[i].type, traps[i].flags,
		       traps[i].err);
	printf("COUNT near %llu\n", (unsigned long long)count(fn));
	printf("COUNT ring %llu\n", (unsigned long long)count(fr));
	printf("SUM %llu\n", (unsigned long long)sum);
	return 0;
}
