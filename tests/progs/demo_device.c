/*
 * A pretend device for `make demo`: a register block in a /dev/shm file,
 * driven the way a userspace driver drives a BAR.  Prints what it did.
 *
 * Register map (32-bit): 0x00 ID (ro), 0x04 CTRL, 0x08 STATUS, 0x0c DOORBELL,
 * 0x40.. a 64-byte descriptor the driver fills with one vector store.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mmscope/mmscope.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/shm/mmscope-demo-bar0";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		perror(path);
		return 1;
	}
	volatile uint32_t *bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	mmscope_mark("reset");
	bar[0] = 0x8086beef; /* the "hardware" ID, set up by the test bench */
	uint32_t id = bar[0];
	bar[1] = 1; /* CTRL: reset */
	bar[1] = 0;
	mmscope_mark("program descriptor");
	uint64_t desc[8];
	for (int i = 0; i < 8; i++)
		desc[i] = 0x1000ull * (i + 1);
	memcpy((void *)&bar[16], desc, sizeof(desc));
	mmscope_mark("ring doorbell");
	for (int i = 0; i < 3; i++) {
		__atomic_fetch_add(&bar[3], 1, __ATOMIC_SEQ_CST);
		bar[2] |= 1u << i; /* STATUS: read-modify-write */
	}
	printf("device id 0x%08x, status 0x%x, doorbell %u\n", id, bar[2], bar[3]);
	munmap((void *)bar, 4096);
	close(fd);
	unlink(path);
	return 0;
}
