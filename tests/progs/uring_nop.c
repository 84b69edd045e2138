/*
 * liburing (which maps its rings with raw syscalls) submitting NOPs one
 * at a time; prints the number submitted and completed.
 */
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct io_uring ring;
	int n = argc > 1 ? atoi(argv[1]) : 16, done = 0;
	int r = io_uring_queue_init(8, &ring, 0);

	if (r < 0) {
		printf("SETUP-FAILED %s\n", strerror(-r));
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;

		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, 1000 + i);
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe) == 0 && cqe->user_data == (uint64_t)(1000 + i))
			done++;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	printf("SUBMITTED %d\nCOMPLETED %d\n", n, done);
	return done == n ? 0 : 1;
}
