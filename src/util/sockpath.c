/* SPDX-License-Identifier: MIT */
/* The debugger socket's path (sockpath.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/sockpath.h"

void sockpath_dir(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* The pid in target's directory name, when that is an mmscope private
 * directory (SOCKPATH_DIR_PREFIX "PID-XXXXXX"); else 0. */
static long owner_of_target(const char *target)
{
	char sdir[PATH_MAX];
	const char *base;

	sockpath_dir(target, sdir, sizeof(sdir));
	base = strrchr(sdir, '/');
	base = base ? base + 1 : sdir;
	if (strncmp(base, SOCKPATH_DIR_PREFIX, strlen(SOCKPATH_DIR_PREFIX)))
		return 0;
	return strtol(base + strlen(SOCKPATH_DIR_PREFIX), NULL, 10);
}

long sockpath_owner(const char *path)
{
	char target[PATH_MAX];
	long n = readlink(path, target, sizeof(target) - 1);

	if (n <= 0)
		return 0;
	target[n] = 0;
	return owner_of_target(target);
}

bool sockpath_remove_stale(const char *path)
{
	struct stat st;
	char target[PATH_MAX], sdir[PATH_MAX];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	long n;

	if (lstat(path, &st) < 0 || st.st_uid != geteuid())
		return false;
	if (S_ISSOCK(st.st_mode)) { /* an older mmscope's plain socket */
		snprintf(target, sizeof(target), "%s", path);
	} else if (S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			return false;
		target[n] = 0;
		if (owner_of_target(target) <= 0)
			return false; /* not a link mmscope made */
	} else {
		return false;
	}
	if (strlen(target) >= sizeof(a.sun_path))
		return false;
	strcpy(a.sun_path, target);
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool stale = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) < 0 &&
		     (errno == ECONNREFUSED || errno == ENOENT);
	if (probe >= 0)
		close(probe);
	if (!stale)
		return false;
	if (S_ISLNK(st.st_mode)) {
		unlink(target);
		sockpath_dir(target, sdir, sizeof(sdir));
		rmdir(sdir);
	}
	return unlink(path) == 0;
}
