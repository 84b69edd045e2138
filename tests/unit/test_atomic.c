/*
 * LOCK read-modify-writes: every lockable arithmetic, logic and bit-test
 * instruction at every width, over a sweep of values and incoming flags
 * that produces every flag result, against the same instruction run on
 * the bare CPU.  On a RAM-backed region each records exactly one R (old)
 * and one W (new) value, flag locked; on a device region the ones without
 * a single atomic instruction that returns the old value (AND, OR, XOR,
 * NOT, NEG, BT*) record unknown values, and ADD, SUB, INC, DEC, ADC, SBB
 * (done as LOCK XADD) still record theirs.  Memory, registers and flags
 * always equal the CPU's.
 */
#include "emu-fixture.h"

#include <pthread.h>
#include <Zydis/Zydis.h>

enum src_kind { SRC_NONE, SRC_REG, SRC_IMM };

struct lock_op {
	const char *name;
	ZydisMnemonic m;
	enum src_kind src;
	enum insn_lock kind;
	unsigned min_width;
	uint32_t flags_both; /* each of these must come out both 0 and 1 */
};

#define ARITH CPU_FLAGS_ARITH		   /* CF PF AF ZF SF OF */
#define LOGIC (0x4u | CPU_FLAG_ZF | 0x80u) /* PF ZF SF */

static const struct lock_op lock_ops[] = {
	{ "add r", ZYDIS_MNEMONIC_ADD, SRC_REG, INSN_LOCK_ADD, 1, ARITH },
	{ "add imm", ZYDIS_MNEMONIC_ADD, SRC_IMM, INSN_LOCK_ADD, 1, ARITH },
	{ "sub r", ZYDIS_MNEMONIC_SUB, SRC_REG, INSN_LOCK_ADD, 1, ARITH },
	{ "sub imm", ZYDIS_MNEMONIC_SUB, SRC_IMM, INSN_LOCK_ADD, 1, ARITH },
	{ "adc r", ZYDIS_MNEMONIC_ADC, SRC_REG, INSN_LOCK_ADD, 1, ARITH },
	{ "adc imm", ZYDIS_MNEMONIC_ADC, SRC_IMM, INSN_LOCK_ADD, 1, ARITH },
	{ "sbb r", ZYDIS_MNEMONIC_SBB, SRC_REG, INSN_LOCK_ADD, 1, ARITH },
	{ "sbb imm", ZYDIS_MNEMONIC_SBB, SRC_IMM, INSN_LOCK_ADD, 1, ARITH },
	{ "inc", ZYDIS_MNEMONIC_INC, SRC_NONE, INSN_LOCK_ADD, 1, ARITH },
	{ "dec", ZYDIS_MNEMONIC_DEC, SRC_NONE, INSN_LOCK_ADD, 1, ARITH },
	{ "and r", ZYDIS_MNEMONIC_AND, SRC_REG, INSN_LOCK_CAS, 1, LOGIC },
	{ "and imm", ZYDIS_MNEMONIC_AND, SRC_IMM, INSN_LOCK_CAS, 1, LOGIC },
	{ "or r", ZYDIS_MNEMONIC_OR, SRC_REG, INSN_LOCK_CAS, 1, LOGIC },
	{ "or imm", ZYDIS_MNEMONIC_OR, SRC_IMM, INSN_LOCK_CAS, 1, LOGIC },
	{ "xor r", ZYDIS_MNEMONIC_XOR, SRC_REG, INSN_LOCK_CAS, 1, LOGIC },
	{ "xor imm", ZYDIS_MNEMONIC_XOR, SRC_IMM, INSN_LOCK_CAS, 1, LOGIC },
	{ "not", ZYDIS_MNEMONIC_NOT, SRC_NONE, INSN_LOCK_CAS, 1, 0 },
	{ "neg", ZYDIS_MNEMONIC_NEG, SRC_NONE, INSN_LOCK_CAS, 1, ARITH },
	{ "bts r", ZYDIS_MNEMONIC_BTS, SRC_REG, INSN_LOCK_CAS, 2, CPU_FLAG_CF },
	{ "bts imm", ZYDIS_MNEMONIC_BTS, SRC_IMM, INSN_LOCK_CAS, 2, CPU_FLAG_CF },
	{ "btr r", ZYDIS_MNEMONIC_BTR, SRC_REG, INSN_LOCK_CAS, 2, CPU_FLAG_CF },
	{ "btr imm", ZYDIS_MNEMONIC_BTR, SRC_IMM, INSN_LOCK_CAS, 2, CPU_FLAG_CF },
	{ "btc r", ZYDIS_MNEMONIC_BTC, SRC_REG, INSN_LOCK_CAS, 2, CPU_FLAG_CF },
	{ "btc imm", ZYDIS_MNEMONIC_BTC, SRC_IMM, INSN_LOCK_CAS, 2, CPU_FLAG_CF },
};

static int is_bt(ZydisMnemonic m)
{
	return m == ZYDIS_MNEMONIC_BTS || m == ZYDIS_MNEMONIC_BTR || m == ZYDIS_MNEMONIC_BTC;
}

/* lock OP [rbx] (, rcx-of-width | , imm) */
static size_t encode(const struct lock_op *op, unsigned w, int64_t imm, uint8_t *out)
{
	static const ZydisRegisterClass cls[9] = { [1] = ZYDIS_REGCLASS_GPR8,
						   [2] = ZYDIS_REGCLASS_GPR16,
						   [4] = ZYDIS_REGCLASS_GPR32,
						   [8] = ZYDIS_REGCLASS_GPR64 };
	ZydisEncoderRequest req;
	ZyanUSize len = 15;

	memset(&req, 0, sizeof(req));
	req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	req.mnemonic = op->m;
	req.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
	req.operand_count = op->src == SRC_NONE ? 1 : 2;
	req.operands[0].type = ZYDIS_OPERAND_TYPE_MEMORY;
	req.operands[0].mem.base = ZYDIS_REGISTER_RBX;
	req.operands[0].mem.size = w;
	if (op->src == SRC_REG) {
		req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
		req.operands[1].reg.value = ZydisRegisterEncode(cls[w], GPR_RCX);
	} else if (op->src == SRC_IMM) {
		req.operands[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
		req.operands[1].imm.s = imm;
	}
	assert_true(ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, out, &len)));
	return len;
}

static uint64_t trunc_w(uint64_t v, unsigned w)
{
	return w >= 8 ? v : v & ((1ull << (8 * w)) - 1);
}

/* Intel SDM vol. 2A, BT: a register bit offset is signed and selects the
 * operand-sized word at EA + w * floor(off / bits); an immediate does not
 * move the address. */
static int64_t bt_delta(const struct lock_op *op, unsigned w, int64_t off)
{
	int64_t bits = 8 * (int64_t)w, q;

	if (!is_bt(op->m) || op->src != SRC_REG)
		return 0;
	if (w == 2)
		off = (int16_t)off;
	else if (w == 4)
		off = (int32_t)off;
	q = off / bits;
	if (off % bits < 0)
		q--;
	return q * (int64_t)w;
}

#define TARGET 0x800
#define WINDOW 0x100 /* bytes compared either side of the target */

static void fill_window(uint64_t old, unsigned w)
{
	for (int i = -WINDOW; i < WINDOW; i++)
		alias[TARGET + i] = nat[TARGET + i] = (uint8_t)(0xc5 ^ (i * 7));
	memcpy(alias + TARGET, &old, w);
	memcpy(nat + TARGET, &old, w);
}

struct sweep_seen {
	uint32_t set, clear;
};

/* One case on RAM and on a device; returns the CPU's flags. */
static uint64_t lock_case(const struct lock_op *op, unsigned w, uint64_t old, int64_t src,
			  uint64_t fl_in)
{
	uint8_t bytes[16];
	size_t n = encode(op, w, src, bytes);
	int64_t delta = bt_delta(op, w, src);
	uint64_t want_old = 0, want_new = 0;
	struct insn in;

	assert_int_equal(insn_decode(&in, bytes, n), 0);
	assert_int_equal(in.mode, MODE_ATOMIC);
	assert_int_equal(in.lock, op->kind);

	for (int device = 0; device < 2; device++) {
		struct cpu c = { 0 }, nc;

		fill_window(old, w);
		memcpy(&want_old, alias + TARGET + delta, w);
		for (int i = 0; i < GPR_COUNT; i++)
			c.gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
		c.gpr[GPR_RCX] = (uint64_t)src;
		c.rflags = fl_in;
		nc = c;
		c.gpr[GPR_RBX] = (uint64_t)view + TARGET;
		nc.gpr[GPR_RBX] = (uint64_t)nat + TARGET;
		nrecs = 0;
		table.r[0].flags = REGION_TRACE | (device ? REGION_DEVICE : 0);

		native_run((const char *)bytes, n, &nc);
		assert_int_equal(run((const char *)bytes, n, &c), EMU_DONE);

		assert_memory_equal(alias + TARGET - WINDOW, nat + TARGET - WINDOW, 2 * WINDOW);
		assert_int_equal(c.rflags, nc.rflags);
		for (int i = 0; i < GPR_COUNT; i++)
			if (i != GPR_RBX && i != GPR_RSP)
				assert_int_equal(c.gpr[i], nc.gpr[i]);
		assert_int_equal(c.rip, (uint64_t)code + n);
		memcpy(&want_new, nat + TARGET + delta, w);

		assert_int_equal(nrecs, 2);
		assert_int_equal(recs[0].dir, MMS_DIR_READ);
		assert_int_equal(recs[1].dir, MMS_DIR_WRITE);
		for (int r = 0; r < 2; r++) {
			assert_true(recs[r].flags & MMS_AF_LOCKED);
			assert_int_equal(recs[r].offset, TARGET + delta);
			assert_int_equal(recs[r].width, w);
		}
		if (device && op->kind == INSN_LOCK_CAS) {
			assert_false(recs[0].known);
			assert_false(recs[1].known);
			assert_true(recs[0].flags & MMS_AF_VALUE_UNKNOWN);
		} else {
			assert_true(recs[0].known && recs[1].known);
			assert_int_equal(rec_u64(&recs[0]), trunc_w(want_old, w));
			assert_int_equal(rec_u64(&recs[1]), trunc_w(want_new, w));
		}
		if (device)
			return nc.rflags;
	}
	return 0;
}

static const uint64_t olds[] = { 0, 1, 0x35, 0x5a5a5a5a5a5a5a5aull, ~0ull, 0, 0 };
static const int64_t imms[] = { 0, 1, -1, 0x7f, -128, 0x35, 0x1234 };
static const uint64_t fls_in[] = { 0x2, 0x2 | CPU_FLAG_CF, 0x2 | CPU_FLAGS_ARITH,
				   0x2 | (CPU_FLAGS_ARITH & ~CPU_FLAG_CF) };

static void test_every_lock_op_width_and_flag_result_matches_the_cpu(void **state)
{
	static const unsigned widths[] = { 1, 2, 4, 8 };

	for (size_t o = 0; o < sizeof(lock_ops) / sizeof(lock_ops[0]); o++) {
		const struct lock_op *op = &lock_ops[o];

		for (size_t wi = 0; wi < 4; wi++) {
			unsigned w = widths[wi], bits = 8 * w;
			uint64_t smax = trunc_w(~0ull, w) >> 1, smin = smax + 1;
			uint64_t vals[sizeof(olds) / sizeof(olds[0])];
			int64_t srcs[8];
			size_t nsrc = 0;
			struct sweep_seen seen = { 0, 0 };

			if (w < op->min_width)
				continue;
			memcpy(vals, olds, sizeof(olds));
			vals[5] = smax;
			vals[6] = smin;
			if (is_bt(op->m)) {
				int64_t bt[] = { 0, 5, bits - 1, bits + 3, 100, -3, -70 };
				for (size_t i = 0; i < 7; i++)
					if (op->src == SRC_REG || (bt[i] >= 0 && bt[i] < 128))
						srcs[nsrc++] = bt[i];
			} else if (op->src == SRC_IMM) {
				for (size_t i = 0; i < 7; i++)
					if (w > 1 || (imms[i] >= -128 && imms[i] < 128))
						srcs[nsrc++] = imms[i];
			} else if (op->src == SRC_REG) {
				int64_t r[] = { 0,
						1,
						(int64_t)trunc_w(~0ull, w),
						(int64_t)smin,
						(int64_t)smax,
						0x35,
						0x0f };
				memcpy(srcs, r, sizeof(r));
				nsrc = 7;
			} else {
				srcs[nsrc++] = 0;
			}
			print_message("  lock %s, width %u\n", op->name, w);
			for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++)
				for (size_t s = 0; s < nsrc; s++)
					for (size_t f = 0; f < 4; f++) {
						uint64_t fl = lock_case(op, w, trunc_w(vals[v], w),
									srcs[s], fls_in[f]);
						seen.set |= (uint32_t)fl;
						seen.clear |= (uint32_t)~fl;
					}
			/* the sweep itself: every flag the op sets came out both ways */
			assert_int_equal(seen.set & seen.clear & op->flags_both, op->flags_both);
		}
	}
}

/* Another thread keeps adding 2 to the word through the object (as another
 * process would) while the engine completes LOCK XOR 1 on it: however the
 * two interleave, every record pair is old -> old ^ 1 and no update is
 * lost, because only the compare-exchange that won is recorded. */
#define HAMMER_ADDS 200000
#define XORS 20000

static void *hammer(void *arg)
{
	volatile uint64_t *w = arg;

	for (int i = 0; i < HAMMER_ADDS; i++)
		__atomic_fetch_add(w, 2, __ATOMIC_SEQ_CST);
	return NULL;
}

static void on_pair(void *arg, const struct insn *in, const struct cpu *c,
		    const struct emu_access *a)
{
	uint64_t *st = arg; /* [0] pairs, [1] bad pairs, [2] last R value */
	uint64_t v;

	assert_non_null(a->value);
	memcpy(&v, a->value, 8);
	if (a->dir == MMS_DIR_READ) {
		st[2] = v;
	} else {
		st[0]++;
		if (v != (st[2] ^ 1))
			st[1]++;
	}
}

static void test_lock_xor_under_contention_records_the_winning_pair(void **state)
{
	uint64_t st[3] = { 0, 0, 0 };
	struct emu_ctx e = {
		.regions = &table, .scratch = scratch, .code = xol, .record = on_pair, .arg = st
	};
	struct insn in;
	pthread_t t;

	memcpy(code, "\xf0\x48\x83\x33\x01", 5); /* lock xor qword [rbx], 1 */
	assert_int_equal(insn_decode(&in, code, 15), 0);
	assert_int_equal(pthread_create(&t, NULL, hammer, alias), 0);
	for (int i = 0; i < XORS; i++) {
		struct cpu c = { 0 };
		c.gpr[GPR_RBX] = (uint64_t)view;
		c.rip = (uint64_t)code;
		assert_int_equal(emu_complete(&e, &in, &c), EMU_DONE);
	}
	pthread_join(t, NULL);
	assert_int_equal(st[0], XORS);
	assert_int_equal(st[1], 0);
	uint64_t final;
	memcpy(&final, alias, 8);
	assert_int_equal(final, 2ull * HAMMER_ADDS + (XORS & 1));
}

/* The alias-less path (page watchpoints on private memory) keeps its
 * serialised read, modify, write: values known even for LOCK OR. */
static int fake_peek(uint64_t addr, void *buf, unsigned len)
{
	memcpy(buf, alias + (addr - (uint64_t)view), len);
	return 0;
}

static int fake_poke(uint64_t addr, const void *buf, unsigned len)
{
	memcpy(alias + (addr - (uint64_t)view), buf, len);
	return 0;
}

static void test_lock_or_without_alias_reads_and_writes_once(void **state)
{
	struct emu_ctx e = { .regions = &table,
			     .scratch = scratch,
			     .code = xol,
			     .record = on_record,
			     .peek = fake_peek,
			     .poke = fake_poke };
	struct cpu c = { 0 };
	struct insn in;
	uint32_t v = 0x10, got;

	table.r[0].alias = NULL;
	memcpy(alias + 8, &v, 4);
	memcpy(code, "\xf0\x83\x4b\x08\x03", 5); /* lock or dword [rbx+8], 3 */
	assert_int_equal(insn_decode(&in, code, 15), 0);
	c.gpr[GPR_RBX] = (uint64_t)view;
	c.rip = (uint64_t)code;
	assert_int_equal(emu_complete(&e, &in, &c), EMU_DONE);
	table.r[0].alias = alias;
	memcpy(&got, alias + 8, 4);
	assert_int_equal(got, 0x13);
	assert_int_equal(nrecs, 2);
	assert_int_equal(rec_u64(&recs[0]), 0x10);
	assert_int_equal(rec_u64(&recs[1]), 0x13);
	assert_true(recs[0].flags & MMS_AF_LOCKED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_every_lock_op_width_and_flag_result_matches_the_cpu,
				       reset),
		cmocka_unit_test_setup(test_lock_xor_under_contention_records_the_winning_pair,
				       reset),
		cmocka_unit_test_setup(test_lock_or_without_alias_reads_and_writes_once, reset),
	};
	return cmocka_run_group_tests(tests, fixture_setup, NULL);
}
