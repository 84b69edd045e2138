/* SPDX-License-Identifier: MIT */
/*
 * Names for the addresses in a trace's accesses and call chains: each
 * process's memory map is saved in the trace directory ("maps-PID-SEQ", by
 * the agent), and libdwfl turns an address into function+offset and
 * file:line from the modules' symbol tables (.symtab, else .dynsym) and
 * DWARF, looking for separate debug files (by build-id or .gnu_debuglink)
 * in the debug directories.  An address no symbol covers is named by its
 * module: "libfoo.so.1+0x1234".  docs/show.md describes the output.
 */
#ifndef MMS_CLI_SYMBOLIZE_H
#define MMS_CLI_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbolizer;

/* Where distributions install separate debug files (gdb's default too). */
#define SYMBOLIZER_DEBUG_DIR "/usr/lib/debug"

struct symbolizer_opts {
	/* Directories of separate debug files, searched in this order before
	 * SYMBOLIZER_DEBUG_DIR; each element may be several, colon-separated
	 * like gdb's debug-file-directory.  A missing one is warned about. */
	const char *const *debug_dirs;
	size_t ndebug_dirs;
	/* leave SYMBOLIZER_DEBUG_DIR out (tests that want only their files) */
	bool no_system_debug_dir;
};

/* NULL if the trace has no saved maps (nothing to symbolise with); opts
 * may be NULL (the defaults). */
struct symbolizer *symbolizer_open(const char *trace_dir, const struct symbolizer_opts *opts);
void symbolizer_close(struct symbolizer *s);

struct sym_where {
	/* "func+0x12 (libfoo.so.1) file.c:34", "func+0x12 (libfoo.so.1)",
	 * "libfoo.so.1+0x1234" (no symbol covers the pc; " file.c:34" may
	 * follow), or "" when the pc is in no file-backed module */
	char text[1024];
	/* base name of the module's file, NULL with text ""; valid until
	 * symbolizer_close() */
	const char *module;
	/* pc - the module's load bias: the address in the file's own terms,
	 * what addr2line -e FILE takes (docs/show.md) */
	uint64_t module_offset;
};

/* Where pc of process pid was as of record seq.  call_site: pc is a return
 * address (or the instruction after an access), so the function and line
 * are those of pc - 1; the offsets printed are still from pc. */
void symbolizer_describe(struct symbolizer *s, uint32_t pid, uint64_t seq, uint64_t pc,
			 bool call_site, struct sym_where *w);

#endif
