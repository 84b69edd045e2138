/*
 * The symbolizer on this test's own memory map, saved the way the agent
 * saves a traced program's: a function of ours by name, module and line,
 * an exported function of stripped libc by its .dynsym name, a pc no
 * symbol covers as module+offset, and every address of a mapping that is
 * no file (anonymous memory, heap, stack, [vdso]) as nothing, whichever
 * module lies below it.
 */
#include <dlfcn.h>
#include <link.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <math.h>
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/symbolize.h"

static char dir[] = "/tmp/mms-test-symbolize-XXXXXX";
static char maps_copy[PATH_MAX];
static struct symbolizer *sym;
static void *anon_code;

/* noinline: a function of its own, at an address of its own */
static __attribute__((noinline)) int named_function(int x)
{
	return x * 3 + 1;
}

static int setup(void **state)
{
	/* debug files (from /usr/lib/debug) would name more: only the files'
	 * own symbol tables count here */
	const struct symbolizer_opts opts = { .no_system_debug_dir = true };
	char buf[4096];
	size_t n;
	FILE *in, *out;

	/* anonymous executable memory, as JIT code or the agent's pages are */
	anon_code = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon_code == MAP_FAILED || !mkdtemp(dir))
		return -1;
	snprintf(maps_copy, sizeof(maps_copy), "%s/maps-%d-0", dir, (int)getpid());
	in = fopen("/proc/self/maps", "re");
	out = fopen(maps_copy, "we");
	if (!in || !out)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)))
		fwrite(buf, 1, n, out);
	fclose(in);
	if (fclose(out))
		return -1;
	sym = symbolizer_open(dir, &opts);
	return sym ? 0 : -1;
}

static int teardown(void **state)
{
	symbolizer_close(sym);
	unlink(maps_copy);
	rmdir(dir);
	munmap(anon_code, 4096);
	return 0;
}

static void describe(uint64_t pc, bool call_site, struct sym_where *w)
{
	symbolizer_describe(sym, (uint32_t)getpid(), 1, pc, call_site, w);
}

/* the base name of the file holding addr, and where it was loaded */
static const char *module_of(const void *addr, uint64_t *base)
{
	Dl_info info;

	assert_true(dladdr(addr, &info));
	*base = (uintptr_t)info.dli_fbase;
	return strrchr(info.dli_fname, '/') ? strrchr(info.dli_fname, '/') + 1 : info.dli_fname;
}

static void test_a_function_is_named_with_module_and_line(void **state)
{
	uint64_t pc = (uintptr_t)named_function, base;
	const char *module = module_of(named_function, &base);
	char want[256];
	struct sym_where w;

	snprintf(want, sizeof(want), "named_function+0x0 (%s) ", module);
	for (int pass = 0; pass < 2; pass++) { /* the second from the cache */
		describe(pc, false, &w);
		assert_int_equal(strncmp(w.text, want, strlen(want)), 0);
		assert_non_null(strstr(w.text + strlen(want), "test_symbolize.c:"));
		assert_string_equal(w.module, module);
		/* a PIE program: its first mapping is where it was loaded */
		assert_int_equal(w.module_offset, pc - base);
	}
}

/* Whether the ELF file at path has a .symtab. */
static bool has_symtab(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	bool found = false;
	Elf *e;

	assert_true(fd >= 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(e);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			found = true;
	}
	elf_end(e);
	close(fd);
	return found;
}

/*
 * Debian's libc is stripped: frexp is named by its exported symbol.  Just
 * past its end, a return address (a call as frexp's last instruction) is
 * still frexp's, at the offset of the pc.
 */
static void test_a_stripped_library_names_exports_from_dynsym(void **state)
{
	uint64_t pc = (uintptr_t)frexp + 1, base, end;
	const char *module = module_of((void *)frexp, &base);
	const ElfW(Sym) * es;
	char want[256];
	struct sym_where w;
	Dl_info info;

	assert_true(dladdr1((void *)frexp, &info, (void **)&es, RTLD_DL_SYMENT));
	if (has_symtab(info.dli_fname)) {
		print_message("%s is not stripped: nothing to fall back from\n", info.dli_fname);
		skip();
	}
	describe(pc, false, &w);
	snprintf(want, sizeof(want), "frexp+0x1 (%s)", module);
	assert_string_equal(w.text, want);
	assert_string_equal(w.module, module);
	assert_int_equal(w.module_offset, pc - base);

	end = (uintptr_t)frexp + es->st_size;
	describe(end, true, &w);
	snprintf(want, sizeof(want), "frexp+0x%" PRIx64 " (%s)", (uint64_t)es->st_size, module);
	assert_string_equal(w.text, want);
	assert_int_equal(w.module_offset, end - base);
	/* not a return address: the byte after frexp is no part of it */
	describe(end, false, &w);
	assert_null(strstr(w.text, "frexp"));
}

/*
 * Each ELF file's mapping at file offset 0 starts with its ELF header,
 * which no symbol covers: "basename+0x0" (libraries and PIE programs are
 * linked at 0, so the address in the file is the offset from there).
 */
static void test_a_pc_no_symbol_covers_is_module_plus_offset(void **state)
{
	FILE *f = fopen(maps_copy, "re");
	char line[PATH_MAX + 128], want[PATH_MAX + 8];
	struct sym_where w;
	int checked = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, off;
		char path[PATH_MAX] = "";
		unsigned char magic[4];
		FILE *elf;

		if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %4095s", &start, &off, path) < 2 ||
		    off || path[0] != '/' || strstr(line, "(deleted)"))
			continue;
		elf = fopen(path, "re");
		if (!elf)
			continue;
		if (fread(magic, 1, 4, elf) == 4 && !memcmp(magic, "\177ELF", 4)) {
			describe(start, false, &w);
			snprintf(want, sizeof(want), "%s+0x0", strrchr(path, '/') + 1);
			assert_string_equal(w.text, want);
			assert_string_equal(w.module, strrchr(path, '/') + 1);
			assert_int_equal(w.module_offset, 0);
			checked++;
		}
		fclose(elf);
	}
	fclose(f);
	/* this program, libc, libdw, cmocka, ... */
	assert_true(checked >= 3);
}

static void test_memory_that_is_no_file_is_not_named(void **state)
{
	FILE *f = fopen(maps_copy, "re");
	char line[PATH_MAX + 128];
	struct sym_where w;
	bool saw_anon_code = false;
	int checked = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end;
		char path[PATH_MAX] = "";

		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %4095s", &start, &end, path) < 2 ||
		    path[0] == '/' || start >= 0x800000000000ull)
			continue;
		for (unsigned long long pc = start; pc < end; pc += (end - start) / 4) {
			describe(pc, false, &w);
			if (w.text[0] || w.module)
				fail_msg("0x%llx in \"%.*s\" is named %s", pc,
					 (int)strcspn(line, "\n"), line, w.text);
			checked++;
		}
		describe(end - 1, false, &w);
		assert_string_equal(w.text, "");
		assert_null(w.module);
		saw_anon_code |= start <= (uintptr_t)anon_code && (uintptr_t)anon_code < end;
	}
	fclose(f);
	assert_true(saw_anon_code);
	assert_true(checked > 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_function_is_named_with_module_and_line),
		cmocka_unit_test(test_a_stripped_library_names_exports_from_dynsym),
		cmocka_unit_test(test_a_pc_no_symbol_covers_is_module_plus_offset),
		cmocka_unit_test(test_memory_that_is_no_file_is_not_named),
	};

	(void)named_function(1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
