/* SPDX-License-Identifier: MIT */
/*
 * spawnstep: threads born during mmscope's slow path.  One thread keeps
 * making 32-bit addressed REP LODSB loads (one byte each) from a traced memfd page mapped
 * below 4 GiB ("mmscope-spawn"), which
 * mmscope completes by single-stepping with every other thread parked,
 * while the main thread creates 300 threads one after another, each making
 * one 4-byte store to its own slot of the same page as soon as it starts.
 * A thread born while the page is open for a step must be parked too, or
 * its store goes to the page untraced.
 *
 * Output: "LOADS <n>" loads the stepping thread made, "STORES <n>" stores
 * the new threads made (checked through the descriptor).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define SPAWN 300

static volatile uint8_t *page;
static volatile int stop;

static void *stepper(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		/* REP: its range is not known up front, so mmscope steps it
		 * with the trap flag (the other slow path runs out of line) */
		uint32_t esi = (uint32_t)(uintptr_t)(page + 2048), ecx = 1;
		uint8_t al;
		__asm__ volatile("addr32 rep lodsb" : "=a"(al), "+S"(esi), "+c"(ecx) : : "memory");
		n++;
	}
	return (void *)n;
}

static void *spawned(void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	((volatile uint32_t *)page)[i] = (uint32_t)i + 1;
	return NULL;
}

int main(void)
{
	int fd = memfd_create("mmscope-spawn", 0), ok = 0;
	pthread_t st;
	void *loads;

	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_32BIT, fd, 0);
	if (page == MAP_FAILED)
		return 1;
	pthread_create(&st, NULL, stepper, NULL);
	for (uintptr_t i = 0; i < SPAWN; i++) {
		pthread_t t;
		pthread_create(&t, NULL, spawned, (void *)i);
		pthread_join(t, NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(st, &loads);
	for (int i = 0; i < SPAWN; i++) {
		uint32_t v;
		if (pread(fd, &v, 4, 4 * i) == 4 && v == (uint32_t)i + 1)
			ok++;
	}
	printf("LOADS %lu\nSTORES %d\n", (unsigned long)loads, ok);
	return 0;
}
