/* SPDX-License-Identifier: MIT */
/* Writing one trace stream file (see stream.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "trace/stream.h"
#include "util/sys.h"

#define BACKOFF_MIN_NS 10000000ull   /* 10 ms */
#define BACKOFF_MAX_NS 1000000000ull /* 1 s */

/* signal context (vDSO) */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t page_up(uint64_t n)
{
	return (n + 4095) & ~4095ull;
}

static uint64_t win_end(const struct stream *s)
{
	return s->win ? s->win_off + s->win_len : 0;
}

/*
 * signal context: make [pos, pos + need + STREAM_LOST_ROOM) allocated and
 * mapped.  New space is allocated first (fallocate: a full disk says so
 * here, never later as a SIGBUS), then the window moves to cover from
 * pos's page to the end of the allocation.
 */
static int grow(struct stream *s, size_t need)
{
	uint64_t have = win_end(s), start = s->pos & ~4095ull;
	uint64_t end = page_up(s->pos + need + STREAM_LOST_ROOM);
	long r;
	void *p;

	if (end < have + s->block)
		end = have + s->block;
	r = sys_call4(SYS_fallocate, s->fd, 0, (long)have, (long)(end - have));
	if (r == -EOPNOTSUPP)
		r = sys_ftruncate(s->fd, (long)end);
	if (r < 0)
		return (int)r;
	p = sys_mmap(NULL, end - start, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, (long)start);
	if (sys_mmap_failed(p))
		return (int)(long)p;
	if (s->win)
		sys_munmap(s->win, s->win_len);
	s->win = p;
	s->win_off = start;
	s->win_len = end - start;
	s->win_gen++;
	/* the window's pages writable now, in one call, rather than a
	 * write fault on every page the records reach (best effort: before
	 * Linux 5.14 it is EINVAL and the faults come as before) */
	sys_call3(SYS_madvise, (long)p, (long)(end - start), MADV_POPULATE_WRITE);
	if (s->block < STREAM_BLOCK_MAX)
		s->block *= 2;
	return 0;
}

/* signal context: one more record could not be written */
static void lose(struct stream *s)
{
	s->lost++;
	if (s->page)
		__atomic_add_fetch(&s->page->lost, 1, __ATOMIC_RELAXED);
	if (s->lost_rec) {
		__atomic_store_n(&s->lost_rec->count, s->lost_rec->count + 1, __ATOMIC_RELEASE);
		return;
	}
	/* the room every block keeps: pos + STREAM_LOST_ROOM <= window end */
	if (!s->win || s->pos + STREAM_LOST_ROOM > win_end(s))
		return;
	struct mms_rec_lost *l = (void *)(s->win + (s->pos - s->win_off));
	l->seq = s->page ? __atomic_fetch_add(&s->page->seq, 1, __ATOMIC_RELAXED) : 0;
	l->ts_ns = now_ns();
	l->count = 1;
	stream_commit(s, l, MMS_REC_LOST, sizeof(*l));
	s->lost_rec = l;
}

/* signal context */
int stream_open(struct stream *s, int dirfd, const char *name, const struct mms_file_header *h,
		struct mms_seq_page *page)
{
	long fd;
	int r;

	memset(s, 0, sizeof(*s));
	s->page = page;
	s->block = STREAM_BLOCK_MIN;
	fd = sys_openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		s->fd = -1;
		return (int)fd;
	}
	s->fd = (int)fd;
	r = grow(s, sizeof(*h));
	if (r < 0) {
		sys_close(s->fd);
		s->fd = -1;
		s->err = r;
		if (page)
			__atomic_store_n(&page->fail_errno, (uint32_t)-r, __ATOMIC_RELAXED);
		return r;
	}
	memcpy(s->win, h, sizeof(*h));
	s->pos = sizeof(*h);
	return 0;
}

/* signal context */
void *stream_reserve(struct stream *s, size_t size)
{
	int r;

	if (s->fd < 0) {
		lose(s);
		return NULL;
	}
	if (!s->lost_rec && s->win && s->pos + size + STREAM_LOST_ROOM <= win_end(s))
		return s->win + (s->pos - s->win_off);
	if (s->lost_rec && now_ns() < s->retry_ns) {
		lose(s);
		return NULL;
	}
	r = grow(s, size);
	if (r < 0) {
		s->err = r;
		if (s->page)
			__atomic_store_n(&s->page->fail_errno, (uint32_t)-r, __ATOMIC_RELAXED);
		s->backoff_ns = s->backoff_ns ? s->backoff_ns * 2 : BACKOFF_MIN_NS;
		if (s->backoff_ns > BACKOFF_MAX_NS)
			s->backoff_ns = BACKOFF_MAX_NS;
		s->retry_ns = now_ns() + s->backoff_ns;
		lose(s);
		return NULL;
	}
	s->lost_rec = NULL; /* finished: its count is final */
	s->backoff_ns = 0;
	return s->win + (s->pos - s->win_off);
}

/* signal context */
void stream_republish(void *rec, uint16_t type, uint16_t size, uint32_t count)
{
	struct mms_rec_hdr h = { .type = type, .size = size, .count = count };
	uint64_t word;

	memcpy(&word, &h, sizeof(word));
	__atomic_store_n((uint64_t *)rec, word, __ATOMIC_RELEASE);
}

/* signal context */
void stream_commit(struct stream *s, void *rec, uint16_t type, size_t size)
{
	stream_republish(rec, type, (uint16_t)size, type == MMS_REC_ACCESS ? 1 : 0);
	s->pos += size;
}

/* signal context */
void *stream_at(const struct stream *s, uint64_t off)
{
	if (!s->win || off < s->win_off || off >= win_end(s))
		return NULL;
	return s->win + (off - s->win_off);
}

void stream_close(struct stream *s)
{
	if (s->win)
		sys_munmap(s->win, s->win_len);
	if (s->fd >= 0) {
		/* drop the unused, zeroed tail of the last block */
		sys_ftruncate(s->fd, (long)s->pos);
		sys_close(s->fd);
	}
	s->win = NULL;
	s->fd = -1;
}

void stream_forget(struct stream *s)
{
	if (s->win)
		sys_munmap(s->win, s->win_len);
	if (s->fd >= 0)
		sys_close(s->fd);
	s->win = NULL;
	s->fd = -1;
}
