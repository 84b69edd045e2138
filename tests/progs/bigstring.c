/* SPDX-License-Identifier: MIT */
/*
 * bigstring: long REP string instructions on a traced 64 KiB memfd
 * ("mmscope-big"): REP STOSB of the whole mapping with 0x5a, then REP
 * MOVSB of 20000 bytes from offset 0x8000 down to offset 0 after filling
 * the source with i % 251, then REP STOSQ of 1000 quadwords at 0x8000.
 * mmscope records each as runs of several records (a run record holds at
 * most 4096 bytes), crossing stream blocks.  Prints "STOSB <n>", "MOVSB
 * <n>", "STOSQ <n>" and "CHECK ok|bad".
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define LEN 65536

int main(void)
{
	int fd = memfd_create("mmscope-big", 0), bad = 0;
	uint8_t *p;
	void *d, *s;
	uint64_t c;

	if (fd < 0 || ftruncate(fd, LEN) < 0)
		return 1;
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 1;
	d = p, c = LEN;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(c) : "a"(0x5a) : "memory");
	printf("STOSB %d\n", LEN);
	/* the source through the descriptor: no traced accesses */
	for (int i = 0; i < 20000; i++) {
		uint8_t v = (uint8_t)(i % 251);
		if (pwrite(fd, &v, 1, 0x8000 + i) != 1)
			return 1;
	}
	d = p, s = p + 0x8000, c = 20000;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
	printf("MOVSB 20000\n");
	d = p + 0x8000, c = 1000;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(c) : "a"(0x1122334455667788ull) : "memory");
	printf("STOSQ 1000\n");
	for (int i = 0; i < 20000 && !bad; i++) {
		uint8_t v;
		bad = pread(fd, &v, 1, i) != 1 || v != (uint8_t)(i % 251);
	}
	printf("CHECK %s\n", bad ? "bad" : "ok");
	return bad;
}
