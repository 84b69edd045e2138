/* SPDX-License-Identifier: MIT */
/*
 * mmscope mark PID TEXT: add a MARK record to the trace of a running
 * program without touching the program.  The trace directory is found
 * through the program's MMSCOPE_CONFIG; the record goes into a stream of
 * its own ("<pid>-0-<serial>.mms", tid 0 = from outside), ordered with the
 * program's records through the trace's shared sequence counter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "mmscope/trace-format.h"
#include "cli/outside.h"
#include "util/config.h"

static void mark_usage(FILE *f)
{
	fprintf(f, "usage: mmscope mark PID TEXT...\n\n"
		   "Add a MARK record with TEXT to the trace of process PID, which must be\n"
		   "running under 'mmscope run'.  The program itself is not disturbed.\n");
}

/* The value of NAME in /proc/PID/environ, or -errno. */
static int env_of(long pid, const char *name, char *out, size_t cap)
{
	char path[64], buf[1 << 16];
	size_t nlen = strlen(name);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (!strncmp(p, name, nlen) && p[nlen] == '=') {
			snprintf(out, cap, "%s", p + nlen + 1);
			return 0;
		}
	return -ENOENT;
}

int cmd_mark(int argc, char **argv)
{
	char cfgpath[PATH_MAX], err[PATH_MAX + 64], text[4096] = "";
	struct config cfg;
	char *end;
	long pid;
	int r;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		mark_usage(stdout);
		return 0;
	}
	if (argc < 3) {
		mark_usage(stderr);
		return 2;
	}
	pid = strtol(argv[1], &end, 10);
	if (*end || pid <= 0) {
		fprintf(stderr, "mmscope mark: '%s' is not a process id\n", argv[1]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (i > 2)
			strncat(text, " ", sizeof(text) - strlen(text) - 1);
		strncat(text, argv[i], sizeof(text) - strlen(text) - 1);
	}
	r = env_of(pid, "MMSCOPE_CONFIG", cfgpath, sizeof(cfgpath));
	if (r == -ENOENT) {
		fprintf(stderr, "mmscope mark: process %ld is not running under mmscope\n", pid);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "mmscope mark: cannot read the environment of process %ld: %s\n",
			pid, strerror(-r));
		return 1;
	}
	if (config_read(&cfg, cfgpath, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmscope mark: %s\n", err);
		return 1;
	}
	r = outside_append(cfg.out, pid, MMS_REC_MARK, NULL, 0, text);
	if (r < 0) {
		fprintf(stderr, "mmscope mark: cannot write to the trace %s: %s\n", cfg.out,
			strerror(-r));
		return 1;
	}
	return 0;
}
