/* SPDX-License-Identifier: MIT */
/* The exec family: say in the trace what the program becomes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/record.h"
#include "mmscope/trace-format.h"
#include "util/elf.h"
#include "util/sys.h"

MMS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	long r;

	if (agent.active) {
		char msg[PATH_MAX + 128];
		if (elf_is_static(path) == 1) {
			snprintf(msg, sizeof(msg),
				 "exec of statically linked %s: mmscope cannot enter it, "
				 "its accesses are not traced",
				 path);
			rec_proc(MMS_PROC_NOTE, 0, msg);
			dprintf(2, "mmscope: warning: %s\n", msg);
		}
		rec_proc(MMS_PROC_EXEC, 0, path);
	}
	r = sys_call3(SYS_execve, path, argv, envp);
	errno = -(int)r;
	return -1;
}

MMS_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

MMS_EXPORT int execvp(const char *file, char *const argv[])
{
	char buf[PATH_MAX];
	const char *p = getenv("PATH");
	int saved = ENOENT;

	if (strchr(file, '/'))
		return execve(file, argv, environ);
	if (!p)
		p = "/bin:/usr/bin";
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", file);
		execve(buf, argv, environ);
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
		p += n + (colon ? 1 : 0);
		if (!colon)
			break;
	}
	errno = saved;
	return -1;
}
