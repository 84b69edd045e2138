/* SPDX-License-Identifier: MIT */
/*
 * mmscope run: start a program with the agent preloaded and a config that
 * names the trace directory and the mappings to trace; wait for it; warn
 * about --map patterns that matched nothing; summarise.  Everything that
 * can be checked before the program starts (options, the program, the
 * output directory) is checked first, so a mistake costs nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <elf.h>
#include <dirent.h>

#include "cli/cmds.h"
#include "cli/hwprobe.h"
#include "cli/watchspec.h"
#include "cli/outside.h"
#include "mmscope/trace-format.h"
#include "trace/reader.h"
#include "util/config.h"
#include "util/elf.h"

static void run_usage(FILE *f)
{
	fprintf(f, "usage: mmscope run [OPTIONS] [--] PROGRAM [ARGS...]\n\n"
		   "Run PROGRAM and record every load and store it makes to the selected\n"
		   "mappings: thread, pc, region, offset, width, direction and value.\n\n"
		   "options:\n"
		   "  -o, --output DIR    trace directory (default: mmscope.trace.d); must not\n"
		   "                      already hold a trace unless --force is given\n"
		   "  -m, --map PATTERN   trace mappings whose object path, as shown in\n"
		   "                      /proc/PID/maps, matches the glob PATTERN; repeatable.\n"
		   "                      Examples: '/dev/shm/ring*', 'anon_inode:[io_uring]',\n"
		   "                      '/memfd:*', '/sys/bus/pci/devices/*/resource0'.\n"
		   "                      Default: character-device mappings (except /dev/zero)\n"
		   "                      and PCI resource files.  Only MAP_SHARED mappings.\n"
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
		   "  -f, --force         replace a trace already in DIR\n"
		   "  -q, --quiet         no summary at exit\n"
		   "  -v, --verbose       the agent logs each armed mapping to DIR/agent.log\n"
		   "  -h, --help          this help\n\n"
		   "Then: mmscope show DIR  (--format=text|json|mmiotrace)\n"
		   "The exit status is PROGRAM's (128+N if it was killed by signal N).\n");
}

/* A PATH lookup like execvp's; 0 with the path in out, or -errno. */
static int find_program(const char *name, char *out, size_t cap)
{
	const char *p = getenv("PATH");

	if (strchr(name, '/')) {
		snprintf(out, cap, "%s", name);
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	if (!p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(out, cap, "%.*s/%s", (int)n, n ? p : ".", name);
		if (access(out, X_OK) == 0)
			return 0;
		p += n + (colon ? 1 : 0);
		if (!colon)
			break;
	}
	return -ENOENT;
}

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Prepare DIR: create it, refuse to mix with an old trace, prove it is
 * writable by writing the config. */
static int prepare_output(struct config *cfg, const char *dir, int force, char *cfgpath, size_t cap)
{
	char path[PATH_MAX + 64];
	int r = mkdir_p(dir);

	if (r < 0) {
		fprintf(stderr, "mmscope run: cannot create output directory %s: %s\n", dir,
			strerror(-r));
		return -1;
	}
	if (!realpath(dir, cfg->out)) {
		fprintf(stderr, "mmscope run: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->out, MMS_SEQ_FILE);
	if (access(path, F_OK) == 0) {
		if (!force) {
			fprintf(stderr,
				"mmscope run: %s already holds a trace; "
				"use --force to replace it or choose another -o\n",
				dir);
			return -1;
		}
		/* remove the old trace's own files, nothing else */
		DIR *d = opendir(cfg->out);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			static const char *const old[] = { "*" MMS_STREAM_SUFFIX, MMS_SEQ_FILE,
							   MMS_CONFIG_FILE, "agent.log", "maps-*" };
			for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++)
				if (!fnmatch(old[i], de->d_name, 0) &&
				    unlinkat(dirfd(d), de->d_name, 0) < 0) {
					fprintf(stderr, "mmscope run: cannot remove %s/%s: %s\n",
						cfg->out, de->d_name, strerror(errno));
					closedir(d);
					return -1;
				}
		}
		if (d)
			closedir(d);
	}
	snprintf(cfgpath, cap, "%s/%s", cfg->out, MMS_CONFIG_FILE);
	r = config_write(cfg, cfgpath);
	if (r < 0) {
		fprintf(stderr, "mmscope run: cannot write to output directory %s: %s\n", dir,
			strerror(-r));
		return -1;
	}
	return 0;
}

static pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* After the run: per-pattern match counts and a one-line summary. */
static void report(const struct config *cfg, const char *dir, int quiet)
{
	struct mms_trace *t;
	struct mms_record rec;
	char err[PATH_MAX + 128];
	unsigned long accesses = 0, maps = 0, unknown = 0, procs = 0, watch_hits = 0;
	unsigned long hits[CONFIG_MAPS_MAX] = { 0 };

	if (mms_trace_open(dir, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "mmscope run: warning: cannot read back the trace: %s\n", err);
		return;
	}
	while (mms_trace_next(t, &rec) == 0) {
		if (rec.type == MMS_REC_ACCESS) {
			accesses++;
			if (rec.acc.flags & MMS_AF_UNKNOWN_INSN)
				unknown++;
		} else if (rec.type == MMS_REC_MAP) {
			maps++;
			for (int i = 0; i < cfg->nmaps; i++)
				if (config_pattern_matches(cfg->maps[i], rec.map->path))
					hits[i]++;
		} else if (rec.type == MMS_REC_PROC && rec.proc->event == MMS_PROC_START) {
			procs++;
		} else if (rec.type == MMS_REC_HIT) {
			watch_hits++;
		}
	}
	for (int i = 0; i < cfg->nmaps; i++)
		if (!hits[i])
			fprintf(stderr,
				"mmscope run: warning: --map '%s' matched no mapping "
				"during the run\n",
				cfg->maps[i]);
	if (!procs)
		fprintf(stderr, "mmscope run: warning: the agent did not start in the program "
				"(statically linked, or LD_PRELOAD removed): nothing was traced\n");
	if (mms_trace_status(t) < 0)
		fprintf(stderr, "mmscope run: warning: the trace has a damaged stream\n");
	if (!quiet) {
		fprintf(stderr, "mmscope: %lu accesses to %lu mappings", accesses, maps);
		if (unknown)
			fprintf(stderr, " (%lu completed by single-step)", unknown);
		if (cfg->nwatches)
			fprintf(stderr, ", %lu watchpoint hit%s", watch_hits,
				watch_hits == 1 ? "" : "s");
		fprintf(stderr, "; trace in %s (mmscope show %s)\n", dir, dir);
	}
	mms_trace_close(t);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "map", required_argument, NULL, 'm' },
		{ "watch", required_argument, NULL, 'w' },
		{ "hw-slots", required_argument, NULL, 'H' },
		{ "no-backtrace", no_argument, NULL, 'B' },
		{ "hw-invasive", no_argument, NULL, 'I' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct config cfg;
	const char *dir = "mmscope.trace.d";
	char cfgpath[PATH_MAX + 16], prog[PATH_MAX], agent[PATH_MAX], preload[PATH_MAX * 2];
	int force = 0, quiet = 0, c, r, status, nwatch = 0, hw_max = -1;
	const char *watch_args[4096];

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:m:w:fqvh", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (nwatch == (int)(sizeof(watch_args) / sizeof(watch_args[0]))) {
				fprintf(stderr, "mmscope run: at most %zu --watch options\n",
					sizeof(watch_args) / sizeof(watch_args[0]));
				return 2;
			}
			watch_args[nwatch++] = optarg;
			break;
		case 'B':
			cfg.no_backtrace = 1;
			break;
		case 'I':
			cfg.hw_invasive = 1;
			break;
		case 'H': {
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
		case 'o':
			dir = optarg;
			break;
		case 'm':
			if (cfg.nmaps == CONFIG_MAPS_MAX) {
				fprintf(stderr, "mmscope run: at most %d --map patterns\n",
					CONFIG_MAPS_MAX);
				return 2;
			}
			if (!*optarg || strlen(optarg) >= CONFIG_PATTERN_MAX) {
				fprintf(stderr,
					"mmscope run: --map pattern is empty or too long\n");
				return 2;
			}
			snprintf(cfg.maps[cfg.nmaps++], CONFIG_PATTERN_MAX, "%s", optarg);
			break;
		case 'f':
			force = 1;
			break;
		case 'q':
			quiet = 1;
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
	if (optind >= argc) {
		fprintf(stderr, "mmscope run: no program to run\nTry 'mmscope run --help'.\n");
		return 2;
	}
	r = find_program(argv[optind], prog, sizeof(prog));
	if (r < 0) {
		fprintf(stderr, "mmscope run: cannot run '%s': %s\n", argv[optind], strerror(-r));
		return 127;
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
	snprintf(agent, sizeof(agent), "%s/libmmscope-agent.so", cli_self_dir());
	if (access(agent, R_OK) < 0) {
		fprintf(stderr, "mmscope run: agent library %s is missing: %s\n", agent,
			strerror(errno));
		return 1;
	}
	if (prepare_output(&cfg, dir, force, cfgpath, sizeof(cfgpath)) < 0)
		return 1;
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
		setenv("LD_PRELOAD", preload, 1);
		setenv(CONFIG_ENV, cfgpath, 1);
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
	/* the exit status only we know: a PROC exit record for the program */
	struct {
		uint32_t event, pid;
		int64_t arg;
	} ex = { MMS_PROC_EXIT, (uint32_t)child_pid,
		 WIFSIGNALED(status) ? -(int64_t)WTERMSIG(status) : WEXITSTATUS(status) };
	if (outside_append(cfg.out, child_pid, MMS_REC_PROC, &ex, sizeof(ex),
			   WIFSIGNALED(status) ? "killed by signal" : "exited") < 0)
		fprintf(stderr, "mmscope run: warning: cannot add the exit record to %s\n", dir);
	report(&cfg, dir, quiet);
	if (WIFSIGNALED(status)) {
		if (!quiet)
			fprintf(stderr, "mmscope: %s was killed by signal %d (%s)\n", prog,
				WTERMSIG(status), strsignal(WTERMSIG(status)));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}
