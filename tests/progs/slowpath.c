/*
 * Instructions the engine does not emulate (a 32-bit addressed LODSB,
 * MASKMOVDQU with its implicit [rdi] operand) go
 * through the single-step slow path with every other thread parked.  A
 * second thread hammers the same traced page meanwhile: none of its
 * accesses may be lost, and both threads must compute correctly.
 * With "wait FILE": prints "READY <pid>" first and waits until FILE
 * exists (a debugger attaches meanwhile); the hammer then sleeps 20 us
 * after each store.
 * Prints: SLOW <count of slow-path instructions executed>, HAMMER <stores>
 * and exits 1 on a wrong result.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mmscope/mmscope.h>

static volatile uint32_t *page;
static volatile int stop, started;
static long hammer_stores;

static int paced; /* "wait": a debugger makes the slow part last seconds */

static void *hammer(void *arg)
{
	struct timespec ts = { 0, 20 * 1000 };
	long n = 0;

	while (!stop) {
		page[512 + (n & 7)] = (uint32_t)n;
		n++;
		started = 1;
		/* a patched store takes ~100 ns: unpaced, seconds under a
		 * debugger are tens of millions of records */
		if (paced)
			nanosleep(&ts, NULL);
	}
	hammer_stores = n;
	return NULL;
}

/* LODSB with 32-bit addressing: the page is mapped below 4 GiB */
static uint8_t lods32(const volatile void *p)
{
	uint32_t esi = (uint32_t)(uintptr_t)p;
	uint8_t al;

	__asm__ volatile("addr32 lodsb" : "=a"(al), "+S"(esi) : : "memory");
	return al;
}

/* MASKMOVDQU: store the bytes of v whose mask byte has its top bit set
 * to [rdi]; here the even bytes 0..14 of the 16 at p */
static int maskmov_ok(volatile uint8_t *p, uint8_t tag)
{
	__m128i v = _mm_set1_epi8((char)tag);
	__m128i m = _mm_setr_epi8(-1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0);

	for (int i = 0; i < 16; i++)
		p[i] = 0;
	__asm__ volatile("maskmovdqu %1, %0" : : "x"(v), "x"(m), "D"(p) : "memory");
	for (int i = 0; i < 16; i++)
		if (p[i] != (i % 2 ? 0 : tag))
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	int fd = memfd_create("mmscope-slow", 0);
	pthread_t th;
	int fail = 0, slow = 0;

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_32BIT, fd, 0);
	if (page == MAP_FAILED)
		return 1;
	for (int i = 0; i < 32; i++)
		((volatile uint8_t *)page)[i] = (uint8_t)(i * 3);
	if (argc > 2 && !strcmp(argv[1], "wait")) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };

		paced = 1;
		printf("READY %d\n", (int)getpid());
		fflush(stdout);
		while (access(argv[2], F_OK) != 0)
			nanosleep(&ts, NULL);
	}
	pthread_create(&th, NULL, hammer, NULL);
	while (!started) /* the hammer runs through the whole slow part */
		;
	mmscope_mark("slow begin");
	for (int i = 0; i < 200; i++) {
		if (lods32((const volatile uint8_t *)page + i % 32) != (uint8_t)((i % 32) * 3))
			fail = 1;
		slow++;
		if (!maskmov_ok((volatile uint8_t *)page + 1024, (uint8_t)i))
			fail = 1;
		slow++;
	}
	mmscope_mark("slow end");
	stop = 1;
	pthread_join(th, NULL);
	printf("SLOW %d\nHAMMER %ld\n", slow, hammer_stores);
	if (fail)
		fprintf(stderr, "FAIL: wrong result from lodsb or maskmovdqu\n");
	return fail;
}
