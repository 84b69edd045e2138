/*
 * The engine completes an access exactly once, without signals: a region
 * whose "program view" is an address range and whose alias is a buffer,
 * an instruction in a code buffer, a register state -- emu_complete() must
 * touch the alias with the right width, update the registers, advance RIP
 * and report exactly the accesses the instruction made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "engine/emulate.h"
#include "engine/icache.h"
#include "mmscope/trace-format.h"

#define PAGE 4096

static struct region_table table;
static uint8_t *view;  /* two pages: [0] traced, [1] untraced */
static uint8_t *alias; /* the traced page's real backing */
static uint8_t *code, *xol, *scratch;

struct rec {
	uint64_t offset;
	int width, dir, flags;
	uint8_t value[64];
	int known;
};
static struct rec recs[64];
static int nrecs;

static void on_record(void *arg, const struct insn *in, const struct cpu *c,
		      const struct emu_access *a)
{
	struct rec *r = &recs[nrecs++];
	r->offset = a->offset;
	r->width = a->width;
	r->dir = a->dir;
	r->flags = a->flags;
	r->known = a->value != NULL;
	if (a->value)
		memcpy(r->value, a->value, a->width);
}

static uint64_t rec_u64(const struct rec *r)
{
	uint64_t v = 0;
	memcpy(&v, r->value, r->width > 8 ? 8 : r->width);
	return v;
}

static int setup(void **state)
{
	view = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	alias = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	xol = mmap(NULL, PAGE * 2, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	scratch = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* the program view of the traced page is inaccessible, as when armed */
	mprotect(view, PAGE, PROT_NONE);
	memset(&table, 0, sizeof(table));
	struct region r = { .start = (uint64_t)view,
			    .end = (uint64_t)view + PAGE,
			    .alias = alias,
			    .prot = PROT_READ | PROT_WRITE };
	region_add(&table, &r);
	emu_init();
	return 0;
}

static int reset(void **state)
{
	memset(alias, 0, PAGE);
	memset(view + PAGE, 0, PAGE);
	nrecs = 0;
	return 0;
}

static enum emu_result run(const char *bytes, size_t n, struct cpu *c)
{
	struct emu_ctx e = {
		.regions = &table, .scratch = scratch, .code = xol, .record = on_record
	};
	struct insn in;

	memcpy(code, bytes, n);
	c->rip = (uint64_t)code;
	assert_int_equal(insn_decode(&in, code, 15), 0);
	return emu_complete(&e, &in, c);
}

static void test_load_reads_alias_once_and_sets_register(void **state)
{
	struct cpu c = { 0 };
	uint32_t v = 0xdeadbeef;

	memcpy(alias + 8, &v, 4);
	c.gpr[GPR_RBX] = (uint64_t)view;
	c.gpr[GPR_RAX] = ~0ull;
	assert_int_equal(run("\x8b\x43\x08", 3, &c), EMU_DONE); /* mov eax,[rbx+8] */
	assert_int_equal(c.gpr[GPR_RAX], 0xdeadbeef);		/* zero-extended */
	assert_int_equal(c.rip, (uint64_t)code + 3);
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].dir, MMS_DIR_READ);
	assert_int_equal(recs[0].offset, 8);
	assert_int_equal(recs[0].width, 4);
	assert_int_equal(rec_u64(&recs[0]), 0xdeadbeef);
}

static void test_store_writes_alias_with_value(void **state)
{
	struct cpu c = { 0 };
	uint64_t got;

	c.gpr[GPR_RBX] = (uint64_t)view + 16;
	c.gpr[GPR_RCX] = 0x1122334455667788ull;
	assert_int_equal(run("\x48\x89\x0b", 3, &c), EMU_DONE); /* mov [rbx],rcx */
	memcpy(&got, alias + 16, 8);
	assert_int_equal(got, 0x1122334455667788ull);
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].dir, MMS_DIR_WRITE);
	assert_int_equal(rec_u64(&recs[0]), 0x1122334455667788ull);
}

static void test_rmw_records_old_then_new(void **state)
{
	struct cpu c = { 0 };
	uint32_t v = 40, got;

	memcpy(alias, &v, 4);
	c.gpr[GPR_RBX] = (uint64_t)view;
	assert_int_equal(run("\x83\x03\x02", 3, &c), EMU_DONE); /* add dword [rbx],2 */
	memcpy(&got, alias, 4);
	assert_int_equal(got, 42);
	assert_int_equal(nrecs, 2);
	assert_int_equal(recs[0].dir, MMS_DIR_READ);
	assert_int_equal(rec_u64(&recs[0]), 40);
	assert_int_equal(recs[1].dir, MMS_DIR_WRITE);
	assert_int_equal(rec_u64(&recs[1]), 42);
}

static void test_lock_xadd_runs_on_alias_and_reveals_values(void **state)
{
	struct cpu c = { 0 };
	uint32_t v = 7, got;

	memcpy(alias, &v, 4);
	c.gpr[GPR_RBX] = (uint64_t)view;
	c.gpr[GPR_RAX] = 5;
	assert_int_equal(run("\xf0\x0f\xc1\x03", 4, &c), EMU_DONE); /* lock xadd [rbx],eax */
	memcpy(&got, alias, 4);
	assert_int_equal(got, 12);
	assert_int_equal(c.gpr[GPR_RAX], 7);
	assert_int_equal(nrecs, 2);
	assert_true(recs[0].flags & MMS_AF_LOCKED);
	assert_int_equal(rec_u64(&recs[0]), 7);
	assert_int_equal(rec_u64(&recs[1]), 12);
}

static void test_lock_add_value_is_unknown(void **state)
{
	struct cpu c = { 0 };
	uint32_t got;

	c.gpr[GPR_RBX] = (uint64_t)view;
	assert_int_equal(run("\xf0\x83\x03\x01", 4, &c), EMU_DONE); /* lock add dword [rbx],1 */
	memcpy(&got, alias, 4);
	assert_int_equal(got, 1);
	assert_int_equal(nrecs, 2);
	assert_false(recs[0].known);
	assert_false(recs[1].known);
}

static void test_failed_cmpxchg_writes_back_old_value(void **state)
{
	struct cpu c = { 0 };
	uint64_t v = 99;

	memcpy(alias, &v, 8);
	c.gpr[GPR_RBX] = (uint64_t)view;
	c.gpr[GPR_RAX] = 1; /* expected: wrong */
	c.gpr[GPR_RCX] = 1000;
	assert_int_equal(run("\xf0\x48\x0f\xb1\x0b", 5, &c), EMU_DONE); /* lock cmpxchg [rbx],rcx */
	assert_int_equal(c.gpr[GPR_RAX], 99);
	assert_false(c.rflags & CPU_FLAG_ZF);
	assert_int_equal(rec_u64(&recs[0]), 99);
	assert_int_equal(rec_u64(&recs[1]), 99);
}

static void test_straddling_load_records_only_traced_bytes(void **state)
{
	struct cpu c = { 0 };
	uint32_t lo = 0x44332211, hi = 0x88776655;

	memcpy(alias + PAGE - 4, &lo, 4);
	memcpy(view + PAGE, &hi, 4);
	c.gpr[GPR_RBX] = (uint64_t)view + PAGE - 4;
	assert_int_equal(run("\x48\x8b\x03", 3, &c), EMU_DONE); /* mov rax,[rbx] */
	assert_int_equal(c.gpr[GPR_RAX], 0x8877665544332211ull);
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].width, 4);
	assert_int_equal(recs[0].offset, PAGE - 4);
	assert_true(recs[0].flags & MMS_AF_SPLIT);
}

static void test_rep_movsb_leaves_untraced_tail_to_the_cpu(void **state)
{
	struct cpu c = { 0 };
	uint8_t dst[16];

	for (int i = 0; i < 8; i++)
		alias[PAGE - 8 + i] = (uint8_t)(i + 1);
	c.gpr[GPR_RSI] = (uint64_t)view + PAGE - 8;
	c.gpr[GPR_RDI] = (uint64_t)dst;
	c.gpr[GPR_RCX] = 16;
	assert_int_equal(run("\xf3\xa4", 2, &c), EMU_DONE); /* rep movsb */
	assert_int_equal(nrecs, 8);
	assert_int_equal(c.gpr[GPR_RCX], 8);
	assert_int_equal(c.rip, (uint64_t)code); /* resumes natively */
	assert_int_equal(dst[7], 8);
}

static void test_store_of_rsp_stores_program_rsp(void **state)
{
	struct cpu c = { 0 };
	uint64_t got;

	c.gpr[GPR_RBX] = (uint64_t)view;
	c.gpr[GPR_RSP] = 0x7ffe12345678ull;
	assert_int_equal(run("\x48\x89\x23", 3, &c), EMU_DONE); /* mov [rbx],rsp */
	memcpy(&got, alias, 8);
	assert_int_equal(got, 0x7ffe12345678ull);
	assert_int_equal(c.gpr[GPR_RSP], 0x7ffe12345678ull);
}

static void test_write_to_read_only_region_is_not_ours(void **state)
{
	struct cpu c = { 0 };
	struct region r;

	region_find(&table, (uint64_t)view, &r);
	table.r[0].prot = PROT_READ;
	c.gpr[GPR_RBX] = (uint64_t)view;
	assert_int_equal(run("\x89\x03", 2, &c), EMU_NOT_OURS); /* mov [rbx],eax */
	assert_int_equal(nrecs, 0);
	table.r[0].prot = PROT_READ | PROT_WRITE;
}

static void test_push_mem_reads_traced_and_pushes(void **state)
{
	struct cpu c = { 0 };
	uint64_t stack[4] = { 0 }, v = 0xabcdef;

	memcpy(alias + 32, &v, 8);
	c.gpr[GPR_RBX] = (uint64_t)view + 32;
	c.gpr[GPR_RSP] = (uint64_t)&stack[4];
	assert_int_equal(run("\xff\x33", 2, &c), EMU_DONE); /* push qword [rbx] */
	assert_int_equal(stack[3], 0xabcdef);
	assert_int_equal(c.gpr[GPR_RSP], (uint64_t)&stack[3]);
	assert_int_equal(nrecs, 1);
}

static struct icache cache;

static void test_icache_reuses_reencoding_and_notices_changed_code(void **state)
{
	struct emu_ctx e = {
		.regions = &table, .scratch = scratch, .code = xol, .record = on_record
	};
	struct cpu c = { 0 };
	uint32_t got;

	icache_init(&cache, xol + EMU_CODE_SIZE);
	memcpy(code, "\x89\x03", 2); /* mov [rbx],eax */
	struct icache_entry *ce = icache_get(&cache, (uint64_t)code, 15);
	assert_non_null(ce);
	c.rip = (uint64_t)code;
	c.gpr[GPR_RBX] = (uint64_t)view;
	c.gpr[GPR_RAX] = 5;
	e.cached = ce;
	assert_int_equal(emu_complete(&e, &ce->in, &c), EMU_DONE);
	assert_true(ce->code_len > 0);				      /* kept */
	assert_ptr_equal(icache_get(&cache, (uint64_t)code, 15), ce); /* hit */
	c.rip = (uint64_t)code;
	c.gpr[GPR_RAX] = 6;
	assert_int_equal(emu_complete(&e, &ce->in, &c), EMU_DONE);
	memcpy(&got, alias, 4);
	assert_int_equal(got, 6);
	/* the code changed under the cache (a JIT): decoded afresh */
	memcpy(code, "\x8b\x03", 2); /* mov eax,[rbx] */
	ce = icache_get(&cache, (uint64_t)code, 15);
	assert_int_equal(ce->code_len, 0);
	assert_int_equal(ce->in.mode, MODE_LOAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_load_reads_alias_once_and_sets_register, reset),
		cmocka_unit_test_setup(test_store_writes_alias_with_value, reset),
		cmocka_unit_test_setup(test_rmw_records_old_then_new, reset),
		cmocka_unit_test_setup(test_lock_xadd_runs_on_alias_and_reveals_values, reset),
		cmocka_unit_test_setup(test_lock_add_value_is_unknown, reset),
		cmocka_unit_test_setup(test_failed_cmpxchg_writes_back_old_value, reset),
		cmocka_unit_test_setup(test_straddling_load_records_only_traced_bytes, reset),
		cmocka_unit_test_setup(test_rep_movsb_leaves_untraced_tail_to_the_cpu, reset),
		cmocka_unit_test_setup(test_store_of_rsp_stores_program_rsp, reset),
		cmocka_unit_test_setup(test_write_to_read_only_region_is_not_ours, reset),
		cmocka_unit_test_setup(test_push_mem_reads_traced_and_pushes, reset),
		cmocka_unit_test_setup(test_icache_reuses_reencoding_and_notices_changed_code,
				       reset),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
