/* SPDX-License-Identifier: MIT */
/*
 * What the trace unit tests share: one temporary trace directory per test
 * (its path in *state; removed with what it holds) and opening it with the
 * reader.  Include after <cmocka.h> and "trace/reader.h"; define
 * TRACE_FIXTURE_NAME (the directory's prefix) first.
 */
#ifndef MMS_TESTS_UNIT_TRACE_FIXTURE_H
#define MMS_TESTS_UNIT_TRACE_FIXTURE_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int dir_setup(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (asprintf(&dir, "%s/" TRACE_FIXTURE_NAME "-XXXXXX", tmp ? tmp : "/tmp") < 0)
		return -1;
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int dir_teardown(void **state)
{
	char *dir = *state;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
	free(dir);
	return 0;
}

static struct mms_trace *open_ok(const char *dir)
{
	struct mms_trace *t = NULL;
	char err[512] = "";
	int ret = mms_trace_open(dir, &t, err, sizeof(err));

	if (ret)
		fail_msg("mms_trace_open(%s) = %d: %s", dir, ret, err);
	return t;
}

#endif
