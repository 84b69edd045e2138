/* SPDX-License-Identifier: MIT */
/* The debugger socket's path (sockpath.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
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
		sockpath_dir(target, sdir, sizeof(sdir));
		const char *base = strrchr(sdir, '/');
		if (strncmp(base ? base + 1 : sdir, SOCKPATH_DIR_PREFIX,
			    strlen(SOCKPATH_DIR_PREFIX)))
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
