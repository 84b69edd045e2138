/* SPDX-License-Identifier: MIT */
/*
 * traced_loop: N accesses to a MAP_SHARED memfd mapping named "bench-loop",
 * timed in-process.  Run it natively and under
 *   mmscope run --map '/memfd:bench*' -- traced_loop MODE N
 * to get the cost of one traced access.
 *
 *   MODE  mixed   4-byte store then 4-byte load of the same slot, checked
 *         load    4-byte loads of values preset through pwrite()
 *         store   4-byte stores, checked afterwards through pread()
 *         avx512  64-byte VMOVDQU64 store then load of the same slot
 *                 (exit 77 when the CPU or kernel lacks AVX-512F)
 *
 * Every access is one hand-written MOV (inline asm), so the access count is
 * exactly known: a warm-up of WARMUP accesses (untimed; it faults in every
 * page of the mapping and of mmscope's alias) followed by N timed ones.
 * The values are checked through the file descriptor, which mmscope does
 * not trace, so a lost, doubled or misdirected access makes the program
 * fail instead of producing a fast wrong number.
 *
 * Prints: mode=M accesses=N warmup=W total=N+W loop_ns=T ns_per_access=F
 */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGES 16
#define SLOT 64			    /* bytes between two accessed slots */
#define SLOTS (PAGES * 4096 / SLOT) /* 1024 */
#define WARMUP SLOTS		    /* one access per slot */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static inline void store32(uint8_t *p, uint32_t v)
{
	__asm__ volatile("movl %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static uint32_t pattern(long i)
{
	return (uint32_t)i * 2654435761u + 1;
}

/* accesses must be even: one store and one load per slot visit */
static int run_mixed(uint8_t *m, long from, long accesses)
{
	for (long i = from; i < from + accesses / 2; i++) {
		uint8_t *p = m + (i % SLOTS) * SLOT;
		store32(p, pattern(i));
		if (load32(p) != pattern(i)) {
			fprintf(stderr, "traced_loop: slot %ld reads back wrong\n", i % SLOTS);
			return -1;
		}
	}
	return 0;
}

static int run_load(uint8_t *m, long accesses)
{
	uint64_t sum = 0, want = 0;

	for (long i = 0; i < accesses; i++)
		sum += load32(m + (i % SLOTS) * SLOT);
	for (long i = 0; i < accesses; i++)
		want += pattern(i % SLOTS);
	if (sum != want) {
		fprintf(stderr, "traced_loop: load sum %llu, expected %llu\n",
			(unsigned long long)sum, (unsigned long long)want);
		return -1;
	}
	return 0;
}

static int run_store(uint8_t *m, long from, long accesses)
{
	for (long i = from; i < from + accesses; i++)
		store32(m + (i % SLOTS) * SLOT, pattern(i));
	return 0;
}

__attribute__((target("avx512f"))) static int run_avx512(uint8_t *m, long from, long accesses)
{
	uint8_t src[64] __attribute__((aligned(64)));
	uint8_t dst[64] __attribute__((aligned(64)));

	for (long i = from; i < from + accesses / 2; i++) {
		uint8_t *p = m + (i % SLOTS) * SLOT;
		for (int k = 0; k < 64; k += 4) {
			uint32_t v = pattern(i * 16 + k);
			memcpy(src + k, &v, 4);
		}
		__asm__ volatile("vmovdqu64 (%1), %%zmm0\n\t"
				 "vmovdqu64 %%zmm0, (%0)"
				 :
				 : "r"(p), "r"(src)
				 : "memory", "xmm0");
		__asm__ volatile("vmovdqu64 (%0), %%zmm1\n\t"
				 "vmovdqu64 %%zmm1, (%1)"
				 :
				 : "r"(p), "r"(dst)
				 : "memory", "xmm1");
		if (memcmp(src, dst, 64)) {
			fprintf(stderr, "traced_loop: 64-byte slot %ld reads back wrong\n",
				i % SLOTS);
			return -1;
		}
	}
	__asm__ volatile("vzeroupper");
	return 0;
}

static int check_stores(int fd, long from, long accesses)
{
	for (long s = 0; s < SLOTS; s++) {
		long last = -1;
		uint32_t v;

		/* the last i in [from, from+accesses) with i % SLOTS == s */
		for (long i = from + accesses - 1; i >= from && i >= from + accesses - SLOTS; i--)
			if (i % SLOTS == s) {
				last = i;
				break;
			}
		if (last < 0)
			continue;
		if (pread(fd, &v, 4, s * SLOT) != 4 || v != pattern(last)) {
			fprintf(stderr, "traced_loop: slot %ld holds a wrong value\n", s);
			return -1;
		}
	}
	return 0;
}

/* an idle thread: waits in poll() on a pipe nobody writes */
static void *idle(void *arg)
{
	struct pollfd p = { .fd = (int)(long)arg, .events = POLLIN };

	for (;;)
		poll(&p, 1, -1);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode;
	long n;
	int fd, r;
	uint8_t *m;
	uint64_t t0, t1;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: traced_loop mixed|load|store|avx512 N [IDLE]\n"
				"IDLE threads wait in poll() meanwhile (each stop parks them)\n");
		return 2;
	}
	for (long i = argc == 4 ? atol(argv[3]) : 0; i > 0; i--) {
		pthread_t th;
		int fds[2]; /* on the stack: a watched page may hold the globals */
		if (pipe(fds) < 0 || pthread_create(&th, NULL, idle, (void *)(long)fds[0])) {
			perror("idle thread");
			return 1;
		}
	}
	mode = argv[1];
	n = atol(argv[2]);
	if (n <= 0 || n % 2) {
		fprintf(stderr, "traced_loop: N must be even and positive\n");
		return 2;
	}
	if (!strcmp(mode, "avx512")) {
		__builtin_cpu_init();
		if (!__builtin_cpu_supports("avx512f")) {
			printf("mode=avx512 skipped: no AVX-512F\n");
			return 77;
		}
	}

	fd = memfd_create("bench-loop", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, PAGES * 4096) < 0) {
		perror("memfd");
		return 1;
	}
	/* preset the load values through the fd, which is not traced */
	for (long s = 0; s < SLOTS; s++) {
		uint32_t v = pattern(s);
		if (pwrite(fd, &v, 4, s * SLOT) != 4) {
			perror("pwrite");
			return 1;
		}
	}
	m = mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	if (!strcmp(mode, "mixed")) {
		r = run_mixed(m, 0, WARMUP);
		t0 = now_ns();
		r |= run_mixed(m, WARMUP, n);
		t1 = now_ns();
	} else if (!strcmp(mode, "load")) {
		r = run_load(m, WARMUP);
		t0 = now_ns();
		r |= run_load(m, n);
		t1 = now_ns();
	} else if (!strcmp(mode, "store")) {
		r = run_store(m, 0, WARMUP);
		t0 = now_ns();
		r |= run_store(m, WARMUP, n);
		t1 = now_ns();
		r |= check_stores(fd, WARMUP, n);
	} else if (!strcmp(mode, "avx512")) {
		r = run_avx512(m, 0, WARMUP);
		t0 = now_ns();
		r |= run_avx512(m, WARMUP, n);
		t1 = now_ns();
	} else {
		fprintf(stderr, "traced_loop: unknown mode %s\n", mode);
		return 2;
	}
	if (r)
		return 1;

	printf("mode=%s accesses=%ld warmup=%d total=%ld loop_ns=%llu ns_per_access=%.1f\n", mode,
	       n, WARMUP, n + WARMUP, (unsigned long long)(t1 - t0), (double)(t1 - t0) / (double)n);
	munmap(m, PAGES * 4096);
	close(fd);
	return 0;
}
