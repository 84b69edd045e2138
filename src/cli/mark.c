/* SPDX-License-Identifier: MIT */
/*
 * mmscope mark: add a MARK record to the trace of a running program
 * without touching the program.  The record goes into a stream of its
 * own, ordered with the program's records through the trace's shared
 * sequence counter (cli/outside.h).
 *
 * The trace is named by a process (the program, any traced process it
 * started, or the `mmscope run` that started it: what `$!` gives) whose
 * environment holds MMSCOPE_CONFIG, or by its directory.  Everything a
 * process's environment names is the process's to choose, so mark acts
 * with that process's credentials (a directory: its owner's) before it
 * opens anything, and opens nothing through a symlink: run as root, it
 * can write nothing the target could not.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/outside.h"
#include "mmscope/trace-format.h"
#include "util/config.h"

#define MARK_TEXT_MAX 4096
#define MARK_GROUPS_MAX 256

static void mark_usage(FILE *f)
{
	fprintf(f, "usage: mmscope mark --pid PID TEXT...\n"
		   "       mmscope mark DIR TEXT...\n"
		   "       mmscope mark PID TEXT...\n"
		   "       mmscope mark TEXT...          (inside a traced program)\n\n"
		   "Add a MARK record with TEXT to a running trace; the program is not\n"
		   "disturbed.  PID is the traced program, any process it started, or the\n"
		   "'mmscope run' that started it (what $! gives after 'mmscope run ... &');\n"
		   "DIR is the trace directory.  Run as root, mark writes with the target's\n"
		   "credentials (DIR: its owner's).  The record carries the program's pid\n"
		   "and tid (PID's own when PID is a traced thread); given DIR, pid and tid 0.\n\n"
		   "options:\n"
		   "  -p, --pid PID   the process whose trace to mark\n"
		   "  -h, --help      this help\n");
}

/* The whole of /proc/PID/NAME into a malloc'd buffer, NUL-terminated. */
static int proc_slurp(long pid, const char *name, char **out, size_t *len)
{
	char path[64], *buf = NULL;
	size_t n = 0, cap = 0;
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%ld/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (cap - n < 4096) {
			char *b = realloc(buf, cap + 65536);
			if (!b) {
				r = -ENOMEM;
				break;
			}
			buf = b;
			cap += 65536;
		}
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got < 0) {
			r = -errno;
			break;
		}
		if (!got)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return r;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

/* MMSCOPE_CONFIG from /proc/PID/environ: 0, -ENOENT if absent, -errno. */
static int traced_config(long pid, char *out, size_t cap)
{
	static const char key[] = CONFIG_ENV "=";
	char *env;
	size_t n;
	int r = proc_slurp(pid, "environ", &env, &n);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (char *p = env; p < env + n; p += strlen(p) + 1)
		if (!strncmp(p, key, sizeof(key) - 1)) {
			r = snprintf(out, cap, "%s", p + sizeof(key) - 1) < (int)cap
				    ? 0
				    : -ENAMETOOLONG;
			break;
		}
	free(env);
	return r;
}

/* A number from a "Name:\tv1\tv2..." line of /proc/PID/status. */
static long status_field(const char *status, const char *name, int index)
{
	size_t nl = strlen(name);

	for (const char *p = status; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, name, nl) || p[nl] != ':')
			continue;
		p += nl + 1;
		for (int i = 0; i <= index; i++) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p)
				return -1;
			if (i == index)
				return v;
			p = end;
		}
	}
	return -1;
}

long cli_proc_status(long pid, const char *name)
{
	char *status;
	size_t n;
	long v;

	if (proc_slurp(pid, "status", &status, &n) < 0)
		return -1;
	v = status_field(status, name, 0);
	free(status);
	return v;
}

/* The parent of pid (/proc/PID/stat field 4), or -1. */
static long parent_of(long pid)
{
	char *stat, *close_paren;
	size_t n;
	long ppid = -1;

	if (proc_slurp(pid, "stat", &stat, &n) < 0)
		return -1;
	close_paren = strrchr(stat, ')'); /* the command name may hold anything */
	if (close_paren)
		sscanf(close_paren + 1, " %*c %ld", &ppid);
	free(stat);
	return ppid;
}

/* A traced child of pid (the program of an `mmscope run`), or 0. */
static long traced_child(long pid, char *cfgpath, size_t cap)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	long found = 0;

	while (d && !found && (de = readdir(d))) {
		char *end;
		long c = strtol(de->d_name, &end, 10);
		if (*end || c <= 0 || parent_of(c) != pid)
			continue;
		if (traced_config(c, cfgpath, cap) == 0)
			found = c;
	}
	if (d)
		closedir(d);
	return found;
}

long cli_config_of_pid(long pid, char *out, size_t cap)
{
	int r = traced_config(pid, out, cap);
	long child;

	if (r == 0)
		return pid;
	if (r == -ENOENT && (child = traced_child(pid, out, cap)) > 0)
		return child;
	return r;
}

/* Is the process pid traced into the trace whose config is cfg? */
static bool writes_trace(long pid, const struct stat *cfg)
{
	char path[PATH_MAX];
	struct stat st;

	return traced_config(pid, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       st.st_dev == cfg->st_dev && st.st_ino == cfg->st_ino;
}

long cli_pid_of_trace(const char *cfgpath, char *err, size_t errlen)
{
	long pids[64], roots[64];
	int n = 0, nroots = 0;
	struct dirent *de;
	struct stat cfg;
	DIR *d;

	if (stat(cfgpath, &cfg) < 0 || !(d = opendir("/proc"))) {
		snprintf(err, errlen, "%s: %s", cfgpath, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) && n < 64) {
		char *end;
		long p = strtol(de->d_name, &end, 10);
		if (!*end && p > 0 && writes_trace(p, &cfg))
			pids[n++] = p;
	}
	closedir(d);
	for (int i = 0; i < n; i++) {
		long parent = parent_of(pids[i]);
		bool root = true;
		for (int j = 0; j < n && root; j++)
			root = pids[j] != parent;
		if (root && nroots < 64)
			roots[nroots++] = pids[i];
	}
	if (nroots == 1)
		return roots[0];
	if (!n) {
		snprintf(err, errlen,
			 "no running process writes this trace (has the program exited?)");
		return -1;
	}
	size_t w = (size_t)snprintf(err, errlen,
				    "%d processes write this trace; name one by pid:", nroots);
	for (int i = 0; i < nroots && w < errlen; i++)
		w += (size_t)snprintf(err + w, errlen - w, " %ld", roots[i]);
	return -1;
}

/* From here on, be the owner of the trace: uid, gid and groups. */
static int become(uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	if (geteuid() == uid && getegid() == gid)
		return 0;
	if (setgroups((size_t)ngroups, groups) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}

/* Take on the credentials of process pid (its effective ids, its groups). */
static int become_process(long pid)
{
	gid_t groups[MARK_GROUPS_MAX];
	int ngroups = 0;
	char *status, *g;
	size_t n;
	long uid, gid;
	int r = proc_slurp(pid, "status", &status, &n);

	if (r < 0)
		return r;
	uid = status_field(status, "Uid", 1);
	gid = status_field(status, "Gid", 1);
	g = strstr(status, "\nGroups:");
	for (char *p = g ? g + 8 : NULL, *end; p && ngroups < MARK_GROUPS_MAX; p = end) {
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		groups[ngroups++] = (gid_t)v;
	}
	free(status);
	if (uid < 0 || gid < 0)
		return -ESRCH;
	return become((uid_t)uid, (gid_t)gid, groups, ngroups);
}

struct target {
	long pid, tid;	    /* what the record is attributed to */
	char cfg[PATH_MAX]; /* the trace's config, from the environment */
	char dir[PATH_MAX]; /* the trace directory */
};

/* --pid PID: find the traced process and become it; 0, or 1 after saying why */
static int target_from_pid(long pid, struct target *t)
{
	char *status;
	size_t n;
	long traced = pid;
	int r;

	if (proc_slurp(pid, "status", &status, &n) < 0) {
		fprintf(stderr,
			"mmscope mark: no process %ld (it has exited, or the number is "
			"wrong)\n",
			pid);
		return 1;
	}
	long tgid = status_field(status, "Tgid", 0);
	long uid = status_field(status, "Uid", 1);
	free(status);
	r = traced_config(pid, t->cfg, sizeof(t->cfg));
	if (r == -ENOENT) {
		traced = traced_child(pid, t->cfg, sizeof(t->cfg));
		tgid = traced;
	}
	if ((r == -EACCES || r == -EPERM) && uid != (long)geteuid()) {
		fprintf(stderr,
			"mmscope mark: cannot read the environment of process %ld: permission "
			"denied (it runs as uid %ld); run mmscope mark as uid %ld or as root\n",
			pid, uid, uid);
		return 1;
	}
	if (r == -EACCES || r == -EPERM) {
		fprintf(stderr,
			"mmscope mark: cannot read the environment of process %ld: permission "
			"denied (it is not dumpable, or this mmscope lacks CAP_SYS_PTRACE); is it "
			"a traced program?\n",
			pid);
		return 1;
	}
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "mmscope mark: cannot read the environment of process %ld: %s\n",
			pid, strerror(-r));
		return 1;
	}
	if (!traced) {
		fprintf(stderr,
			"mmscope mark: process %ld is not running under mmscope: neither it nor "
			"a child of it has %s in its environment; give the pid of a traced "
			"program or of its 'mmscope run', or the trace directory\n",
			pid, CONFIG_ENV);
		return 1;
	}
	r = become_process(traced);
	if (r < 0) {
		fprintf(stderr,
			"mmscope mark: cannot take on the credentials of process %ld to write its "
			"trace: %s; run mmscope mark as that process's user\n",
			traced, strerror(-r));
		return 1;
	}
	t->pid = tgid > 0 ? tgid : traced;
	t->tid = traced;
	return 0;
}

/* DIR: become its owner; 0, or 1 after saying why */
static int target_from_dir(const char *dir, struct target *t)
{
	struct stat st;
	int r;

	if (lstat(dir, &st) < 0) {
		fprintf(stderr, "mmscope mark: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "mmscope mark: %s is %s, not a trace directory\n", dir,
			S_ISLNK(st.st_mode) ? "a symbolic link" : "no directory");
		return 1;
	}
	r = become(st.st_uid, st.st_gid, &st.st_gid, 1);
	if (r < 0) {
		fprintf(stderr,
			"mmscope mark: %s belongs to uid %u; cannot write it as uid %u (%s): run "
			"mmscope mark as its owner\n",
			dir, (unsigned)st.st_uid, (unsigned)geteuid(), strerror(-r));
		return 1;
	}
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	t->pid = t->tid = 0;
	return 0;
}

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int join_text(int argc, char **argv, char *text)
{
	size_t n = 0;

	text[0] = 0;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (n + l + 2 > MARK_TEXT_MAX) {
			fprintf(stderr, "mmscope mark: TEXT is longer than %d bytes\n",
				MARK_TEXT_MAX - 1);
			return -1;
		}
		if (i)
			text[n++] = ' ';
		memcpy(text + n, argv[i], l + 1);
		n += l;
	}
	return 0;
}

static int parse_pid(const char *s, long *pid)
{
	char *end;

	errno = 0;
	*pid = strtol(s, &end, 10);
	if (!*s || *end || errno || *pid <= 0) {
		fprintf(stderr, "mmscope mark: '%s' is not a process id\n", s);
		return -1;
	}
	return 0;
}

int cmd_mark(int argc, char **argv)
{
	static struct target t;
	char err[2 * PATH_MAX], text[MARK_TEXT_MAX];
	const char *self_cfg = getenv(CONFIG_ENV);
	struct config cfg;
	long pid = 0;
	int i = 1, r;

	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
		mark_usage(stdout);
		return 0;
	}
	if (i < argc && (!strcmp(argv[i], "--pid") || !strcmp(argv[i], "-p"))) {
		if (i + 1 >= argc) {
			fprintf(stderr, "mmscope mark: --pid wants a process id\n");
			return 2;
		}
		if (parse_pid(argv[i + 1], &pid) < 0)
			return 2;
		i += 2;
	} else if (i < argc && !strncmp(argv[i], "--pid=", 6)) {
		if (parse_pid(argv[i] + 6, &pid) < 0)
			return 2;
		i++;
	} else if (i < argc && argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--")) {
		fprintf(stderr, "mmscope mark: unknown option '%s'\nTry 'mmscope mark --help'.\n",
			argv[i]);
		return 2;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (!pid && argc - i >= 2 && is_number(argv[i])) {
		if (parse_pid(argv[i], &pid) < 0)
			return 2;
		i++;
	} else if (!pid && argc - i >= 2 && (strchr(argv[i], '/') || !access(argv[i], F_OK))) {
		if (target_from_dir(argv[i], &t))
			return 1;
		i++;
	} else if (!pid && self_cfg && *self_cfg) {
		/* inside a traced program: its own trace, its own thread */
		snprintf(t.cfg, sizeof(t.cfg), "%s", self_cfg);
		t.pid = getpid();
		t.tid = gettid();
	} else if (!pid) {
		fprintf(stderr, "mmscope mark: which trace? give --pid PID (a traced program or "
				"its 'mmscope run') or the trace directory, then TEXT\n"
				"Try 'mmscope mark --help'.\n");
		return 2;
	}
	if (i >= argc) {
		fprintf(stderr, "mmscope mark: no TEXT to mark\nTry 'mmscope mark --help'.\n");
		return 2;
	}
	if (join_text(argc - i, argv + i, text) < 0)
		return 2;
	if (pid && target_from_pid(pid, &t))
		return 1;
	if (!t.dir[0]) {
		if (config_read(&cfg, t.cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "mmscope mark: the trace of process %ld: %s\n", t.pid, err);
			return 1;
		}
		snprintf(t.dir, sizeof(t.dir), "%s", cfg.out);
		config_free(&cfg);
	}
	r = outside_append(t.dir, t.pid, t.tid, MMS_REC_MARK, NULL, 0, text);
	if (r == -ENOENT && access(t.dir, F_OK) < 0)
		fprintf(stderr,
			"mmscope mark: the trace directory %s does not exist (any more); has the "
			"run ended?\n",
			t.dir);
	else if (r == -ENOENT || r == -EINVAL || r == -ELOOP || r == -ENOTDIR)
		fprintf(stderr,
			"mmscope mark: %s is not a trace directory mmscope mark can write: its %s "
			"is %s\n",
			t.dir, MMS_SEQ_FILE,
			r == -ENOENT ? "missing"
				     : "not the page-sized regular file of the trace's owner that "
				       "'mmscope run' made (a symlink, or someone else's)");
	else if (r == -EACCES || r == -EPERM)
		fprintf(stderr,
			"mmscope mark: cannot write to the trace %s as uid %u, the trace's owner: "
			"%s (its %s and the directory must be writable by the owner)\n",
			t.dir, (unsigned)geteuid(), strerror(-r), MMS_SEQ_FILE);
	else if (r < 0)
		fprintf(stderr, "mmscope mark: cannot write to the trace %s: %s%s\n", t.dir,
			strerror(-r), r == -ENOSPC ? " (disk full)" : "");
	return r < 0 ? 1 : 0;
}
