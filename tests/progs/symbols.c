/* SPDX-License-Identifier: MIT */
/*
 * symbols: stores made from functions that stripped copies of this program
 * and of its library (lib/symlib.c, loaded from the path in argv[1]) no
 * longer name, for the symbolizer's fallbacks (tests/e2e/test_symbols.py;
 * the Makefile builds the stripped and debug-split copies).
 *
 * It maps a shared memfd "mmscope-symbols" and stores, in this order:
 *   0x11 at 0x4 from local_poke()   (static: in no .dynsym)
 *   0x22 at 0x8 from symlib_poke()  (exported by the library: in its .dynsym)
 *   0x33 at 0xc from symlib_local() (static in the library)
 *   0x44 to 0x40..0x7f from libc's memset (an IFUNC: the stores are made
 *        by an implementation .dynsym does not name)
 *   4 at 0x80 from libc's frexp(8.0) (exported, stores the exponent)
 * local_poke() and symlib_local() also store the value to sym_watched, a
 * variable the Makefile exports (--export-dynamic-symbol) so that a
 * stripped copy can still be watched by name.
 *
 * Output, in program order (numbers in hex):
 *   "W <offset> <value> <function> <address of function>"  one memfd store
 *   "M <offset> <length> <byte> memset"                     memset's stores
 *   "B <path> <base>"            libc's file and load address, from dladdr()
 * The function's address places its module: address - the function's
 * value in the unstripped file's symbol table is the module's load bias.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef void poke_fn(volatile uint32_t *reg, uint32_t v);
typedef void *poke_local_fn(volatile uint32_t *reg, volatile uint64_t *watched, uint32_t v);

volatile uint64_t sym_watched;
static void *(*volatile memset_fn)(void *, int, size_t) = memset;
static volatile double eight = 8.0;

/* noipa: stays one function under its own name, called, not inlined */
static __attribute__((noipa)) void local_poke(volatile uint32_t *reg, uint32_t v)
{
	reg[1] = v;
	sym_watched = v;
}

int main(int argc, char **argv)
{
	int fd = memfd_create("mmscope-symbols", 0);
	volatile uint32_t *reg;
	poke_local_fn *via_local;
	poke_fn *poke;
	void *lib, *fn;
	Dl_info libc;

	if (argc != 2 || fd < 0 || ftruncate(fd, 4096) < 0)
		return 1;
	reg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (reg == MAP_FAILED)
		return 1;
	local_poke(reg, 0x11);
	printf("W 0x4 0x11 local_poke %p\n", (void *)local_poke);
	lib = dlopen(argv[1], RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "symbols: %s\n", dlerror());
		return 1;
	}
	poke = (poke_fn *)dlsym(lib, "symlib_poke");
	via_local = (poke_local_fn *)dlsym(lib, "symlib_poke_via_local");
	if (!poke || !via_local)
		return 1;
	poke(reg, 0x22);
	printf("W 0x8 0x22 symlib_poke %p\n", (void *)poke);
	fn = via_local(reg, &sym_watched, 0x33);
	printf("W 0xc 0x33 symlib_local %p\n", fn);
	/* through a pointer: the compiler neither inlines the stores nor
	 * folds the call */
	memset_fn((void *)(reg + 0x10), 0x44, 0x40);
	printf("M 0x40 0x40 0x44 memset\n");
	frexp(eight, (int *)(reg + 0x20));
	printf("W 0x80 0x%x frexp %p\n", (unsigned)reg[0x20], (void *)frexp);
	if (!dladdr((void *)frexp, &libc))
		return 1;
	printf("B %s %p\n", libc.dli_fname, libc.dli_fbase);
	return 0;
}
