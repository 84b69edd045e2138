/* SPDX-License-Identifier: MIT */
/*
 * uring_chroot: chroot into an empty directory (as liburing's
 * sendmsg_fs_cve test does), then set up an io_uring ring and submit NOPs
 * from a thread created after the chroot, and map a memfd
 * ("mmscope-chroot") and store to it.  Nothing of /proc or the trace
 * directory is reachable by path any more.  Without root, a user
 * namespace gives the right to chroot.
 *
 * Output: "DIR <path>" (the empty directory, for the caller to remove),
 * "CHROOT ok", "NOPS <submitted> <completed>", "STORE c <offset>
 * <value>" lines (hex), or "SKIP <reason>" and exit 77.
 */
#include <liburing.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOPS 16

static void *ring_thread(void *arg)
{
	struct io_uring ring;
	int done = 0;

	(void)arg;
	if (io_uring_queue_init(8, &ring, 0) < 0)
		return (void *)-1L;
	for (int i = 0; i < NOPS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, 500 + i);
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe) == 0 && cqe->user_data == (uint64_t)(500 + i))
			done++;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return (void *)(long)done;
}

int main(void)
{
	char dir[] = "/tmp/mmscope-chroot-XXXXXX";
	pthread_t t;
	void *done;
	volatile uint32_t *p;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!mkdtemp(dir)) {
		printf("SKIP mkdtemp failed\n");
		return 77;
	}
	printf("DIR %s\n", dir);
	if (chroot(dir) < 0 && (unshare(CLONE_NEWUSER) < 0 || chroot(dir) < 0)) {
		printf("SKIP cannot chroot, not even in a user namespace\n");
		rmdir(dir);
		return 77;
	}
	if (chdir("/") < 0)
		return 1;
	printf("CHROOT ok\n");
	pthread_create(&t, NULL, ring_thread, NULL);
	pthread_join(t, &done);
	printf("NOPS %d %ld\n", NOPS, (long)done);
	fd = memfd_create("mmscope-chroot", 0);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	p[3] = 0xc0ffee;
	printf("STORE c c c0ffee\n");
	munmap((void *)p, 4096);
	/* the directory is gone from view; the test removes it */
	return (long)done == NOPS ? 0 : 1;
}
