/* SPDX-License-Identifier: MIT */
/*
 * pagecost [DIR]: what writing trace records costs by where they go, the
 * figure behind trace format 4's tail (bench/RESULTS.md section 11): 64 MiB
 * of 104-byte records (an ACCESS record's size) into fresh pages of a
 * file mapped 1 MiB at a time, into fresh pages through one window mapped
 * again and again at the same address, into fresh anonymous pages, into
 * the same file pages again, and through a 64 KiB buffer with pwrite.
 * The file is a temporary one in DIR (default: the current directory).
 * Prints one line per way: nanoseconds per record.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define WIN (1u << 20)
#define TOTAL (64u << 20)
#define REC 104

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* records written 8 bytes at a time, as the agent fills one */
static void fill(uint8_t *p, size_t n)
{
	for (size_t o = 0; o + REC <= n; o += REC) {
		uint64_t *q = (uint64_t *)(p + o);
		for (int i = 0; i < REC / 8; i++)
			q[i] = o + (uint64_t)i;
	}
}

static void *map_at(void *at, int fd, size_t off, int flags)
{
	void *p = mmap(at, WIN, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);

	if (p == MAP_FAILED) {
		perror("pagecost: mmap");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"fresh file pages, a new window each MiB",
		"fresh file pages, the same window",
		"fresh anonymous pages",
		"the same file pages again",
		"a 64 KiB buffer and pwrite",
	};
	static uint8_t buf[64 << 10];
	const char *dir = argc > 1 ? argv[1] : ".";
	char path[4096];

	for (int way = 0; way < 5; way++) {
		uint8_t *p = NULL;
		uint64_t t0;
		int fd;

		snprintf(path, sizeof(path), "%s/pagecost.XXXXXX", dir);
		fd = mkstemp(path);
		if (fd < 0 || unlink(path) || ftruncate(fd, TOTAL)) {
			perror("pagecost: a file in DIR");
			return 1;
		}
		t0 = now_ns();
		for (size_t off = 0; off < TOTAL; off += way == 4 ? sizeof(buf) : WIN) {
			switch (way) {
			case 0:
				p = map_at(NULL, fd, off, MAP_SHARED);
				fill(p, WIN);
				munmap(p, WIN);
				break;
			case 1:
				p = map_at(p, fd, off, MAP_SHARED | (p ? MAP_FIXED : 0));
				fill(p, WIN);
				break;
			case 2:
				p = map_at(NULL, -1, 0, MAP_PRIVATE | MAP_ANONYMOUS);
				fill(p, WIN);
				munmap(p, WIN);
				break;
			case 3:
				if (!p)
					p = map_at(NULL, fd, 0, MAP_SHARED);
				fill(p, WIN);
				break;
			case 4:
				fill(buf, sizeof(buf));
				if (pwrite(fd, buf, sizeof(buf), (off_t)off) !=
				    (ssize_t)sizeof(buf)) {
					perror("pagecost: pwrite");
					return 1;
				}
				break;
			}
		}
		printf("%-42s %6.1f ns per record\n", names[way],
		       (double)(now_ns() - t0) / (TOTAL / REC));
		if (p && (way == 1 || way == 3))
			munmap(p, WIN);
		close(fd);
	}
	return 0;
}
