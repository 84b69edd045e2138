/* SPDX-License-Identifier: MIT */
/*
 * crashme HOW: a small "driver" that dies, for core dumps.  It maps two
 * memfds of 8 KiB, "mmscope-crash-ram" (RAM: traced in tests) and
 * "mmscope-crash-dev" (treated as a device in tests with --device),
 * writes and reads a few registers there, starts two workers that wait
 * in worker_wait(), and then dies in die():
 *
 *   segv   a store through a null pointer (SIGSEGV)
 *   abort  abort() (SIGABRT)
 *   fpe    an integer division by zero (SIGFPE)
 *   trap   an int3 of its own, unhandled (SIGTRAP)
 *   many   maps 9000 pages more, one mapping each, and dies as segv
 *   raise  its own SIGABRT handler runs, prints "HANDLER", restores the
 *          default and raises SIGABRT again
 *   wait   does not die: prints "WAITING" and waits in pause() (for a
 *          core of a running program)
 *
 * It prints what a core must show: "ADDR ram <addr> dev <addr>",
 * "GLOBAL <crash_global>", "RAM <off>
 * <value>" and "DEV <off> <value>" for each register it touched (the
 * device's last value written or read; 0x20 holds 0x5a5a0020, written
 * through the file, which no trace sees), "WORKERS <tid> <tid>", and
 * "DYING <how>" last.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memfd_map.h"

int crash_global = 1234;
static volatile uint32_t *ram, *dev;
static pthread_barrier_t ready;
static pid_t worker_tids[2];

__attribute__((noinline)) static void worker_wait(int i)
{
	worker_tids[i] = gettid();
	pthread_barrier_wait(&ready);
	for (;;)
		pause();
}

static void *worker(void *arg)
{
	worker_wait((int)(intptr_t)arg);
	return NULL;
}

static void on_abort(int sig)
{
	printf("HANDLER\n");
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((noinline)) static int die(const char *how, volatile int zero)
{
	volatile int one = 1; /* (1 / x needs no division) */

	printf("DYING %s\n", how);
	fflush(stdout);
	if (!strcmp(how, "segv"))
		*(volatile int *)(uintptr_t)zero = 1;
	else if (!strcmp(how, "trap"))
		__asm__ volatile("int3");
	else if (!strcmp(how, "fpe"))
		return one / zero;
	else
		abort();
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th[2];
	uint32_t status;

	if (argc < 2)
		return 2;
	int devfd;

	ram = memfd_map("mmscope-crash-ram", 8192, NULL);
	dev = memfd_map("mmscope-crash-dev", 8192, &devfd);
	/* the device changes behind the program's back: the trace never
	 * sees this register (a write to the file, not the mapping) */
	uint32_t unseen = 0x5a5a0020;
	if (pwrite(devfd, &unseen, 4, 0x20) != 4)
		return 2;
	ram[0x10] = 0xfeed0001;
	ram[0x11] = 0xfeed0002;
	ram[0x400] = 0xfeed0400; /* the second page */
	dev[0x1] = 0xc0de0001;	 /* CTRL */
	dev[0x3] = 0x12345678;
	status = dev[0x2];     /* STATUS: its value comes from the read */
	dev[0x3] = 0x9abcdef0; /* the last value wins */
	printf("ADDR ram 0x%lx dev 0x%lx\n", (unsigned long)ram, (unsigned long)dev);
	printf("GLOBAL %d\n", crash_global);
	printf("RAM 0x40 0x%08x\nRAM 0x44 0x%08x\nRAM 0x1000 0x%08x\n", ram[0x10], ram[0x11],
	       ram[0x400]);
	printf("DEV 0x4 0xc0de0001\nDEV 0x8 0x%08x\nDEV 0xc 0x9abcdef0\n", status);
	pthread_barrier_init(&ready, NULL, 3);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
	pthread_barrier_wait(&ready);
	printf("WORKERS %d %d\n", worker_tids[0], worker_tids[1]);
	if (!strcmp(argv[1], "many")) { /* 9000 more mappings, then segv */
		for (int i = 0; i < 9000; i++)
			if (mmap(NULL, 4096, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
				return 2;
		return die("segv", 0);
	}
	if (!strcmp(argv[1], "wait")) {
		printf("WAITING\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(argv[1], "raise")) {
		signal(SIGABRT, on_abort);
		raise(SIGABRT);
	}
	return die(argv[1], 0);
}
