/* SPDX-License-Identifier: MIT */
/* Facts about executables that decide whether the agent can enter them. */
#ifndef MMS_UTIL_ELF_H
#define MMS_UTIL_ELF_H

/* 1 if path is a 64-bit ELF without PT_INTERP (statically linked: the
 * agent cannot be preloaded into it), 0 if dynamic, -1 if not ELF or
 * unreadable. */
int elf_is_static(const char *path);

#endif
