/* SPDX-License-Identifier: MIT */
/*
 * nomem: a thread's first access to a traced memfd ("mmscope-nomem")
 * happens when the address space is full (RLIMIT_AS lowered to what is
 * mapped now plus a little), so mmscope cannot make that thread's state.
 * The program must run exactly as without mmscope: its stores land, its
 * loads see them, no signal reaches it.
 * Output: "THREAD ok|bad" and "MAIN ok|bad".
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static volatile uint64_t *p;
static pthread_barrier_t go;

static long vm_bytes(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmSize:", 7))
			sscanf(line + 7, "%ld", &kb);
	if (f)
		fclose(f);
	return kb * 1024;
}

static void *worker(void *arg)
{
	int bad = 0;

	(void)arg;
	pthread_barrier_wait(&go); /* the limit is in place now */
	for (int i = 0; i < 100; i++)
		p[64 + i] = 0x5000 + (uint64_t)i;
	for (int i = 0; i < 100; i++)
		bad |= p[64 + i] != 0x5000 + (uint64_t)i;
	return (void *)(long)bad;
}

int main(void)
{
	int fd = memfd_create("mmscope-nomem", 0), bad = 0;
	struct rlimit old, low;
	pthread_t t;
	void *tbad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	p[0] = 1; /* the main thread's state exists from here on */
	pthread_barrier_init(&go, NULL, 2);
	pthread_create(&t, NULL, worker, NULL);
	getrlimit(RLIMIT_AS, &old);
	low = old;
	low.rlim_cur = (rlim_t)vm_bytes() + 4096;
	setrlimit(RLIMIT_AS, &low);
	pthread_barrier_wait(&go);
	pthread_join(t, &tbad);
	setrlimit(RLIMIT_AS, &old);
	printf("THREAD %s\n", tbad ? "bad" : "ok");
	p[1] = 2;
	bad = p[0] != 1 || p[1] != 2;
	printf("MAIN %s\n", bad ? "bad" : "ok");
	return bad || tbad;
}
