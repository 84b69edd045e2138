/*
 * Watchpoint decisions and the engine's path for watched private pages,
 * without signals: which accesses hit a watch, what one debug register can
 * watch, which pages a watch arms, and how an instruction on a region
 * without alias is completed through the peek/poke callbacks (a LOCK XADD
 * becomes one read and one write, with both values known).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "engine/emulate.h"
#include "engine/watch.h"
#include "mmscope/trace-format.h"

#define PAGE 4096

static void watch_hits_by_type_and_overlap(void **state)
{
	struct watch w = { .addr = 0x1000, .len = 8, .type = MMS_WATCH_WRITE };
	uint64_t lo, hi;
	(void)state;
	assert_true(watch_hits(&w, 0x1004, 8, MMS_DIR_WRITE, &lo, &hi));
	assert_int_equal(lo, 0x1004);
	assert_int_equal(hi, 0x1008);
	assert_false(watch_hits(&w, 0x1004, 8, MMS_DIR_READ, &lo, &hi));  /* w only */
	assert_false(watch_hits(&w, 0x1008, 8, MMS_DIR_WRITE, &lo, &hi)); /* next byte */
	assert_false(watch_hits(&w, 0x0ff8, 8, MMS_DIR_WRITE, &lo, &hi)); /* just before */
	assert_true(watch_hits(&w, 0x0ff9, 8, MMS_DIR_WRITE, &lo, &hi));
	assert_int_equal(lo, 0x1000);
	assert_int_equal(hi, 0x1001);
	w.type = MMS_WATCH_READ;
	assert_true(watch_hits(&w, 0x1000, 1, MMS_DIR_READ, &lo, &hi));
	assert_false(watch_hits(&w, 0x1000, 1, MMS_DIR_WRITE, &lo, &hi));
	/* direction 0: any access, for keeping the watched value */
	assert_true(watch_hits(&w, 0x1000, 1, 0, &lo, &hi));
}

static void hw_capable_only_what_one_register_does_exactly(void **state)
{
	struct watch w = { .addr = 0x1000, .len = 8, .type = MMS_WATCH_WRITE };
	(void)state;
	assert_true(watch_hw_capable(&w, 0xf));
	assert_false(watch_hw_capable(&w, 0x7)); /* length 8 does not fire here */
	w.type = MMS_WATCH_RW;
	assert_true(watch_hw_capable(&w, 0xf));
	w.type = MMS_WATCH_READ; /* x86: no read-only breakpoint */
	assert_false(watch_hw_capable(&w, 0xf));
	w.type = MMS_WATCH_WRITE;
	w.addr = 0x1004; /* misaligned */
	assert_false(watch_hw_capable(&w, 0xf));
	w.len = 4;
	assert_true(watch_hw_capable(&w, 0xf));
	w.len = 3;
	assert_false(watch_hw_capable(&w, 0xf));
	w.len = 16;
	w.addr = 0x1000;
	assert_false(watch_hw_capable(&w, 0xf));
}

static void pages_cover_every_byte(void **state)
{
	struct watch w = { .addr = 0x1ffc, .len = 8, .type = MMS_WATCH_WRITE };
	uint64_t first, end;
	(void)state;
	watch_pages(&w, &first, &end);
	assert_int_equal(first, 0x1000);
	assert_int_equal(end, 0x3000); /* straddles two pages */
	w.addr = 0x5000;
	w.len = 3 * PAGE;
	watch_pages(&w, &first, &end);
	assert_int_equal(first, 0x5000);
	assert_int_equal(end, 0x8000);
	assert_false(watch_needs_reads(&w));
	w.type = MMS_WATCH_RW;
	assert_true(watch_needs_reads(&w));
}

/* ---- a region without alias, completed through peek/poke ---- */

static struct region_table table;
static uint8_t *view, *backing, *code, *xol, *scratch;
static int peeks, pokes;
static struct emu_access recs[8];
static uint8_t rec_values[8][64];
static int nrecs;

static int peek(uint64_t addr, void *buf, unsigned len)
{
	peeks++;
	memcpy(buf, backing + (addr - (uint64_t)view), len);
	return 0;
}

static int poke(uint64_t addr, const void *buf, unsigned len)
{
	pokes++;
	memcpy(backing + (addr - (uint64_t)view), buf, len);
	return 0;
}

static void on_record(void *arg, const struct insn *in, const struct cpu *c,
		      const struct emu_access *a)
{
	(void)arg;
	(void)in;
	(void)c;
	recs[nrecs] = *a;
	if (a->value)
		memcpy(rec_values[nrecs], a->value, a->width);
	nrecs++;
}

static int setup(void **state)
{
	(void)state;
	view = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	backing = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	xol = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	scratch = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct region r = { .start = (uint64_t)view,
			    .end = (uint64_t)view + PAGE,
			    .base = (uint64_t)view,
			    .alias = NULL,
			    .prot = PROT_READ | PROT_WRITE,
			    .flags = REGION_WATCH };
	region_add(&table, &r);
	emu_init();
	return 0;
}

static int reset(void **state)
{
	(void)state;
	memset(backing, 0, PAGE);
	peeks = pokes = nrecs = 0;
	return 0;
}

static enum emu_result run(const char *bytes, size_t n, struct cpu *c)
{
	struct emu_ctx e = { .regions = &table,
			     .scratch = scratch,
			     .code = xol,
			     .record = on_record,
			     .peek = peek,
			     .poke = poke };
	struct insn in;

	memcpy(code, bytes, n);
	c->rip = (uint64_t)code;
	assert_int_equal(insn_decode(&in, code, 15), 0);
	return emu_complete(&e, &in, c);
}

static void store_goes_through_poke(void **state)
{
	struct cpu c = { 0 };
	uint64_t got;
	(void)state;
	c.gpr[GPR_RBX] = (uint64_t)view + 24;
	c.gpr[GPR_RCX] = 0x0102030405060708ull;
	assert_int_equal(run("\x48\x89\x0b", 3, &c), EMU_DONE); /* mov [rbx],rcx */
	memcpy(&got, backing + 24, 8);
	assert_int_equal(got, 0x0102030405060708ull);
	assert_int_equal(pokes, 1);
	assert_int_equal(peeks, 0); /* a store reads nothing */
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].dir, MMS_DIR_WRITE);
	assert_int_equal(recs[0].rflags, REGION_WATCH);
	assert_int_equal(recs[0].offset, 24);
}

static void locked_add_is_read_modify_write_with_both_values(void **state)
{
	struct cpu c = { 0 };
	uint64_t v = 40, got, old, new;
	(void)state;
	memcpy(backing + 8, &v, 8);
	c.gpr[GPR_RBX] = (uint64_t)view + 8;
	c.gpr[GPR_RAX] = 2;
	/* lock xadd [rbx],rax */
	assert_int_equal(run("\xf0\x48\x0f\xc1\x03", 5, &c), EMU_DONE);
	memcpy(&got, backing + 8, 8);
	assert_int_equal(got, 42);
	assert_int_equal(c.gpr[GPR_RAX], 40); /* XADD returns the old value */
	assert_int_equal(peeks, 1);
	assert_int_equal(pokes, 1);
	assert_int_equal(nrecs, 2);
	assert_int_equal(recs[0].dir, MMS_DIR_READ);
	assert_int_equal(recs[1].dir, MMS_DIR_WRITE);
	assert_true(recs[0].flags & MMS_AF_LOCKED);
	assert_true(recs[1].flags & MMS_AF_LOCKED);
	memcpy(&old, rec_values[0], 8);
	memcpy(&new, rec_values[1], 8);
	assert_int_equal(old, 40);
	assert_int_equal(new, 42);
}

static void load_goes_through_peek(void **state)
{
	struct cpu c = { 0 };
	uint32_t v = 0xcafef00d;
	(void)state;
	memcpy(backing + 100, &v, 4);
	c.gpr[GPR_RSI] = (uint64_t)view + 100;
	assert_int_equal(run("\x8b\x06", 2, &c), EMU_DONE); /* mov eax,[rsi] */
	assert_int_equal(c.gpr[GPR_RAX], 0xcafef00d);
	assert_int_equal(peeks, 1);
	assert_int_equal(pokes, 0);
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].dir, MMS_DIR_READ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(watch_hits_by_type_and_overlap),
		cmocka_unit_test(hw_capable_only_what_one_register_does_exactly),
		cmocka_unit_test(pages_cover_every_byte),
		cmocka_unit_test_setup(store_goes_through_poke, reset),
		cmocka_unit_test_setup(locked_add_is_read_modify_write_with_both_values, reset),
		cmocka_unit_test_setup(load_goes_through_peek, reset),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
