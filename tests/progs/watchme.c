/* SPDX-License-Identifier: MIT */
/*
 * watchme: globals that tests watch, accessed with one known instruction
 * each, printing the ground truth a watchpoint must report.
 *
 *   watchme basic      stores and loads of counter, table[3], table[4] and
 *                      two neighbours; a LOCK XADD on counter
 *   watchme threads N  N threads: LOCK INC of hammer and plain stores to
 *                      its neighbour, 10000 each; prints the final value
 *   watchme many       one store to each of many[0..63]
 *   watchme tz         tzset(): glibc stores the TZ offset in its own
 *                      `timezone` (this program never names it)
 *   watchme big        stores to big[0], big[600] and big[1023]: an 8 KiB
 *                      array over three pages
 *   watchme unmap      a store to gone[0], then munmap of gone's page
 *   watchme step N     two threads on one watched page (stepmate): one
 *                      makes N plain 8-byte stores, the other N MASKMOVDQU
 *                      stores (single-stepped by mmscope, which parks the
 *                      first thread each time); prints "STEP <stores>
 *                      <maskmovs> <store pc> <maskmov pc>" and the final
 *                      bytes of the table as "TABLE <hex>"
 *   watchme syscall    read() from a pipe into iobuf, write() it back out,
 *                      read that into echo: the kernel accesses iobuf;
 *                      prints "READ <n> <text>" and "ECHO <n> <text>"
 *
 * Output, in program order (8-byte accesses):
 *   "W <name> <old> <new> <pc> <ret>"   a store (old: the value before it;
 *                                 ret: where w() returns to, the caller)
 *   "R <name> <value> <pc>"       a load
 *   "X <name> <old> <new> <pc>"   a LOCK XADD (reads and writes)
 * with values and pc in hex.  pc is the address of the instruction.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

volatile uint64_t before_counter;
volatile uint64_t counter;
volatile uint64_t after_counter;
volatile uint64_t table[8];
volatile uint64_t hammer;
volatile uint64_t hammer_neighbour;
volatile uint64_t many[64];
char iobuf[16];
volatile uint64_t big[1024];
volatile uint64_t gone[512] __attribute__((aligned(4096)));
static char echo[16];
/* one page: the plain stores go to slots, the stepped ones to table */
struct stepmate {
	volatile uint64_t slots[8];
	uint8_t table[16] __attribute__((aligned(16)));
};
struct stepmate stepmate __attribute__((aligned(4096)));

/* One MOV store / load / LOCK XADD, reporting the instruction's address. */
static uint64_t store(volatile uint64_t *p, uint64_t v)
{
	uint64_t pc;
	__asm__ volatile("lea 1f(%%rip), %0\n1:\tmovq %2, %1"
			 : "=&r"(pc), "=m"(*p)
			 : "r"(v)
			 : "memory");
	return pc;
}

static uint64_t load(volatile uint64_t *p, uint64_t *v)
{
	uint64_t pc;
	__asm__ volatile("lea 1f(%%rip), %0\n1:\tmovq %2, %1"
			 : "=&r"(pc), "=r"(*v)
			 : "m"(*p)
			 : "memory");
	return pc;
}

static uint64_t xadd(volatile uint64_t *p, uint64_t *v)
{
	uint64_t pc;
	__asm__ volatile("lea 1f(%%rip), %0\n1:\tlock xaddq %1, %2"
			 : "=&r"(pc), "+r"(*v), "+m"(*p)
			 :
			 : "memory");
	return pc;
}

/* What the program last stored or loaded at each address: the "old" value
 * of the next store, known without another load the watch would see. */
static struct {
	volatile uint64_t *p;
	uint64_t v;
} model[128];

static uint64_t *model_of(volatile uint64_t *p)
{
	int i = 0;

	while (model[i].p && model[i].p != p)
		i++;
	model[i].p = p;
	return &model[i].v;
}

/* noinline: its return address is the second frame of a hit's call chain */
static __attribute__((noinline)) void w(const char *name, volatile uint64_t *p, uint64_t v)
{
	uint64_t old = *model_of(p), pc = store(p, v);

	*model_of(p) = v;
	printf("W %s %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 "\n", name, old, v, pc,
	       (uint64_t)__builtin_return_address(0));
}

static void r(const char *name, volatile uint64_t *p)
{
	uint64_t v, pc = load(p, &v);

	*model_of(p) = v;
	printf("R %s %" PRIx64 " %" PRIx64 "\n", name, v, pc);
}

static void x(const char *name, volatile uint64_t *p, uint64_t add)
{
	uint64_t v = add, pc = xadd(p, &v);

	*model_of(p) = v + add;
	printf("X %s %" PRIx64 " %" PRIx64 " %" PRIx64 "\n", name, v, v + add, pc);
}

static int basic(void)
{
	w("counter", &counter, 1);
	w("before_counter", &before_counter, 0x11);
	w("counter", &counter, 2);
	r("counter", &counter);
	w("after_counter", &after_counter, 0x22);
	w("table[3]", &table[3], 0x3333);
	w("table[4]", &table[4], 0x4444);
	w("table[3]", &table[3], 0x3334);
	r("table[4]", &table[4]);
	x("counter", &counter, 5);
	w("counter", &counter, 2); /* the same value again */
	r("counter", &counter);
	return 0;
}

static void *hammer_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10000; i++) {
		__asm__ volatile("lock incq %0" : "+m"(hammer) : : "memory");
		hammer_neighbour = (uint64_t)i;
	}
	return NULL;
}

static int threads(int n)
{
	pthread_t t[64];

	if (n < 1 || n > 64)
		return 2;
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, hammer_thread, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("HAMMER %" PRIu64 "\n", hammer);
	return hammer == (uint64_t)n * 10000 ? 0 : 1;
}

static long step_n;
static uint64_t step_store_pc;

static void *step_storer(void *arg)
{
	(void)arg;
	for (long i = 0; i < step_n; i++)
		step_store_pc = store(&stepmate.slots[i & 7], (uint64_t)i);
	return NULL;
}

static int stepping(long n)
{
	pthread_t t;
	uint64_t pc = 0;

	step_n = n;
	pthread_create(&t, NULL, step_storer, NULL);
	for (long i = 0; i < n; i++) {
		/* store byte i to the odd bytes of table (mask words 0x8000) */
		__asm__ volatile("lea 1f(%%rip), %0\n"
				 "movd %k1, %%xmm0\n"
				 "punpcklbw %%xmm0, %%xmm0\n"
				 "pshuflw $0, %%xmm0, %%xmm0\n"
				 "pshufd $0, %%xmm0, %%xmm0\n"
				 "pcmpeqd %%xmm1, %%xmm1\n"
				 "psllw $15, %%xmm1\n"
				 "1:\tmaskmovdqu %%xmm1, %%xmm0"
				 : "=&r"(pc)
				 : "r"((uint32_t)(uint8_t)i), "D"(stepmate.table)
				 : "xmm0", "xmm1", "memory");
	}
	pthread_join(t, NULL);
	printf("STEP %ld %ld %" PRIx64 " %" PRIx64 "\nTABLE ", n, n, step_store_pc, pc);
	for (int i = 0; i < 16; i++)
		printf("%02x", stepmate.table[i]);
	printf("\n");
	return 0;
}

static int many_stores(void)
{
	char name[16];

	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "many[%d]", i);
		w(name, &many[i], 0x100 + (uint64_t)i);
	}
	return 0;
}

static int syscalls(void)
{
	int p[2];
	ssize_t n;

	if (pipe(p) < 0)
		return 1;
	if (write(p[1], "hello, watcher!", 16) != 16)
		return 1;
	n = read(p[0], iobuf, sizeof(iobuf));
	printf("READ %zd %s\n", n, iobuf);
	if (write(p[1], iobuf, sizeof(iobuf)) != 16)
		return 1;
	n = read(p[0], echo, sizeof(echo));
	printf("ECHO %zd %s\n", n, echo);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "basic"))
		return basic();
	if (argc >= 3 && !strcmp(argv[1], "threads"))
		return threads(atoi(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "many"))
		return many_stores();
	if (argc >= 2 && !strcmp(argv[1], "unmap")) {
		w("gone[0]", &gone[0], 0x90e);
		return munmap((void *)gone, sizeof(gone)) ? 1 : 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "big")) {
		w("big[0]", &big[0], 0xb0);
		w("big[600]", &big[600], 0xb600);
		w("big[1023]", &big[1023], 0xb1023);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "syscall"))
		return syscalls();
	if (argc >= 3 && !strcmp(argv[1], "step"))
		return stepping(atol(argv[2]));
	if (argc >= 2 && !strcmp(argv[1], "tz")) {
		tzset();
		return 0;
	}
	fprintf(stderr,
		"usage: watchme basic | threads N | many | tz | syscall | big | unmap | step N\n");
	return 2;
}
