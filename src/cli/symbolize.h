/* SPDX-License-Identifier: MIT */
/*
 * Names for the addresses in a trace's call chains: each process's memory
 * map is saved in the trace directory ("maps-PID-SEQ", by the agent), and
 * libdwfl turns an address into function+offset and file:line from the
 * modules' symbol tables and DWARF.
 */
#ifndef MMS_CLI_SYMBOLIZE_H
#define MMS_CLI_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbolizer;

/* NULL if the trace has no saved maps (nothing to symbolise with). */
struct symbolizer *symbolizer_open(const char *trace_dir);
void symbolizer_close(struct symbolizer *s);

/* Describe pc of process pid as of record seq: "func+0x12 (file.c:34)",
 * "func+0x12", or "" when unknown.  call_site: pc is a return address (or
 * the instruction after an access), so look up pc - 1 for the line. */
void symbolizer_describe(struct symbolizer *s, uint32_t pid, uint64_t seq, uint64_t pc,
			 bool call_site, char *out, size_t cap);

#endif
