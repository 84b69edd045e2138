/* SPDX-License-Identifier: MIT */
/*
 * lockrmw: LOCKed read-modify-writes on a memfd, for the device rule
 * (tests/e2e/test_device.py).  Each operation runs between MARK "op NAME"
 * and MARK "end NAME" on its own 8-byte slot of memfd "mmscope-lockrmw"
 * and prints, before it runs,
 *
 *   OP NAME 0x<offset> <width> 0x<old> 0x<new> xadd|cas
 *
 * xadd: add/sub/inc/dec, whose old value one LOCK XADD returns (known even
 * on a device); cas: the others, which return no old value (unknown on a
 * device, known on RAM).  The program checks the memory result and the
 * carry flag each operation leaves, and exits 1 after "FAIL ..." on
 * stderr if either is wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mmscope/mmscope.h"

static uint8_t *mem;
static int failures;

static void fail(const char *name, const char *what, uint64_t got, uint64_t want)
{
	fprintf(stderr, "FAIL %s: %s is 0x%llx, want 0x%llx\n", name, what, (unsigned long long)got,
		(unsigned long long)want);
	failures++;
}

static uint64_t slot_read(unsigned off, unsigned w)
{
	uint64_t v = 0;

	memcpy(&v, mem + off, w); /* traced, outside the op windows the test reads */
	return v;
}

/* Run one op: print its ground truth, mark it, run it, check the result. */
#define OP(name, off, type, old, new, kind, cf_want, insn, ...)                                    \
	do {                                                                                       \
		volatile type *p_ = (volatile type *)(mem + (off));                                \
		uint8_t cf_;                                                                       \
		*p_ = (type)(old);                                                                 \
		printf("OP %s 0x%x %zu 0x%llx 0x%llx %s\n", name, (unsigned)(off), sizeof(type),   \
		       (unsigned long long)(type)(old), (unsigned long long)(type)(new), kind);    \
		mmscope_mark("op " name);                                                          \
		asm volatile(insn "\n\tsetc %[cf]"                                                 \
			     : [cf] "=q"(cf_)                                                      \
			     : [p] "r"(p_), ##__VA_ARGS__                                          \
			     : "memory", "cc");                                                    \
		mmscope_mark("end " name);                                                         \
		if (slot_read(off, sizeof(type)) != (uint64_t)(type)(new))                         \
			fail(name, "memory", slot_read(off, sizeof(type)), (uint64_t)(type)(new)); \
		if ((cf_want) >= 0 && cf_ != (cf_want))                                            \
			fail(name, "CF", cf_, (uint64_t)(cf_want));                                \
	} while (0)

int main(void)
{
	int fd = memfd_create("mmscope-lockrmw", 0);
	uint64_t q = 0x0123456789abcdefull;

	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		perror("memfd");
		return 2;
	}
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* add/sub/inc/dec: one LOCK XADD gives old and new anywhere */
	OP("lock_add_m32_imm", 0x00, uint32_t, 0xfffffff0, 0x00000010, "xadd", 1,
	   "lock addl $0x20, (%[p])");
	OP("lock_sub_m64_r", 0x08, uint64_t, 10, 10 - q, "xadd", 1,
	   "lock subq %[s], (%[p])", [s] "r"(q));
	OP("lock_inc_m16", 0x10, uint16_t, 0x7fff, 0x8000, "xadd", -1, "lock incw (%[p])");
	OP("lock_dec_m8", 0x18, uint8_t, 0x00, 0xff, "xadd", -1, "lock decb (%[p])");
	/* no old value returned: a compare-exchange loop on RAM only */
	OP("lock_or_m32_r", 0x20, uint32_t, 0x0f0f0000, 0x0f0f00f1, "cas", 0,
	   "lock orl %[s], (%[p])", [s] "r"(0xf1u));
	OP("lock_and_m64_imm", 0x28, uint64_t, q, q & ~0xffull, "cas", 0,
	   "lock andq $-256, (%[p])");
	OP("lock_xor_m16_r", 0x30, uint16_t, 0xaaaa, 0x5555, "cas", 0,
	   "lock xorw %[s], (%[p])", [s] "r"((uint16_t)0xffff));
	OP("lock_bts_m32_imm", 0x38, uint32_t, 0x1, 0x80000001, "cas", 0, "lock btsl $31, (%[p])");
	OP("lock_btr_m64_r", 0x40, uint64_t, q, q & ~(1ull << 5), "cas", 1,
	   "lock btrq %[s], (%[p])", [s] "r"(5ull));
	OP("lock_btc_m16_imm", 0x48, uint16_t, 0x0100, 0x0000, "cas", 1, "lock btcw $8, (%[p])");
	OP("lock_not_m8", 0x50, uint8_t, 0x5a, 0xa5, "cas", -1, "lock notb (%[p])");
	OP("lock_neg_m32", 0x58, uint32_t, 1, 0xffffffff, "cas", 1, "lock negl (%[p])");
	return failures ? 1 : 0;
}
