/* SPDX-License-Identifier: MIT */
/*
 * threads: eight threads hammer one traced page; ground truth for
 * "nothing missed, nothing invented" across threads and for LOCK atomicity.
 *
 *   threads [N] [slow] (N iterations per thread, default 2000)
 *
 * The page is a memfd "mmscope-threads" mapped MAP_SHARED.  Threads 0..3
 * are created before the mapping exists, 4..7 after; all start hammering
 * together from a barrier.  Each iteration of thread i is exactly three
 * instructions on the page (inline asm, so the compiler adds nothing):
 *
 *   movq  v, slot_i          one 8-byte W, value v = tag(i, k)
 *   movq  slot_i, r          one 8-byte R, must return v
 *   lock incq counter        one R and one W (a locked read-modify-write)
 *
 * slot_i is at offset 64 * (i + 1), the counter at offset 0.  After the
 * join the main thread reads the counter once (one 8-byte R).
 *
 * With "slow", thread 0 also does a 32-bit addressed "lodsb" from its slot after the load each
 * iteration: a 1-byte R (the stored value's low byte) that mmscope does not
 * emulate, so it takes the single-step slow path with the other threads
 * parked, N times, while they keep hammering.
 *
 * Output (all numbers decimal unless 0x):
 *   THREAD <i> tid=<tid> slot=0x<off> stores=N loads=N locked=N xlats=X mismatches=M
 *   MAIN tid=<tid> loads=1
 *   COUNTER <value> expected=<8N>
 *   TOTAL R=<n> W=<n>
 * Exit 0 when the counter is exact and every load returned its store.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NTHREADS 8
#define NEARLY 4 /* threads created before the mapping */
#define PAGE 4096

struct worker {
	pthread_t thread;
	int index;
	long tid;
	unsigned long slot_off;
	unsigned long stores, loads, locked, xlats, mismatches;
};

static pthread_barrier_t start;
static uint8_t *page;
static unsigned long iterations = 2000;
static int slow;

static uint64_t tag(int index, unsigned long k)
{
	return ((uint64_t)(index + 1) << 48) | (uint64_t)(k + 1);
}

static void store64(volatile uint64_t *p, uint64_t v)
{
	asm volatile("movq %1, %0" : "=m"(*p) : "r"(v) : "memory");
}

static uint64_t load64(volatile uint64_t *p)
{
	uint64_t v;

	asm volatile("movq %1, %0" : "=r"(v) : "m"(*p) : "memory");
	return v;
}

/* LODSB with 32-bit addressing (the page is mapped below 4 GiB): an
 * instruction the engine leaves to the single-step slow path */
static uint8_t xlat(volatile void *table)
{
	uint32_t esi = (uint32_t)(uintptr_t)table;
	uint8_t al;

	asm volatile("addr32 lodsb" : "=a"(al), "+S"(esi) : : "memory");
	return al;
}

static void locked_inc64(volatile uint64_t *p)
{
	asm volatile("lock incq %0" : "+m"(*p) : : "memory", "cc");
}

static void *hammer(void *arg)
{
	struct worker *w = arg;
	volatile uint64_t *slot, *counter;

	w->tid = syscall(SYS_gettid);
	pthread_barrier_wait(&start); /* the page exists after this */
	slot = (volatile uint64_t *)(page + w->slot_off);
	counter = (volatile uint64_t *)page;
	for (unsigned long k = 0; k < iterations; k++) {
		uint64_t v = tag(w->index, k);

		store64(slot, v);
		w->stores++;
		if (load64(slot) != v)
			w->mismatches++;
		w->loads++;
		if (slow && w->index == 0) {
			if (xlat(slot) != (uint8_t)v)
				w->mismatches++;
			w->xlats++;
		}
		locked_inc64(counter);
		w->locked++;
	}
	return NULL;
}

static int spawn(struct worker *w)
{
	int r = pthread_create(&w->thread, NULL, hammer, w);

	if (r) {
		fprintf(stderr, "threads: pthread_create: error %d\n", r);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct worker workers[NTHREADS] = { 0 };
	unsigned long reads = 0, writes = 0, bad = 0;
	uint64_t counter;
	int fd;

	if (argc > 1)
		iterations = strtoul(argv[1], NULL, 0);
	slow = argc > 2 && !strcmp(argv[2], "slow");
	if (pthread_barrier_init(&start, NULL, NTHREADS + 1))
		return 2;
	for (int i = 0; i < NTHREADS; i++) {
		workers[i].index = i;
		workers[i].slot_off = 64ul * (i + 1);
	}
	for (int i = 0; i < NEARLY; i++)
		if (spawn(&workers[i]))
			return 2;

	fd = memfd_create("mmscope-threads", 0);
	if (fd < 0 || ftruncate(fd, PAGE) < 0) {
		perror("threads: memfd");
		return 2;
	}
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_32BIT, fd, 0);
	if (page == MAP_FAILED) {
		perror("threads: mmap");
		return 2;
	}

	for (int i = NEARLY; i < NTHREADS; i++)
		if (spawn(&workers[i]))
			return 2;
	pthread_barrier_wait(&start);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(workers[i].thread, NULL);

	counter = load64((volatile uint64_t *)page);
	for (int i = 0; i < NTHREADS; i++) {
		struct worker *w = &workers[i];

		printf("THREAD %d tid=%ld slot=0x%lx stores=%lu loads=%lu locked=%lu xlats=%lu "
		       "mismatches=%lu\n",
		       w->index, w->tid, w->slot_off, w->stores, w->loads, w->locked, w->xlats,
		       w->mismatches);
		reads += w->loads + w->locked + w->xlats;
		writes += w->stores + w->locked;
		bad += w->mismatches;
	}
	reads += 1; /* the main thread's read of the counter */
	printf("MAIN tid=%ld loads=1\n", (long)syscall(SYS_gettid));
	printf("COUNTER %" PRIu64 " expected=%lu\n", counter, NTHREADS * iterations);
	printf("TOTAL R=%lu W=%lu\n", reads, writes);
	munmap(page, PAGE);
	close(fd);
	if (counter != NTHREADS * iterations || bad) {
		printf("FAIL counter or loads wrong\n");
		return 1;
	}
	return 0;
}
