/*
 * The engine completes an access exactly once, without signals: a region
 * whose "program view" is an address range and whose alias is a buffer,
 * an instruction in a code buffer, a register state -- emu_complete() must
 * touch the alias with the right width, update the registers, advance RIP
 * and report exactly the accesses the instruction made.  LOCK forms are in
 * test_atomic.c, gathers and scatters in test_vsib.c.
 */
#include "emu-fixture.h"

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
	struct icache_entry *ce = icache_get(&cache, (uint64_t)code, code, 15);
	assert_non_null(ce);
	c.rip = (uint64_t)code;
	c.gpr[GPR_RBX] = (uint64_t)view;
	c.gpr[GPR_RAX] = 5;
	e.cached = ce;
	assert_int_equal(emu_complete(&e, &ce->in, &c), EMU_DONE);
	assert_true(ce->code_len > 0);					    /* kept */
	assert_ptr_equal(icache_get(&cache, (uint64_t)code, code, 15), ce); /* hit */
	c.rip = (uint64_t)code;
	c.gpr[GPR_RAX] = 6;
	assert_int_equal(emu_complete(&e, &ce->in, &c), EMU_DONE);
	memcpy(&got, alias, 4);
	assert_int_equal(got, 6);
	/* the code changed under the cache (a JIT): decoded afresh */
	memcpy(code, "\x8b\x03", 2); /* mov eax,[rbx] */
	ce = icache_get(&cache, (uint64_t)code, code, 15);
	assert_int_equal(ce->code_len, 0);
	assert_int_equal(ce->in.mode, MODE_LOAD);
}

static void test_xlat_loads_rbx_plus_unsigned_al(void **state)
{
	struct cpu c = { 0 };

	alias[0x185] = 0x5c;
	c.gpr[GPR_RBX] = (uint64_t)view + 0x100;
	c.gpr[GPR_RAX] = 0x1122334455667785ull;		/* al = 0x85: zero-extended */
	assert_int_equal(run("\xd7", 1, &c), EMU_DONE); /* xlat */
	assert_int_equal(c.gpr[GPR_RAX], 0x112233445566775cull);
	assert_int_equal(c.rip, (uint64_t)code + 1);
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].dir, MMS_DIR_READ);
	assert_int_equal(recs[0].offset, 0x185);
	assert_int_equal(recs[0].width, 1);
	assert_int_equal(rec_u64(&recs[0]), 0x5c);
}

static void test_xlat_in_untraced_memory_is_not_ours(void **state)
{
	struct cpu c = { 0 };

	c.gpr[GPR_RBX] = (uint64_t)view + PAGE;
	assert_int_equal(run("\xd7", 1, &c), EMU_NOT_OURS);
	assert_int_equal(nrecs, 0);
}

static void test_rep_stos_elements_carry_the_rest_of_the_run(void **state)
{
	struct cpu c = { 0 };

	c.gpr[GPR_RDI] = (uint64_t)view + 0x40;
	c.gpr[GPR_RCX] = 5;
	c.gpr[GPR_RAX] = 0xab;
	assert_int_equal(run("\xf3\xaa", 2, &c), EMU_DONE); /* rep stosb */
	assert_int_equal(nrecs, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(recs[i].run_left, 5 - i);
		assert_true(recs[i].flags & MMS_AF_STRING);
	}
	assert_int_equal(c.gpr[GPR_RCX], 0);
}

static void test_rep_movs_read_and_write_share_run_left(void **state)
{
	struct cpu c = { 0 };

	c.gpr[GPR_RSI] = (uint64_t)view + 0x100;
	c.gpr[GPR_RDI] = (uint64_t)view + 0x200;
	c.gpr[GPR_RCX] = 3;
	assert_int_equal(run("\xf3\x48\xa5", 3, &c), EMU_DONE); /* rep movsq */
	assert_int_equal(nrecs, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(recs[i].run_left, 3 - i / 2);
}

static void test_single_string_element_has_run_left_one(void **state)
{
	struct cpu c = { 0 };

	c.gpr[GPR_RSI] = (uint64_t)view + 0x100;
	c.gpr[GPR_RCX] = 77;				/* no REP: RCX is not a count */
	assert_int_equal(run("\xac", 1, &c), EMU_DONE); /* lodsb */
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].run_left, 1);
}

/* ---- masked AVX-512 loads and stores ------------------------------------ */

struct masked_form {
	const char *name, *bytes;
	size_t len;
	int store;
	unsigned es, n; /* element bytes and count of the memory operand */
	int compress;	/* VPCOMPRESS/VPEXPAND: enabled elements packed */
	uint64_t k;
};

#define MF(nm, b, st, e, cnt, k_)                       \
	{                                               \
		nm, b, sizeof(b) - 1, st, e, cnt, 0, k_ \
	}

static const struct masked_form masked_forms[] = {
	MF("vmovdqu8 zmm{k} load", "\x62\xf1\x7f\x49\x6f\x03", 0, 1, 64, 0xf00f5aa5c33c0ff0ull),
	MF("vmovdqu8 zmm{k}{z} load", "\x62\xf1\x7f\xc9\x6f\x03", 0, 1, 64, 0x0123456789abcdefull),
	MF("vmovdqu16 zmm store", "\x62\xf1\xff\x49\x7f\x03", 1, 2, 32, 0x9c35e00f),
	MF("vmovdqu32 ymm{k}{z} load", "\x62\xf1\x7e\xa9\x6f\x03", 0, 4, 8, 0xffb4),
	MF("vmovdqu64 xmm store", "\x62\xf1\xfe\x09\x7f\x03", 1, 8, 2, 0x2),
	MF("vmovups zmm{k} load", "\x62\xf1\x7c\x49\x10\x03", 0, 4, 16, 0xa5c3),
	MF("vmovups ymm store", "\x62\xf1\x7c\x29\x11\x03", 1, 4, 8, 0x5a),
	MF("vmovupd xmm{k}{z} load", "\x62\xf1\xfd\x89\x10\x03", 0, 8, 2, 0x1),
	MF("vmovupd zmm store", "\x62\xf1\xfd\x49\x11\x03", 1, 8, 8, 0x96),
	MF("vmovdqu32 xmm{k} load, k=0", "\x62\xf1\x7e\x09\x6f\x03", 0, 4, 4, 0),
	MF("vmovdqu8 zmm{k}{z} load, k=0", "\x62\xf1\x7f\xc9\x6f\x03", 0, 1, 64, 0),
	MF("vmovdqu16 zmm store, k=0", "\x62\xf1\xff\x49\x7f\x03", 1, 2, 32, 0),
	{ "vpcompressd zmm store", "\x62\xf2\x7d\x49\x8b\x03", 6, 1, 4, 16, 1, 0x8421 },
	{ "vpexpandq zmm{k} load", "\x62\xf2\xfd\x49\x89\x03", 6, 0, 8, 8, 1, 0x5a },
};

static uint64_t expected_byte_mask(const struct masked_form *f)
{
	uint64_t k = f->n >= 64 ? f->k : f->k & ((1ull << f->n) - 1), m = 0;
	unsigned bytes;

	if (f->compress) {
		bytes = __builtin_popcountll(k) * f->es;
		return bytes >= 64 ? ~0ull : (1ull << bytes) - 1;
	}
	for (unsigned i = 0; i < f->n; i++)
		if (k >> i & 1)
			m |= (f->es == 8 ? 0xffull : (1ull << f->es) - 1) << (i * f->es);
	return m;
}

static uint8_t img_emu[XSAVE_MAX] __attribute__((aligned(64)));
static uint8_t img_nat[XSAVE_MAX] __attribute__((aligned(64)));

/* Every masked form records exactly the bytes it accesses (bit i = byte i
 * from the record's address), the disabled ones as zero, and leaves
 * memory and registers as the CPU does. */
static void test_masked_forms_record_their_byte_mask(void **state)
{
	if (!host_has_avx512() || !__builtin_cpu_supports("avx512bw"))
		skip();
	for (size_t t = 0; t < sizeof(masked_forms) / sizeof(masked_forms[0]); t++) {
		const struct masked_form *f = &masked_forms[t];
		uint64_t want = expected_byte_mask(f);
		struct cpu ce = { 0 }, cn;
		uint8_t zmm0[64], got[64], gotn[64];
		const uint64_t off = 0x140;

		print_message("  %s\n", f->name);
		reset(NULL);
		for (int i = 0; i < 64; i++) {
			alias[off + i] = nat[off + i] = (uint8_t)(0x11 + 3 * i);
			zmm0[i] = (uint8_t)(0x80 + 5 * i);
		}
		image_init(&ce, img_emu);
		xstate_vec_write(&ce, 0, zmm0);
		xstate_k_write(&ce, 1, f->k);
		cn = ce;
		memcpy(img_nat, img_emu, XSAVE_MAX);
		cn.xsave = img_nat;
		ce.gpr[GPR_RBX] = (uint64_t)view + off;
		cn.gpr[GPR_RBX] = (uint64_t)nat + off;

		assert_int_equal(run(f->bytes, f->len, &ce), EMU_DONE);
		native_run(f->bytes, f->len, &cn);

		assert_memory_equal(alias + off, nat + off, 64);
		xstate_vec_read(&ce, 0, got);
		xstate_vec_read(&cn, 0, gotn);
		assert_memory_equal(got, gotn, 64);
		if (!want) {
			assert_int_equal(nrecs, 0);
			continue;
		}
		assert_int_equal(nrecs, 1);
		assert_int_equal(recs[0].dir, f->store ? MMS_DIR_WRITE : MMS_DIR_READ);
		assert_int_equal(recs[0].offset, off);
		assert_int_equal(recs[0].width, f->es * f->n);
		assert_true(recs[0].flags & MMS_AF_MASKED);
		assert_int_equal(recs[0].mask, want);
		for (int i = 0; i < recs[0].width; i++) {
			uint8_t mem = f->store ? nat[off + i] : alias[off + i];
			assert_int_equal(recs[0].value[i], (want >> i & 1) ? mem : 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_load_reads_alias_once_and_sets_register, reset),
		cmocka_unit_test_setup(test_store_writes_alias_with_value, reset),
		cmocka_unit_test_setup(test_rmw_records_old_then_new, reset),
		cmocka_unit_test_setup(test_lock_xadd_runs_on_alias_and_reveals_values, reset),
		cmocka_unit_test_setup(test_failed_cmpxchg_writes_back_old_value, reset),
		cmocka_unit_test_setup(test_straddling_load_records_only_traced_bytes, reset),
		cmocka_unit_test_setup(test_rep_movsb_leaves_untraced_tail_to_the_cpu, reset),
		cmocka_unit_test_setup(test_store_of_rsp_stores_program_rsp, reset),
		cmocka_unit_test_setup(test_write_to_read_only_region_is_not_ours, reset),
		cmocka_unit_test_setup(test_push_mem_reads_traced_and_pushes, reset),
		cmocka_unit_test_setup(test_icache_reuses_reencoding_and_notices_changed_code,
				       reset),
		cmocka_unit_test_setup(test_xlat_loads_rbx_plus_unsigned_al, reset),
		cmocka_unit_test_setup(test_xlat_in_untraced_memory_is_not_ours, reset),
		cmocka_unit_test_setup(test_rep_stos_elements_carry_the_rest_of_the_run, reset),
		cmocka_unit_test_setup(test_rep_movs_read_and_write_share_run_left, reset),
		cmocka_unit_test_setup(test_single_string_element_has_run_left_one, reset),
		cmocka_unit_test_setup(test_masked_forms_record_their_byte_mask, reset),
	};
	return cmocka_run_group_tests(tests, fixture_setup, NULL);
}
