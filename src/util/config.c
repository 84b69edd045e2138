/* SPDX-License-Identifier: MIT */
/* The run -> agent configuration file (see config.h). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "util/config.h"

int config_write(const struct config *c, const char *path)
{
	FILE *f = fopen(path, "w");
	int r = 0;

	if (!f)
		return -errno;
	fprintf(f, "mmscope-config %d\nout %s\nverbose %d\n", CONFIG_VERSION, c->out, c->verbose);
	for (int i = 0; i < c->nmaps; i++)
		fprintf(f, "map %s\n", c->maps[i]);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

static void strip_nl(char *s)
{
	size_t n = strlen(s);
	if (n && s[n - 1] == '\n')
		s[n - 1] = 0;
}

int config_read(struct config *c, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_PATTERN_MAX + 8 > PATH_MAX + 8 ? CONFIG_PATTERN_MAX + 8 : PATH_MAX + 8];
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
		} else if (!strncmp(line, "verbose ", 8)) {
			sscanf(line + 8, "%d", &c->verbose);
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
 * names contain brackets ("anon_inode:[io_uring]") that fnmatch would read
 * as a character class. */
bool config_pattern_matches(const char *pattern, const char *path)
{
	return !strcmp(pattern, path) || !fnmatch(pattern, path, 0);
}

static const char *const default_exclude[] = { "/dev/zero*", NULL };
static const char *const default_select[] = {
	"/sys/devices/pci*/resource[0-9]*",
	"/sys/bus/pci/devices/*/resource[0-9]*",
	NULL,
};

bool config_selects(const struct config *c, const char *path, bool is_chardev)
{
	if (c->nmaps) {
		for (int i = 0; i < c->nmaps; i++)
			if (config_pattern_matches(c->maps[i], path))
				return true;
		return false;
	}
	for (int i = 0; default_exclude[i]; i++)
		if (!fnmatch(default_exclude[i], path, 0))
			return false;
	if (is_chardev)
		return true;
	for (int i = 0; default_select[i]; i++)
		if (!fnmatch(default_select[i], path, 0))
			return true;
	return false;
}
