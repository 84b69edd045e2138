/* SPDX-License-Identifier: MIT */
/*
 * The exec family: say in the trace what the program becomes.  glibc's
 * own exec functions call its internal execve, which no interposer sees,
 * so every one of them is provided here on top of our execve; execvp and
 * friends search PATH exactly as glibc's execvpe does (posix/execvpe.c:
 * an empty PATH element is the current directory, EACCES remembered,
 * ENOENT/ENOTDIR/ESTALE/ENODEV/ETIMEDOUT skipped, anything else final, a
 * file without a known format run by /bin/sh).  Only an execve that can
 * succeed (an executable regular file) is recorded as PROC exec, so the
 * failed probes of a PATH search leave nothing in the trace; one that
 * still fails leaves a PROC note saying so.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/record.h"
#include "mmscope/trace-format.h"
#include "util/elf.h"
#include "util/sys.h"

/* glibc's confstr(_CS_PATH): the search path when PATH is unset */
#define EXEC_DEFAULT_PATH "/bin:/usr/bin"

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

/* Could execve(path) start a program: an executable regular file, checked
 * with the effective ids as execve checks. */
static bool exec_candidate(const char *path)
{
	struct stat st;
	long r;

	if (sys_call4(SYS_newfstatat, AT_FDCWD, path, &st, 0) < 0 || !S_ISREG(st.st_mode))
		return false;
	r = sys_call4(SYS_faccessat2, AT_FDCWD, path, X_OK, AT_EACCESS);
	if (r == -ENOSYS)
		r = sys_call3(SYS_faccessat, AT_FDCWD, path, X_OK);
	return r == 0;
}

MMS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	bool recorded = false;
	char msg[PATH_MAX + 128];
	long r;

	if (agent.active && exec_candidate(path)) {
		if (elf_is_static(path) == 1) {
			snprintf(msg, sizeof(msg),
				 "exec of statically linked %s: mmscope cannot enter it, "
				 "its accesses are not traced",
				 path);
			rec_proc(MMS_PROC_NOTE, 0, msg);
			dprintf(2, "mmscope: warning: %s\n", msg);
		}
		rec_proc(MMS_PROC_EXEC, 0, path);
		recorded = true;
	}
	if (agent.active)
		signals_before_exec();
	r = sys_call3(SYS_execve, path, argv, envp);
	if (agent.active)
		signals_after_failed_exec();
	if (recorded) {
		snprintf(msg, sizeof(msg), "exec of %s failed: %s; the program continues", path,
			 strerror((int)-r));
		rec_proc(MMS_PROC_NOTE, -r, msg);
	}
	errno = (int)-r;
	return -1;
}

MMS_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

/* A file execve refused with ENOEXEC is a shell script without "#!":
 * run it with /bin/sh, as execvp does (POSIX). */
static void exec_script(const char *path, char *const argv[], char *const envp[])
{
	int argc = 0;

	while (argv[argc])
		argc++;
	char *sh_argv[argc + 3];
	sh_argv[0] = (char *)"/bin/sh";
	sh_argv[1] = (char *)path;
	sh_argv[2] = NULL;
	for (int i = 1; i <= argc; i++)
		sh_argv[i + 1] = argv[i];
	execve(sh_argv[0], sh_argv, envp);
}

MMS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	const char *p = getenv("PATH");
	size_t flen = strlen(file);
	char buf[PATH_MAX + NAME_MAX + 2];
	bool eacces = false;

	if (!*file) {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/')) {
		execve(file, argv, envp);
		if (errno == ENOEXEC)
			exec_script(file, argv, envp);
		return -1;
	}
	if (flen > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!p)
		p = EXEC_DEFAULT_PATH;
	errno = ENOENT;
	for (;;) {
		const char *end = strchrnul(p, ':');
		size_t n = (size_t)(end - p);
		if (n < PATH_MAX) {
			/* an empty element is the current directory: "file" */
			memcpy(buf, p, n);
			buf[n] = '/';
			memcpy(buf + n + (n > 0), file, flen + 1);
			execve(buf, argv, envp);
			if (errno == ENOEXEC)
				exec_script(buf, argv, envp);
			switch (errno) {
			case EACCES:
				eacces = true;
				break;
			case ENOENT:
			case ESTALE:
			case ENOTDIR:
			case ENODEV:
			case ETIMEDOUT:
				break;
			default:
				return -1;
			}
		}
		if (!*end)
			break;
		p = end + 1;
	}
	if (eacces)
		errno = EACCES;
	return -1;
}

MMS_EXPORT int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* The list forms: argv from the arguments, up to the NULL. */
static int count_args(const char *arg0, va_list ap)
{
	int n = 1;

	if (!arg0)
		return 0;
	while (va_arg(ap, const char *))
		n++;
	return n;
}

#define COLLECT_ARGS(argv, arg0, ap, n)                  \
	do {                                             \
		(argv)[0] = (char *)(arg0);              \
		for (int i_ = 1; i_ <= (n); i_++)        \
			(argv)[i_] = va_arg(ap, char *); \
	} while (0)

MMS_EXPORT int execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	int n;

	va_start(ap, arg0);
	n = count_args(arg0, ap);
	va_end(ap);
	char *argv[n + 1];
	va_start(ap, arg0);
	COLLECT_ARGS(argv, arg0, ap, n);
	va_end(ap);
	return execve(path, argv, environ);
}

MMS_EXPORT int execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	int n;

	va_start(ap, arg0);
	n = count_args(arg0, ap);
	va_end(ap);
	char *argv[n + 1];
	va_start(ap, arg0);
	COLLECT_ARGS(argv, arg0, ap, n);
	va_end(ap);
	return execvpe(file, argv, environ);
}

MMS_EXPORT int execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	char *const *envp;
	int n;

	va_start(ap, arg0);
	n = count_args(arg0, ap);
	va_end(ap);
	char *argv[n + 1];
	va_start(ap, arg0);
	COLLECT_ARGS(argv, arg0, ap, n);
	envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}
