/* SPDX-License-Identifier: MIT */
/*
 * hotloop N [T]: N rounds of a 4-byte store and a 4-byte load at offset
 * 0x100 of a memfd mapping ("mmscope-hot"), each instruction 6 bytes long
 * (so a hot site can be patched with a 5-byte jump), then the sum of the
 * loads.  With T threads (released together, so that one patches a site
 * while the others run it), thread k does the same at 0x100 + 64k.
 * Output: "ROUNDS <n>", "SUM <sum>" (of all threads).  With HOTLOOP_NS set
 * in the environment, also "LOOP_NS <ns>" on stderr: the wall time of the
 * rounds alone (bench/hot.sh's per-access figure, without start and exit).
 *
 * hotloop N T short: the same with 2-byte instructions (no displacement).
 *
 * hotloop N stdin: batches of N rounds (the values go on from batch to
 * batch), 10 ms apart, until stdin reaches its end: so a test decides how
 * long the sites run, whatever their pace.  Output as above, ROUNDS the
 * rounds of all batches.
 *
 * hotloop N fork: N rounds, then a child does N rounds and exits, then the
 * parent N more.  Output: "CHILD <pid> SUM <sum>", then "PARENT SUM <sum>"
 * (of its 2N rounds).
 */
#include <sys/wait.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long n, first; /* round i stores first + i */
static pthread_barrier_t go;

/* noinline: the labels name the two sites (the tests read their bytes) */
__attribute__((noinline)) static uint64_t rounds(char *p)
{
	uint64_t sum = 0;

	for (long i = 0; i < n; i++) {
		uint32_t v = (uint32_t)(first + i), r;
		/* 0x100 needs a disp32: 6 bytes each, with no REX */
		__asm__ volatile(".globl hot_store\nhot_store: movl %1, 0x100(%0)" ::"r"(p), "r"(v)
				 : "memory");
		__asm__ volatile(".globl hot_load\nhot_load: movl 0x100(%1), %0"
				 : "=r"(r)
				 : "r"(p)
				 : "memory");
		sum += r;
	}
	return sum;
}

/* the same with 2-byte instructions (patched with a punned jump) */
__attribute__((noinline)) static uint64_t rounds_short(char *p)
{
	uint64_t sum = 0;

	p += 0x100;
	for (long i = 0; i < n; i++) {
		uint32_t v = (uint32_t)i, r;
		__asm__ volatile(".globl hot_store_short\nhot_store_short: movl %1, (%0)" ::"r"(p),
				 "r"(v)
				 : "memory");
		__asm__ volatile(".globl hot_load_short\nhot_load_short: movl (%1), %0"
				 : "=r"(r)
				 : "r"(p)
				 : "memory");
		sum += r;
	}
	return sum;
}

static bool shorts;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *worker(void *p)
{
	pthread_barrier_wait(&go);
	return (void *)(uintptr_t)(shorts ? rounds_short(p) : rounds(p));
}

int main(int argc, char **argv)
{
	int fd = memfd_create("mmscope-hot", 0), t = argc > 2 ? atoi(argv[2]) : 0;
	bool forks = argc > 2 && !strcmp(argv[2], "fork");
	bool batches = argc > 2 && !strcmp(argv[2], "stdin");
	pthread_t th[32];
	uint64_t sum = 0;
	char *p;

	n = argc > 1 ? atol(argv[1]) : 1000;
	shorts = argc > 3 && !strcmp(argv[3], "short");
	if (fd < 0 || ftruncate(fd, 8192) < 0 || t < 0 || t > 32)
		return 1;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	if (batches) {
		struct pollfd in = { .fd = 0, .events = POLLIN };
		char c;

		for (;; first += n) {
			sum += rounds(p);
			if (poll(&in, 1, 10) > 0 && read(0, &c, 1) <= 0)
				break;
		}
		printf("ROUNDS %ld\nSUM %lu\n", first + n, (unsigned long)sum);
		return 0;
	} else if (forks) {
		sum = rounds(p);
		pid_t c = fork();
		if (c == 0) {
			printf("CHILD %d SUM %lu\n", (int)getpid(), (unsigned long)rounds(p));
			exit(0);
		}
		if (c < 0 || waitpid(c, NULL, 0) != c)
			return 1;
		printf("PARENT SUM %lu\n", (unsigned long)(sum + rounds(p)));
		return 0;
	} else if (!t) {
		uint64_t t0 = now_ns();

		sum = rounds(p);
		if (getenv("HOTLOOP_NS"))
			fprintf(stderr, "LOOP_NS %lu\n", (unsigned long)(now_ns() - t0));
	} else {
		pthread_barrier_init(&go, NULL, (unsigned)t);
		for (int k = 0; k < t; k++)
			if (pthread_create(&th[k], NULL, worker, p + 64 * k))
				return 1;
		for (int k = 0; k < t; k++) {
			void *r;
			pthread_join(th[k], &r);
			sum += (uintptr_t)r;
		}
	}
	printf("ROUNDS %ld\nSUM %lu\n", n, (unsigned long)sum);
	return 0;
}
