/* SPDX-License-Identifier: MIT */
/*
 * mmscope ctl: a session on a running program's debugger socket (the one
 * `mmscope run --gdb=unix:PATH` made), speaking the stub's line commands
 * (src/agent/debugctl.c) and printing each JSON answer on a line.  With
 * a command, one command; without, commands from stdin, one per line,
 * until end of file.  Watches belong to the session and end with it.
 *
 * `watch EXPR` takes what --watch takes (cli/watchspec.h): it is resolved
 * here against the program's files and its /proc/PID/maps, and the stub
 * is given the address.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/watchspec.h"
#include "mmscope/trace-format.h"
#include "util/config.h"
#include "util/dumpargs.h"
#include "util/fmt.h"
#include "util/maps.h"
#include "util/sockpath.h"

static void ctl_usage(FILE *f)
{
	fprintf(f, "usage: mmscope ctl PID|TRACE-DIR|SOCKET [COMMAND [ARGS...]]\n\n"
		   "A session on a running program's debugger connection (the one\n"
		   "mmscope run --gdb=unix:SOCKET opened; a program started without --gdb\n"
		   "gets one now, as mmscope gdb opens it), beside gdb or without it.  PID\n"
		   "is the program, or the mmscope run that started it.  One\n"
		   "JSON line is printed per command.  Without COMMAND, commands are read\n"
		   "from stdin, one per line, until end of file.\n\n"
		   "commands:\n"
		   "  regions             the mappings mmscope traces or watches\n"
		   "  watches             every watch: --watch's, gdb's, every session's\n"
		   "  watch EXPR          watch EXPR (as --watch takes it: SYMBOL[+OFF][:LEN]\n"
		   "                      [:r|w|rw], or ADDRESS[:LEN]); hits are recorded,\n"
		   "                      the program does not stop; answers the watch's id\n"
		   "  unwatch ID          remove this session's watch ID\n"
		   "  mark TEXT           a MARK record with TEXT in the trace\n"
		   "  trace off|on        stop and resume recording accesses (the trace\n"
		   "                      says how many were left out)\n"
		   "  dump [--full] [--device-reads] FILE\n"
		   "                      a core of the program, which goes on (as\n"
		   "                      mmscope dump; FILE relative to this directory)\n"
		   "  unpatch             put every hot site (--hot) back to the program's\n"
		   "                      bytes and patch none until 'patch'; answers how\n"
		   "                      many were unpatched\n"
		   "  patch               patch hot sites again\n"
		   "  hello               the program's pid and this session's number\n\n"
		   "A session's watches are removed when it ends (end of input, the\n"
		   "connection closed, mmscope ctl killed).\n");
}

/*
 * The debugger connection of target (a pid, a trace directory or a socket's
 * path), as its config says: "unix:PATH" or "tcp:HOST:PORT" into spec.
 * 0, or -1 after writing why into err.
 */
int cli_debug_spec(const char *target, char *spec, size_t cap, char *err, size_t errlen)
{
	char cfgpath[PATH_MAX + 16];
	struct stat st;
	struct config c;
	char cerr[256];
	char *end;
	long pid = strtol(target, &end, 10);
	bool by_pid = *target && !*end && pid > 0;
	bool is_dir = !by_pid && stat(target, &st) == 0 && S_ISDIR(st.st_mode);

	if (!by_pid && !is_dir) {
		if ((size_t)snprintf(spec, cap, "unix:%s", target) >= cap) {
			snprintf(err, errlen, "%s: path too long", target);
			return -1;
		}
		return 0;
	}
	if (by_pid) {
		long r = cli_config_of_pid(pid, cfgpath, sizeof(cfgpath));
		if (r < 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
			snprintf(err, errlen, "no process %ld (has it exited?)", pid);
			return -1;
		}
		if (r < 0) {
			snprintf(err, errlen, "process %ld: %s", pid,
				 r == -ENOENT ? "not traced by mmscope (no MMSCOPE_CONFIG in its "
						"environment, nor in a child's)"
					      : strerror((int)-r));
			return -1;
		}
		pid = r;
	} else {
		snprintf(cfgpath, sizeof(cfgpath), "%s/config", target);
	}
	if (config_read(&c, cfgpath, cerr, sizeof(cerr)) < 0) {
		snprintf(err, errlen, "%s is not a trace directory: %s", target, cerr);
		return -1;
	}
	int r = 0;
	if (c.gdb[0] && by_pid && !strncmp(c.gdb, "unix:", 5) && sockpath_owner(c.gdb + 5) > 0 &&
	    sockpath_owner(c.gdb + 5) != pid) {
		/* a fork child (or an exec'd one) of the program that opened
		 * it: the connection is its parent's; open its own */
		r = cli_attach_late(pid, c.out, spec, cap, err, errlen);
	} else if (c.gdb[0]) {
		if ((size_t)snprintf(spec, cap, "%s", c.gdb) >= cap) {
			snprintf(err, errlen, "%s: its debugger address is too long", target);
			r = -1;
		}
	} else {
		/* started without --gdb: open the connection now */
		if (!by_pid && (pid = cli_pid_of_trace(cfgpath, err, errlen)) < 0)
			r = -1;
		else
			r = cli_attach_late(pid, c.out, spec, cap, err, errlen);
	}
	config_free(&c);
	return r;
}

static int connect_to(const char *target, char *err, size_t errlen)
{
	char spec[PATH_MAX + 8];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *path = spec + 5;
	int fd;

	if (cli_debug_spec(target, spec, sizeof(spec), err, errlen) < 0)
		return -1;
	if (strncmp(spec, "unix:", 5)) {
		snprintf(err, errlen,
			 "the program of %s listens on %s; mmscope ctl needs a UNIX socket "
			 "(mmscope run --gdb=unix:PATH)",
			 target, spec);
		return -1;
	}
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a socket", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One answer line; 0, or -1 when the connection is gone.  A refusal
 * comes as a GDB packet "$E.reason#cc". */
static int read_answer(FILE *in, char *line, size_t cap)
{
	if (!fgets(line, (int)cap, in))
		return -1;
	char *e = strstr(line, "$E.");
	if (e) {
		char *end = strchr(e, '#');
		if (end)
			*end = 0;
		fprintf(stderr, "mmscope ctl: %s\n", e + 3);
		return -1;
	}
	return 0;
}

/* The load address of module in process pid: its mapping at file offset
 * 0 less the first PT_LOAD's page-aligned address. */
static bool is_module_start(const struct maps_line *m, const void *module)
{
	return m->off == 0 && !strcmp(m->path, module);
}

int cli_module_base(long pid, const char *module, uint64_t *base)
{
	static struct maps_line m;
	uint64_t first = UINT64_MAX;
	int r = cli_find_mapping(pid, is_module_start, module, &m);

	if (r < 0)
		return r;
	uint64_t lo = m.lo;
	int fd = open(module, O_RDONLY | O_CLOEXEC);
	Elf *e = fd < 0 || elf_version(EV_CURRENT) == EV_NONE ? NULL
							      : elf_begin(fd, ELF_C_READ, NULL);
	size_t n = 0;
	if (e && elf_getphdrnum(e, &n) == 0)
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
				first = ph.p_vaddr & ~(uint64_t)4095;
				break;
			}
		}
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	if (first == UINT64_MAX)
		return -ENOEXEC;
	*base = lo - first;
	return 0;
}

/* "watch EXPR" as the stub takes it: "watch TYPE ADDR LEN EXPR". */
static int resolve_watch(long pid, const char *expr, char *out, size_t cap)
{
	char exe[64], program[PATH_MAX], err[512];
	struct config_watch w;
	uint64_t base = 0;
	ssize_t n;

	snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
	if ((n = readlink(exe, program, sizeof(program) - 1)) < 0) {
		fprintf(stderr, "mmscope ctl: %s: %s\n", exe, strerror(errno));
		return -1;
	}
	program[n] = 0;
	if (elf_version(EV_CURRENT) == EV_NONE ||
	    watchspec_resolve(expr, program, &w, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmscope ctl: watch %s: %s\n", expr, err);
		return -1;
	}
	if (strcmp(w.module, "-") && cli_module_base(pid, w.module, &base) < 0) {
		fprintf(stderr, "mmscope ctl: watch %s: %s is not mapped in process %ld\n", expr,
			w.module, pid);
		return -1;
	}
	/* the stub's names hold no quotes or backslashes */
	char name[48];
	fmt_json_safe(name, sizeof(name), expr);
	snprintf(out, cap, "watch %s %" PRIx64 " %" PRIu64 " %s",
		 w.type == MMS_WATCH_READ    ? "r"
		 : w.type == MMS_WATCH_WRITE ? "w"
					     : "rw",
		 w.vaddr + base, w.len, name);
	return 0;
}

/* Send one command line, print its answer; 0 ok, 1 the stub said no,
 * -1 the session is gone. */
/* "dump [--full] [--device-reads] ABSOLUTE-PATH" for path as the user
 * gave it */
static int dump_wire(const char *path, bool full, bool live, char *out, size_t cap)
{
	char cwd[PATH_MAX];

	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		fprintf(stderr, "mmscope: cannot tell the current directory: %s\n",
			strerror(errno));
		return -1;
	}
	if (snprintf(out, cap, "dump %s%s%s%s%s", full ? "--full " : "",
		     live ? "--device-reads " : "", path[0] == '/' ? "" : cwd,
		     path[0] == '/' ? "" : "/", path) >= (int)cap) {
		fprintf(stderr, "mmscope: %s: path too long\n", path);
		return -1;
	}
	return 0;
}

static int run_one(int fd, FILE *in, long pid, const char *cmd)
{
	char line[1 << 16], wire[1024];

	if (!strncmp(cmd, "watch ", 6) && pid > 0) {
		if (resolve_watch(pid, cmd + 6, wire, sizeof(wire)) < 0)
			return 1;
	} else if (!strncmp(cmd, "dump ", 5)) {
		/* the program's cwd is not ours */
		bool full, live;
		const char *path = dumpargs_parse(cmd + 5, &full, &live);
		if (dump_wire(path, full, live, wire, sizeof(wire)) < 0)
			return 1;
	} else {
		snprintf(wire, sizeof(wire), "%s", cmd);
	}
	size_t len = strlen(wire);
	wire[len++] = '\n';
	if (write(fd, wire, len) != (ssize_t)len || read_answer(in, line, sizeof(line)) < 0)
		return -1;
	fputs(line, stdout);
	fflush(stdout);
	return strstr(line, "\"ok\":true") ? 0 : 1;
}

int cmd_ctl(int argc, char **argv)
{
	char err[PATH_MAX + 256], line[4096], cmd[4096] = "";
	int fd, rc = 0;
	long pid = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		ctl_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (int i = 2; i < argc; i++) {
		size_t n = strlen(cmd);
		snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i > 2 ? " " : "", argv[i]);
	}
	if ((fd = connect_to(argv[1], err, sizeof(err))) < 0) {
		fprintf(stderr, "mmscope ctl: %s\n", err);
		return 1;
	}
	FILE *in = fdopen(dup(fd), "r");
	if (!in)
		return 1;
	/* the pid, for watch EXPR; and whether the stub lets us in at all */
	if (write(fd, "hello\n", 6) != 6 || read_answer(in, line, sizeof(line)) < 0) {
		fclose(in);
		close(fd);
		return 1;
	}
	char *p = strstr(line, "\"pid\":");
	if (p)
		pid = strtol(p + 6, NULL, 10);
	if (cmd[0]) {
		rc = run_one(fd, in, pid, cmd);
	} else {
		while (fgets(line, sizeof(line), stdin)) {
			line[strcspn(line, "\r\n")] = 0;
			if (!line[0])
				continue;
			int r = run_one(fd, in, pid, line);
			if (r < 0) {
				rc = 1;
				break;
			}
			rc |= r;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "mmscope ctl: the connection closed (did the program exit?)\n");
		rc = 1;
	}
	fclose(in);
	close(fd);
	return rc;
}

static void dump_usage(FILE *f)
{
	fprintf(f,
		"usage: mmscope dump PID|TRACE-DIR|SOCKET [--full] [--device-reads] [-o FILE]\n\n"
		"Write a core of a running program, which goes on afterwards: every\n"
		"thread, the traced mappings read through mmscope, each traced device\n"
		"region as the trace knows its registers (no device is read).  The\n"
		"program is stopped while the core is written.  PID and the rest as for\n"
		"mmscope ctl (a program started without --gdb gets its connection now).\n\n"
		"  -o FILE   where to write it (default: core.PID here)\n"
		"  --full    file-backed read-only mappings too (docs/core.md)\n"
		"  --device-reads\n"
		"            read each traced device region for real (once) instead of\n"
		"            writing what the trace saw (a read can clear a status)\n"
		"Then: gdb PROGRAM FILE\n");
}

int cmd_dump(int argc, char **argv)
{
	const char *target = NULL, *out = NULL;
	char err[PATH_MAX + 256], line[4096], path[PATH_MAX], wire[PATH_MAX + 64];
	bool full = false, live = false;
	long pid = 0;
	int fd, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			dump_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--full")) {
			full = true;
		} else if (!strcmp(argv[i], "--device-reads")) {
			live = true;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else if (argv[i][0] == '-' || target) {
			fprintf(stderr, "mmscope dump: unexpected '%s'\n", argv[i]);
			dump_usage(stderr);
			return 2;
		} else {
			target = argv[i];
		}
	}
	if (!target) {
		dump_usage(stderr);
		return 2;
	}
	if ((fd = connect_to(target, err, sizeof(err))) < 0) {
		fprintf(stderr, "mmscope dump: %s\n", err);
		return 1;
	}
	FILE *in = fdopen(dup(fd), "r");
	if (!in || write(fd, "hello\n", 6) != 6 || read_answer(in, line, sizeof(line)) < 0)
		goto done;
	char *p = strstr(line, "\"pid\":");
	if (p)
		pid = strtol(p + 6, NULL, 10);
	if (!out) {
		snprintf(path, sizeof(path), "core.%ld", pid);
		out = path;
	}
	if (dump_wire(out, full, live, wire, sizeof(wire)) < 0)
		goto done;
	size_t len = strlen(wire);
	wire[len++] = '\n';
	if (write(fd, wire, len) != (ssize_t)len || read_answer(in, line, sizeof(line)) < 0) {
		fprintf(stderr, "mmscope dump: the connection closed (did the program exit?)\n");
		goto done;
	}
	char *said = strstr(line, "\"said\":\""), *error = strstr(line, "\"error\":\"");
	char *text = said ? said + 8 : error ? error + 9 : line;
	text[strcspn(text, "\"\n")] = 0;
	fprintf(said ? stdout : stderr, "mmscope dump: %s\n", text);
	rc = said ? 0 : 1;
done:
	if (in)
		fclose(in);
	close(fd);
	return rc;
}
