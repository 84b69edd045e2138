/* SPDX-License-Identifier: MIT */
/*
 * gdbdrv: a small "driver" that a debugger drives through mmscope's stub.
 * bar0 is a 4096-byte memfd ("bar0") the test traces.  Two workers poll
 * bar0[0] (the "status register") until main is done; main submits three
 * commands: submit(v) stores v to bar0[1] and increments bar0[3].
 *
 * Ground truth printed: READY <pid> <bar0 address>, then per submit
 * "SUBMIT v", then "BAR0 b0 b1 b2 b3" (what the debugger may have written
 * shows here), "POLLS n" (the workers' reads of bar0[0]) and DONE.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

volatile uint32_t *bar0;
static volatile int done;
static unsigned long polls[2];
uint32_t global_counter = 7;

__attribute__((noinline)) void submit(uint32_t v)
{
	bar0[1] = v;
	bar0[3] += 1;
	global_counter++;
}

static void *worker(void *arg)
{
	unsigned long *n = arg;
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	while (!done) {
		(void)bar0[0];
		__atomic_fetch_add(n, 1, __ATOMIC_RELEASE);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[2];
	int fd = memfd_create("bar0", 0);

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 2;
	bar0 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar0 == MAP_FAILED)
		return 2;
	printf("READY %d %p\n", (int)getpid(), (void *)bar0);
	fflush(stdout);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, &polls[i]);
	/* both workers in their loop before the first submit: a debugger
	 * stopped there finds each of them inside worker() */
	while (!__atomic_load_n(&polls[0], __ATOMIC_ACQUIRE) ||
	       !__atomic_load_n(&polls[1], __ATOMIC_ACQUIRE))
		sched_yield();
	for (uint32_t v = 1; v <= 3; v++) {
		submit(v);
		printf("SUBMIT %u\n", v);
	}
	done = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("BAR0 %#x %#x %#x %#x\n", bar0[0], bar0[1], bar0[2], bar0[3]);
	printf("COUNTER %u\n", global_counter);
	printf("POLLS %lu\n", polls[0] + polls[1]);
	printf("DONE\n");
	return 0;
}
