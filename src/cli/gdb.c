/* SPDX-License-Identifier: MIT */
/*
 * mmscope gdb: gdb on a running program's debugger connection.  The
 * program is named as mmscope ctl names it (a pid, the pid of its
 * mmscope run, its trace directory, or the socket's path); the connection
 * is the one `mmscope run --gdb=` opened, or one opened now (attach.c).  gdb gets the executable from
 * the stub (qXfer:exec-file), so no file is named here.  MMSCOPE_GDB
 * names another gdb.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmds.h"

static void gdb_usage(FILE *f)
{
	fprintf(f, "usage: mmscope gdb PID|TRACE-DIR|SOCKET [GDB-ARGS...]\n\n"
		   "Runs gdb connected to a running program's debugger connection (the\n"
		   "one mmscope run --gdb=unix:PATH or --gdb=tcp:PORT opened).  PID is\n"
		   "the program, or the mmscope run that started it.  GDB-ARGS go to gdb\n"
		   "after the connection is made (for example --batch -ex 'info threads').\n"
		   "MMSCOPE_GDB names the gdb to run (default: gdb on PATH).\n\n"
		   "A program started without --gdb gets its connection now, at\n"
		   "TRACE-DIR/gdb-PID.sock: one of its threads is stopped for a moment\n"
		   "with ptrace (so you need the right to ptrace it) to open it.  See\n"
		   "docs/debugging.md, \"Opening the connection later\".\n");
}

int cmd_gdb(int argc, char **argv)
{
	char spec[PATH_MAX + 8], err[PATH_MAX + 256], remote[PATH_MAX + 32];
	const char *gdb = getenv("MMSCOPE_GDB");
	char **args;
	int n = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		gdb_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (cli_debug_spec(argv[1], spec, sizeof(spec), err, sizeof(err)) < 0) {
		fprintf(stderr, "mmscope gdb: %s\n", err);
		return 1;
	}
	if (!strncmp(spec, "unix:", 5) && access(spec + 5, F_OK) < 0) {
		fprintf(stderr, "mmscope gdb: %s: %s (has the program exited?)\n", spec + 5,
			strerror(errno));
		return 1;
	}
	snprintf(remote, sizeof(remote), "target remote %s", spec + (spec[0] == 'u' ? 5 : 4));
	if (!gdb || !*gdb)
		gdb = "gdb";
	args = calloc((size_t)argc + 4, sizeof(*args));
	if (!args)
		return 1;
	args[n++] = (char *)gdb;
	args[n++] = "-ex";
	args[n++] = remote;
	for (int i = 2; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	execvp(gdb, args);
	fprintf(stderr, "mmscope gdb: cannot run %s: %s (install gdb, or set MMSCOPE_GDB)\n", gdb,
		strerror(errno));
	free(args);
	return 127;
}
