/* SPDX-License-Identifier: MIT */
/*
 * threadexit: 64 threads, one after the other, each storing once to a
 * shared memfd ("mmscope-texit") and exiting -- by returning, by
 * pthread_exit() and by cancellation in turn.  Then the main thread counts
 * the trace stream files still mapped in its address space (lines of
 * /proc/self/maps ending in ".mms").
 *
 * Output: "STORES 64", "MAPPED_STREAMS <n>".
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile uint32_t *m;
static pthread_barrier_t stored;

static void *worker(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	m[i] = (uint32_t)i + 1;
	if (i % 3 == 1)
		pthread_exit(NULL);
	if (i % 3 == 2) {
		pthread_barrier_wait(&stored);
		for (;;)
			pause(); /* a cancellation point */
	}
	return NULL;
}

int main(void)
{
	char line[4096];
	int fd = memfd_create("mmscope-texit", 0), n = 0, stores = 0;
	FILE *f;

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 1;
	pthread_barrier_init(&stored, NULL, 2);
	for (uintptr_t i = 0; i < 64; i++) {
		pthread_t t;
		pthread_create(&t, NULL, worker, (void *)i);
		if (i % 3 == 2) {
			pthread_barrier_wait(&stored);
			pthread_cancel(t);
		}
		pthread_join(t, NULL);
	}
	for (int i = 0; i < 64; i++) {
		uint32_t v;
		if (pread(fd, &v, 4, 4 * i) == 4 && v == (uint32_t)i + 1)
			stores++;
	}
	printf("STORES %d\n", stores);
	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		if (len > 5 && !strcmp(line + len - 5, ".mms\n"))
			n++;
	}
	printf("MAPPED_STREAMS %d\n", n);
	return 0;
}
