/* SPDX-License-Identifier: MIT */
/*
 * --watch EXPR[:LEN][:r|w|rw]: parse and resolve before the program starts,
 * so a symbol that does not exist or a bad length is an error that costs
 * nothing.  EXPR is an address (0x7f0000001000, or decimal), or a global
 * symbol of PROGRAM or of a library it loads at start, optionally with an
 * index (table[3], element size from DWARF) and/or a byte offset (+8).
 * The result is module-relative: the agent adds the module's load address.
 */
#ifndef MMS_CLI_WATCHSPEC_H
#define MMS_CLI_WATCHSPEC_H

#include <stddef.h>

#include "util/config.h"

#define WATCHSPEC_ADDR_LEN 8 /* default length of a watch on an address */

/* 0, or -1 with a one-line reason in err. */
int watchspec_resolve(const char *arg, const char *program, struct config_watch *out, char *err,
		      size_t errlen);

#endif
