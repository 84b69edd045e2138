/*
 * The program's own munmap/mremap/mprotect on a traced mapping behave as
 * without mmscope, and tracing follows the mapping.  Prints one line per
 * access to the traced object it makes ("ACCESS R|W <file offset> <value>")
 * and the results of its own calls; exits 1 on any surprise.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mmscope/mmscope.h>

#define PAGE 4096
static sigjmp_buf jb;
static volatile int segv_count;
static volatile void *segv_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	segv_count++;
	segv_addr = si->si_addr;
	siglongjmp(jb, 1);
}

static int fail;
#define CHECK(c)                                                             \
	do {                                                                 \
		if (!(c)) {                                                  \
			fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #c); \
			fail = 1;                                            \
		}                                                            \
	} while (0)

static void w32(volatile uint32_t *p, uint32_t v, long fileoff)
{
	*p = v;
	printf("ACCESS W 0x%lx 0x%x\n", fileoff, v);
}

static uint32_t r32(volatile uint32_t *p, long fileoff)
{
	uint32_t v = *p;
	printf("ACCESS R 0x%lx 0x%x\n", fileoff, v);
	return v;
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	int fd = memfd_create("mmscope-remap", 0);
	char *p, *q;

	sigaction(SIGSEGV, &sa, NULL);
	CHECK(fd >= 0 && ftruncate(fd, 4 * PAGE) == 0);
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(p != MAP_FAILED);
	mmscope_mark("mapped");
	w32((uint32_t *)(p + 0x10), 0x1111, 0x10);
	w32((uint32_t *)(p + PAGE + 0x20), 0x2222, PAGE + 0x20);

	/* grow and (maybe) move: old contents follow, the new page is traced too */
	mmscope_mark("mremap");
	q = mremap(p, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED);
	CHECK(r32((uint32_t *)(q + 0x10), 0x10) == 0x1111);
	w32((uint32_t *)(q + 3 * PAGE + 0x30), 0x3333, 3 * PAGE + 0x30);

	/* read-only: the program's own write faults reach its own handler */
	mmscope_mark("mprotect");
	CHECK(mprotect(q, PAGE, PROT_READ) == 0);
	CHECK(r32((uint32_t *)(q + 0x10), 0x10) == 0x1111);
	if (!sigsetjmp(jb, 1))
		*(volatile uint32_t *)(q + 0x14) = 0xdead;
	CHECK(segv_count == 1 && segv_addr == q + 0x14);
	printf("own handler ran %d time(s)\n", segv_count);
	CHECK(mprotect(q, PAGE, PROT_READ | PROT_WRITE) == 0);
	w32((uint32_t *)(q + 0x14), 0x4444, 0x14);

	/* unmap the first half: the rest stays traced, the hole really is gone */
	mmscope_mark("munmap");
	CHECK(munmap(q, 2 * PAGE) == 0);
	CHECK(r32((uint32_t *)(q + 3 * PAGE + 0x30), 3 * PAGE + 0x30) == 0x3333);
	if (!sigsetjmp(jb, 1))
		(void)*(volatile uint32_t *)q;
	CHECK(segv_count == 2);
	CHECK(munmap(q + 2 * PAGE, 2 * PAGE) == 0);
	CHECK(munmap(q, PAGE) == 0); /* unmapping a hole is not an error */
	printf("own handler ran %d time(s)\n", segv_count);
	return fail;
}
