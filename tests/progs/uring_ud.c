/*
 * liburing ground truth for the peer suite: N NOPs, then (given a FILE)
 * reads of FILE in 4 KiB blocks to its end, submitted in batches of up to
 * 4 (so one io_uring_submit publishes several SQEs), each with its own
 * user_data.  Built twice from this file: uring_ud links liburing.so, and
 * uring_ud_static links liburing.a into the executable, so that the ring
 * set-up is the library's raw mmap syscalls with no liburing symbol for
 * an LD_PRELOAD library to interpose.
 *
 * Usage: uring_ud N [FILE]
 * Output: "RING ..." with the ring layout liburing got from the kernel
 * (offsets into each ring's own mapping, so that the test need not guess
 * them from the trace), "SQE <user_data> <opcode> <off>" per submission in
 * submission order, "CQE <user_data> <res>" per completion in reaping
 * order, then "SUBMITTED n" and "COMPLETED n" (completions with res >= 0).
 * user_data values are 0x5eed0000 + i (NOPs) and 0x7ead0000 + i (reads):
 * large enough that no other SQE field is mistaken for one.
 */
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UD_NOP 0x5eed0000ULL
#define UD_READ 0x7ead0000ULL
#define BATCH 4
#define BLK 4096

static char bufs[BATCH][BLK];

static long ring_off(const void *p, const void *base)
{
	return (const char *)p - (const char *)base;
}

int main(int argc, char **argv)
{
	struct io_uring ring;
	int nops = argc > 1 ? atoi(argv[1]) : 64, nreads = 0, fd = -1, sent = 0, done = 0;
	struct stat st;
	int r;

	if (argc > 2) {
		fd = open(argv[2], O_RDONLY);
		if (fd < 0 || fstat(fd, &st) != 0) {
			perror(argv[2]);
			return 2;
		}
		nreads = (st.st_size + BLK - 1) / BLK;
	}
	r = io_uring_queue_init(8, &ring, 0);
	if (r < 0) {
		printf("SETUP-FAILED %s\n", strerror(-r));
		return 2;
	}
	printf("RING entries=%u single_mmap=%d sq_tail=%#lx cq_head=%#lx cqes=%#lx\n",
	       ring.sq.ring_entries, ring.sq.ring_ptr == ring.cq.ring_ptr,
	       ring_off(ring.sq.ktail, ring.sq.ring_ptr), ring_off(ring.cq.khead, ring.cq.ring_ptr),
	       ring_off(ring.cq.cqes, ring.cq.ring_ptr));
	while (sent < nops + nreads) {
		int left = nops + nreads - sent;
		int batch = left < BATCH ? left : BATCH;

		for (int i = 0; i < batch; i++, sent++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			unsigned long long ud;
			unsigned long long off = 0;

			if (!sqe) {
				printf("NO-SQE at %d\n", sent);
				return 1;
			}
			if (sent < nops) {
				io_uring_prep_nop(sqe);
				ud = UD_NOP + sent;
			} else {
				off = (unsigned long long)(sent - nops) * BLK;
				io_uring_prep_read(sqe, fd, bufs[i], BLK, off);
				ud = UD_READ + (sent - nops);
			}
			io_uring_sqe_set_data64(sqe, ud);
			printf("SQE %llu %u %llu\n", ud, sqe->opcode, off);
		}
		r = io_uring_submit_and_wait(&ring, batch);
		if (r != batch) {
			printf("SUBMIT-FAILED %d\n", r);
			return 1;
		}
		for (int i = 0; i < batch; i++) {
			struct io_uring_cqe *cqe;
			unsigned long long ud;
			int res;

			if (io_uring_wait_cqe(&ring, &cqe) != 0) {
				printf("WAIT-FAILED\n");
				return 1;
			}
			/* each field read once: the trace must show one load of each */
			ud = cqe->user_data;
			res = cqe->res;
			printf("CQE %llu %d\n", ud, res);
			if (res >= 0)
				done++;
			io_uring_cqe_seen(&ring, cqe);
		}
	}
	io_uring_queue_exit(&ring);
	printf("SUBMITTED %d\nCOMPLETED %d\n", sent, done);
	return done == sent ? 0 : 1;
}
