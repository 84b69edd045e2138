/* SPDX-License-Identifier: MIT */
/*
 * compute_loop: integer hashing that never touches traced memory, to show
 * that mmscope costs nothing outside the fault path.
 *
 *   compute_loop ITERATIONS
 *
 * The program maps a one-page MAP_SHARED memfd "bench-idle" first, so that
 * under `mmscope run --map '/memfd:bench*'` a region really is armed, but
 * the timed loop works only on registers.  The result is printed so the
 * compiler cannot drop the loop.
 *
 * Prints: iterations=N loop_ns=T hash=H
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* the 64-bit finaliser of MurmurHash3 */
static inline uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

int main(int argc, char **argv)
{
	uint64_t h = 0, t0, t1;
	long n;
	void *m;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: compute_loop ITERATIONS\n");
		return 2;
	}
	n = atol(argv[1]);

	fd = memfd_create("bench-idle", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		perror("memfd");
		return 1;
	}
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	t0 = now_ns();
	for (long i = 0; i < n; i++)
		h = fmix64(h ^ (uint64_t)i);
	t1 = now_ns();

	printf("iterations=%ld loop_ns=%llu hash=%016llx\n", n, (unsigned long long)(t1 - t0),
	       (unsigned long long)h);
	munmap(m, 4096);
	close(fd);
	return 0;
}
