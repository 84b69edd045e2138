/* SPDX-License-Identifier: MIT */
/* The run -> agent configuration file (see config.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/config.h"
#include "util/glob.h"

int config_write(const struct config *c, int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f;
	int r = 0;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	fprintf(f, "mmscope-config %d\nout %s\nverbose %d\n", CONFIG_VERSION, c->out, c->verbose);
	for (int i = 0; i < c->nmaps; i++)
		fprintf(f, "map %s\n", c->maps[i]);
	for (int i = 0; i < c->ndevices; i++)
		fprintf(f, "device %s\n", c->devices[i]);
	fprintf(f, "hw %d %d %u\n", c->hw_slots, c->hw_max, c->hw_lens);
	fprintf(f, "no_backtrace %d\n", c->no_backtrace);
	fprintf(f, "hw_invasive %d\n", c->hw_invasive);
	fprintf(f, "no_raw_mmap %d\n", c->no_raw_mmap);
	if (c->gdb[0])
		fprintf(f, "gdb %s\n", c->gdb);
	fprintf(f, "gdb_wait %d\n", c->gdb_wait);
	fprintf(f, "gdb_open %d\n", c->gdb_open);
	fprintf(f, "core %d\n", c->core);
	fprintf(f, "core_device_reads %d\n", c->core_device_reads);
	fprintf(f, "device_reads_live %d\n", c->device_reads_live);
	fprintf(f, "hot %d\n", c->hot);
	for (int i = 0; i < c->nwatches; i++) {
		const struct config_watch *w = &c->watches[i];
		fprintf(f, "watch\t%d\t%" PRIu64 "\t%" PRIu64 "\t%s\t%s\n", w->type, w->len,
			w->vaddr, w->expr, w->module);
	}
	if (ferror(f))
		r = -EIO;
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

int config_add_watch(struct config *c, const struct config_watch *w)
{
	struct config_watch *n = realloc(c->watches, (c->nwatches + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	c->watches = n;
	c->watches[c->nwatches++] = *w;
	return 0;
}

void config_free(struct config *c)
{
	free(c->watches);
	c->watches = NULL;
	c->nwatches = 0;
}

/* "TYPE\tLEN\tVADDR\tEXPR\tMODULE" */
static int parse_watch(char *s, struct config_watch *w)
{
	char *f[5];
	int n = 0;

	memset(w, 0, sizeof(*w));
	for (char *tok = s; n < 5; n++) {
		f[n] = tok;
		tok = strchr(tok, '\t');
		if (!tok) {
			n++;
			break;
		}
		*tok++ = 0;
	}
	if (n != 5 || strlen(f[3]) >= sizeof(w->expr) || strlen(f[4]) >= sizeof(w->module))
		return -EINVAL;
	w->type = atoi(f[0]);
	w->len = strtoull(f[1], NULL, 10);
	w->vaddr = strtoull(f[2], NULL, 10);
	strcpy(w->expr, f[3]);
	strcpy(w->module, f[4]);
	return w->type >= 1 && w->type <= 3 && w->len ? 0 : -EINVAL;
}

static void strip_nl(char *s)
{
	size_t n = strlen(s);
	if (n && s[n - 1] == '\n')
		s[n - 1] = 0;
}

int config_read(struct config *c, const char *path, char *err, size_t errlen)
{
	char line[PATH_MAX + CONFIG_EXPR_MAX + 128];
	FILE *f = fopen(path, "r");
	int version = 0, lineno = 0;

	memset(c, 0, sizeof(*c));
	if (!f) {
		snprintf(err, errlen, "cannot open config %s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		strip_nl(line);
		if (lineno == 1) {
			if (sscanf(line, "mmscope-config %d", &version) != 1 ||
			    version != CONFIG_VERSION) {
				snprintf(err, errlen, "%s: config version not supported (want %d)",
					 path, CONFIG_VERSION);
				fclose(f);
				return -EPROTO;
			}
		} else if (!strncmp(line, "out ", 4)) {
			if (strlen(line + 4) >= sizeof(c->out))
				continue;
			memcpy(c->out, line + 4, strlen(line + 4) + 1);
		} else if (!strncmp(line, "map ", 4) && c->nmaps < CONFIG_MAPS_MAX) {
			if (strlen(line + 4) >= CONFIG_PATTERN_MAX)
				continue;
			memcpy(c->maps[c->nmaps++], line + 4, strlen(line + 4) + 1);
		} else if (!strncmp(line, "device ", 7) && c->ndevices < CONFIG_DEVICES_MAX) {
			if (strlen(line + 7) >= CONFIG_PATTERN_MAX)
				continue;
			memcpy(c->devices[c->ndevices++], line + 7, strlen(line + 7) + 1);
		} else if (!strncmp(line, "verbose ", 8)) {
			sscanf(line + 8, "%d", &c->verbose);
		} else if (!strncmp(line, "hw_invasive ", 12)) {
			sscanf(line + 12, "%d", &c->hw_invasive);
		} else if (!strncmp(line, "no_raw_mmap ", 12)) {
			sscanf(line + 12, "%d", &c->no_raw_mmap);
		} else if (!strncmp(line, "gdb ", 4)) {
			if (strlen(line + 4) < sizeof(c->gdb))
				memcpy(c->gdb, line + 4, strlen(line + 4) + 1);
		} else if (!strncmp(line, "gdb_wait ", 9)) {
			sscanf(line + 9, "%d", &c->gdb_wait);
		} else if (!strncmp(line, "core_device_reads ", 18)) {
			sscanf(line + 18, "%d", &c->core_device_reads);
		} else if (!strncmp(line, "core ", 5)) {
			sscanf(line + 5, "%d", &c->core);
		} else if (!strncmp(line, "gdb_open ", 9)) {
			sscanf(line + 9, "%d", &c->gdb_open);
		} else if (!strncmp(line, "hot ", 4)) {
			sscanf(line + 4, "%d", &c->hot);
		} else if (!strncmp(line, "device_reads_live ", 18)) {
			sscanf(line + 18, "%d", &c->device_reads_live);
		} else if (!strncmp(line, "no_backtrace ", 13)) {
			sscanf(line + 13, "%d", &c->no_backtrace);
		} else if (!strncmp(line, "hw ", 3)) {
			sscanf(line + 3, "%d %d %u", &c->hw_slots, &c->hw_max, &c->hw_lens);
		} else if (!strncmp(line, "watch\t", 6)) {
			struct config_watch w;
			if (parse_watch(line + 6, &w) < 0) {
				snprintf(err, errlen, "%s:%d: bad watch line", path, lineno);
				fclose(f);
				config_free(c);
				return -EINVAL;
			}
			if (config_add_watch(c, &w) < 0) {
				snprintf(err, errlen, "out of memory reading %s", path);
				fclose(f);
				config_free(c);
				return -ENOMEM;
			}
		}
	}
	fclose(f);
	if (!c->out[0]) {
		snprintf(err, errlen, "%s: no output directory", path);
		return -EINVAL;
	}
	return 0;
}

/* A glob, but a pattern equal to the path always matches: the kernel's
 * names contain brackets ("anon_inode:[io_uring]") that a glob reads as a
 * set.  glob_match, not fnmatch: the agent calls this from its SIGSYS and
 * SIGSEGV handlers, and fnmatch may allocate and consults the locale. */
bool config_pattern_matches(const char *pattern, const char *path)
{
	return glob_match(pattern, path);
}

/* A name the kernel gives an object with no path: "anon_inode:[io_uring]",
 * "socket:[1234]", "pipe:[5]": lower-case letters and '_' before ':'. */
static bool kernel_name(const char *p)
{
	const char *q = p;

	while ((*q >= 'a' && *q <= 'z') || *q == '_')
		q++;
	return q > p && *q == ':';
}

int config_pattern_check(const char *pattern, char *err, size_t errlen)
{
	char why[160];

	if (!*pattern) {
		snprintf(err, errlen, "the pattern is empty");
		return -EINVAL;
	}
	if (strlen(pattern) >= CONFIG_PATTERN_MAX) {
		snprintf(err, errlen, "the pattern is longer than %d bytes",
			 CONFIG_PATTERN_MAX - 1);
		return -EINVAL;
	}
	/* a pattern starting with a wildcard ('*-shm') may match an absolute
	 * path as well as a kernel name */
	if (pattern[0] != '/' && pattern[0] != '[' && pattern[0] != '*' && pattern[0] != '?' &&
	    !kernel_name(pattern)) {
		snprintf(err, errlen,
			 "'%s' is neither an absolute path nor a kernel object name: a pattern "
			 "is matched against the whole name /proc/PID/maps shows, e.g. "
			 "'/dev/shm/ring*', '/memfd:name*', 'anon_inode:[io_uring]', 'socket:[*]'",
			 pattern);
		return -EINVAL;
	}
	if (glob_check(pattern, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "'%s' is not a valid glob: %s", pattern, why);
		return -EINVAL;
	}
	return 0;
}

static const char *const default_exclude[] = { "/dev/zero*", NULL };
static const char *const default_select[] = {
	"/sys/devices/pci*/resource[0-9]*",
	"/sys/bus/pci/devices/*/resource[0-9]*",
	NULL,
};

static bool any_matches(const char *const *patterns, const char *path)
{
	for (int i = 0; patterns[i]; i++)
		if (glob_match(patterns[i], path))
			return true;
	return false;
}

static bool device_pattern(const struct config *c, const char *path)
{
	for (int i = 0; i < c->ndevices; i++)
		if (config_pattern_matches(c->devices[i], path))
			return true;
	return false;
}

/* The default rule: character devices but /dev/zero, PCI resource files. */
static bool default_device(const char *path, bool is_chardev)
{
	if (any_matches(default_exclude, path))
		return false;
	return is_chardev || any_matches(default_select, path);
}

bool config_selects(const struct config *c, const char *path, bool is_chardev)
{
	if (device_pattern(c, path))
		return true;
	if (c->nmaps) {
		for (int i = 0; i < c->nmaps; i++)
			if (config_pattern_matches(c->maps[i], path))
				return true;
		return false;
	}
	return default_device(path, is_chardev);
}

bool config_is_device(const struct config *c, const char *path, bool is_chardev)
{
	return device_pattern(c, path) || default_device(path, is_chardev);
}
