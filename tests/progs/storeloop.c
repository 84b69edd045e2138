/* SPDX-License-Identifier: MIT */
/*
 * storeloop N [CHILDREN]: N 8-byte stores of distinct values (i + 1) to a
 * memfd mapping ("mmscope-loop"), cycling over its 4096 bytes, then checks
 * them.  With CHILDREN, that many forked children each make one store to
 * their own slot and exit.
 * Output: "STORES <n>", "CHILDREN <n>", "CHECK ok|bad".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000, children = argc > 2 ? atol(argv[2]) : 0;
	int fd = memfd_create("mmscope-loop", 0), bad = 0;
	volatile uint64_t *p;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fd < 0 || ftruncate(fd, 8192) < 0)
		return 1;
	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	for (long i = 0; i < n; i++)
		p[i % 512] = (uint64_t)i + 1;
	printf("STORES %ld\n", n);
	for (long c = 0; c < children; c++) {
		pid_t pid = fork();
		if (pid == 0) {
			p[512 + c % 512] = (uint64_t)c;
			_exit(0);
		}
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			bad = 1;
	}
	printf("CHILDREN %ld\n", children);
	for (long i = n > 512 ? n - 512 : 0; i < n; i++)
		if (p[i % 512] != (uint64_t)i + 1)
			bad = 1;
	printf("CHECK %s\n", bad ? "bad" : "ok");
	return bad;
}
