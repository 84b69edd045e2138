/*
 * Instructions the engine does not emulate (XLAT, an AVX2 gather) go
 * through the single-step slow path with every other thread parked.  A
 * second thread hammers the same traced page meanwhile: none of its
 * accesses may be lost, and both threads must compute correctly.
 * Prints: SLOW <count of slow-path instructions executed>, HAMMER <stores>
 * and exits 1 on a wrong result.
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mmscope/mmscope.h>

static volatile uint32_t *page;
static volatile int stop, started;
static long hammer_stores;

static void *hammer(void *arg)
{
	long n = 0;

	while (!stop) {
		page[512 + (n & 7)] = (uint32_t)n;
		n++;
		started = 1;
	}
	hammer_stores = n;
	return NULL;
}

static uint8_t xlat(const volatile void *table, uint8_t idx)
{
	uint8_t al = idx;

	__asm__ volatile("xlatb" : "+a"(al) : "b"(table) : "memory");
	return al;
}

__attribute__((target("avx2"))) static int gather_ok(void)
{
	__m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
	__m256i v = _mm256_i32gather_epi32((const int *)page + 64, idx, 4);
	int out[8];

	_mm256_storeu_si256((__m256i *)out, v);
	for (int i = 0; i < 8; i++)
		if (out[i] != 1000 + 2 * i)
			return 0;
	return 1;
}

int main(void)
{
	int fd = memfd_create("mmscope-slow", 0);
	pthread_t th;
	int fail = 0, slow = 0;

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		return 1;
	for (int i = 0; i < 32; i++)
		((volatile uint8_t *)page)[i] = (uint8_t)(i * 3);
	for (int i = 0; i < 16; i++)
		page[64 + i] = 1000 + i;
	pthread_create(&th, NULL, hammer, NULL);
	while (!started) /* the hammer runs through the whole slow part */
		;
	mmscope_mark("slow begin");
	for (int i = 0; i < 200; i++) {
		if (xlat(page, (uint8_t)(i % 32)) != (uint8_t)((i % 32) * 3))
			fail = 1;
		slow++;
		if (__builtin_cpu_supports("avx2")) {
			if (!gather_ok())
				fail = 1;
			slow++;
		}
	}
	mmscope_mark("slow end");
	stop = 1;
	pthread_join(th, NULL);
	printf("SLOW %d\nHAMMER %ld\n", slow, hammer_stores);
	if (fail)
		fprintf(stderr, "FAIL: wrong result from xlat or gather\n");
	return fail;
}
