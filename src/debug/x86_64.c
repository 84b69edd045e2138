/* SPDX-License-Identifier: MIT */
/*
 * x86-64 registers for the debugger (see x86_64.h).  The general
 * registers live in the signal context's gregs; x87 and SSE state in its
 * FXSAVE image (Intel SDM vol. 1, table 10-2), AVX's upper halves in the
 * XSAVE area that follows it (SDM vol. 1, 13.4: YMM_Hi128 at offset 576
 * of the standard format the kernel uses for signal frames).
 */
#include <errno.h>
#include <string.h>

#include "debug/x86_64.h"

#define FP_XSTATE_MAGIC1 0x46505853u
#define XSAVE_BV 512
#define XSAVE_YMMH 576
#define XFEATURE_YMM 4ull

/* gdb's order of the general registers, as ucontext gregs indexes */
static const int gpr_greg[16] = {
	REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
	REG_R8,	 REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static uint8_t *fxsave(const ucontext_t *uc)
{
	return (uint8_t *)uc->uc_mcontext.fpregs;
}

static uint8_t *xsave(const ucontext_t *uc)
{
	uint8_t *fp = fxsave(uc);
	uint32_t magic;

	if (!fp || ((uintptr_t)fp & 63))
		return NULL;
	memcpy(&magic, fp + 464, 4); /* struct _fpx_sw_bytes */
	return magic == FP_XSTATE_MAGIC1 ? fp : NULL;
}

bool x86_has_avx(const ucontext_t *uc)
{
	uint8_t *x = xsave(uc);
	uint64_t features;

	if (!x)
		return false;
	memcpy(&features, x + 464 + 8, 8); /* what the frame has room for */
	return features & XFEATURE_YMM;
}

int x86_reg_count(bool avx)
{
	return avx ? X86_REGS_AVX : X86_REGS_BASE;
}

int x86_reg_size(int n)
{
	if (n < 0 || n >= X86_REGS_AVX)
		return -EINVAL;
	if (n <= X86_REG_RIP)
		return 8;
	if (n < 24)
		return 4; /* eflags, cs ss ds es fs gs */
	if (n < 32)
		return 10; /* st0..st7 */
	if (n < 40)
		return 4; /* fctrl .. fop */
	if (n < 56)
		return 16; /* xmm */
	if (n == 56)
		return 4; /* mxcsr */
	if (n < 60)
		return 8; /* orig_rax, fs_base, gs_base */
	return 16;	  /* ymmNh */
}

/* The x87 tag of physical register i from the abridged FXSAVE tag
 * (SDM vol. 1, 10.5.1.1): 0 valid, 1 zero, 2 special, 3 empty. */
static unsigned full_tag(const uint8_t *fx, int i)
{
	unsigned top = (fx[3] >> 3) & 7; /* FSW bits 11..13 */
	const uint8_t *st = fx + 32 + 16 * ((i - (int)top) & 7);
	uint16_t exp;
	uint64_t mant;

	if (!(fx[4] & (1u << i)))
		return 3;
	memcpy(&mant, st, 8);
	memcpy(&exp, st + 8, 2);
	exp &= 0x7fff;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant ? 2 : 1;
	return mant >> 63 ? 0 : 2;
}

/* Where register n lives in the FXSAVE image for the simple cases:
 * offset and the number of bytes stored (the rest reads as zero). */
static int fx_place(int n, int *bytes)
{
	static const struct {
		int8_t off, len;
	} ctl[8] = {
		{ 0, 2 },  /* fctrl */
		{ 2, 2 },  /* fstat */
		{ 0, 0 },  /* ftag: computed */
		{ 12, 4 }, /* fiseg */
		{ 8, 4 },  /* fioff */
		{ 20, 4 }, /* foseg */
		{ 16, 4 }, /* fooff */
		{ 6, 2 },  /* fop (11 bits) */
	};
	if (n >= 24 && n < 32) {
		*bytes = 10;
		return 32 + 16 * (n - 24);
	}
	if (n >= 32 && n < 40) {
		*bytes = ctl[n - 32].len;
		return ctl[n - 32].off;
	}
	if (n >= 40 && n < 56) {
		*bytes = 16;
		return 160 + 16 * (n - 40);
	}
	*bytes = 4; /* mxcsr */
	return 24;
}

int x86_reg_get(const struct x86_regctx *c, int n, uint8_t *out)
{
	const greg_t *g = c->uc->uc_mcontext.gregs;
	int size = x86_reg_size(n), bytes;
	uint64_t v = 0;
	uint8_t *fx;

	if (size < 0)
		return size;
	memset(out, 0, (size_t)size);
	if (n < 16)
		v = (uint64_t)g[gpr_greg[n]];
	else if (n == X86_REG_RIP)
		v = (uint64_t)g[REG_RIP];
	else if (n == 17)
		v = (uint64_t)g[REG_EFL] & 0xffffffffu;
	else if (n == 18) /* cs, then gs, fs, ss packed in REG_CSGSFS */
		v = (uint64_t)g[REG_CSGSFS] & 0xffff;
	else if (n == 19)
		v = ((uint64_t)g[REG_CSGSFS] >> 48) & 0xffff;
	else if (n == 22)
		v = ((uint64_t)g[REG_CSGSFS] >> 32) & 0xffff;
	else if (n == 23)
		v = ((uint64_t)g[REG_CSGSFS] >> 16) & 0xffff;
	else if (n == 57)
		v = (uint64_t)-1; /* not stopped in a system call gdb sees */
	else if (n == X86_REG_FS_BASE)
		v = c->fs_base;
	else if (n == X86_REG_GS_BASE)
		v = c->gs_base;
	else if (n >= 60) {
		uint8_t *x = xsave(c->uc);
		uint64_t bv = 0;
		if (x)
			memcpy(&bv, x + XSAVE_BV, 8);
		if (x && (bv & XFEATURE_YMM))
			memcpy(out, x + XSAVE_YMMH + 16 * (n - 60), 16);
		return size;
	} else if ((fx = fxsave(c->uc))) {
		if (n == 34) {
			for (int i = 0; i < 8; i++)
				v |= (uint64_t)full_tag(fx, i) << (2 * i);
		} else {
			int off = fx_place(n, &bytes);
			memcpy(out, fx + off, (size_t)bytes);
			if (n == 39)
				out[1] &= 7;
			return size;
		}
	}
	/* st0..st7 of a context without FP state: v is 8 of their 10 zeros */
	if (n < 40 || n >= 57 || n == 17 || (n >= 18 && n < 24))
		memcpy(out, &v, (size_t)(size < 8 ? size : 8));
	return size;
}

int x86_reg_set(struct x86_regctx *c, int n, const uint8_t *in)
{
	greg_t *g = c->uc->uc_mcontext.gregs;
	int size = x86_reg_size(n), bytes;
	uint64_t v = 0;
	uint8_t *fx;

	if (size < 0)
		return size;
	if (c->readonly)
		return -EPERM;
	memcpy(&v, in, (size_t)(size < 8 ? size : 8));
	if (n < 16) {
		g[gpr_greg[n]] = (greg_t)v;
	} else if (n == X86_REG_RIP) {
		g[REG_RIP] = (greg_t)v;
	} else if (n == 17) {
		g[REG_EFL] = (greg_t)((v & 0xffffffffu) | 0x2);
	} else if (n >= 18 && n < 24) {
		/* segment selectors: the kernel checks them on sigreturn and
		 * a wrong one kills the thread; keep what the thread had */
		uint8_t now[4];
		x86_reg_get(c, n, now);
		return memcmp(now, in, 4) ? -EPERM : size;
	} else if (n == 57) {
		return size; /* orig_rax: ignored, as for a thread not in a call */
	} else if (n == X86_REG_FS_BASE) {
		c->fs_base = v;
		c->fs_base_set = true;
	} else if (n == X86_REG_GS_BASE) {
		c->gs_base = v;
		c->gs_base_set = true;
	} else if (n >= 60) {
		uint8_t *x = xsave(c->uc);
		uint64_t bv;
		if (!x || !x86_has_avx(c->uc))
			return -EPERM;
		memcpy(&bv, x + XSAVE_BV, 8);
		if (!(bv & XFEATURE_YMM)) /* from its initial state: zeros */
			memset(x + XSAVE_YMMH, 0, 256);
		bv |= XFEATURE_YMM;
		memcpy(x + XSAVE_BV, &bv, 8);
		memcpy(x + XSAVE_YMMH + 16 * (n - 60), in, 16);
	} else if ((fx = fxsave(c->uc))) {
		if (n == 34) {
			uint8_t ab = 0;
			for (int i = 0; i < 8; i++)
				if (((v >> (2 * i)) & 3) != 3)
					ab |= (uint8_t)(1u << i);
			fx[4] = ab;
		} else {
			int off = fx_place(n, &bytes);
			memcpy(fx + off, in, (size_t)bytes);
			if (n == 56) { /* a reserved MXCSR bit set fails sigreturn */
				uint32_t m;
				memcpy(&m, fx + 24, 4);
				m &= 0xffff;
				memcpy(fx + 24, &m, 4);
			}
		}
	} else {
		return -EPERM;
	}
	return size;
}

/* ---- the target description ---- */

/*
 * One register or flag field per line: clang-format cannot lay out
 * juxtaposed string macros stably, so this table is left as written.
 */
/* clang-format off */
#define XML_HEAD \
	"<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target>\n" \
	"<architecture>i386:x86-64</architecture>\n<osabi>GNU/Linux</osabi>\n"

#define R(name, bits, type) "<reg name=\"" name "\" bitsize=\"" #bits "\" type=\"" type "\"/>\n"
#define RG(name, bits, type, group) \
	"<reg name=\"" name "\" bitsize=\"" #bits "\" type=\"" type "\" group=\"" group "\"/>\n"
#define F(name, bit) "<field name=\"" name "\" start=\"" #bit "\" end=\"" #bit "\"/>\n"

#define XML_CORE \
	"<feature name=\"org.gnu.gdb.i386.core\">\n" \
	"<flags id=\"i386_eflags\" size=\"4\">\n" \
	F("CF", 0) F("", 1) F("PF", 2) F("AF", 4) F("ZF", 6) F("SF", 7) \
	F("TF", 8) F("IF", 9) F("DF", 10) F("OF", 11) F("NT", 14) F("RF", 16) \
	F("VM", 17) F("AC", 18) F("VIF", 19) F("VIP", 20) F("ID", 21) \
	"</flags>\n" \
	R("rax", 64, "int64") R("rbx", 64, "int64") R("rcx", 64, "int64") \
	R("rdx", 64, "int64") R("rsi", 64, "int64") R("rdi", 64, "int64") \
	R("rbp", 64, "data_ptr") R("rsp", 64, "data_ptr") \
	R("r8", 64, "int64") R("r9", 64, "int64") R("r10", 64, "int64") \
	R("r11", 64, "int64") R("r12", 64, "int64") R("r13", 64, "int64") \
	R("r14", 64, "int64") R("r15", 64, "int64") R("rip", 64, "code_ptr") \
	R("eflags", 32, "i386_eflags") \
	R("cs", 32, "int32") R("ss", 32, "int32") R("ds", 32, "int32") \
	R("es", 32, "int32") R("fs", 32, "int32") R("gs", 32, "int32") \
	R("st0", 80, "i387_ext") R("st1", 80, "i387_ext") \
	R("st2", 80, "i387_ext") R("st3", 80, "i387_ext") \
	R("st4", 80, "i387_ext") R("st5", 80, "i387_ext") \
	R("st6", 80, "i387_ext") R("st7", 80, "i387_ext") \
	RG("fctrl", 32, "int", "float") RG("fstat", 32, "int", "float") \
	RG("ftag", 32, "int", "float") RG("fiseg", 32, "int", "float") \
	RG("fioff", 32, "int", "float") RG("foseg", 32, "int", "float") \
	RG("fooff", 32, "int", "float") RG("fop", 32, "int", "float") \
	"</feature>\n"

#define XMM(i) R("xmm" #i, 128, "vec128")
#define XML_SSE \
	"<feature name=\"org.gnu.gdb.i386.sse\">\n" \
	"<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n" \
	"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n" \
	"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n" \
	"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n" \
	"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n" \
	"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n" \
	"<union id=\"vec128\">\n<field name=\"v4_float\" type=\"v4f\"/>\n" \
	"<field name=\"v2_double\" type=\"v2d\"/>\n<field name=\"v16_int8\" type=\"v16i8\"/>\n" \
	"<field name=\"v8_int16\" type=\"v8i16\"/>\n<field name=\"v4_int32\" type=\"v4i32\"/>\n" \
	"<field name=\"v2_int64\" type=\"v2i64\"/>\n<field name=\"uint128\" type=\"uint128\"/>\n" \
	"</union>\n" \
	"<flags id=\"i386_mxcsr\" size=\"4\">\n" \
	F("IE", 0) F("DE", 1) F("ZE", 2) F("OE", 3) F("UE", 4) F("PE", 5) \
	F("DAZ", 6) F("IM", 7) F("DM", 8) F("ZM", 9) F("OM", 10) F("UM", 11) \
	F("PM", 12) F("FZ", 15) \
	"</flags>\n" \
	XMM(0) XMM(1) XMM(2) XMM(3) XMM(4) XMM(5) XMM(6) XMM(7) \
	XMM(8) XMM(9) XMM(10) XMM(11) XMM(12) XMM(13) XMM(14) XMM(15) \
	RG("mxcsr", 32, "i386_mxcsr", "vector") \
	"</feature>\n"

#define XML_LINUX \
	"<feature name=\"org.gnu.gdb.i386.linux\">\n" \
	RG("orig_rax", 64, "int", "system") \
	"</feature>\n" \
	"<feature name=\"org.gnu.gdb.i386.segments\">\n" \
	R("fs_base", 64, "int") R("gs_base", 64, "int") \
	"</feature>\n"

#define YMMH(i) R("ymm" #i "h", 128, "uint128")
#define XML_AVX \
	"<feature name=\"org.gnu.gdb.i386.avx\">\n" \
	YMMH(0) YMMH(1) YMMH(2) YMMH(3) YMMH(4) YMMH(5) YMMH(6) YMMH(7) \
	YMMH(8) YMMH(9) YMMH(10) YMMH(11) YMMH(12) YMMH(13) YMMH(14) YMMH(15) \
	"</feature>\n"

static const char xml_base[] = XML_HEAD XML_CORE XML_SSE XML_LINUX "</target>\n";
static const char xml_avx[] = XML_HEAD XML_CORE XML_SSE XML_LINUX XML_AVX "</target>\n";
/* clang-format on */

const char *x86_target_xml(bool avx, size_t *len)
{
	*len = (avx ? sizeof(xml_avx) : sizeof(xml_base)) - 1;
	return avx ? xml_avx : xml_base;
}
