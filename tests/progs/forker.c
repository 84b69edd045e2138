/* SPDX-License-Identifier: MIT */
/*
 * forker: processes made by a traced program, and what it turns into.
 *
 *   forker fork              parent maps memfd "mmscope-forker", writes,
 *                            forks; the child reads/writes and exits; the
 *                            parent waits, then reads/writes again
 *   forker exec              maps memfd "mmscope-forker-exec", writes, then
 *                            execv("/proc/self/exe", "exec-stage2", FD): the
 *                            new image maps the same memfd, reads and writes
 *   forker exec-static PROG  maps and writes the memfd, then execs the
 *                            statically linked PROG (forker_static)
 *
 * Output: "PID <role> <pid>" for each process role (parent, child, stage1,
 * stage2), and every traced access, all 8 bytes wide, as
 * "ACCESS <pid> R|W 0x<offset> 0x<value>", in the order each process made
 * them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096

static void store64(volatile uint64_t *p, uint64_t v)
{
	asm volatile("movq %1, %0" : "=m"(*p) : "r"(v) : "memory");
}

static uint64_t load64(volatile uint64_t *p)
{
	uint64_t v;

	asm volatile("movq %1, %0" : "=r"(v) : "m"(*p) : "memory");
	return v;
}

static void put(volatile uint64_t *base, unsigned idx, uint64_t v)
{
	store64(&base[idx], v);
	printf("ACCESS %d W 0x%x 0x%llx\n", (int)getpid(), idx * 8, (unsigned long long)v);
}

static uint64_t get(volatile uint64_t *base, unsigned idx)
{
	uint64_t v = load64(&base[idx]);

	printf("ACCESS %d R 0x%x 0x%llx\n", (int)getpid(), idx * 8, (unsigned long long)v);
	return v;
}

static volatile uint64_t *map_fd(int fd)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		perror("forker: mmap");
		exit(2);
	}
	return p;
}

static int new_memfd(const char *name)
{
	int fd = memfd_create(name, 0); /* no CLOEXEC: exec keeps it */

	if (fd < 0 || ftruncate(fd, PAGE) < 0) {
		perror("forker: memfd");
		exit(2);
	}
	return fd;
}

static int mode_fork(void)
{
	volatile uint64_t *m = map_fd(new_memfd("mmscope-forker"));
	int status, bad = 0;
	pid_t child;

	printf("PID parent %d\n", (int)getpid());
	put(m, 0, 0x1111);
	fflush(stdout); /* nothing buffered may go to the child */
	child = fork();
	if (child < 0) {
		perror("forker: fork");
		return 2;
	}
	if (child == 0) {
		printf("PID child %d\n", (int)getpid());
		if (get(m, 0) != 0x1111)
			bad = 1;
		put(m, 1, 0x2222);
		if (get(m, 1) != 0x2222)
			bad = 1;
		fflush(stdout);
		_exit(bad);
	}
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("child failed (status 0x%x)\n", status);
		return 1;
	}
	if (get(m, 1) != 0x2222)
		bad = 1;
	put(m, 2, 0x3333);
	return bad;
}

static int mode_exec(const char *self_name)
{
	int fd = new_memfd("mmscope-forker-exec");
	volatile uint64_t *m = map_fd(fd);
	char fdarg[16];

	printf("PID stage1 %d\n", (int)getpid());
	put(m, 0, 0xe1);
	fflush(stdout);
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	char *args[] = { (char *)self_name, "exec-stage2", fdarg, NULL };
	execv("/proc/self/exe", args);
	perror("forker: execv /proc/self/exe");
	return 2;
}

static int mode_exec_stage2(const char *fdarg)
{
	volatile uint64_t *m = map_fd(atoi(fdarg));
	int bad = 0;

	printf("PID stage2 %d\n", (int)getpid());
	if (get(m, 0) != 0xe1)
		bad = 1;
	put(m, 1, 0xe2);
	return bad;
}

static int mode_exec_static(const char *path)
{
	int fd = new_memfd("mmscope-forker-exec");
	volatile uint64_t *m = map_fd(fd);
	char fdarg[16];

	printf("PID stage1 %d\n", (int)getpid());
	put(m, 0, 0x5e);
	fflush(stdout);
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	char *args[] = { (char *)path, fdarg, NULL };
	execv(path, args);
	perror("forker: execv");
	return 2;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "fork";

	if (!strcmp(mode, "fork"))
		return mode_fork();
	if (!strcmp(mode, "exec"))
		return mode_exec(argv[0]);
	if (!strcmp(mode, "exec-stage2") && argc > 2)
		return mode_exec_stage2(argv[2]);
	if (!strcmp(mode, "exec-static") && argc > 2)
		return mode_exec_static(argv[2]);
	fprintf(stderr, "usage: forker fork | exec | exec-static PROG\n");
	return 2;
}
