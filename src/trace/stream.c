/* SPDX-License-Identifier: MIT */
/* Writing one trace stream file (see stream.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

#include "trace/stream.h"
#include "util/sys.h"

static long sys_fallocate(int fd, long off, long len)
{
	return sys_call4(SYS_fallocate, fd, 0, off, len);
}

/* signal context: map the window that holds file offset pos */
static int window_move(struct stream *s, uint64_t pos, size_t need)
{
	uint64_t off = pos & ~4095ull;
	long r;
	void *p;

	if (s->win && pos >= s->win_off && pos + need <= s->win_off + STREAM_WINDOW)
		return 0;
	r = sys_fallocate(s->fd, (long)off, STREAM_WINDOW);
	if (r < 0 && r != -EOPNOTSUPP)
		return (int)r;
	if (r == -EOPNOTSUPP) {
		r = sys_ftruncate(s->fd, (long)(off + STREAM_WINDOW));
		if (r < 0)
			return (int)r;
	}
	p = sys_mmap(NULL, STREAM_WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, (long)off);
	if (sys_mmap_failed(p))
		return (int)(long)p;
	if (s->win)
		sys_munmap(s->win, STREAM_WINDOW);
	s->win = p;
	s->win_off = off;
	return 0;
}

/* signal context */
int stream_open(struct stream *s, int dirfd, const char *name, const struct mms_file_header *h)
{
	long fd;
	int r;

	s->win = NULL;
	s->pos = 0;
	s->lost = 0;
	fd = sys_openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		s->fd = -1;
		return (int)fd;
	}
	s->fd = (int)fd;
	r = window_move(s, 0, sizeof(*h));
	if (r < 0) {
		sys_close(s->fd);
		s->fd = -1;
		return r;
	}
	memcpy(s->win, h, sizeof(*h));
	s->pos = sizeof(*h);
	return 0;
}

/* signal context */
void *stream_reserve(struct stream *s, size_t size)
{
	if (s->fd < 0 || window_move(s, s->pos, size) < 0) {
		s->lost++;
		return NULL;
	}
	return s->win + (s->pos - s->win_off);
}

/* signal context */
void stream_commit(struct stream *s, void *rec, uint16_t type, size_t size)
{
	struct mms_rec_hdr h = { .type = type, .size = (uint16_t)size };
	uint64_t word;

	memcpy(&word, &h, sizeof(word));
	__atomic_store_n((uint64_t *)rec, word, __ATOMIC_RELEASE);
	s->pos += size;
}

void stream_close(struct stream *s)
{
	if (s->win)
		sys_munmap(s->win, STREAM_WINDOW);
	if (s->fd >= 0) {
		/* drop the unused, zeroed tail of the last window */
		sys_ftruncate(s->fd, (long)s->pos);
		sys_close(s->fd);
	}
	s->win = NULL;
	s->fd = -1;
}

void stream_forget(struct stream *s)
{
	if (s->win)
		sys_munmap(s->win, STREAM_WINDOW);
	if (s->fd >= 0)
		sys_close(s->fd);
	s->win = NULL;
	s->fd = -1;
}
