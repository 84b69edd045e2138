/* SPDX-License-Identifier: MIT */
/*
 * mmscope run: start a program with the agent preloaded and a config that
 * names the trace directory and the mappings to trace; wait for it; say
 * what the trace holds and what it lacks (run-summary.c).  Everything that
 * can be checked before the program starts (options, patterns, the
 * program, the output directory, room for the trace's shared page) is
 * checked first, so a mistake costs nothing and leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/hwprobe.h"
#include "cli/outside.h"
#include "cli/run-summary.h"
#include "cli/tracedir.h"
#include "cli/watchspec.h"
#include "mmscope/trace-format.h"
#include "util/config.h"
#include "util/elf.h"
#include "util/sockpath.h"

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: mmscope run [OPTIONS] [--] PROGRAM [ARGS...]\n\n"
		"Run PROGRAM and record every load and store it makes to the selected\n"
		"mappings: thread, pc, region, offset, width, direction and value.\n\n"
		"options:\n"
		"  -o, --output DIR    trace directory (default: mmscope.trace.d), created\n"
		"                      0700; an existing one must be yours, writable by\n"
		"                      you alone, and empty or holding an old trace\n"
		"                      (replaced only with --force)\n"
		"  -m, --map PATTERN   trace mappings whose object name, as shown in\n"
		"                      /proc/PID/maps, matches the glob PATTERN (*, ?,\n"
		"                      [...]; a pattern equal to the name always matches);\n"
		"                      repeatable.  An absolute path or a kernel name:\n"
		"                      '/dev/shm/ring*', '/memfd:name*',\n"
		"                      'anon_inode:[io_uring]', 'socket:[*]' (packet mmap),\n"
		"                      'anon_inode:[perf_event]', '/sys/bus/pci/devices/*/resource0'.\n"
		"                      Default: character-device mappings (except /dev/zero)\n"
		"                      and PCI resource files.  Only MAP_SHARED mappings.\n"
		"  -d, --device PATTERN\n"
		"                      mappings matching PATTERN are device memory (and\n"
		"                      traced): mmscope never reads them more than the\n"
		"                      program does, so LOCKed arithmetic that returns no\n"
		"                      old value (lock or/and/xor/bts...) is recorded with\n"
		"                      its values unknown; repeatable.  Character devices\n"
		"                      (but /dev/zero) and PCI resource files always are.\n"
		"  -w, --watch EXPR[:LEN][:r|w|rw]\n"
		"                      record every access of the given type (default w)\n"
		"                      to LEN bytes at EXPR; repeatable, any number.  EXPR\n"
		"                      is an address (LEN defaults to 8) or a global symbol\n"
		"                      of PROGRAM or a library it loads at start, with an\n"
		"                      optional index and offset: counter, table[3],\n"
		"                      table+16 (LEN defaults to the symbol's or element's\n"
		"                      size).  Hits: mmscope show --watch-only DIR\n"
		"      --hw-slots N    use at most N debug registers for watchpoints, the\n"
		"                      rest use pages (default: half of those `mmscope\n"
		"                      probe` finds working, leaving the others free for a\n"
		"                      debugger that attaches later)\n"
		"      --hw-invasive   watches take every debug register and keep them:\n"
		"                      the program's own hardware breakpoints and a\n"
		"                      debugger's then fail with ENOSPC (only when you\n"
		"                      know nothing else needs them)\n"
		"      --no-backtrace  record hits without their call chain (faster)\n"
		"      --raw-mmap=trap|off\n"
		"                      trap (default): mmap-family system calls the\n"
		"                      program makes without libc (static liburing, Go)\n"
		"                      are caught with a seccomp filter, so their\n"
		"                      mappings are traced too; off: only calls through\n"
		"                      libc are seen\n"
		"      --gdb=unix:PATH|tcp:[HOST:]PORT\n"
		"                      serve the GDB remote protocol from inside PROGRAM\n"
		"                      (gdb PROGRAM -ex 'target remote PATH' or HOST:PORT);\n"
		"                      a UNIX socket is created 0600, TCP listens on\n"
		"                      loopback only; a peer is accepted only if it could\n"
		"                      ptrace PROGRAM (docs/debugging.md)\n"
		"      --gdb-bind=ADDR with --gdb=tcp:PORT: listen on the IPv4 address ADDR\n"
		"                      (0.0.0.0: every interface) instead of loopback.\n"
		"                      Peers on this machine are still checked; a peer\n"
		"                      from another machine has no uid to check and is\n"
		"                      let in: anyone who can reach ADDR:PORT can debug\n"
		"                      PROGRAM, as with gdbserver\n"
		"      --gdb-wait      with --gdb: stop PROGRAM at its entry point until a\n"
		"                      debugger connects\n"
		"      --core=off|on|full\n"
		"                      when PROGRAM dies of a signal that dumps core\n"
		"                      (SIGSEGV, SIGABRT, ...), write DIR/core.PID first,\n"
		"                      with the traced mappings and each device's registers\n"
		"                      as the trace knew them (docs/core.md); on (default):\n"
		"                      what the kernel's core holds; full: file-backed\n"
		"                      read-only mappings too\n"
		"      --dump-device-reads\n"
		"                      a core reads each device region for real (once,\n"
		"                      through mmscope) instead of writing what the trace\n"
		"                      saw: reads can have side effects, so not by default\n"
		"      --device-reads=shadow|live\n"
		"                      whether a debugger's reads of a device mapping reach\n"
		"                      the device (live) or not (shadow, the default: a read\n"
		"                      can have side effects, such as clearing a status)\n"
		"      --hot=N|off     after N faults at one instruction (default 16), patch\n"
		"                      it into a jump to a stub that completes its accesses\n"
		"                      without a signal, ~30x cheaper (docs/design.md); off:\n"
		"                      every access takes the fault path\n"
		"  -f, --force         replace a trace already in DIR (only its trace\n"
		"                      files are deleted)\n"
		"  -q, --quiet         no summary at exit (problems are still reported)\n"
		"  -v, --verbose       the agent logs each armed mapping to DIR/agent.log\n"
		"  -h, --help          this help\n\n"
		"Then: mmscope show DIR  (--format=text|json|mmiotrace)\n"
		"      mmscope mark --pid PID TEXT  (a marker in the running trace)\n"
		"The exit status is PROGRAM's (128+N if it was killed by signal N; 127: not\n"
		"found, 126: found but mmscope cannot run it).\n");
}

/*
 * --gdb's argument, checked and made absolute for the agent (the program
 * may change directory before it listens): "unix:PATH" or
 * "tcp:[HOST:]PORT" with HOST an IPv4 loopback address.  0 or -1 with a
 * message.
 */
static int gdb_spec(const char *arg, const char *bind, char *out, size_t cap)
{
	if (bind && strncmp(arg, "tcp:", 4)) {
		fprintf(stderr, "mmscope run: --gdb-bind=%s needs --gdb=tcp:PORT\n", bind);
		return -1;
	}
	if (!strncmp(arg, "unix:", 5) && arg[5]) {
		char cwd[PATH_MAX];
		const char *path = arg + 5;
		int n;
		if (path[0] == '/')
			n = snprintf(out, cap, "unix:%s", path);
		else if (getcwd(cwd, sizeof(cwd)))
			n = snprintf(out, cap, "unix:%s/%s", cwd, path);
		else
			n = -1;
		/* sockaddr_un holds 107 bytes of path */
		if (n < 0 || (size_t)n >= cap || strlen(out + 5) > 107) {
			fprintf(stderr,
				"mmscope run: --gdb=%s: the socket path is too long (at most "
				"107 bytes, made absolute)\n",
				arg);
			return -1;
		}
		return 0;
	}
	if (!strncmp(arg, "tcp:", 4)) {
		const char *port = strrchr(arg + 4, ':');
		char host[64] = "127.0.0.1", *end;
		struct in_addr a;
		long p;
		if (port && bind) {
			fprintf(stderr,
				"mmscope run: --gdb=%s with --gdb-bind=%s: give the address once "
				"(--gdb=tcp:PORT --gdb-bind=ADDR)\n",
				arg, bind);
			return -1;
		}
		if (bind && snprintf(host, sizeof(host), "%s", bind) >= (int)sizeof(host)) {
			fprintf(stderr, "mmscope run: --gdb-bind=%s: bad address\n", bind);
			return -1;
		}
		if (port) {
			size_t hl = (size_t)(port - (arg + 4));
			if (hl >= sizeof(host)) {
				fprintf(stderr, "mmscope run: --gdb=%s: bad host\n", arg);
				return -1;
			}
			memcpy(host, arg + 4, hl);
			host[hl] = 0;
			port++;
		} else {
			port = arg + 4;
		}
		p = strtol(port, &end, 10);
		if (!*port || *end || p < 1 || p > 65535) {
			fprintf(stderr, "mmscope run: --gdb=%s: the port must be 1..65535\n", arg);
			return -1;
		}
		if (bind && inet_pton(AF_INET, host, &a) != 1) {
			fprintf(stderr,
				"mmscope run: --gdb-bind=%s: not an IPv4 address (such as 0.0.0.0 "
				"or 192.0.2.1)\n",
				bind);
			return -1;
		}
		if (!bind &&
		    (inet_pton(AF_INET, host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)) {
			fprintf(stderr,
				"mmscope run: --gdb=%s: the host must be an IPv4 loopback address "
				"(127.x.x.x); to listen on the network, say so with "
				"--gdb=tcp:PORT --gdb-bind=ADDR\n",
				arg);
			return -1;
		}
		snprintf(out, cap, "tcp:%s:%ld", host, p);
		return 0;
	}
	fprintf(stderr, "mmscope run: --gdb wants unix:PATH or tcp:[HOST:]PORT, got '%s'\n", arg);
	return -1;
}

/*
 * The program execv will run, looked up like execvp: a name with a '/' as
 * it is, else the first PATH entry holding an executable regular file of
 * that name.  0 with the path in out; -ENOENT; -EACCES when only
 * unexecutable candidates were found; -EISDIR for a directory named
 * directly.
 */
static int find_program(const char *name, char *out, size_t cap)
{
	const char *p = getenv("PATH");
	bool eacces = false;
	struct stat st;

	if (!*name)
		return -ENOENT;
	if (strchr(name, '/')) {
		snprintf(out, cap, "%s", name);
		if (stat(out, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!S_ISREG(st.st_mode) || access(out, X_OK) < 0)
			return -EACCES;
		return 0;
	}
	if (!p)
		p = "/bin:/usr/bin"; /* glibc's confstr(_CS_PATH), as execvp uses */
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(out, cap, "%.*s%s%s", (int)n, p, n ? "/" : "", name);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			eacces = true;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	return eacces ? -EACCES : -ENOENT;
}

/*
 * The dynamic linker ignores LD_PRELOAD for a program that gains
 * privileges when it starts (secure-execution mode, AT_SECURE): set-user-ID
 * or set-group-ID to someone else, or with file capabilities.  Say so
 * instead of running it untraced.  0, or -EPERM with the reason in why.
 */
static int check_preloadable(const char *prog, char *why, size_t cap)
{
	struct stat st;

	if (stat(prog, &st) < 0)
		return 0;
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid()) {
		snprintf(why, cap, "set-user-ID (owner uid %u)", (unsigned)st.st_uid);
		return -EPERM;
	}
	if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && st.st_gid != getegid()) {
		snprintf(why, cap, "set-group-ID (group gid %u)", (unsigned)st.st_gid);
		return -EPERM;
	}
	if (geteuid() != 0 && getxattr(prog, "security.capability", NULL, 0) > 0) {
		snprintf(why, cap, "given file capabilities (getcap %s)", prog);
		return -EPERM;
	}
	return 0;
}

/* --map/--device PATTERN: checked now, so a typo never runs the program. */
static int add_pattern(const char *opt, const char *pattern, char (*list)[CONFIG_PATTERN_MAX],
		       int *n, int max)
{
	char err[CONFIG_PATTERN_MAX + 256];

	if (*n == max) {
		fprintf(stderr, "mmscope run: at most %d %s patterns\n", max, opt);
		return -1;
	}
	if (config_pattern_check(pattern, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmscope run: %s: %s\n", opt, err);
		return -1;
	}
	snprintf(list[(*n)++], CONFIG_PATTERN_MAX, "%s", pattern);
	return 0;
}

static pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/*
 * The trace directory, the config and the shared page, before the
 * program starts.  0 with *page mapped; 1 when the disk is too full for
 * even these (said, and the files removed): the program still runs, as
 * without mmscope, because a full disk is mmscope's failure, not the
 * program's; -1 after saying why, nothing to run.
 */
static int prepare_output(struct config *cfg, const char *dir, bool force,
			  const struct mms_seq_page **page)
{
	char err[2 * PATH_MAX + 256];
	int dirfd = tracedir_prepare(dir, force, cfg->out, sizeof(cfg->out), err, sizeof(err));
	const char *failed = MMS_CONFIG_FILE;
	int r;

	if (dirfd < 0) {
		fprintf(stderr, "mmscope run: %s\n", err);
		return -1;
	}
	r = config_write(cfg, dirfd, MMS_CONFIG_FILE);
	if (r == 0) {
		failed = MMS_SEQ_FILE;
		r = tracedir_create_seq(dirfd, page);
	}
	if (r < 0) {
		unlinkat(dirfd, MMS_SEQ_FILE, 0);
		unlinkat(dirfd, MMS_CONFIG_FILE, 0);
		close(dirfd);
		if (r == -ENOSPC || r == -EDQUOT) {
			fprintf(stderr,
				"mmscope run: warning: %s: disk full, no room for %s: the program "
				"runs untraced; free space and run again\n",
				dir, failed);
			return 1;
		}
		fprintf(stderr, "mmscope run: cannot create %s/%s: %s\n", dir, failed,
			strerror(-r));
		return -1;
	}
	close(dirfd);
	return 0;
}

/* The exit status only we know: a PROC exit record for the program,
 * attributed to its main thread (tid = pid). */
static void add_exit_record(const char *out, const char *dir, pid_t pid, int status)
{
	struct {
		uint32_t event, pid;
		int64_t arg;
	} ex = { MMS_PROC_EXIT, (uint32_t)pid,
		 WIFSIGNALED(status) ? -(int64_t)WTERMSIG(status) : WEXITSTATUS(status) };
	int r = outside_append(out, pid, pid, MMS_REC_PROC, &ex, sizeof(ex),
			       WIFSIGNALED(status) ? "killed by signal" : "exited");

	if (r < 0)
		fprintf(stderr, "mmscope run: warning: cannot add the exit record to %s: %s%s\n",
			dir, strerror(-r), r == -ENOSPC ? " (disk full)" : "");
}

int cmd_run(int argc, char **argv)
{
	enum {
		OPT_HW_SLOTS = 256,
		OPT_NO_BACKTRACE,
		OPT_HW_INVASIVE,
		OPT_RAW_MMAP,
		OPT_GDB,
		OPT_GDB_WAIT,
		OPT_GDB_BIND,
		OPT_CORE,
		OPT_DUMP_DEVICE_READS,
		OPT_DEVICE_READS,
		OPT_HOT
	};
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "map", required_argument, NULL, 'm' },
		{ "device", required_argument, NULL, 'd' },
		{ "watch", required_argument, NULL, 'w' },
		{ "hw-slots", required_argument, NULL, OPT_HW_SLOTS },
		{ "no-backtrace", no_argument, NULL, OPT_NO_BACKTRACE },
		{ "hw-invasive", no_argument, NULL, OPT_HW_INVASIVE },
		{ "raw-mmap", required_argument, NULL, OPT_RAW_MMAP },
		{ "gdb", required_argument, NULL, OPT_GDB },
		{ "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
		{ "gdb-bind", required_argument, NULL, OPT_GDB_BIND },
		{ "core", required_argument, NULL, OPT_CORE },
		{ "dump-device-reads", no_argument, NULL, OPT_DUMP_DEVICE_READS },
		{ "device-reads", required_argument, NULL, OPT_DEVICE_READS },
		{ "hot", required_argument, NULL, OPT_HOT },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct config cfg;
	const struct mms_seq_page *page = NULL;
	const char *dir = "mmscope.trace.d", *gdb_arg = NULL, *gdb_bind = NULL;
	char cfgpath[PATH_MAX + 16], prog[PATH_MAX], agent[PATH_MAX], preload[PATH_MAX * 2];
	char why[PATH_MAX + 64];
	int c, r, status, nwatch = 0, hw_max = -1;
	bool force = false, quiet = false, untraced = false;
	const char *watch_args[4096];

	optind = 1;
	cfg.core = 1; /* --core=on */
	cfg.hot = 16; /* --hot=16 */
	while ((c = getopt_long(argc, argv, "+o:m:d:w:fqvh", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (nwatch == (int)(sizeof(watch_args) / sizeof(watch_args[0]))) {
				fprintf(stderr, "mmscope run: at most %zu --watch options\n",
					sizeof(watch_args) / sizeof(watch_args[0]));
				return 2;
			}
			watch_args[nwatch++] = optarg;
			break;
		case OPT_NO_BACKTRACE:
			cfg.no_backtrace = 1;
			break;
		case OPT_HW_INVASIVE:
			cfg.hw_invasive = 1;
			break;
		case OPT_HW_SLOTS: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0 || v > 64) {
				fprintf(stderr,
					"mmscope run: --hw-slots wants a number 0..64, "
					"got '%s'\n",
					optarg);
				return 2;
			}
			hw_max = (int)v;
			break;
		}
		case OPT_GDB:
			gdb_arg = optarg;
			break;
		case OPT_GDB_BIND:
			gdb_bind = optarg;
			break;
		case OPT_GDB_WAIT:
			cfg.gdb_wait = 1;
			break;
		case OPT_DUMP_DEVICE_READS:
			cfg.core_device_reads = 1;
			break;
		case OPT_CORE:
			if (!strcmp(optarg, "off") || !strcmp(optarg, "on") ||
			    !strcmp(optarg, "full")) {
				cfg.core = optarg[1] == 'f' ? 0 : optarg[1] == 'n' ? 1 : 2;
				break;
			}
			fprintf(stderr,
				"mmscope run: --core wants 'off', 'on' or 'full', got '%s'\n",
				optarg);
			return 2;
		case OPT_HOT: {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!strcmp(optarg, "off")) {
				cfg.hot = 0;
				break;
			}
			if (!*optarg || *end || v < 1 || v > 1000000) {
				fprintf(stderr,
					"mmscope run: --hot wants a number of faults 1..1000000 or "
					"'off', got '%s'\n",
					optarg);
				return 2;
			}
			cfg.hot = (int)v;
			break;
		}
		case OPT_DEVICE_READS:
			if (strcmp(optarg, "shadow") && strcmp(optarg, "live")) {
				fprintf(stderr,
					"mmscope run: --device-reads wants 'shadow' or 'live', got "
					"'%s'\n",
					optarg);
				return 2;
			}
			cfg.device_reads_live = !strcmp(optarg, "live");
			break;
		case OPT_RAW_MMAP:
			if (strcmp(optarg, "trap") && strcmp(optarg, "off")) {
				fprintf(stderr,
					"mmscope run: --raw-mmap wants 'trap' or 'off', got '%s'\n",
					optarg);
				return 2;
			}
			cfg.no_raw_mmap = !strcmp(optarg, "off");
			break;
		case 'o':
			if (!*optarg) {
				fprintf(stderr, "mmscope run: -o wants a directory name, got ''\n");
				return 2;
			}
			dir = optarg;
			break;
		case 'm':
			if (add_pattern("--map", optarg, cfg.maps, &cfg.nmaps, CONFIG_MAPS_MAX) < 0)
				return 2;
			break;
		case 'd':
			if (add_pattern("--device", optarg, cfg.devices, &cfg.ndevices,
					CONFIG_DEVICES_MAX) < 0)
				return 2;
			break;
		case 'f':
			force = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			cfg.verbose = 1;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'mmscope run --help'.\n");
			return 2;
		}
	}
	if (gdb_bind && !gdb_arg) {
		fprintf(stderr, "mmscope run: --gdb-bind needs --gdb=tcp:PORT\n");
		return 2;
	}
	if (gdb_arg && gdb_spec(gdb_arg, gdb_bind, cfg.gdb, sizeof(cfg.gdb)) < 0)
		return 2;
	cfg.gdb_open = gdb_bind != NULL;
	if (cfg.gdb_wait && !cfg.gdb[0]) {
		fprintf(stderr,
			"mmscope run: --gdb-wait needs --gdb=unix:PATH or --gdb=tcp:PORT\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "mmscope run: no program to run\nTry 'mmscope run --help'.\n");
		return 2;
	}
	r = find_program(argv[optind], prog, sizeof(prog));
	if (r == -ENOENT) {
		fprintf(stderr, "mmscope run: cannot run '%s': %s%s\n", argv[optind], strerror(-r),
			strchr(argv[optind], '/') ? "" : " (not found in PATH)");
		return 127;
	}
	if (r == -EISDIR) {
		fprintf(stderr, "mmscope run: cannot run '%s': it is a directory, not a program\n",
			argv[optind]);
		return 126;
	}
	if (r < 0) {
		fprintf(stderr, "mmscope run: cannot run '%s': %s%s\n", argv[optind], strerror(-r),
			r == -EACCES ? " (not an executable file)" : "");
		return r == -EACCES ? 126 : 127;
	}
	if (check_preloadable(prog, why, sizeof(why)) < 0) {
		fprintf(stderr,
			"mmscope run: cannot trace %s: it is %s, so the dynamic linker ignores "
			"the agent (LD_PRELOAD) and nothing could be traced; run it as its "
			"owner, or trace a copy without the privilege bits\n",
			prog, why);
		return 126;
	}
	for (int i = 0; i < nwatch; i++) {
		struct config_watch w;
		char err[3 * PATH_MAX + 2048];
		if (watchspec_resolve(watch_args[i], prog, &w, err, sizeof(err)) < 0) {
			fprintf(stderr, "mmscope run: %s\n", err);
			return 2;
		}
		if (config_add_watch(&cfg, &w) < 0) {
			fprintf(stderr, "mmscope run: out of memory\n");
			return 1;
		}
	}
	if (nwatch) {
		struct hwprobe hp;
		hwprobe_run(&hp);
		cfg.hw_slots = hp.slots;
		cfg.hw_lens = hp.len_ok;
		cfg.hw_max = hw_max >= 0       ? (hw_max < hp.slots ? hw_max : hp.slots)
			     : cfg.hw_invasive ? hp.slots
					       : hp.slots / 2;
		if (cfg.verbose || (hw_max > hp.slots))
			fprintf(stderr,
				"mmscope run: %d debug register%s work%s here; "
				"watchpoints use at most %d, the rest use pages\n",
				hp.slots, hp.slots == 1 ? "" : "s", hp.slots == 1 ? "s" : "",
				cfg.hw_max);
	}
	r = cli_agent_path(agent, sizeof(agent));
	if (r < 0) {
		fprintf(stderr,
			"mmscope run: the agent library %s is in neither %s nor %s/../%s (%s); "
			"reinstall mmscope ('make install') or run the mmscope of a build "
			"directory\n",
			CLI_AGENT_NAME, cli_self_dir(), cli_self_dir(), CLI_AGENT_LIBDIR,
			strerror(-r));
		return 1;
	}
	r = prepare_output(&cfg, dir, force, &page);
	if (r < 0)
		return 1;
	untraced = r == 1;
	snprintf(cfgpath, sizeof(cfgpath), "%s/%s", cfg.out, MMS_CONFIG_FILE);
	if (elf_is_static(prog) == 1)
		fprintf(stderr,
			"mmscope run: warning: %s is statically linked; the agent "
			"cannot enter it and nothing will be traced\n",
			prog);

	const char *old = getenv("LD_PRELOAD");
	snprintf(preload, sizeof(preload), "%s%s%s", agent, old && *old ? ":" : "", old ? old : "");
	fflush(NULL);
	child_pid = fork();
	if (child_pid < 0) {
		fprintf(stderr, "mmscope run: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child_pid == 0) {
		if (!untraced) {
			setenv("LD_PRELOAD", preload, 1);
			setenv(CONFIG_ENV, cfgpath, 1);
		}
		execv(prog, argv + optind);
		fprintf(stderr, "mmscope run: cannot run %s: %s\n", prog, strerror(errno));
		_exit(127);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGTERM, forward);
	signal(SIGHUP, forward);
	while (waitpid(child_pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "mmscope run: waitpid: %s\n", strerror(errno));
			return 1;
		}
	/* a program that died leaves its debugger socket behind */
	if (!strncmp(cfg.gdb, "unix:", 5))
		sockpath_remove_stale(cfg.gdb + 5);
	if (!untraced) {
		add_exit_record(cfg.out, dir, child_pid, status);
		run_summary(&cfg, dir, page, quiet);
	}
	if (WIFSIGNALED(status)) {
		if (!quiet)
			fprintf(stderr, "mmscope: %s was killed by signal %d (%s)\n", prog,
				WTERMSIG(status), strsignal(WTERMSIG(status)));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}
