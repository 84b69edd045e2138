/*
 * Traced memory handed to the kernel as a read/write buffer: the program
 * must see the same results as without mmscope (no EFAULT).  Prints the
 * return values and a checksum of the data that went through.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	int fd = memfd_create("mmscope-kbuf", 0), p[2], sv[2];
	char tmpl[] = "/tmp/mmscope-kbuf-XXXXXX";
	int f = mkstemp(tmpl);
	volatile uint8_t *m;
	unsigned sum = 0;

	if (fd < 0 || ftruncate(fd, 4096) < 0 || pipe(p) < 0 || f < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 2;
	unlink(tmpl);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	for (int i = 0; i < 64; i++)
		m[i] = (uint8_t)(i * 7);
	printf("write %zd\n", write(p[1], (const void *)m, 64));
	printf("read %zd\n", read(p[0], (void *)(m + 128), 64));
	printf("pwrite %zd\n", pwrite(f, (const void *)(m + 128), 64, 100));
	printf("pread %zd\n", pread(f, (void *)(m + 256), 64, 100));
	printf("send %zd\n", send(sv[0], (const void *)(m + 256), 64, 0));
	printf("recv %zd\n", recv(sv[1], (void *)(m + 512), 64, 0));
	for (int i = 0; i < 64; i++)
		sum = sum * 31 + m[512 + i];
	printf("checksum %u\n", sum);
	return 0;
}
