/* SPDX-License-Identifier: MIT */
/*
 * Instruction analysis for the fault path (decode, classify, address,
 * re-encode).  See insn.h.  Everything here runs in signal context: no
 * allocation, no locks, Zydis' decoder and encoder only.
 */
#include <errno.h>
#include <string.h>

#include "engine/insn.h"

static ZydisDecoder decoder;
static int decoder_ready;

/* signal context */
static void decoder_init(void)
{
	if (!decoder_ready) {
		ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		decoder_ready = 1;
	}
}

/* signal context */
int insn_gpr_index(ZydisRegister reg)
{
	ZydisRegister big;

	if (reg == ZYDIS_REGISTER_NONE)
		return -1;
	big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
	if (big >= ZYDIS_REGISTER_RAX && big <= ZYDIS_REGISTER_R15)
		return big - ZYDIS_REGISTER_RAX;
	return -1;
}

static int reg_is_high_byte(ZydisRegister reg)
{
	return reg == ZYDIS_REGISTER_AH || reg == ZYDIS_REGISTER_BH || reg == ZYDIS_REGISTER_CH ||
	       reg == ZYDIS_REGISTER_DH;
}

/* signal context */
uint64_t insn_reg_read(const struct cpu *c, ZydisRegister reg)
{
	int i = insn_gpr_index(reg);
	uint64_t v;
	unsigned bits;

	if (i < 0)
		return 0;
	v = c->gpr[i];
	if (reg_is_high_byte(reg))
		return (v >> 8) & 0xff;
	bits = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg);
	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

static int mnemonic_is_nt(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOVNTI:
	case ZYDIS_MNEMONIC_MOVNTDQ:
	case ZYDIS_MNEMONIC_MOVNTDQA:
	case ZYDIS_MNEMONIC_MOVNTPS:
	case ZYDIS_MNEMONIC_MOVNTPD:
	case ZYDIS_MNEMONIC_MOVNTQ:
	case ZYDIS_MNEMONIC_VMOVNTDQ:
	case ZYDIS_MNEMONIC_VMOVNTDQA:
	case ZYDIS_MNEMONIC_VMOVNTPS:
	case ZYDIS_MNEMONIC_VMOVNTPD:
		return 1;
	default:
		return 0;
	}
}

static int mnemonic_is_bt(ZydisMnemonic m)
{
	return m == ZYDIS_MNEMONIC_BT || m == ZYDIS_MNEMONIC_BTS || m == ZYDIS_MNEMONIC_BTR ||
	       m == ZYDIS_MNEMONIC_BTC;
}

static enum insn_str string_kind(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOVSB:
	case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_MOVSQ:
		return INSN_STR_MOVS;
	case ZYDIS_MNEMONIC_STOSB:
	case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_STOSQ:
		return INSN_STR_STOS;
	case ZYDIS_MNEMONIC_LODSB:
	case ZYDIS_MNEMONIC_LODSW:
	case ZYDIS_MNEMONIC_LODSD:
	case ZYDIS_MNEMONIC_LODSQ:
		return INSN_STR_LODS;
	case ZYDIS_MNEMONIC_CMPSB:
	case ZYDIS_MNEMONIC_CMPSW:
	case ZYDIS_MNEMONIC_CMPSD:
	case ZYDIS_MNEMONIC_CMPSQ:
		return INSN_STR_CMPS;
	case ZYDIS_MNEMONIC_SCASB:
	case ZYDIS_MNEMONIC_SCASW:
	case ZYDIS_MNEMONIC_SCASD:
	case ZYDIS_MNEMONIC_SCASQ:
		return INSN_STR_SCAS;
	default: /* INS, OUTS */
		return INSN_STR_NONE;
	}
}

/* The lockable instructions (Intel SDM vol. 2A, LOCK) by what they tell. */
static enum insn_lock lock_kind(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_XCHG:
	case ZYDIS_MNEMONIC_XADD:
	case ZYDIS_MNEMONIC_CMPXCHG:
	case ZYDIS_MNEMONIC_CMPXCHG8B:
	case ZYDIS_MNEMONIC_CMPXCHG16B:
		return INSN_LOCK_REVEALS;
	case ZYDIS_MNEMONIC_ADD:
	case ZYDIS_MNEMONIC_SUB:
	case ZYDIS_MNEMONIC_INC:
	case ZYDIS_MNEMONIC_DEC:
	case ZYDIS_MNEMONIC_ADC:
	case ZYDIS_MNEMONIC_SBB:
		return INSN_LOCK_ADD;
	case ZYDIS_MNEMONIC_AND:
	case ZYDIS_MNEMONIC_OR:
	case ZYDIS_MNEMONIC_XOR:
	case ZYDIS_MNEMONIC_NOT:
	case ZYDIS_MNEMONIC_NEG:
	case ZYDIS_MNEMONIC_BTS:
	case ZYDIS_MNEMONIC_BTR:
	case ZYDIS_MNEMONIC_BTC:
		return INSN_LOCK_CAS;
	default:
		return INSN_LOCK_NONE;
	}
}

static int mnemonic_is_compress(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_VCOMPRESSPS:
	case ZYDIS_MNEMONIC_VCOMPRESSPD:
	case ZYDIS_MNEMONIC_VPCOMPRESSB:
	case ZYDIS_MNEMONIC_VPCOMPRESSW:
	case ZYDIS_MNEMONIC_VPCOMPRESSD:
	case ZYDIS_MNEMONIC_VPCOMPRESSQ:
	case ZYDIS_MNEMONIC_VEXPANDPS:
	case ZYDIS_MNEMONIC_VEXPANDPD:
	case ZYDIS_MNEMONIC_VPEXPANDB:
	case ZYDIS_MNEMONIC_VPEXPANDW:
	case ZYDIS_MNEMONIC_VPEXPANDD:
	case ZYDIS_MNEMONIC_VPEXPANDQ:
		return 1;
	default:
		return 0;
	}
}

/* Index and element size of each gather and scatter (Intel SDM vol. 2):
 * D/Q after GATHER/SCATTER is the index, the suffix the data. */
static const struct {
	ZydisMnemonic m;
	uint8_t isize, esize;
	bool scatter;
} vsib_forms[] = {
	{ ZYDIS_MNEMONIC_VGATHERDPS, 4, 4, false }, { ZYDIS_MNEMONIC_VGATHERDPD, 4, 8, false },
	{ ZYDIS_MNEMONIC_VGATHERQPS, 8, 4, false }, { ZYDIS_MNEMONIC_VGATHERQPD, 8, 8, false },
	{ ZYDIS_MNEMONIC_VPGATHERDD, 4, 4, false }, { ZYDIS_MNEMONIC_VPGATHERDQ, 4, 8, false },
	{ ZYDIS_MNEMONIC_VPGATHERQD, 8, 4, false }, { ZYDIS_MNEMONIC_VPGATHERQQ, 8, 8, false },
	{ ZYDIS_MNEMONIC_VSCATTERDPS, 4, 4, true }, { ZYDIS_MNEMONIC_VSCATTERDPD, 4, 8, true },
	{ ZYDIS_MNEMONIC_VSCATTERQPS, 8, 4, true }, { ZYDIS_MNEMONIC_VSCATTERQPD, 8, 8, true },
	{ ZYDIS_MNEMONIC_VPSCATTERDD, 4, 4, true }, { ZYDIS_MNEMONIC_VPSCATTERDQ, 4, 8, true },
	{ ZYDIS_MNEMONIC_VPSCATTERQD, 8, 4, true }, { ZYDIS_MNEMONIC_VPSCATTERQQ, 8, 8, true },
};

static int vector_reg_id(ZydisRegister reg)
{
	switch (ZydisRegisterGetClass(reg)) {
	case ZYDIS_REGCLASS_XMM:
	case ZYDIS_REGCLASS_YMM:
	case ZYDIS_REGCLASS_ZMM:
		return ZydisRegisterGetId(reg);
	default:
		return -1;
	}
}

/*
 * The elements of a gather or scatter.  There are VL / max(index, data
 * size) of them: a dword index with qword data uses the low half of the
 * index vector, a qword index with dword data fills half a destination.
 * The gather prefetches (VGATHERPF*, Xeon Phi) stay on the slow path.
 */
static void classify_vsib(struct insn *in)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	struct insn_vsib *v = &in->vsib;
	const ZydisDecodedOperand *m = &in->op[in->mem];
	unsigned big;
	size_t i;

	in->cls = INSN_UNSUPPORTED;
	in->why = "gather/scatter (VSIB) of an unknown kind";
	for (i = 0; i < sizeof(vsib_forms) / sizeof(vsib_forms[0]); i++)
		if (vsib_forms[i].m == zi->mnemonic)
			break;
	if (i == sizeof(vsib_forms) / sizeof(vsib_forms[0]) || zi->operand_count_visible < 2)
		return;
	v->isize = vsib_forms[i].isize;
	v->esize = vsib_forms[i].esize;
	v->scatter = vsib_forms[i].scatter;
	v->evex = zi->encoding == ZYDIS_INSTRUCTION_ENCODING_EVEX;
	big = v->isize > v->esize ? v->isize : v->esize;
	v->n = zi->avx.vector_length / 8 / big;
	v->index = vector_reg_id(m->mem.index);
	if (v->evex) {
		v->data = vector_reg_id(in->op[v->scatter ? 2 : 0].reg.value);
		v->mask = zi->avx.mask.reg - ZYDIS_REGISTER_K0;
	} else {
		if (v->scatter || zi->operand_count_visible < 3)
			return;
		v->data = vector_reg_id(in->op[0].reg.value);
		v->mask = vector_reg_id(in->op[2].reg.value);
	}
	if (!v->n || v->n > 16 || v->data < 0 || v->index < 0 || v->mask < 0)
		return;
	in->width = v->esize;
	in->cls = INSN_VSIB;
	in->why = NULL;
}

static int reg_is_vector_state(ZydisRegister reg)
{
	switch (ZydisRegisterGetClass(reg)) {
	case ZYDIS_REGCLASS_GPR8:
	case ZYDIS_REGCLASS_GPR16:
	case ZYDIS_REGCLASS_GPR32:
	case ZYDIS_REGCLASS_GPR64:
	case ZYDIS_REGCLASS_FLAGS:
	case ZYDIS_REGCLASS_IP:
	case ZYDIS_REGCLASS_INVALID:
		return 0;
	default:
		return 1;
	}
}

static void classify(struct insn *in)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	int nmem = 0, explicit_rsp = 0, hidden_rsp = 0;

	in->mem = -1;
	for (int i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *op = &in->op[i];
		int g;

		if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			g = insn_gpr_index(op->reg.value);
			if (g >= 0)
				in->gprs |= 1u << g;
			if (g == GPR_RSP) {
				if (op->visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
					explicit_rsp = 1;
				else
					hidden_rsp = 1;
			}
			if (reg_is_vector_state(op->reg.value))
				in->uses_vector = 1;
		} else if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (op->mem.type == ZYDIS_MEMOP_TYPE_AGEN)
				continue;
			g = insn_gpr_index(op->mem.base);
			if (g >= 0)
				in->gprs |= 1u << g;
			g = insn_gpr_index(op->mem.index);
			if (g >= 0)
				in->gprs |= 1u << g;
			if (op->mem.type == ZYDIS_MEMOP_TYPE_VSIB) {
				in->mem = i;
				in->width = op->size / 8 > 64 ? 64 : op->size / 8;
				in->rd = !!(op->actions & ZYDIS_OPERAND_ACTION_MASK_READ);
				in->wr = !!(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);
				in->uses_vector = 1;
				classify_vsib(in);
				return;
			}
			if (op->visibility != ZYDIS_OPERAND_VISIBILITY_HIDDEN || in->mem < 0)
				in->mem = i;
			nmem++;
		}
	}
	if (zi->meta.category == ZYDIS_CATEGORY_X87_ALU || zi->meta.isa_set == ZYDIS_ISA_SET_X87)
		in->uses_vector = 1;
	if (in->mem < 0) {
		in->cls = INSN_NOMEM;
		return;
	}

	const ZydisDecodedOperand *m = &in->op[in->mem];
	in->width = m->size / 8;
	in->rd = !!(m->actions & ZYDIS_OPERAND_ACTION_MASK_READ);
	in->wr = !!(m->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);
	in->nt = mnemonic_is_nt(zi->mnemonic);
	in->masked = zi->avx.mask.reg != ZYDIS_REGISTER_NONE &&
		     zi->avx.mask.reg != ZYDIS_REGISTER_K0 && !zi->avx.broadcast.mode;
	in->compress = mnemonic_is_compress(zi->mnemonic);

	if (zi->meta.category == ZYDIS_CATEGORY_STRINGOP) {
		in->str = string_kind(zi->mnemonic);
		if (in->str == INSN_STR_NONE) {
			in->cls = INSN_UNSUPPORTED;
			in->why = "port string instruction";
			return;
		}
		if (zi->address_width != 64) {
			in->cls = INSN_UNSUPPORTED;
			in->why = "32-bit addressed string instruction";
			return;
		}
		in->cls = INSN_STRING;
		return;
	}
	if (zi->mnemonic == ZYDIS_MNEMONIC_XLAT) {
		in->cls = INSN_XLAT;
		return;
	}
	if (zi->mnemonic == ZYDIS_MNEMONIC_PUSH) {
		in->cls = INSN_PUSH_MEM;
		return;
	}
	if (zi->mnemonic == ZYDIS_MNEMONIC_POP) {
		in->cls = INSN_POP_MEM;
		return;
	}
	if (zi->mnemonic == ZYDIS_MNEMONIC_CALL || zi->mnemonic == ZYDIS_MNEMONIC_JMP) {
		/* far indirect branches load a segment: not ours to emulate */
		if (in->width != 8) {
			in->cls = INSN_UNSUPPORTED;
			in->why = "far indirect branch";
			return;
		}
		in->cls = INSN_BRANCH_MEM;
		return;
	}
	if (nmem != 1 || in->op[in->mem].visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN) {
		in->cls = INSN_UNSUPPORTED;
		in->why = nmem != 1 ? "several memory operands" : "implicit memory operand";
		return;
	}
	if (hidden_rsp) {
		in->cls = INSN_UNSUPPORTED;
		in->why = "implicit stack access";
		return;
	}
	if (in->width == 0 || in->width > 64 || (!in->rd && !in->wr)) {
		in->cls = INSN_UNSUPPORTED;
		in->why = "memory operand without a data width";
		return;
	}
	in->rsp_operand = explicit_rsp;
	in->bt_reg = mnemonic_is_bt(zi->mnemonic) && in->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
	in->locked =
		(zi->attributes & ZYDIS_ATTRIB_HAS_LOCK) || (zi->mnemonic == ZYDIS_MNEMONIC_XCHG);
	if (in->locked) {
		in->mode = MODE_ATOMIC;
		in->lock = lock_kind(zi->mnemonic);
	} else if (in->rd && in->wr)
		in->mode = MODE_RMW;
	else if (in->wr)
		in->mode = MODE_STORE;
	else
		in->mode = MODE_LOAD;
	in->cls = INSN_XOL;
}

/* signal context */
int insn_decode(struct insn *in, const uint8_t *code, size_t avail)
{
	decoder_init();
	memset(in, 0, sizeof(*in));
	if (avail > sizeof(in->bytes))
		avail = sizeof(in->bytes);
	if (ZYAN_FAILED(ZydisDecoderDecodeFull(&decoder, code, avail, &in->zi, in->op)))
		return -EINVAL;
	in->len = in->zi.length;
	memcpy(in->bytes, code, in->len);
	classify(in);
	return 0;
}

static uint64_t segment_base(const struct insn *in, const struct cpu *c)
{
	ZydisRegister seg = in->op[in->mem].mem.segment;

	if (seg == ZYDIS_REGISTER_FS)
		return c->fs_base;
	if (seg == ZYDIS_REGISTER_GS)
		return c->gs_base;
	return 0;
}

/* signal context */
uint64_t insn_mem_addr(const struct insn *in, const struct cpu *c)
{
	const ZydisDecodedOperand *m = &in->op[in->mem];
	uint64_t ea = (uint64_t)m->mem.disp.value;

	if (m->mem.base == ZYDIS_REGISTER_RIP || m->mem.base == ZYDIS_REGISTER_EIP)
		ea += c->rip + in->len;
	else if (m->mem.base != ZYDIS_REGISTER_NONE)
		ea += insn_reg_read(c, m->mem.base);
	if (m->mem.index != ZYDIS_REGISTER_NONE)
		ea += insn_reg_read(c, m->mem.index) * (m->mem.scale ? m->mem.scale : 1);
	if (in->cls == INSN_XLAT) /* SDM vol. 2B, XLAT: [rbx + zero-extended al] */
		ea += c->gpr[GPR_RAX] & 0xff;
	if (in->zi.address_width == 32)
		ea &= 0xffffffffu;
	ea += segment_base(in, c);
	return ea + (uint64_t)insn_bt_delta(in, c);
}

/* signal context */
uint64_t insn_vsib_addr(const struct insn *in, const struct cpu *c, const uint8_t *index,
			unsigned j)
{
	const ZydisDecodedOperand *m = &in->op[in->mem];
	uint64_t ea = (uint64_t)m->mem.disp.value;
	int64_t idx;

	if (m->mem.base != ZYDIS_REGISTER_NONE)
		ea += insn_reg_read(c, m->mem.base);
	if (in->vsib.isize == 4) {
		int32_t d;
		memcpy(&d, index + 4 * j, 4);
		idx = d; /* dword indices are signed */
	} else {
		memcpy(&idx, index + 8 * j, 8);
	}
	ea += (uint64_t)idx * (m->mem.scale ? m->mem.scale : 1);
	if (in->zi.address_width == 32)
		ea &= 0xffffffffu;
	return ea + segment_base(in, c);
}

/* signal context */
int64_t insn_bt_delta(const struct insn *in, const struct cpu *c)
{
	if (in->bt_reg) {
		/* Intel SDM vol. 2A, BT: the bit offset register is signed and
		 * selects the operand-sized unit EA + size * (off DIV bits). */
		unsigned bits = in->width * 8;
		int64_t off = (int64_t)insn_reg_read(c, in->op[1].reg.value);
		if (bits == 16)
			off = (int16_t)off;
		else if (bits == 32)
			off = (int32_t)off;
		int shift = bits == 16 ? 4 : bits == 32 ? 5 : 6;
		return (off >> shift) * (int64_t)in->width;
	}
	return 0;
}

/* Legacy registers first: they need no REX, so AH..DH stay encodable. */
static const int tmp_order[] = {
	GPR_RBX, GPR_RSI, GPR_RDI, GPR_RBP, GPR_RDX, GPR_RCX, GPR_RAX, GPR_R11,
	GPR_R10, GPR_R9,  GPR_R8,  GPR_R12, GPR_R13, GPR_R14, GPR_R15,
};

/* signal context */
int insn_pick_tmp(const struct insn *in, uint32_t also_avoid)
{
	uint32_t used = in->gprs | also_avoid | (1u << GPR_RSP);

	for (size_t i = 0; i < sizeof(tmp_order) / sizeof(tmp_order[0]); i++)
		if (!(used & (1u << tmp_order[i])))
			return tmp_order[i];
	return -1;
}

static ZydisRegister gpr_of_width(int idx, ZydisRegister like)
{
	ZydisRegisterClass cls = ZydisRegisterGetClass(like);
	return ZydisRegisterEncode(cls, (ZyanU8)idx);
}

/* signal context */
int insn_rewrite(const struct insn *in, int tmp, int rsp_sub, uint8_t *out, size_t cap)
{
	ZydisEncoderRequest req;
	ZyanUSize len = cap - 1;

	if (ZYAN_FAILED(ZydisEncoderDecodedInstructionToEncoderRequest(
		    &in->zi, in->op, in->zi.operand_count_visible, &req)))
		return -EINVAL;
	for (int i = 0; i < req.operand_count; i++) {
		ZydisEncoderOperand *op = &req.operands[i];
		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			op->mem.base = ZYDIS_REGISTER_RAX + tmp;
			op->mem.index = ZYDIS_REGISTER_NONE;
			op->mem.scale = 0;
			op->mem.displacement = 0;
		} else if (op->type == ZYDIS_OPERAND_TYPE_REGISTER && rsp_sub >= 0 &&
			   insn_gpr_index(op->reg.value) == GPR_RSP) {
			op->reg.value = gpr_of_width(rsp_sub, op->reg.value);
		}
	}
	req.prefixes &= ~(ZydisInstructionAttributes)ZYDIS_ATTRIB_HAS_SEGMENT;
	req.address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_NONE;
	if (ZYAN_FAILED(ZydisEncoderEncodeInstruction(&req, out, &len)))
		return -EINVAL;
	out[len] = 0xc3; /* ret */
	return (int)len + 1;
}

/* signal context */
uint64_t insn_byte_mask(const struct insn *in, uint64_t kmask)
{
	const ZydisDecodedOperand *m = &in->op[in->mem];
	unsigned es = m->element_size / 8, n = m->element_count;
	uint64_t bytes = 0;

	if (!es || es * n > 64)
		return in->width >= 64 ? ~0ull : (1ull << in->width) - 1;
	if (in->compress) {
		unsigned k = __builtin_popcountll(n >= 64 ? kmask : kmask & ((1ull << n) - 1));
		return k * es >= 64 ? ~0ull : (1ull << (k * es)) - 1;
	}
	for (unsigned i = 0; i < n; i++)
		if (kmask & (1ull << i))
			bytes |= (es >= 64 ? ~0ull : ((1ull << es) - 1)) << (i * es);
	return bytes;
}
