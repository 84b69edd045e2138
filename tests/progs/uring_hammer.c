/* SPDX-License-Identifier: MIT */
/*
 * uring_hammer: THREADS threads set up and tear down io_uring rings at
 * the same time, ROUNDS times each, submitting NOPS NOPs on every ring,
 * while one more thread maps and unmaps a memfd ("mmscope-hammer") and
 * stores to it (liburing tests 232c93d07b74, recv-msgall-stream and
 * ring-leak2 do the ring part with two threads).
 *
 * Output: "RINGS <rings set up>", "NOPS <submitted> <completed>",
 * "MEMFD <mappings> <stores>"; exit 1 on any error.
 */
#include <liburing.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define THREADS 4
#define NOPS 2

static int rounds = 50;
static long rings, completed, failed;
static long maps, stores;
static volatile int stop;

static void *ring_worker(void *arg)
{
	(void)arg;
	for (int r = 0; r < rounds; r++) {
		struct io_uring ring;
		if (io_uring_queue_init(4, &ring, 0) < 0) {
			__atomic_add_fetch(&failed, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_add_fetch(&rings, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < NOPS; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			struct io_uring_cqe *cqe;
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, 7 + i);
			io_uring_submit(&ring);
			if (io_uring_wait_cqe(&ring, &cqe) == 0 &&
			    cqe->user_data == (uint64_t)(7 + i))
				__atomic_add_fetch(&completed, 1, __ATOMIC_RELAXED);
			io_uring_cqe_seen(&ring, cqe);
		}
		io_uring_queue_exit(&ring);
	}
	return NULL;
}

static void *memfd_worker(void *arg)
{
	int fd = memfd_create("mmscope-hammer", 0);

	(void)arg;
	if (fd < 0 || ftruncate(fd, 8192) < 0)
		return (void *)1L;
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		volatile uint64_t *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			return (void *)1L;
		maps++;
		p[0] = (uint64_t)maps;
		p[512] = (uint64_t)maps; /* the second page */
		stores += 2;
		munmap((void *)p, 8192);
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[THREADS], m;
	void *mr;

	if (argc > 1)
		rounds = atoi(argv[1]);
	pthread_create(&m, NULL, memfd_worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, ring_worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(m, &mr);
	printf("RINGS %ld\nNOPS %ld %ld\nMEMFD %ld %ld\n", rings, rings * NOPS, completed, maps,
	       stores);
	return failed || mr || completed != rings * NOPS;
}
