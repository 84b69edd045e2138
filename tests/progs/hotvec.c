/* SPDX-License-Identifier: MIT */
/*
 * hotvec N: N rounds of a 4-byte store at offset 0x100 of a memfd mapping
 * ("mmscope-hot", a 6-byte instruction a hot site can patch) between
 * setting and reading back vector state the program keeps across it: the
 * upper half of ymm1, all of zmm17 and mask k1 (AVX-512), else ymm1 only
 * (AVX), else xmm1.  A stub that lost any of it would show here.
 * Output: "STATE avx512|avx|sse", "ROUNDS <n>", "BAD <rounds that lost
 * state>".  hotvec N alarm: a SIGALRM every 50 us meanwhile (its handler
 * counts), so that signals land inside the stub too; "ALARMS <n>" then.
 */
#include <signal.h>
#include <sys/time.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t seen[8 + 8 + 1];
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

__attribute__((target("avx512f,avx512bw"))) static int round_avx512(char *p, uint32_t v,
								    const uint64_t *want)
{
	__asm__ volatile("vmovdqu64 (%2), %%ymm1\n\t"
			 "vmovdqu64 32(%2), %%zmm17\n\t"
			 "kmovq 96(%2), %%k1\n\t"
			 "movl %1, 0x100(%0)\n\t"
			 "vmovdqu64 %%ymm1, (%3)\n\t"
			 "vmovdqu64 %%zmm17, 32(%3)\n\t"
			 "kmovq %%k1, 96(%3)\n\t"
			 "vzeroupper" ::"r"(p),
			 "r"(v), "r"(want), "r"(seen)
			 : "memory", "xmm1", "xmm17");
	return memcmp(seen, want, 104) != 0;
}

__attribute__((target("avx"))) static int round_avx(char *p, uint32_t v, const uint64_t *want)
{
	__asm__ volatile("vmovdqu (%2), %%ymm1\n\t"
			 "movl %1, 0x100(%0)\n\t"
			 "vmovdqu %%ymm1, (%3)\n\t"
			 "vzeroupper" ::"r"(p),
			 "r"(v), "r"(want), "r"(seen)
			 : "memory", "xmm1");
	return memcmp(seen, want, 32) != 0;
}

static int round_sse(char *p, uint32_t v, const uint64_t *want)
{
	__asm__ volatile("movdqu (%2), %%xmm1\n\t"
			 "movl %1, 0x100(%0)\n\t"
			 "movdqu %%xmm1, (%3)" ::"r"(p),
			 "r"(v), "r"(want), "r"(seen)
			 : "memory", "xmm1");
	return memcmp(seen, want, 16) != 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, bad = 0;
	int fd = memfd_create("mmscope-hot", 0);
	uint64_t want[13];
	int (*round)(char *, uint32_t, const uint64_t *) = round_sse;
	const char *state = "sse";
	char *p;

	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
		round = round_avx512;
		state = "avx512";
	} else if (__builtin_cpu_supports("avx")) {
		round = round_avx;
		state = "avx";
	}
	for (int i = 0; i < 13; i++)
		want[i] = 0x0123456789abcdefull * (uint64_t)(i + 1) ^ 0xa5a5a5a5a5a5a5a5ull;
	if (fd < 0 || ftruncate(fd, 8192) < 0)
		return 1;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	if (argc > 2 && !strcmp(argv[2], "alarm")) {
		struct itimerval it = { { 0, 50 }, { 0, 50 } };
		signal(SIGALRM, on_alarm);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	for (long i = 0; i < n; i++)
		bad += round(p, (uint32_t)i, want);
	if (argc > 2) {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &off, NULL);
	}
	printf("STATE %s\nROUNDS %ld\nBAD %ld\n", state, n, bad);
	if (argc > 2)
		printf("ALARMS %ld\n", (long)alarms);
	return 0;
}
