/* SPDX-License-Identifier: MIT */
/* The trace directory: created and checked safely (see tracedir.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/tracedir.h"
#include "mmscope/trace-format.h"
#include "util/glob.h"

bool tracedir_is_trace_file(const char *name)
{
	static const char *const trace_files[] = {
		("*" MMS_STREAM_SUFFIX), "maps-*",    MMS_SEQ_FILE,
		MMS_CONFIG_FILE,	 "agent.log", "core.*",
	};

	for (size_t i = 0; i < sizeof(trace_files) / sizeof(trace_files[0]); i++)
		if (glob_match(trace_files[i], name))
			return true;
	return false;
}

/* mkdir -p of the directories above path (not path itself). */
static int mkdir_parents(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

/* The user's own, written by nobody else (see tracedir.h). */
static int check_dir(int fd, const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot examine %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s belongs to uid %u, not to you (uid %u); a trace directory must be "
			 "your own: choose another -o",
			 dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s is writable by others (mode %04o), who could replace the trace's "
			 "files: 'chmod go-w %s', or choose another -o",
			 dir, (unsigned)(st.st_mode & 07777), dir);
		return -EPERM;
	}
	return 0;
}

/*
 * What an existing trace directory holds: 0 when it is empty or holds
 * trace files only (*ntrace of them), else -EEXIST naming the first other
 * entry.  A directory never counts as a trace file.
 */
static int scan_dir(int fd, const char *dir, unsigned *ntrace, char *err, size_t errlen)
{
	/* a description of its own: a dup would share the read position */
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	*ntrace = 0;
	if (!d) {
		r = -errno;
		if (dfd >= 0)
			close(dfd);
		snprintf(err, errlen, "cannot list %s: %s", dir, strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode) && tracedir_is_trace_file(de->d_name)) {
			(*ntrace)++;
			continue;
		}
		snprintf(err, errlen,
			 "%s holds '%s', which is not part of a trace; mmscope writes only into "
			 "a new or empty directory or over an old trace (--force), never beside "
			 "other files: choose another -o",
			 dir, de->d_name);
		r = -EEXIST;
		break;
	}
	closedir(d);
	return r;
}

/* Delete the old trace's files (scan_dir said there is nothing else).
 * Names are gathered first: unlinking while readdir walks a directory may
 * make it skip entries. */
static int remove_trace(int fd, const char *dir, char *err, size_t errlen)
{
	/* a description of its own: a dup would share the read position */
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (!d) {
		r = -errno;
		if (dfd >= 0)
			close(dfd);
		snprintf(err, errlen, "cannot list %s: %s", dir, strerror(-r));
		return r;
	}
	while (r == 0 && (de = readdir(d))) {
		char **more;
		if (!tracedir_is_trace_file(de->d_name))
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (!more || !(more[n] = strdup(de->d_name))) {
			if (more)
				names = more;
			r = -ENOMEM;
			snprintf(err, errlen, "out of memory listing %s", dir);
			break;
		}
		names = more;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && unlinkat(fd, names[i], 0) < 0 && errno != ENOENT) {
			r = -errno;
			snprintf(err, errlen, "cannot remove the old trace's %s/%s: %s", dir,
				 names[i], strerror(-r));
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int tracedir_prepare(const char *dir, bool force, char *abs, size_t abscap, char *err,
		     size_t errlen)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);
	unsigned ntrace = 0;
	struct stat st;
	int fd, r;

	if (!n || n >= sizeof(path)) {
		snprintf(err, errlen, "the output directory name '%s' is %s", dir,
			 n ? "too long" : "empty");
		return -EINVAL;
	}
	/* "t.d/" would let lstat follow a symlink t.d */
	memcpy(path, dir, n + 1);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = 0;
	r = mkdir_parents(path);
	if (r == 0 && mkdir(path, 0700) < 0 && errno != EEXIST)
		r = -errno;
	if (r < 0) {
		snprintf(err, errlen, "cannot create the output directory %s: %s", dir,
			 strerror(-r));
		return r;
	}
	if (lstat(path, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot examine %s: %s", dir, strerror(-r));
		return r;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen,
			 "%s is a symbolic link; mmscope does not write a trace through one: "
			 "give the directory itself, or choose another -o",
			 dir);
		return -ELOOP;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a directory: choose another -o", dir);
		return -ENOTDIR;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open the output directory %s: %s", dir, strerror(-r));
		return r;
	}
	r = check_dir(fd, dir, err, errlen);
	if (r == 0)
		r = scan_dir(fd, dir, &ntrace, err, errlen);
	if (r == 0 && ntrace && !force) {
		snprintf(
			err, errlen,
			"%s already holds a trace; use --force to replace it, or choose another -o",
			dir);
		r = -EEXIST;
	}
	if (r == 0 && ntrace)
		r = remove_trace(fd, dir, err, errlen);
	if (r == 0 && !realpath(path, abs)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
	}
	if (r == 0 && strlen(abs) >= abscap) {
		r = -ENAMETOOLONG;
		snprintf(err, errlen, "%s: the absolute path is too long", dir);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

int tracedir_create_seq(int dirfd, const struct mms_seq_page **page)
{
	static const char zero[sizeof(struct mms_seq_page)];
	int fd = openat(dirfd, MMS_SEQ_FILE, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	void *p;
	int r;

	if (fd < 0)
		return -errno;
	r = fallocate(fd, 0, 0, sizeof(struct mms_seq_page)) == 0 ? 0 : errno;
	/* a filesystem without fallocate: written zeros are allocated too */
	if (r == EOPNOTSUPP) {
		ssize_t w = pwrite(fd, zero, sizeof(zero), 0);
		r = w == (ssize_t)sizeof(zero) ? 0 : w < 0 ? errno : ENOSPC;
	}
	if (r) {
		close(fd);
		unlinkat(dirfd, MMS_SEQ_FILE, 0);
		return -r;
	}
	p = mmap(NULL, sizeof(struct mms_seq_page), PROT_READ, MAP_SHARED, fd, 0);
	r = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (r == 0)
		*page = p;
	return r;
}

int tracedir_open_seq(int dirfd, struct mms_seq_page **page)
{
	int fd = openat(dirfd, MMS_SEQ_FILE, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	void *p;
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct mms_seq_page) ||
		 st.st_uid != geteuid())
		r = -EINVAL;
	if (r == 0) {
		p = mmap(NULL, sizeof(struct mms_seq_page), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0);
		if (p == MAP_FAILED)
			r = -errno;
		else
			*page = p;
	}
	close(fd);
	return r;
}
