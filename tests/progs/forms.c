// SPDX-License-Identifier: MIT
/*
 * forms: ground truth for instruction coverage.
 *
 * Performs one x86-64 instruction form at a time on a traced memfd mapping
 * and prints the memory accesses it makes to the traced pages, in the order
 * mmscope records them:
 *
 *   FORM <name>
 *   EXPECT R|W 0x<offset> <width> 0x<value>|? [mask=0x<bytes>]
 *
 * The offset is from the start of the mapping, the value is the accessed
 * bytes read as a little-endian integer ("?" would mean the value cannot be
 * known: LOCKed arithmetic on a device mapping; the memfd here is
 * RAM-backed, so mmscope records even those values).  Each form runs between MARK "form <name>"
 * and MARK "end <name>"; tests/e2e/test_forms.py runs this program under
 *   mmscope run --map '/memfd:mmscope-forms*'
 * and compares the records between the two marks with the EXPECT lines.
 *
 * The program checks its own results (registers, flags, memory) and exits 1
 * after printing "FAIL form <name>: ..." to stderr on any mismatch, so a run
 * under mmscope also proves each emulated access computed what the CPU does.
 * Forms the CPU cannot run print "SKIP form <name>: CPU lacks <feature>".
 *
 * Layout: pages 0-1 of the memfd mapping are traced; page 2 is replaced by
 * an anonymous private page, untraced memory right after the traced pages
 * for the straddle and REP-run forms.
 */
/* a hand-laid table of instruction forms: keep its layout */
/* clang-format off */
#include <cpuid.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mmscope/mmscope.h>

#define PAGE 4096u
#define MAP_PAGES 3u
#define TRACED_END (2 * PAGE)           /* first untraced offset */
#define SLOT_FIRST 0x40u
#define SLOT_LIMIT (TRACED_END - 0x100) /* tail of page 1: fixed-offset forms */

static struct {
	uint8_t *mem;           /* the mapping; [0, TRACED_END) is traced */
	uint8_t *code;          /* page for generated code (moffs forms) */
	const char *need;       /* CPU features the current group requires */
	char form[64];
	size_t next_slot;
	unsigned failures;
} fx = { .next_slot = SLOT_FIRST };

static struct {
	int movbe, cx16, sse41, avx, avx512f, avx512bw, avx512vl;
} cpu;

/* ---- CPU features ---------------------------------------------------- */

static void cpu_detect(void)
{
	unsigned a, b, c, d;

	/* CPUID.01H:ECX bit 22 MOVBE, bit 13 CMPXCHG16B (Intel SDM vol. 2A). */
	if (__get_cpuid(1, &a, &b, &c, &d)) {
		cpu.movbe = !!(c & (1u << 22));
		cpu.cx16 = !!(c & (1u << 13));
	}
	cpu.sse41 = __builtin_cpu_supports("sse4.1");
	cpu.avx = __builtin_cpu_supports("avx");
	cpu.avx512f = __builtin_cpu_supports("avx512f");
	cpu.avx512bw = __builtin_cpu_supports("avx512bw");
	cpu.avx512vl = __builtin_cpu_supports("avx512vl");
}

/* First feature of the comma-separated list the CPU lacks, or NULL. */
static const char *cpu_lacks(const char *features)
{
	static const struct {
		const char *name;
		const int *have;
	} table[] = {
		{ "movbe", &cpu.movbe },       { "cx16", &cpu.cx16 },
		{ "sse4.1", &cpu.sse41 },      { "avx", &cpu.avx },
		{ "avx512f", &cpu.avx512f },   { "avx512bw", &cpu.avx512bw },
		{ "avx512vl", &cpu.avx512vl },
	};
	static char missing[16];
	const char *s = features;

	while (s && *s) {
		size_t len = strcspn(s, ",");

		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (strlen(table[i].name) == len &&
			    !strncmp(table[i].name, s, len) &&
			    !*table[i].have) {
				snprintf(missing, sizeof(missing), "%s",
					 table[i].name);
				return missing;
			}
		s += len + (s[len] == ',');
	}
	return NULL;
}

/* ---- form bookkeeping ------------------------------------------------ */

/* Starts form NAME; returns 0 (after saying why) if the CPU cannot run it. */
static int form_begin_needing(const char *name, const char *features)
{
	const char *lack = cpu_lacks(features);
	char mark[96];

	if (lack) {
		printf("SKIP form %s: CPU lacks %s\n", name, lack);
		return 0;
	}
	snprintf(fx.form, sizeof(fx.form), "%s", name);
	snprintf(mark, sizeof(mark), "form %s", name);
	printf("FORM %s\n", name);
	mmscope_mark(mark);
	return 1;
}

static int form_begin(const char *name)
{
	return form_begin_needing(name, fx.need);
}

static void form_end(void)
{
	char mark[96];

	snprintf(mark, sizeof(mark), "end %s", fx.form);
	mmscope_mark(mark);
}

static void form_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL form %s: ", fx.form);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fx.failures++;
}

/* A fresh 64-byte-aligned stretch of LEN traced bytes. */
static size_t slot(size_t len)
{
	size_t off;

	len = (len + 63) & ~(size_t)63;
	if (fx.next_slot + len > SLOT_LIMIT)
		fx.next_slot = SLOT_FIRST;
	off = fx.next_slot;
	fx.next_slot += len;
	return off;
}

static uint64_t trunc_to(unsigned width, uint64_t v)
{
	return width >= 8 ? v : v & ((1ull << (8 * width)) - 1);
}

static void poke(size_t off, unsigned width, uint64_t v)
{
	memcpy(fx.mem + off, &v, width);
}

static uint64_t peek(size_t off, unsigned width)
{
	uint64_t v = 0;

	memcpy(&v, fx.mem + off, width);
	return v;
}

/* Bytes of an access at OFF..OFF+WIDTH that fall in the traced pages. */
static unsigned traced_width(size_t off, unsigned width)
{
	if (off >= TRACED_END)
		return 0;
	return off + width > TRACED_END ? TRACED_END - off : width;
}

/* One EXPECT line; VALUE (little-endian bytes) NULL means "?".  Accesses
 * are clipped to the traced pages the way the tracer records them. */
static void expect(char dir, size_t off, unsigned width, const void *value)
{
	const uint8_t *b = value;
	unsigned w = traced_width(off, width);

	if (!w)
		return;
	printf("EXPECT %c 0x%zx %u ", dir, off, w);
	if (!b) {
		puts("?");
		return;
	}
	fputs("0x", stdout);
	while (w--)
		printf("%02x", b[w]);
	putchar('\n');
}

/* The EXPECT line of a masked access: bit i of bytes set when byte i of
 * the width was accessed (the value holds zero for the others). */
static void expect_masked(char dir, size_t off, unsigned width, const uint8_t *value,
			  uint64_t bytes)
{
	unsigned w = width;

	printf("EXPECT %c 0x%zx %u 0x", dir, off, width);
	while (w--)
		printf("%02x", value[w]);
	printf(" mask=0x%" PRIx64 "\n", bytes);
}

static void expect_int(char dir, size_t off, unsigned width, uint64_t v)
{
	expect(dir, off, width, &v);
}

/* Read-modify-write: R old, W new; LOCKed arithmetic reveals neither. */
static void expect_rmw(size_t off, unsigned width, uint64_t old, uint64_t new,
		       int locked)
{
	/* a locked RMW on RAM-backed memory: old and new value recorded */
	(void)locked;
	expect('R', off, width, &old);
	expect('W', off, width, &new);
}

static void check_eq(const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		form_fail("%s is 0x%llx, want 0x%llx", what,
			  (unsigned long long)got, (unsigned long long)want);
}

static void check_mem(size_t off, unsigned width, uint64_t want)
{
	char what[48];

	snprintf(what, sizeof(what), "memory at 0x%zx", off);
	check_eq(what, peek(off, width), trunc_to(width, want));
}

static void check_bytes(const char *what, const uint8_t *got,
			const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i]) {
			form_fail("%s byte %zu is 0x%02x, want 0x%02x", what, i,
				  got[i], want[i]);
			return;
		}
}

/* Distinct, non-zero bytes (zero would hide a masked-off element). */
static void pattern(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++) {
		b[i] = (uint8_t)(seed + i * 0x3b);
		if (!b[i])
			b[i] = 0xff;
	}
}

/* ---- the mapping ------------------------------------------------------ */

static int forms_map(void)
{
	uint8_t *m, *u;
	int fd, ret = 0;

	fd = memfd_create("mmscope-forms", 0);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, MAP_PAGES * PAGE) < 0) {
		ret = -errno;
		goto out;
	}
	m = mmap(NULL, MAP_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	u = mmap(m + TRACED_END, PAGE, PROT_READ | PROT_WRITE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u == MAP_FAILED) {
		ret = -errno;
		goto out;
	}
	fx.mem = m;
	fx.code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fx.code == MAP_FAILED)
		ret = -errno;
out:
	close(fd);
	return ret;
}

/* ---- plain loads and stores ------------------------------------------ */

#define FORM_LOAD(name, width, mis, memval, RT, want, insn)                    \
	do {                                                                   \
		size_t off_ = slot(width) + (mis);                             \
		RT r_;                                                         \
		poke(off_, width, memval);                                     \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn : [r] "=r"(r_) : [p] "r"(fx.mem + off_)     \
			     : "memory");                                      \
		form_end();                                                    \
		expect_int('R', off_, width, memval);                          \
		check_eq("loaded register", r_, (RT)(want));                   \
	} while (0)

#define FORM_STORE(name, width, mis, val, insn, ...)                           \
	do {                                                                   \
		size_t off_ = slot(width) + (mis);                             \
		poke(off_, width, 0xa5a5a5a5a5a5a5a5ull);                      \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn : : [p] "r"(fx.mem + off_), ##__VA_ARGS__    \
			     : "memory");                                      \
		form_end();                                                    \
		expect_int('W', off_, width, val);                             \
		check_mem(off_, width, val);                                   \
	} while (0)

static void forms_mov(void)
{
	FORM_LOAD("mov_load8", 1, 0, 0x5a, uint8_t, 0x5a, "movb (%[p]), %[r]");
	FORM_LOAD("mov_load16", 2, 0, 0xbeef, uint16_t, 0xbeef,
		  "movw (%[p]), %[r]");
	FORM_LOAD("mov_load32", 4, 0, 0x11223344, uint32_t, 0x11223344,
		  "movl (%[p]), %[r]");
	FORM_LOAD("mov_load64", 8, 0, 0x1122334455667788, uint64_t,
		  0x1122334455667788, "movq (%[p]), %[r]");
	FORM_LOAD("mov_load64_unaligned", 8, 3, 0x8899aabbccddeeff, uint64_t,
		  0x8899aabbccddeeff, "movq (%[p]), %[r]");

	{
		size_t off = slot(1);
		uint64_t a = 0x1111111111111111;

		poke(off, 1, 0xc7);
		if (form_begin("mov_load8_high")) {
			asm volatile("movb (%[p]), %%ah"
				     : "+a"(a)
				     : [p] "r"(fx.mem + off)
				     : "memory");
			form_end();
			expect_int('R', off, 1, 0xc7);
			check_eq("rax", a, 0x111111111111c711);
		}
	}
	{
		/* base + index*scale + displacement: 0x0c + 5*4 = 0x20 */
		size_t off = slot(64);
		uint32_t r;

		poke(off + 0x20, 4, 0x0badf00d);
		if (form_begin("mov_load32_sib")) {
			asm volatile("movl 0x0c(%[b],%[i],4), %[r]"
				     : [r] "=r"(r)
				     : [b] "r"(fx.mem + off), [i] "r"(5l)
				     : "memory");
			form_end();
			expect_int('R', off + 0x20, 4, 0x0badf00d);
			check_eq("loaded register", r, 0x0badf00d);
		}
	}

	FORM_STORE("mov_store8", 1, 0, 0xc3, "movb %[s], (%[p])",
		   [s] "r"((uint8_t)0xc3));
	FORM_STORE("mov_store16", 2, 0, 0x4d5e, "movw %[s], (%[p])",
		   [s] "r"((uint16_t)0x4d5e));
	FORM_STORE("mov_store32", 4, 0, 0xcafef00d, "movl %[s], (%[p])",
		   [s] "r"((uint32_t)0xcafef00d));
	FORM_STORE("mov_store64", 8, 0, 0x0123456789abcdef, "movq %[s], (%[p])",
		   [s] "r"(0x0123456789abcdefull));
	FORM_STORE("mov_store32_unaligned", 4, 1, 0x31415926,
		   "movl %[s], (%[p])", [s] "r"((uint32_t)0x31415926));
	FORM_STORE("mov_store_imm8", 1, 0, 0x7e, "movb $0x7e, (%[p])");
	FORM_STORE("mov_store_imm16", 2, 0, 0x1357, "movw $0x1357, (%[p])");
	FORM_STORE("mov_store_imm32", 4, 0, 0x2468ace0,
		   "movl $0x2468ace0, (%[p])");
	/* imm32 sign-extended to 64 bits */
	FORM_STORE("mov_store_imm64", 8, 0, 0xfffffffffedcba98,
		   "movq $-0x1234568, (%[p])");

	FORM_LOAD("movzx_r32_m8", 1, 0, 0x9c, uint32_t, 0x9c,
		  "movzbl (%[p]), %[r]");
	FORM_LOAD("movzx_r64_m16", 2, 0, 0xfedc, uint64_t, 0xfedc,
		  "movzwq (%[p]), %[r]");
	FORM_LOAD("movsx_r64_m8", 1, 0, 0x9c, uint64_t, 0xffffffffffffff9c,
		  "movsbq (%[p]), %[r]");
	FORM_LOAD("movsx_r32_m16", 2, 0, 0x8123, uint32_t, 0xffff8123,
		  "movswl (%[p]), %[r]");
	FORM_LOAD("movsxd_r64_m32", 4, 0, 0x80112233, uint64_t,
		  0xffffffff80112233, "movslq (%[p]), %[r]");

	FORM_STORE("movnti_m32", 4, 0, 0x600dcafe,
		   "movnti %[s], (%[p])\n\tsfence", [s] "r"(0x600dcafeu));
	FORM_STORE("movnti_m64", 8, 0, 0xfeedfacecafebeef,
		   "movnti %[s], (%[p])\n\tsfence",
		   [s] "r"(0xfeedfacecafebeefull));
}

static void forms_movbe(void)
{
	fx.need = "movbe";
	/* The record carries the memory bytes; the register is swapped. */
	FORM_LOAD("movbe_load16", 2, 0, 0x1234, uint16_t, 0x3412,
		  "movbe (%[p]), %[r]");
	FORM_LOAD("movbe_load32", 4, 0, 0x11223344, uint32_t, 0x44332211,
		  "movbe (%[p]), %[r]");
	FORM_LOAD("movbe_load64", 8, 0, 0x1122334455667788, uint64_t,
		  0x8877665544332211, "movbe (%[p]), %[r]");
	FORM_STORE("movbe_store16", 2, 0, 0xcdab, "movbe %[s], (%[p])",
		   [s] "r"((uint16_t)0xabcd));
	FORM_STORE("movbe_store32", 4, 0, 0x78563412, "movbe %[s], (%[p])",
		   [s] "r"((uint32_t)0x12345678));
	FORM_STORE("movbe_store64", 8, 0, 0xefcdab8967452301,
		   "movbe %[s], (%[p])", [s] "r"(0x0123456789abcdefull));
	fx.need = NULL;
}

/* ---- MOV with a moffs operand (opcodes A0-A3) -------------------------- */

/*
 * moffs is a 64-bit absolute address inside the instruction, and the
 * mapping's address is known only at run time, so the instruction is
 * generated into fx.code:  [mov %rdi,%rax]  [66|48] A0-A3 <addr64>  ret
 */
typedef uint64_t (*moffs_fn)(uint64_t);

static moffs_fn moffs_emit(unsigned width, int store, uint64_t addr)
{
	uint8_t *c = fx.code;

	if (mprotect(fx.code, PAGE, PROT_READ | PROT_WRITE))
		return NULL;
	if (store) {
		static const uint8_t mov_rax_rdi[] = { 0x48, 0x89, 0xf8 };

		memcpy(c, mov_rax_rdi, sizeof(mov_rax_rdi));
		c += sizeof(mov_rax_rdi);
	}
	if (width == 2)
		*c++ = 0x66;            /* operand-size override */
	else if (width == 8)
		*c++ = 0x48;            /* REX.W */
	*c++ = (width == 1 ? 0xa0 : 0xa1) + (store ? 2 : 0);
	memcpy(c, &addr, 8);
	c += 8;
	*c++ = 0xc3;
	if (mprotect(fx.code, PAGE, PROT_READ | PROT_EXEC))
		return NULL;
	return (moffs_fn)(uintptr_t)fx.code;
}

static void form_moffs(const char *name, unsigned width, int store,
		       uint64_t val)
{
	size_t off = slot(width) + 2;
	moffs_fn fn = moffs_emit(width, store, (uintptr_t)(fx.mem + off));
	uint64_t r;

	poke(off, width, store ? 0xa5a5a5a5a5a5a5a5ull : val);
	if (!form_begin(name))
		return;
	if (!fn) {
		form_end();
		form_fail("cannot generate code: %s", strerror(errno));
		return;
	}
	r = fn(val);
	form_end();
	expect_int(store ? 'W' : 'R', off, width, val);
	if (store)
		check_mem(off, width, val);
	else
		check_eq("loaded register", trunc_to(width, r),
			 trunc_to(width, val));
}

static void forms_moffs(void)
{
	form_moffs("moffs_load8", 1, 0, 0xd1);
	form_moffs("moffs_load16", 2, 0, 0xd2e3);
	form_moffs("moffs_load32", 4, 0, 0xd3e4f506);
	form_moffs("moffs_load64", 8, 0, 0xd4e5f60718293a4b);
	form_moffs("moffs_store8", 1, 1, 0x81);
	form_moffs("moffs_store16", 2, 1, 0x8291);
	form_moffs("moffs_store32", 4, 1, 0x8392a1b0);
	form_moffs("moffs_store64", 8, 1, 0x8493a2b1c0d0e0f0);
}

/* ---- XCHG, XADD, CMPXCHG ----------------------------------------------- */

/* XCHG/XADD: R old, W new (values known even when locked); the register
 * ends up holding the old memory value. */
#define FORM_XREG(name, T, old, src, new, insn)                                \
	do {                                                                   \
		size_t off_ = slot(sizeof(T));                                 \
		T r_ = (src);                                                  \
		poke(off_, sizeof(T), old);                                    \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn : [r] "+r"(r_) : [p] "r"(fx.mem + off_)      \
			     : "memory", "cc");                                \
		form_end();                                                    \
		expect_rmw(off_, sizeof(T), old, new, 0);                      \
		check_eq("register", r_, (T)(old));                            \
		check_mem(off_, sizeof(T), new);                               \
	} while (0)

/* Intel SDM vol. 2A, CMPXCHG: "The destination operand is written back if
 * the comparison fails", so a failure is R old, W old. */
#define FORM_CMPXCHG(name, T, old, cmp, src, insn)                             \
	do {                                                                   \
		size_t off_ = slot(sizeof(T));                                 \
		T a_ = (cmp);                                                  \
		unsigned char zf_;                                             \
		int ok_ = (T)(old) == (T)(cmp);                                \
		uint64_t new_ = ok_ ? (T)(src) : (T)(old);                     \
		poke(off_, sizeof(T), old);                                    \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn                                              \
			     : "+a"(a_), "=@ccz"(zf_)                          \
			     : [p] "r"(fx.mem + off_), [s] "r"((T)(src))       \
			     : "memory");                                      \
		form_end();                                                    \
		expect_rmw(off_, sizeof(T), old, new_, 0);                     \
		check_eq("ZF", zf_, ok_);                                      \
		check_eq("accumulator", a_, (T)(old));                         \
		check_mem(off_, sizeof(T), new_);                              \
	} while (0)

static void form_cmpxchg8b(const char *name, int locked, uint64_t old,
			   uint64_t cmp, uint64_t src)
{
	size_t off = slot(8);
	uint32_t lo = (uint32_t)cmp, hi = (uint32_t)(cmp >> 32);
	int ok = old == cmp;
	uint64_t new = ok ? src : old;
	unsigned char zf;

	poke(off, 8, old);
	if (!form_begin(name))
		return;
	if (locked)
		asm volatile("lock cmpxchg8b (%[p])"
			     : "+a"(lo), "+d"(hi), "=@ccz"(zf)
			     : [p] "r"(fx.mem + off), "b"((uint32_t)src),
			       "c"((uint32_t)(src >> 32))
			     : "memory");
	else
		asm volatile("cmpxchg8b (%[p])"
			     : "+a"(lo), "+d"(hi), "=@ccz"(zf)
			     : [p] "r"(fx.mem + off), "b"((uint32_t)src),
			       "c"((uint32_t)(src >> 32))
			     : "memory");
	form_end();
	expect_rmw(off, 8, old, new, 0);
	check_eq("ZF", zf, ok);
	check_eq("edx:eax", (uint64_t)hi << 32 | lo, old);
	check_mem(off, 8, new);
}

static void form_cmpxchg16b(const char *name, int locked, int succeed)
{
	size_t off = slot(16);      /* 16-byte aligned, else #GP */
	uint64_t old[2] = { 0x0011223344556677, 0x8899aabbccddeeff };
	uint64_t src[2] = { 0xf0e0d0c0b0a09080, 0x7060504030201000 };
	uint64_t lo = old[0], hi = succeed ? old[1] : old[1] ^ 1;
	const uint64_t *new = succeed ? src : old;
	unsigned char zf;

	memcpy(fx.mem + off, old, 16);
	if (!form_begin_needing(name, "cx16"))
		return;
	if (locked)
		asm volatile("lock cmpxchg16b (%[p])"
			     : "+a"(lo), "+d"(hi), "=@ccz"(zf)
			     : [p] "r"(fx.mem + off), "b"(src[0]), "c"(src[1])
			     : "memory");
	else
		asm volatile("cmpxchg16b (%[p])"
			     : "+a"(lo), "+d"(hi), "=@ccz"(zf)
			     : [p] "r"(fx.mem + off), "b"(src[0]), "c"(src[1])
			     : "memory");
	form_end();
	expect('R', off, 16, old);
	expect('W', off, 16, new);
	check_eq("ZF", zf, succeed);
	check_eq("rax", lo, old[0]);
	check_eq("rdx", hi, old[1]);
	check_bytes("memory", fx.mem + off, (const uint8_t *)new, 16);
}

static void forms_atomic(void)
{
	FORM_XREG("xchg_m8", uint8_t, 0x12, 0xef, 0xef, "xchgb %[r], (%[p])");
	FORM_XREG("xchg_m16", uint16_t, 0x1234, 0xfedc, 0xfedc,
		  "xchgw %[r], (%[p])");
	FORM_XREG("xchg_m32", uint32_t, 0x12345678, 0x9abcdef0, 0x9abcdef0,
		  "xchgl %[r], (%[p])");
	FORM_XREG("xchg_m64", uint64_t, 0x1122334455667788,
		  0x99aabbccddeeff00, 0x99aabbccddeeff00, "xchgq %[r], (%[p])");

	FORM_XREG("xadd_m32", uint32_t, 0x10203040, 0x01020304, 0x11223344,
		  "xaddl %[r], (%[p])");
	FORM_XREG("xadd_m64", uint64_t, 0xfffffffffffffff0, 0x20, 0x10,
		  "xaddq %[r], (%[p])");
	FORM_XREG("lock_xadd_m8", uint8_t, 0x7f, 0x02, 0x81,
		  "lock xaddb %[r], (%[p])");
	FORM_XREG("lock_xadd_m16", uint16_t, 0x1000, 0x0234, 0x1234,
		  "lock xaddw %[r], (%[p])");
	FORM_XREG("lock_xadd_m32", uint32_t, 0xffffffff, 1, 0,
		  "lock xaddl %[r], (%[p])");
	FORM_XREG("lock_xadd_m64", uint64_t, 0x1111111111111111,
		  0x2222222222222222, 0x3333333333333333,
		  "lock xaddq %[r], (%[p])");

	FORM_CMPXCHG("cmpxchg_m64_success", uint64_t, 0x0102030405060708,
		     0x0102030405060708, 0xa1a2a3a4a5a6a7a8,
		     "cmpxchgq %[s], (%[p])");
	FORM_CMPXCHG("cmpxchg_m32_failure", uint32_t, 0x0a0b0c0d, 0x0a0b0c0e,
		     0x55555555, "cmpxchgl %[s], (%[p])");
	FORM_CMPXCHG("cmpxchg_m8_success", uint8_t, 0x42, 0x42, 0x24,
		     "cmpxchgb %[s], (%[p])");
	FORM_CMPXCHG("cmpxchg_m16_failure", uint16_t, 0x4242, 0x2424, 0x1111,
		     "cmpxchgw %[s], (%[p])");
	FORM_CMPXCHG("lock_cmpxchg_m64_success", uint64_t, 0x1020304050607080,
		     0x1020304050607080, 0x0807060504030201,
		     "lock cmpxchgq %[s], (%[p])");
	FORM_CMPXCHG("lock_cmpxchg_m64_failure", uint64_t, 0x1020304050607080,
		     0x1020304050607081, 0x0807060504030201,
		     "lock cmpxchgq %[s], (%[p])");
	FORM_CMPXCHG("lock_cmpxchg_m32_success", uint32_t, 0xc0ffee00,
		     0xc0ffee00, 0x00c0ffee, "lock cmpxchgl %[s], (%[p])");
	FORM_CMPXCHG("lock_cmpxchg_m8_failure", uint8_t, 0x33, 0x34, 0x99,
		     "lock cmpxchgb %[s], (%[p])");

	form_cmpxchg8b("cmpxchg8b_success", 0, 0x1122334455667788,
		       0x1122334455667788, 0x8877665544332211);
	form_cmpxchg8b("cmpxchg8b_failure", 0, 0x1122334455667788,
		       0x1122334455667789, 0x8877665544332211);
	form_cmpxchg8b("lock_cmpxchg8b_success", 1, 0xdeadbeefcafebabe,
		       0xdeadbeefcafebabe, 0x0123456789abcdef);
	form_cmpxchg8b("lock_cmpxchg8b_failure", 1, 0xdeadbeefcafebabe,
		       0xdeadbeefcafebab0, 0x0123456789abcdef);
	form_cmpxchg16b("cmpxchg16b_success", 0, 1);
	form_cmpxchg16b("lock_cmpxchg16b_success", 1, 1);
	form_cmpxchg16b("lock_cmpxchg16b_failure", 1, 0);
}

/* ---- arithmetic on memory -------------------------------------------- */

#define FORM_RMW(name, width, mis, old, new, locked, insn, ...)                \
	do {                                                                   \
		size_t off_ = slot(width) + (mis);                             \
		poke(off_, width, old);                                        \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn : : [p] "r"(fx.mem + off_), ##__VA_ARGS__    \
			     : "memory", "cc");                                \
		form_end();                                                    \
		expect_rmw(off_, width, old, new, locked);                     \
		check_mem(off_, width, new);                                   \
	} while (0)

/* OP reg, [mem]: a plain load feeding the register operand. */
#define FORM_LOAD_OP(name, T, memval, reg, want, insn)                         \
	do {                                                                   \
		size_t off_ = slot(sizeof(T));                                 \
		T r_ = (reg);                                                  \
		poke(off_, sizeof(T), memval);                                 \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn : [r] "+r"(r_) : [p] "r"(fx.mem + off_)      \
			     : "memory", "cc");                                \
		form_end();                                                    \
		expect_int('R', off_, sizeof(T), memval);                      \
		check_eq("register", r_, (T)(want));                           \
	} while (0)

static void forms_alu(void)
{
	const uint64_t q = 0x1122334455667788;

	FORM_RMW("add_m64_r", 8, 0, q, q + 0x0101010101010101, 0,
		 "addq %[s], (%[p])", [s] "r"(0x0101010101010101ull));
	FORM_RMW("add_m32_imm", 4, 0, 0x7fffffff, 0x80000010, 0,
		 "addl $0x11, (%[p])");
	FORM_RMW("add_m16_r", 2, 1, 0xfff0, 0x0024, 0, "addw %[s], (%[p])",
		 [s] "r"((uint16_t)0x34));
	FORM_RMW("add_m8_imm", 1, 0, 0xf0, 0x05, 0, "addb $0x15, (%[p])");
	FORM_RMW("sub_m64_imm8", 8, 0, 10, 13, 0, "subq $-3, (%[p])");
	FORM_RMW("sub_m32_r", 4, 0, 0x10000000, 0x10000000 - 0x00123457, 0,
		 "subl %[s], (%[p])", [s] "r"((uint32_t)0x00123457));
	FORM_RMW("sub_m8_r", 1, 5, 0x01, 0xf0, 0, "subb %[s], (%[p])",
		 [s] "r"((uint8_t)0x11));
	FORM_RMW("and_m64_r", 8, 0, q, q & 0xff00ff00ff00ff00, 0,
		 "andq %[s], (%[p])", [s] "r"(0xff00ff00ff00ff00ull));
	FORM_RMW("and_m16_imm", 2, 0, 0xabcd, 0x0bc0, 0,
		 "andw $0x0ff0, (%[p])");
	FORM_RMW("and_m32_imm8", 4, 0, 0x12345678, 0x12345670, 0,
		 "andl $-16, (%[p])");
	FORM_RMW("or_m8_r", 1, 0, 0x21, 0x63, 0, "orb %[s], (%[p])",
		 [s] "r"((uint8_t)0x42));
	FORM_RMW("or_m32_imm", 4, 2, 0x00100000, 0x0010beef, 0,
		 "orl $0xbeef, (%[p])");
	FORM_RMW("or_m64_imm", 8, 0, 0x12345678, 0xffffffffffffff78, 0,
		 "orq $-0x100, (%[p])");
	FORM_RMW("xor_m64_imm", 8, 0, q, q ^ 0x5a5a5a5a, 0,
		 "xorq $0x5a5a5a5a, (%[p])");
	FORM_RMW("xor_m16_r", 2, 0, 0x0ff0, 0xf00f, 0, "xorw %[s], (%[p])",
		 [s] "r"((uint16_t)0xffff));
	FORM_RMW("xor_m32_r", 4, 0, 0xdeadbeef, 0xdeadbeef ^ 0x01234567, 0,
		 "xorl %[s], (%[p])", [s] "r"((uint32_t)0x01234567));
	FORM_RMW("adc_m32_r", 4, 0, 0xfffffffe, 0x00000000, 0,
		 "stc\n\tadcl %[s], (%[p])", [s] "r"(1u));
	FORM_RMW("sbb_m64_imm", 8, 0, 0x100, 0xef, 0,
		 "stc\n\tsbbq $0x10, (%[p])");
	FORM_RMW("inc_m8", 1, 0, 0xff, 0x00, 0, "incb (%[p])");
	FORM_RMW("inc_m16", 2, 0, 0x7fff, 0x8000, 0, "incw (%[p])");
	FORM_RMW("inc_m32", 4, 3, 0x11223344, 0x11223345, 0, "incl (%[p])");
	FORM_RMW("inc_m64", 8, 0, 0xffffffff, 0x100000000, 0, "incq (%[p])");
	FORM_RMW("dec_m8", 1, 0, 0x00, 0xff, 0, "decb (%[p])");
	FORM_RMW("dec_m16", 2, 0, 0x8000, 0x7fff, 0, "decw (%[p])");
	FORM_RMW("dec_m32", 4, 0, 0x10000, 0xffff, 0, "decl (%[p])");
	FORM_RMW("dec_m64", 8, 0, 0x100000000, 0xffffffff, 0, "decq (%[p])");
	FORM_RMW("not_m8", 1, 0, 0x5a, 0xa5, 0, "notb (%[p])");
	FORM_RMW("not_m16", 2, 0, 0x1234, 0xedcb, 0, "notw (%[p])");
	FORM_RMW("not_m32", 4, 0, 0x0f0f0f0f, 0xf0f0f0f0, 0, "notl (%[p])");
	FORM_RMW("not_m64", 8, 0, q, ~q, 0, "notq (%[p])");
	FORM_RMW("neg_m8", 1, 0, 0x01, 0xff, 0, "negb (%[p])");
	FORM_RMW("neg_m16", 2, 0, 0x8000, 0x8000, 0, "negw (%[p])");
	FORM_RMW("neg_m32", 4, 0, 0x12345678, 0xedcba988, 0, "negl (%[p])");
	FORM_RMW("neg_m64", 8, 0, q, -q, 0, "negq (%[p])");

	/* LOCKed: R then W, values not revealed. */
	FORM_RMW("lock_add_m64_r", 8, 0, q, q + 0x10, 1,
		 "lock addq %[s], (%[p])", [s] "r"(0x10ull));
	FORM_RMW("lock_add_m8_imm", 1, 0, 0x80, 0x7f, 1,
		 "lock addb $0xff, (%[p])");
	FORM_RMW("lock_add_m32_imm", 4, 0, 0x1000, 0x1234, 1,
		 "lock addl $0x234, (%[p])");
	FORM_RMW("lock_sub_m32_r", 4, 0, 100, 58, 1, "lock subl %[s], (%[p])",
		 [s] "r"(42u));
	FORM_RMW("lock_sub_m64_imm", 8, 0, 0, 0xffffffffffffffff, 1,
		 "lock subq $1, (%[p])");
	FORM_RMW("lock_and_m16_imm", 2, 0, 0xffff, 0x00f0, 1,
		 "lock andw $0xf0, (%[p])");
	FORM_RMW("lock_and_m64_r", 8, 0, q, q & 0xffffffff00000000, 1,
		 "lock andq %[s], (%[p])", [s] "r"(0xffffffff00000000ull));
	FORM_RMW("lock_or_m64_r", 8, 0, 0x8000000000000000, 0x8000000000000001,
		 1, "lock orq %[s], (%[p])", [s] "r"(1ull));
	FORM_RMW("lock_or_m8_imm", 1, 0, 0x10, 0x1f, 1,
		 "lock orb $0x0f, (%[p])");
	FORM_RMW("lock_xor_m32_r", 4, 0, 0xaaaaaaaa, 0xffffffff, 1,
		 "lock xorl %[s], (%[p])", [s] "r"(0x55555555u));
	FORM_RMW("lock_xor_m16_imm", 2, 0, 0x1234, 0x1234 ^ 0x7777, 1,
		 "lock xorw $0x7777, (%[p])");
	FORM_RMW("lock_inc_m64", 8, 0, q, q + 1, 1, "lock incq (%[p])");
	FORM_RMW("lock_inc_m32", 4, 0, 0xffffffff, 0, 1, "lock incl (%[p])");
	FORM_RMW("lock_dec_m8", 1, 0, 0x00, 0xff, 1, "lock decb (%[p])");
	FORM_RMW("lock_dec_m64", 8, 0, 1, 0, 1, "lock decq (%[p])");
	FORM_RMW("lock_not_m16", 2, 0, 0x00ff, 0xff00, 1, "lock notw (%[p])");
	FORM_RMW("lock_not_m64", 8, 0, q, ~q, 1, "lock notq (%[p])");
	FORM_RMW("lock_neg_m32", 4, 0, 1, 0xffffffff, 1, "lock negl (%[p])");
	FORM_RMW("lock_neg_m8", 1, 0, 0x80, 0x80, 1, "lock negb (%[p])");

	FORM_LOAD_OP("add_r64_m64", uint64_t, q, 0x1000, q + 0x1000,
		     "addq (%[p]), %[r]");
	FORM_LOAD_OP("sub_r32_m32", uint32_t, 0x111, 0x1000, 0x1000 - 0x111,
		     "subl (%[p]), %[r]");
	FORM_LOAD_OP("and_r8_m8", uint8_t, 0x3c, 0xf0, 0x30,
		     "andb (%[p]), %[r]");
	FORM_LOAD_OP("or_r16_m16", uint16_t, 0x0a00, 0x00b0, 0x0ab0,
		     "orw (%[p]), %[r]");
	FORM_LOAD_OP("xor_r64_m64", uint64_t, q, q, 0, "xorq (%[p]), %[r]");
	FORM_LOAD_OP("imul_r64_m64", uint64_t, 3, 0x5555, 0xffff,
		     "imulq (%[p]), %[r]");
}

/* ---- CMP, TEST ------------------------------------------------------- */

/* One R; FLAG (a condition code for "=@cc") must come out WANT. */
#define FORM_FLAGS(name, width, memval, flag, want, insn, ...)                 \
	do {                                                                   \
		size_t off_ = slot(width);                                     \
		unsigned char f_;                                              \
		poke(off_, width, memval);                                     \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn                                              \
			     : "=@cc" flag(f_)                                 \
			     : [p] "r"(fx.mem + off_), ##__VA_ARGS__           \
			     : "memory");                                      \
		form_end();                                                    \
		expect_int('R', off_, width, memval);                          \
		check_eq("flag " flag, f_, want);                              \
		check_mem(off_, width, memval);                                \
	} while (0)

static void forms_cmp_test(void)
{
	FORM_FLAGS("cmp_m64_r", 8, 0x0102030405060708, "z", 1,
		   "cmpq %[s], (%[p])", [s] "r"(0x0102030405060708ull));
	FORM_FLAGS("cmp_m32_imm", 4, 5, "c", 1, "cmpl $7, (%[p])");
	FORM_FLAGS("cmp_m16_r", 2, 0x1234, "z", 0, "cmpw %[s], (%[p])",
		   [s] "r"((uint16_t)0x1235));
	FORM_FLAGS("cmp_m8_imm", 1, 0x80, "o", 1, "cmpb $0x7f, (%[p])");
	FORM_FLAGS("cmp_r64_m64", 8, 10, "c", 1, "cmpq (%[p]), %[s]",
		   [s] "r"(9ull));
	FORM_FLAGS("test_m32_r", 4, 0x00ff0000, "z", 1, "testl %[s], (%[p])",
		   [s] "r"(0x0000ff00u));
	FORM_FLAGS("test_m8_imm", 1, 0x81, "s", 1, "testb $0x80, (%[p])");
	FORM_FLAGS("test_m16_r", 2, 0x8001, "z", 0, "testw %[s], (%[p])",
		   [s] "r"((uint16_t)0x0001));
	FORM_FLAGS("test_m64_imm", 8, 0x1122334455667788, "z", 1,
		   "testq $0x10, (%[p])");
}

/* ---- BT, BTS, BTR, BTC ------------------------------------------------- */

enum bt_op { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

#define BT_PATTERN 0xf0e1d2c3b4a59687ull

/*
 * Intel SDM vol. 2A, "BT—Bit Test": with a register bit offset the operand
 * is the operand-size word at Effective Address + (opsize * (BitOffset DIV
 * opbits)), the offset a signed integer (so DIV rounds toward minus
 * infinity), bit BitOffset MOD opbits.  An immediate offset is taken
 * modulo the operand size and never moves the address.
 */
static void bt_locate(unsigned width, long bitoff, int is_reg, long *delta,
		      unsigned *bit)
{
	long bits = 8 * (long)width;
	long q = bitoff / bits;

	if (bitoff % bits < 0)
		q--;
	*delta = is_reg ? q * (long)width : 0;
	*bit = (unsigned)(bitoff & (bits - 1));
}

static uint64_t bt_apply(enum bt_op op, uint64_t v, unsigned bit)
{
	switch (op) {
	case BT_SET:
		return v | 1ull << bit;
	case BT_RESET:
		return v & ~(1ull << bit);
	case BT_COMPLEMENT:
		return v ^ 1ull << bit;
	default:
		return v;
	}
}

/* The operand word holds BT_PATTERN and every other word of the slot its
 * complement, so touching the wrong word flips CF. */
#define FORM_BT(name, T, op, locked, bitoff, cons, insn)                       \
	do {                                                                   \
		const unsigned w_ = sizeof(T);                                 \
		size_t base_ = slot(128), off_ = base_ + 64;                   \
		long delta_;                                                   \
		unsigned bit_;                                                 \
		unsigned char cf_;                                             \
		uint64_t old_ = trunc_to(w_, BT_PATTERN), new_;                \
		bt_locate(w_, (bitoff), (cons)[0] == 'r', &delta_, &bit_);     \
		new_ = bt_apply(op, old_, bit_);                               \
		for (size_t i_ = 0; i_ < 128; i_ += 8)                         \
			poke(base_ + i_, 8, ~BT_PATTERN);                      \
		poke(off_ + delta_, w_, old_);                                 \
		if (!form_begin(name))                                         \
			break;                                                 \
		asm volatile(insn                                              \
			     : "=@ccc"(cf_)                                    \
			     : [p] "r"(fx.mem + off_), [b] cons((T)(bitoff))   \
			     : "memory");                                      \
		form_end();                                                    \
		if ((op) == BT_TEST)                                           \
			expect_int('R', off_ + delta_, w_, old_);              \
		else                                                           \
			expect_rmw(off_ + delta_, w_, old_, new_, locked);     \
		check_eq("CF", cf_, (old_ >> bit_) & 1);                       \
		check_mem(off_ + delta_, w_, new_);                            \
	} while (0)

static void forms_bt(void)
{
	FORM_BT("bt_m16_imm", int16_t, BT_TEST, 0, 3, "i", "btw %[b], (%[p])");
	FORM_BT("bt_m32_imm", int32_t, BT_TEST, 0, 17, "i", "btl %[b], (%[p])");
	FORM_BT("bt_m64_imm", int64_t, BT_TEST, 0, 63, "i", "btq %[b], (%[p])");
	FORM_BT("bt_m32_imm_wrap", int32_t, BT_TEST, 0, 37, "i",
		"btl %[b], (%[p])");
	FORM_BT("bt_m32_reg", int32_t, BT_TEST, 0, 7, "r", "btl %[b], (%[p])");
	FORM_BT("bt_m16_reg_far", int16_t, BT_TEST, 0, 100, "r",
		"btw %[b], (%[p])");
	FORM_BT("bt_m32_reg_far", int32_t, BT_TEST, 0, 100, "r",
		"btl %[b], (%[p])");
	FORM_BT("bt_m64_reg_far", int64_t, BT_TEST, 0, 100, "r",
		"btq %[b], (%[p])");
	FORM_BT("bt_m32_reg_neg", int32_t, BT_TEST, 0, -5, "r",
		"btl %[b], (%[p])");
	FORM_BT("bt_m64_reg_neg", int64_t, BT_TEST, 0, -65, "r",
		"btq %[b], (%[p])");

	FORM_BT("bts_m32_imm", int32_t, BT_SET, 0, 11, "i",
		"btsl %[b], (%[p])");
	FORM_BT("btr_m64_imm", int64_t, BT_RESET, 0, 62, "i",
		"btrq %[b], (%[p])");
	FORM_BT("btc_m16_imm", int16_t, BT_COMPLEMENT, 0, 15, "i",
		"btcw %[b], (%[p])");
	FORM_BT("bts_m64_reg_far", int64_t, BT_SET, 0, 100, "r",
		"btsq %[b], (%[p])");
	FORM_BT("btr_m32_reg", int32_t, BT_RESET, 0, 2, "r",
		"btrl %[b], (%[p])");
	FORM_BT("btc_m32_reg_far", int32_t, BT_COMPLEMENT, 0, 100, "r",
		"btcl %[b], (%[p])");
	FORM_BT("btr_m16_reg_far", int16_t, BT_RESET, 0, 41, "r",
		"btrw %[b], (%[p])");
	FORM_BT("bts_m32_reg_neg", int32_t, BT_SET, 0, -29, "r",
		"btsl %[b], (%[p])");

	FORM_BT("lock_bts_m32_imm", int32_t, BT_SET, 1, 30, "i",
		"lock btsl %[b], (%[p])");
	FORM_BT("lock_btr_m64_reg_far", int64_t, BT_RESET, 1, 100, "r",
		"lock btrq %[b], (%[p])");
	FORM_BT("lock_btc_m16_reg", int16_t, BT_COMPLEMENT, 1, 6, "r",
		"lock btcw %[b], (%[p])");
	FORM_BT("lock_btc_m64_imm", int64_t, BT_COMPLEMENT, 1, 40, "i",
		"lock btcq %[b], (%[p])");
	FORM_BT("lock_bts_m64_reg_neg", int64_t, BT_SET, 1, -1, "r",
		"lock btsq %[b], (%[p])");
}

/* ---- string instructions ---------------------------------------------- */

enum str_kind { STR_MOVS, STR_STOS, STR_LODS, STR_CMPS, STR_SCAS };
enum str_rep { REP_NONE, REP_E, REP_NE };       /* REP and REPE are F3 */

#define STR_MAX 40

struct str_form {
	const char *name;
	enum str_kind kind;
	unsigned w;             /* element size */
	enum str_rep rep;
	unsigned count;         /* RCX of a REP form */
	unsigned stop;          /* CMPS/SCAS: 1-based element that ends the
				   run (REPE: differs, REPNE: equal); 0: the
				   run goes to RCX = 0 */
	int backward;           /* DF = 1: insn is "std; ...; cld" */
	size_t src, dst;        /* fixed offsets, 0 = fresh slots */
};

struct str_state {
	uint64_t si, di, cx, ax;        /* registers in and out */
	unsigned char zf;
	uint64_t si0, di0, cx0, ax0;
	size_t src, dst;
	unsigned total, n;              /* elements laid out / executed */
	long step;
	uint64_t s[STR_MAX], d[STR_MAX];
};

static int str_equal_at(const struct str_form *f, unsigned i)
{
	int at_stop = f->stop && i + 1 == f->stop;

	return f->rep == REP_NE ? at_stop : !at_stop;
}

static void str_setup(const struct str_form *f, struct str_state *st)
{
	unsigned w = f->w, i;
	uint64_t a;

	memset(st, 0, sizeof(*st));
	st->total = f->rep ? f->count : 1;
	st->n = st->total;
	if ((f->kind == STR_CMPS || f->kind == STR_SCAS) && f->stop &&
	    f->stop < st->n)
		st->n = f->stop;
	st->step = f->backward ? -(long)w : (long)w;
	st->src = f->src ? f->src : slot(st->total * w + 8);
	st->dst = f->dst ? f->dst : slot(st->total * w + 8);
	if (f->backward && st->total) {
		st->src += (st->total - 1) * w;
		st->dst += (st->total - 1) * w;
	}
	a = trunc_to(w, 0x6c6b6a6968676665 + fx.next_slot);
	for (i = 0; i < st->total; i++) {
		uint64_t differ = 0x80 | i;

		st->s[i] = trunc_to(w, 0x8877665544332211 +
					       i * 0x1112131415161718 +
					       fx.next_slot * 0x0101010101);
		switch (f->kind) {
		case STR_CMPS:
			st->d[i] = str_equal_at(f, i) ? st->s[i]
						      : st->s[i] ^ differ;
			break;
		case STR_SCAS:
			st->d[i] = str_equal_at(f, i) ? a : a ^ differ;
			break;
		default:
			st->d[i] = trunc_to(w, ~st->s[i] ^ differ);
			break;
		}
		if (f->kind != STR_STOS && f->kind != STR_SCAS)
			poke(st->src + i * st->step, w, st->s[i]);
		if (f->kind != STR_LODS)
			poke(st->dst + i * st->step, w, st->d[i]);
	}
	st->si = st->si0 = (uintptr_t)(fx.mem + st->src);
	st->di = st->di0 = (uintptr_t)(fx.mem + st->dst);
	st->cx = st->cx0 = f->rep ? f->count : 0x5a5a;
	st->ax = st->ax0 = 0x7777777777777777;
	if (f->kind == STR_STOS || f->kind == STR_SCAS)
		st->ax = st->ax0 = (st->ax0 & ~trunc_to(w, ~0ull)) | a;
}

static void str_check(const struct str_form *f, const struct str_state *st)
{
	unsigned w = f->w, i;
	uint64_t a = trunc_to(w, st->ax0);
	int uses_si = f->kind == STR_MOVS || f->kind == STR_LODS ||
		      f->kind == STR_CMPS;
	int uses_di = f->kind != STR_LODS;

	for (i = 0; i < st->n; i++) {
		size_t s = st->src + i * st->step, d = st->dst + i * st->step;

		switch (f->kind) {
		case STR_MOVS:
			expect_int('R', s, w, st->s[i]);
			expect_int('W', d, w, st->s[i]);
			break;
		case STR_STOS:
			expect_int('W', d, w, a);
			break;
		case STR_LODS:
			expect_int('R', s, w, st->s[i]);
			break;
		case STR_CMPS:
			expect_int('R', s, w, st->s[i]);
			expect_int('R', d, w, st->d[i]);
			break;
		case STR_SCAS:
			expect_int('R', d, w, st->d[i]);
			break;
		}
	}

	check_eq("rsi", st->si, st->si0 + (uses_si ? st->n * st->step : 0));
	check_eq("rdi", st->di, st->di0 + (uses_di ? st->n * st->step : 0));
	check_eq("rcx", st->cx, st->cx0 - (f->rep ? st->n : 0));
	if (f->kind == STR_LODS && st->n) {
		uint64_t last = st->s[st->n - 1], want;

		if (w == 4)     /* a 32-bit destination zero-extends */
			want = last;
		else
			want = (st->ax0 & ~trunc_to(w, ~0ull)) | last;
		check_eq("rax", st->ax, want);
	}
	if ((f->kind == STR_CMPS || f->kind == STR_SCAS) && st->n)
		check_eq("ZF", st->zf, str_equal_at(f, st->n - 1));
	for (i = 0; i < st->total; i++) {
		size_t d = st->dst + i * st->step;

		if (f->kind == STR_MOVS)
			check_mem(d, w, i < st->n ? st->s[i] : st->d[i]);
		else if (f->kind == STR_STOS)
			check_mem(d, w, i < st->n ? a : st->d[i]);
	}
}

#define FORM_STR(insn, ...)                                                    \
	do {                                                                   \
		const struct str_form f_ = { __VA_ARGS__ };                    \
		struct str_state st_;                                          \
		str_setup(&f_, &st_);                                          \
		if (!form_begin(f_.name))                                      \
			break;                                                 \
		asm volatile(insn                                              \
			     : "+S"(st_.si), "+D"(st_.di), "+c"(st_.cx),       \
			       "+a"(st_.ax), "=@ccz"(st_.zf)                   \
			     :                                                 \
			     : "memory");                                      \
		form_end();                                                    \
		str_check(&f_, &st_);                                          \
	} while (0)

static void forms_string(void)
{
	FORM_STR("movsb", .name = "movsb", .kind = STR_MOVS, .w = 1);
	FORM_STR("movsw", .name = "movsw", .kind = STR_MOVS, .w = 2);
	FORM_STR("movsl", .name = "movsl", .kind = STR_MOVS, .w = 4);
	FORM_STR("movsq", .name = "movsq", .kind = STR_MOVS, .w = 8);
	FORM_STR("stosb", .name = "stosb", .kind = STR_STOS, .w = 1);
	FORM_STR("stosw", .name = "stosw", .kind = STR_STOS, .w = 2);
	FORM_STR("stosl", .name = "stosl", .kind = STR_STOS, .w = 4);
	FORM_STR("stosq", .name = "stosq", .kind = STR_STOS, .w = 8);
	FORM_STR("lodsb", .name = "lodsb", .kind = STR_LODS, .w = 1);
	FORM_STR("lodsw", .name = "lodsw", .kind = STR_LODS, .w = 2);
	FORM_STR("lodsl", .name = "lodsl", .kind = STR_LODS, .w = 4);
	FORM_STR("lodsq", .name = "lodsq", .kind = STR_LODS, .w = 8);
	FORM_STR("cmpsb", .name = "cmpsb", .kind = STR_CMPS, .w = 1);
	FORM_STR("cmpsw", .name = "cmpsw_differ", .kind = STR_CMPS, .w = 2,
		 .stop = 1);
	FORM_STR("cmpsl", .name = "cmpsl", .kind = STR_CMPS, .w = 4);
	FORM_STR("cmpsq", .name = "cmpsq_differ", .kind = STR_CMPS, .w = 8,
		 .stop = 1);
	FORM_STR("scasb", .name = "scasb", .kind = STR_SCAS, .w = 1);
	FORM_STR("scasw", .name = "scasw_differ", .kind = STR_SCAS, .w = 2,
		 .stop = 1);
	FORM_STR("scasl", .name = "scasl", .kind = STR_SCAS, .w = 4);
	FORM_STR("scasq", .name = "scasq", .kind = STR_SCAS, .w = 8);

	FORM_STR("rep movsb", .name = "rep_movsb", .kind = STR_MOVS, .w = 1,
		 .rep = REP_E, .count = 5);
	FORM_STR("rep movsw", .name = "rep_movsw", .kind = STR_MOVS, .w = 2,
		 .rep = REP_E, .count = 3);
	FORM_STR("rep movsl", .name = "rep_movsl", .kind = STR_MOVS, .w = 4,
		 .rep = REP_E, .count = 4);
	FORM_STR("rep movsq", .name = "rep_movsq", .kind = STR_MOVS, .w = 8,
		 .rep = REP_E, .count = 3);
	FORM_STR("rep movsb", .name = "rep_movsb_count0", .kind = STR_MOVS,
		 .w = 1, .rep = REP_E, .count = 0);
	FORM_STR("std\n\trep movsl\n\tcld", .name = "rep_movsl_backward",
		 .kind = STR_MOVS, .w = 4, .rep = REP_E, .count = 3,
		 .backward = 1);
	FORM_STR("rep stosb", .name = "rep_stosb", .kind = STR_STOS, .w = 1,
		 .rep = REP_E, .count = 7);
	FORM_STR("rep stosw", .name = "rep_stosw", .kind = STR_STOS, .w = 2,
		 .rep = REP_E, .count = 3);
	FORM_STR("rep stosl", .name = "rep_stosl", .kind = STR_STOS, .w = 4,
		 .rep = REP_E, .count = 4);
	FORM_STR("rep stosq", .name = "rep_stosq", .kind = STR_STOS, .w = 8,
		 .rep = REP_E, .count = 3);
	FORM_STR("rep stosb", .name = "rep_stosb_32", .kind = STR_STOS,
		 .w = 1, .rep = REP_E, .count = 32);
	FORM_STR("rep lodsb", .name = "rep_lodsb", .kind = STR_LODS, .w = 1,
		 .rep = REP_E, .count = 3);
	FORM_STR("rep lodsq", .name = "rep_lodsq", .kind = STR_LODS, .w = 8,
		 .rep = REP_E, .count = 2);
	FORM_STR("repe cmpsb", .name = "repe_cmpsb", .kind = STR_CMPS, .w = 1,
		 .rep = REP_E, .count = 6, .stop = 4);
	FORM_STR("repe cmpsq", .name = "repe_cmpsq_all_equal",
		 .kind = STR_CMPS, .w = 8, .rep = REP_E, .count = 3);
	FORM_STR("repne cmpsw", .name = "repne_cmpsw", .kind = STR_CMPS,
		 .w = 2, .rep = REP_NE, .count = 5, .stop = 3);
	FORM_STR("repe scasl", .name = "repe_scasl", .kind = STR_SCAS, .w = 4,
		 .rep = REP_E, .count = 4, .stop = 3);
	FORM_STR("repne scasb", .name = "repne_scasb", .kind = STR_SCAS,
		 .w = 1, .rep = REP_NE, .count = 8, .stop = 5);
	FORM_STR("repne scasq", .name = "repne_scasq_no_match",
		 .kind = STR_SCAS, .w = 8, .rep = REP_NE, .count = 3);

	/* Runs that cross from traced page 1 into untraced page 2: only the
	 * elements in the traced pages are recorded. */
	FORM_STR("rep stosq", .name = "rep_stosq_into_untraced",
		 .kind = STR_STOS, .w = 8, .rep = REP_E, .count = 5,
		 .dst = TRACED_END - 24);
	FORM_STR("rep movsq", .name = "rep_movsq_into_untraced",
		 .kind = STR_MOVS, .w = 8, .rep = REP_E, .count = 4,
		 .dst = TRACED_END - 16);
	FORM_STR("rep movsq", .name = "rep_movsq_from_untraced",
		 .kind = STR_MOVS, .w = 8, .rep = REP_E, .count = 4,
		 .src = TRACED_END - 16);
}

/* ---- PUSH, POP ------------------------------------------------------- */

static void forms_stack(void)
{
	size_t off = slot(8);
	uint64_t v = 0x0f1e2d3c4b5a6978, r;

	/* The asm steps over the red zone the compiler may be using. */
	poke(off, 8, v);
	if (form_begin("push_m64")) {
		asm volatile("lea -128(%%rsp), %%rsp\n\t"
			     "pushq (%[p])\n\t"
			     "popq %[r]\n\t"
			     "lea 128(%%rsp), %%rsp"
			     : [r] "=r"(r)
			     : [p] "r"(fx.mem + off)
			     : "memory");
		form_end();
		expect_int('R', off, 8, v);
		check_eq("popped register", r, v);
	}

	off = slot(8);
	v = 0x8796a5b4c3d2e1f0;
	poke(off, 8, 0xa5a5a5a5a5a5a5a5);
	if (form_begin("pop_m64")) {
		asm volatile("lea -128(%%rsp), %%rsp\n\t"
			     "pushq %[v]\n\t"
			     "popq (%[p])\n\t"
			     "lea 128(%%rsp), %%rsp"
			     :
			     : [p] "r"(fx.mem + off), [v] "r"(v)
			     : "memory");
		form_end();
		expect_int('W', off, 8, v);
		check_mem(off, 8, v);
	}
}

/* ---- SSE, AVX, AVX-512 ----------------------------------------------- */

/*
 * Each vector form is an executor with one asm block and a table entry.
 * Executors: p = the traced operand, in = 64 bytes of register contents
 * (store source, or merge data a masked load starts from), out = where a
 * load spills the register, k = the opmask.
 */
typedef void vec_exec_fn(uint8_t *p, const uint8_t *in, uint8_t *out,
			 uint64_t k);

#define VEC_EXEC(fn, isa, code, ...)                                           \
	__attribute__((target(isa), noinline)) static void fn(                 \
		uint8_t *p, const uint8_t *in, uint8_t *out, uint64_t k)       \
	{                                                                      \
		asm volatile(code                                              \
			     :                                                 \
			     : [p] "r"(p), [i] "r"(in), [o] "r"(out),          \
			       [k] "r"(k)                                      \
			     : "memory", "xmm0", ##__VA_ARGS__);               \
	}

#define FILL_X "movdqu (%[i]), %%xmm0\n\t"
#define FILL_Y "vmovdqu (%[i]), %%ymm0\n\t"
#define FILL_Z "vmovdqu64 (%[i]), %%zmm0\n\t"
#define SPILL_X "\n\tmovdqu %%xmm0, (%[o])"
#define SPILL_Y "\n\tvmovdqu %%ymm0, (%[o])\n\tvzeroupper"
#define SPILL_Z "\n\tvmovdqu64 %%zmm0, (%[o])\n\tvzeroupper"
#define KMOV_Q "kmovq %[k], %%k1\n\t"
#define KMOV_W "kmovw %k[k], %%k1\n\t"
#define K1 "%{%%k1%}"
#define K1Z "%{%%k1%}%{z%}"

VEC_EXEC(x_movd_load, "sse2", "movd (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movd_store, "sse2", FILL_X "movd %%xmm0, (%[p])")
VEC_EXEC(x_movq_load, "sse2", "movq (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movq_store, "sse2", FILL_X "movq %%xmm0, (%[p])")
VEC_EXEC(x_movss_load, "sse2", "movss (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movsd_store, "sse2", FILL_X "movsd %%xmm0, (%[p])")
VEC_EXEC(x_movhps_store, "sse2",
	 "movq (%[i]), %%xmm0\n\tmovlhps %%xmm0, %%xmm0\n\t"
	 "movhps %%xmm0, (%[p])")
VEC_EXEC(x_movups_load, "sse2", "movups (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movups_store, "sse2", FILL_X "movups %%xmm0, (%[p])")
VEC_EXEC(x_movaps_load, "sse2", "movaps (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movaps_store, "sse2", FILL_X "movaps %%xmm0, (%[p])")
VEC_EXEC(x_movupd_load, "sse2", "movupd (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movupd_store, "sse2", FILL_X "movupd %%xmm0, (%[p])")
VEC_EXEC(x_movapd_load, "sse2", "movapd (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movapd_store, "sse2", FILL_X "movapd %%xmm0, (%[p])")
VEC_EXEC(x_movdqu_load, "sse2", "movdqu (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movdqu_store, "sse2", FILL_X "movdqu %%xmm0, (%[p])")
VEC_EXEC(x_movdqa_load, "sse2", "movdqa (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_movdqa_store, "sse2", FILL_X "movdqa %%xmm0, (%[p])")
VEC_EXEC(x_movntdq_store, "sse2", FILL_X "movntdq %%xmm0, (%[p])\n\tsfence")
VEC_EXEC(x_movntdqa_load, "sse4.1", "movntdqa (%[p]), %%xmm0" SPILL_X)
VEC_EXEC(x_paddd_load, "sse2",
	 "pxor %%xmm0, %%xmm0\n\tpaddd (%[p]), %%xmm0" SPILL_X)

VEC_EXEC(x_vmovdqu_load_ymm, "avx", "vmovdqu (%[p]), %%ymm0" SPILL_Y)
VEC_EXEC(x_vmovdqu_store_ymm, "avx",
	 FILL_Y "vmovdqu %%ymm0, (%[p])\n\tvzeroupper")
VEC_EXEC(x_vmovdqa_load_ymm, "avx", "vmovdqa (%[p]), %%ymm0" SPILL_Y)
VEC_EXEC(x_vmovdqa_store_ymm, "avx",
	 FILL_Y "vmovdqa %%ymm0, (%[p])\n\tvzeroupper")
VEC_EXEC(x_vmovdqu_load_xmm, "avx", FILL_Y "vmovdqu (%[p]), %%xmm0" SPILL_Y)

VEC_EXEC(x_vmovdqu64_load_zmm, "avx512f", "vmovdqu64 (%[p]), %%zmm0" SPILL_Z)
VEC_EXEC(x_vmovdqu64_store_zmm, "avx512f",
	 FILL_Z "vmovdqu64 %%zmm0, (%[p])\n\tvzeroupper")

#define MASKED_LOAD(fn, isa, kmov, insn, k)                                    \
	VEC_EXEC(fn, isa, FILL_Z kmov insn " (%[p]), %%zmm0" k SPILL_Z, "k1")
#define MASKED_STORE(fn, isa, kmov, insn)                                      \
	VEC_EXEC(fn, isa,                                                      \
		 FILL_Z kmov insn " %%zmm0, (%[p])" K1 "\n\tvzeroupper", "k1")

MASKED_LOAD(x_vmovdqu8_load_merge, "avx512f,avx512bw", KMOV_Q, "vmovdqu8", K1)
MASKED_LOAD(x_vmovdqu8_load_zero, "avx512f,avx512bw", KMOV_Q, "vmovdqu8", K1Z)
MASKED_STORE(x_vmovdqu8_store, "avx512f,avx512bw", KMOV_Q, "vmovdqu8")
MASKED_LOAD(x_vmovdqu16_load_merge, "avx512f,avx512bw", KMOV_Q, "vmovdqu16", K1)
MASKED_LOAD(x_vmovdqu16_load_zero, "avx512f,avx512bw", KMOV_Q, "vmovdqu16", K1Z)
MASKED_STORE(x_vmovdqu16_store, "avx512f,avx512bw", KMOV_Q, "vmovdqu16")
MASKED_LOAD(x_vmovdqu32_load_merge, "avx512f", KMOV_W, "vmovdqu32", K1)
MASKED_LOAD(x_vmovdqu32_load_zero, "avx512f", KMOV_W, "vmovdqu32", K1Z)
MASKED_STORE(x_vmovdqu32_store, "avx512f", KMOV_W, "vmovdqu32")
MASKED_LOAD(x_vmovdqu64_load_merge, "avx512f", KMOV_W, "vmovdqu64", K1)
MASKED_LOAD(x_vmovdqu64_load_zero, "avx512f", KMOV_W, "vmovdqu64", K1Z)
MASKED_STORE(x_vmovdqu64_store, "avx512f", KMOV_W, "vmovdqu64")
/* EVEX.128/256: the record has the vector length, bits above it zeroed */
VEC_EXEC(x_vmovdqu8_load_zero_xmm, "avx512f,avx512bw,avx512vl",
	 FILL_Z KMOV_Q "vmovdqu8 (%[p]), %%xmm0" K1Z SPILL_Z, "k1")
VEC_EXEC(x_vmovdqu32_store_ymm, "avx512f,avx512vl",
	 FILL_Z KMOV_W "vmovdqu32 %%ymm0, (%[p])" K1 "\n\tvzeroupper", "k1")

struct vec_form {
	const char *name;
	const char *needs;      /* CPU features, comma-separated */
	vec_exec_fn *exec;
	char dir;               /* 'R' load, 'W' store */
	unsigned width;         /* bytes the instruction accesses */
	unsigned mis;           /* offset from a 64-byte boundary */
	size_t off;             /* fixed offset instead of a fresh slot */
	unsigned regw;          /* load: register bytes spilled; those past
				   width must be zero */
	unsigned esize;         /* masked: element bytes; 0 = unmasked */
	uint64_t mask;
	int zeroing;            /* masked load with {z} */
};

#define BW "avx512f,avx512bw"
#define VF(n, feat, fn, d, w, m)                                               \
	.name = (n), .needs = (feat), .exec = (fn), .dir = (d), .width = (w),  \
	.mis = (m)

static const struct vec_form vec_forms[] = {
	{ VF("movd_load", NULL, x_movd_load, 'R', 4, 4), .regw = 16 },
	{ VF("movd_store", NULL, x_movd_store, 'W', 4, 8) },
	{ VF("movq_load", NULL, x_movq_load, 'R', 8, 8), .regw = 16 },
	{ VF("movq_store", NULL, x_movq_store, 'W', 8, 1) },
	{ VF("movss_load", NULL, x_movss_load, 'R', 4, 0), .regw = 16 },
	{ VF("movsd_store", NULL, x_movsd_store, 'W', 8, 0) },
	{ VF("movhps_store", NULL, x_movhps_store, 'W', 8, 0) },
	{ VF("movups_load", NULL, x_movups_load, 'R', 16, 5), .regw = 16 },
	{ VF("movups_store", NULL, x_movups_store, 'W', 16, 9) },
	{ VF("movaps_load", NULL, x_movaps_load, 'R', 16, 16), .regw = 16 },
	{ VF("movaps_store", NULL, x_movaps_store, 'W', 16, 32) },
	{ VF("movupd_load", NULL, x_movupd_load, 'R', 16, 3), .regw = 16 },
	{ VF("movupd_store", NULL, x_movupd_store, 'W', 16, 7) },
	{ VF("movapd_load", NULL, x_movapd_load, 'R', 16, 0), .regw = 16 },
	{ VF("movapd_store", NULL, x_movapd_store, 'W', 16, 48) },
	{ VF("movdqu_load", NULL, x_movdqu_load, 'R', 16, 1), .regw = 16 },
	{ VF("movdqu_store", NULL, x_movdqu_store, 'W', 16, 15) },
	{ VF("movdqa_load", NULL, x_movdqa_load, 'R', 16, 32), .regw = 16 },
	{ VF("movdqa_store", NULL, x_movdqa_store, 'W', 16, 0) },
	{ VF("movntdq_store", NULL, x_movntdq_store, 'W', 16, 16) },
	{ VF("movntdqa_load", "sse4.1", x_movntdqa_load, 'R', 16, 0),
	  .regw = 16 },
	{ VF("paddd_load", NULL, x_paddd_load, 'R', 16, 0), .regw = 16 },

	{ VF("vmovdqu_load_ymm", "avx", x_vmovdqu_load_ymm, 'R', 32, 7),
	  .regw = 32 },
	{ VF("vmovdqu_store_ymm", "avx", x_vmovdqu_store_ymm, 'W', 32, 5) },
	{ VF("vmovdqa_load_ymm", "avx", x_vmovdqa_load_ymm, 'R', 32, 32),
	  .regw = 32 },
	{ VF("vmovdqa_store_ymm", "avx", x_vmovdqa_store_ymm, 'W', 32, 0) },
	{ VF("vmovdqu_load_xmm", "avx", x_vmovdqu_load_xmm, 'R', 16, 3),
	  .regw = 32 },

	{ VF("vmovdqu64_load_zmm", "avx512f", x_vmovdqu64_load_zmm, 'R', 64, 0),
	  .regw = 64 },
	{ VF("vmovdqu64_store_zmm", "avx512f", x_vmovdqu64_store_zmm, 'W', 64,
	     0) },
	{ VF("vmovdqu8_load_merge", BW, x_vmovdqu8_load_merge, 'R', 64, 0),
	  .regw = 64, .esize = 1, .mask = 0xf00f5aa5c33c0ff0 },
	{ VF("vmovdqu8_load_zero", BW, x_vmovdqu8_load_zero, 'R', 64, 0),
	  .regw = 64, .esize = 1, .mask = 0x0123456789abcdef, .zeroing = 1 },
	{ VF("vmovdqu8_store", BW, x_vmovdqu8_store, 'W', 64, 0), .esize = 1,
	  .mask = 0x8421f00f1248a55a },
	{ VF("vmovdqu16_load_merge", BW, x_vmovdqu16_load_merge, 'R', 64, 0),
	  .regw = 64, .esize = 2, .mask = 0x9c35e00f },
	{ VF("vmovdqu16_load_zero", BW, x_vmovdqu16_load_zero, 'R', 64, 0),
	  .regw = 64, .esize = 2, .mask = 0x0ff0a5c3, .zeroing = 1 },
	{ VF("vmovdqu16_store", BW, x_vmovdqu16_store, 'W', 64, 0), .esize = 2,
	  .mask = 0x5aa5f00f },
	{ VF("vmovdqu32_load_merge", "avx512f", x_vmovdqu32_load_merge, 'R',
	     64, 0),
	  .regw = 64, .esize = 4, .mask = 0xa5c3 },
	{ VF("vmovdqu32_load_zero", "avx512f", x_vmovdqu32_load_zero, 'R', 64,
	     0),
	  .regw = 64, .esize = 4, .mask = 0x3c5a, .zeroing = 1 },
	{ VF("vmovdqu32_store", "avx512f", x_vmovdqu32_store, 'W', 64, 0),
	  .esize = 4, .mask = 0x0ff1 },
	{ VF("vmovdqu64_load_merge", "avx512f", x_vmovdqu64_load_merge, 'R',
	     64, 0),
	  .regw = 64, .esize = 8, .mask = 0x6b },
	{ VF("vmovdqu64_load_zero", "avx512f", x_vmovdqu64_load_zero, 'R', 64,
	     0),
	  .regw = 64, .esize = 8, .mask = 0x96, .zeroing = 1 },
	{ VF("vmovdqu64_store", "avx512f", x_vmovdqu64_store, 'W', 64, 0),
	  .esize = 8, .mask = 0x3a },
	{ VF("vmovdqu8_load_zero_xmm", BW ",avx512vl",
	     x_vmovdqu8_load_zero_xmm, 'R', 16, 0),
	  .regw = 64, .esize = 1, .mask = 0x5ac3, .zeroing = 1 },
	{ VF("vmovdqu32_store_ymm", "avx512f,avx512vl", x_vmovdqu32_store_ymm,
	     'W', 32, 0),
	  .esize = 4, .mask = 0xb4 },

	/* 6 bytes in traced page 1, 10 in untraced page 2 */
	{ VF("movdqu_load_straddle", NULL, x_movdqu_load, 'R', 16, 0),
	  .off = TRACED_END - 6, .regw = 16 },
};

static int vec_enabled(const struct vec_form *f, unsigned byte)
{
	return !f->esize || (f->mask >> (byte / f->esize)) & 1;
}

static void form_vec(const struct vec_form *f)
{
	uint8_t memv[64], in[64] __attribute__((aligned(64)));
	uint8_t out[64] __attribute__((aligned(64)));
	uint8_t rec[64], want[64];
	uint64_t bytes = 0;
	size_t off = f->off ? f->off : slot(f->width + f->mis) + f->mis;
	unsigned i;

	pattern(memv, sizeof(memv), (uint8_t)(0x11 + off));
	pattern(in, sizeof(in), (uint8_t)(0x80 + off));
	memset(out, 0xcc, sizeof(out));
	memcpy(fx.mem + off, memv, f->width);
	if (!form_begin_needing(f->name, f->needs))
		return;
	f->exec(fx.mem + off, in, out, f->mask);
	form_end();

	/* masked: the record holds zero for disabled elements */
	for (i = 0; i < f->width; i++) {
		rec[i] = vec_enabled(f, i) ? (f->dir == 'R' ? memv : in)[i] : 0;
		if (vec_enabled(f, i))
			bytes |= 1ull << i;
	}
	if (f->esize)
		expect_masked(f->dir, off, f->width, rec, bytes);
	else
		expect(f->dir, off, f->width, rec);

	if (f->dir == 'R') {
		for (i = 0; i < f->regw; i++) {
			if (i >= f->width)
				want[i] = 0;
			else if (vec_enabled(f, i))
				want[i] = memv[i];
			else
				want[i] = f->zeroing ? 0 : in[i];
		}
		check_bytes("register", out, want, f->regw);
		check_bytes("memory", fx.mem + off, memv, f->width);
	} else {
		for (i = 0; i < f->width; i++)
			want[i] = vec_enabled(f, i) ? in[i] : memv[i];
		check_bytes("memory", fx.mem + off, want, f->width);
	}
}

static void forms_vector(void)
{
	for (size_t i = 0; i < sizeof(vec_forms) / sizeof(vec_forms[0]); i++)
		form_vec(&vec_forms[i]);
}

/* ---- accesses crossing page boundaries ------------------------------- */

static void forms_straddle(void)
{
	const uint64_t v = 0x0807060504030201, s = 0xf8f7f6f5f4f3f2f1;
	size_t off;
	uint64_t r;

	/* Page 0 -> page 1: both traced, one record of the full width. */
	off = PAGE - 4;
	poke(off, 8, v);
	if (form_begin("mov_load64_cross_traced_pages")) {
		asm volatile("movq (%[p]), %[r]"
			     : [r] "=r"(r)
			     : [p] "r"(fx.mem + off)
			     : "memory");
		form_end();
		expect_int('R', off, 8, v);
		check_eq("loaded register", r, v);
	}

	/* Page 1 -> untraced page 2: only the 4 traced bytes are recorded. */
	off = TRACED_END - 4;
	poke(off, 8, v);
	if (form_begin("mov_load64_straddle")) {
		asm volatile("movq (%[p]), %[r]"
			     : [r] "=r"(r)
			     : [p] "r"(fx.mem + off)
			     : "memory");
		form_end();
		expect_int('R', off, 8, v);
		check_eq("loaded register", r, v);
	}

	poke(off, 8, 0xa5a5a5a5a5a5a5a5);
	if (form_begin("mov_store64_straddle")) {
		asm volatile("movq %[s], (%[p])"
			     :
			     : [p] "r"(fx.mem + off), [s] "r"(s)
			     : "memory");
		form_end();
		expect_int('W', off, 8, s);
		check_mem(off, 8, s);
	}

	off = TRACED_END - 2;
	poke(off, 4, 0xabcdfff0);
	if (form_begin("add_m32_straddle")) {
		asm volatile("addl $0x25, (%[p])"
			     :
			     : [p] "r"(fx.mem + off)
			     : "memory", "cc");
		form_end();
		expect_rmw(off, 4, 0xabcdfff0, 0xabce0015, 0);
		check_mem(off, 4, 0xabce0015);
	}
}

int main(void)
{
	int ret;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	cpu_detect();
	if (sysconf(_SC_PAGESIZE) != PAGE) {
		fprintf(stderr, "forms: needs %u-byte pages\n", PAGE);
		return 77;
	}
	ret = forms_map();
	if (ret < 0) {
		fprintf(stderr, "forms: cannot set up the mapping: %s\n",
			strerror(-ret));
		return 1;
	}
	pattern(fx.mem, MAP_PAGES * PAGE, 0x5b);
	mmscope_mark("forms begin");

	forms_mov();
	forms_movbe();
	forms_moffs();
	forms_atomic();
	forms_alu();
	forms_cmp_test();
	forms_bt();
	forms_string();
	forms_stack();
	forms_vector();
	forms_straddle();

	mmscope_mark("forms end");
	fflush(stdout);
	if (fx.failures) {
		fprintf(stderr, "forms: %u check(s) failed\n", fx.failures);
		return 1;
	}
	return 0;
}
/* clang-format on */
