/* SPDX-License-Identifier: MIT */
/* mmscope: the command-line front end; one subcommand per file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <limits.h>
#include <libgen.h>

#include "cli/cmds.h"
#include "mmscope/trace-format.h"

static const struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{ "run", cmd_run, "run a program and trace its accesses to selected mappings" },
	{ "show", cmd_show, "print a trace (text, json or mmiotrace format)" },
	{ "mark", cmd_mark, "add a MARK record to the trace of a running program" },
	{ "probe", cmd_probe, "measure what this machine's debug registers really do" },
	{ "ctl", cmd_ctl, "a session on a running program's debugger socket (JSON lines)" },
	{ "gdb", cmd_gdb, "run gdb on a running program's debugger connection" },
	{ "dump", cmd_dump, "write a core of a running program, devices included" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mmscope COMMAND [OPTIONS] ...\n\n"
		   "Trace the loads and stores a program makes to device and shared-memory\n"
		   "mappings.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-6s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\n'mmscope COMMAND --help' describes each command.\n");
}

const char *cli_self_dir(void)
{
	static char dir[PATH_MAX];
	if (!dir[0]) {
		ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
		if (n <= 0)
			return ".";
		dir[n] = 0;
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = 0;
	}
	return dir;
}

int cli_agent_path(char *out, size_t cap)
{
	const char *self = cli_self_dir();

	snprintf(out, cap, "%s/%s", self, CLI_AGENT_NAME);
	if (access(out, R_OK) == 0)
		return 0;
	snprintf(out, cap, "%s/../%s/%s", self, CLI_AGENT_LIBDIR, CLI_AGENT_NAME);
	if (access(out, R_OK) == 0) {
		char real[PATH_MAX];
		/* LD_PRELOAD gets a path without "..", as a user would write it */
		if (realpath(out, real))
			snprintf(out, cap, "%s", real);
		return 0;
	}
	return -errno;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("mmscope 0.2 (trace format %u)\n", MMS_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name)) {
			/* getopt's own messages then start "mmscope run: " */
			static char name[32];
			snprintf(name, sizeof(name), "mmscope %s", subcommands[i].name);
			argv[1] = name;
			return subcommands[i].fn(argc - 1, argv + 1);
		}
	fprintf(stderr, "mmscope: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
