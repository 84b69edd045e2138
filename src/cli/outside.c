/* SPDX-License-Identifier: MIT */
/* Records written into a trace from outside the program (see outside.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli/outside.h"
#include "mmscope/trace-format.h"
#include "trace/stream.h"

int outside_append(const char *dir, long pid, uint16_t type, const void *body, size_t body_len,
		   const char *text)
{
	struct mms_file_header h = { .version = MMS_VERSION,
				     .header_size = sizeof(h),
				     .pid = (uint32_t)pid };
	size_t tlen = text ? strlen(text) + 1 : 0;
	size_t size = (sizeof(struct mms_rec_common) + body_len + tlen + 7) & ~(size_t)7;
	struct mms_rec_common *rec;
	struct timespec ts;
	struct stream s;
	uint64_t *seq;
	char name[96];
	int dirfd, fd, r = 0;

	if (size > 65528)
		return -E2BIG;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	fd = openat(dirfd, MMS_SEQ_FILE, O_RDWR | O_CLOEXEC);
	seq = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (seq == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	h.serial = __atomic_fetch_add(seq, 1, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	memcpy(h.magic, MMS_MAGIC, 8);
	h.start_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	snprintf(name, sizeof(name), "%ld-0-%llu%s", pid, (unsigned long long)h.serial,
		 MMS_STREAM_SUFFIX);
	r = stream_open(&s, dirfd, name, &h, (struct mms_seq_page *)seq);
	if (r < 0)
		goto out_unmap;
	rec = stream_reserve(&s, size);
	if (!rec) {
		r = -ENOSPC;
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
out_unmap:
	munmap(seq, 4096);
out:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return r;
}
