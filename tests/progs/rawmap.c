/* SPDX-License-Identifier: MIT */
/*
 * rawmap: a memfd ("mmscope-raw") mapped, grown, protected and unmapped
 * with raw `syscall` instructions of this program (no libc wrapper), as
 * Go programs, hand-rolled runtimes and statically linked liburing do.
 * With "thread", the same runs on a second thread as well, at once.
 *
 * Output (ground truth), in program order per mapping:
 *   "STORE <tag> <offset> <value>"  an 8-byte store (hex offset, value)
 *   "LOAD <tag> <offset> <value>"   an 8-byte load
 *   "DONE <tag>"
 */

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char *what, const char *tag, uint64_t off, uint64_t v)
{
	pthread_mutex_lock(&out_lock);
	printf("%s %s %" PRIx64 " %" PRIx64 "\n", what, tag, off, v);
	pthread_mutex_unlock(&out_lock);
}

static int work(const char *tag)
{
	char name[32];
	int fd;
	volatile uint64_t *p;
	uint64_t v;

	snprintf(name, sizeof(name), "mmscope-raw-%s", tag);
	fd = memfd_create(name, 0);
	if (fd < 0 || ftruncate(fd, 3 * 4096) < 0)
		return 1;
	p = (volatile uint64_t *)raw6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if ((long)p < 0 && (long)p > -4096)
		return 1;
	p[1] = 0x1111;
	say("STORE", tag, 8, 0x1111);
	/* grow to three pages, wherever the kernel wants */
	p = (volatile uint64_t *)raw6(SYS_mremap, (long)p, 4096, 3 * 4096, MREMAP_MAYMOVE, 0, 0);
	if ((long)p < 0 && (long)p > -4096)
		return 1;
	v = p[1];
	say("LOAD", tag, 8, v);
	p[512 + 2] = 0x2222;
	say("STORE", tag, 4096 + 16, 0x2222);
	/* read-only, then read-write again: still traced */
	if (raw6(SYS_mprotect, (long)p, 3 * 4096, PROT_READ, 0, 0, 0))
		return 1;
	v = p[1024 + 3];
	say("LOAD", tag, 2 * 4096 + 24, v);
	if (raw6(SYS_mprotect, (long)p, 3 * 4096, PROT_READ | PROT_WRITE, 0, 0, 0))
		return 1;
	p[1024 + 3] = 0x3333;
	say("STORE", tag, 2 * 4096 + 24, 0x3333);
	if (raw6(SYS_munmap, (long)p, 3 * 4096, 0, 0, 0, 0))
		return 1;
	close(fd);
	pthread_mutex_lock(&out_lock);
	printf("DONE %s\n", tag);
	pthread_mutex_unlock(&out_lock);
	return 0;
}

static void *thread_main(void *arg)
{
	return (void *)(long)work(arg);
}

int main(int argc, char **argv)
{
	pthread_t t;
	void *tr = NULL;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "thread"))
		pthread_create(&t, NULL, thread_main, "b");
	r = work("a");
	if (argc > 1 && !strcmp(argv[1], "thread"))
		pthread_join(t, &tr);
	return r || tr;
}
