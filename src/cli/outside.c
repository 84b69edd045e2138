/* SPDX-License-Identifier: MIT */
/* Records written into a trace from outside the program (see outside.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/outside.h"
#include "cli/tracedir.h"
#include "mmscope/trace-format.h"
#include "trace/stream.h"

int outside_append(const char *dir, long pid, long tid, uint16_t type, const void *body,
		   size_t body_len, const char *text)
{
	struct mms_file_header h = { .version = MMS_VERSION,
				     .header_size = sizeof(h),
				     .pid = (uint32_t)pid,
				     .tid = (uint32_t)tid };
	size_t tlen = text ? strlen(text) + 1 : 0;
	size_t size = (sizeof(struct mms_rec_common) + body_len + tlen + 7) & ~(size_t)7;
	struct mms_rec_common *rec;
	struct timespec ts;
	struct stream s;
	struct stat st;
	struct mms_seq_page *page;
	uint64_t *seq;
	char name[96];
	int dirfd, r = 0;

	if (size > 65528)
		return -E2BIG;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	r = tracedir_open_seq(dirfd, &page);
	if (r < 0)
		goto out;
	seq = &page->seq;
	h.serial = __atomic_fetch_add(seq, 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	memcpy(h.magic, MMS_MAGIC, 8);
	h.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	snprintf(name, sizeof(name), "%ld-%ld-%llu%s", pid, tid, (unsigned long long)h.serial,
		 MMS_STREAM_SUFFIX);
	r = stream_open(&s, dirfd, name, &h, page);
	if (r < 0)
		goto out_unmap;
	rec = stream_reserve(&s, size);
	if (!rec) {
		r = s.err ? s.err : -ENOSPC;
	} else {
		rec->seq = __atomic_fetch_add(seq, 1, __ATOMIC_RELAXED);
		rec->ts_ns = h.start_ns;
		if (body_len)
			memcpy(rec + 1, body, body_len);
		if (text)
			memcpy((char *)(rec + 1) + body_len, text, tlen);
		stream_commit(&s, rec, type, size);
	}
	stream_close(&s);
	/* a full disk can leave the new file empty: it says nothing */
	if (r < 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == 0)
		unlinkat(dirfd, name, 0);
out_unmap:
	munmap(page, sizeof(*page));
out:
	close(dirfd);
	return r;
}
