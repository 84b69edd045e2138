/* SPDX-License-Identifier: MIT */
/* Writing one trace stream file (see stream.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdbool.h>
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

static struct mms_file_header *header(const struct stream *s)
{
	return (struct mms_file_header *)s->map;
}

static uint8_t *tail_at(const struct stream *s, uint64_t off)
{
	return s->map + STREAM_TAIL_OFF + (off - s->base);
}

/* n bytes at p zeroed, 8 at a time (no C library: see stream.h) */
static void zero8(uint8_t *p, size_t n)
{
	uint64_t *q = (uint64_t *)p;

	for (size_t i = 0; i < n / 8; i++)
		q[i] = 0;
}

/* does a record of size bytes fit at pos, with the LOST room after it? */
static bool fits(const struct stream *s, size_t size)
{
	return s->pos + size + STREAM_LOST_ROOM <= s->base + STREAM_TAIL_LEN;
}

/* signal context: the tail's records appended to the file, the tail
 * started again at pos (see stream.h for what a reader sees meanwhile) */
static int empty_tail(struct stream *s)
{
	uint64_t done = 0, n = s->pos - s->base;
	uint64_t *tb = &header(s)->tail_base;

	while (done < n) {
		long r = sys_call4(SYS_pwrite64, s->fd, (long)tail_at(s, s->base + done),
				   (long)(n - done), (long)(s->base + done));
		if (r == -EINTR)
			continue;
		if (r == 0)
			r = -ENOSPC;
		if (r < 0)
			return (int)r;
		done += (uint64_t)r;
	}
	__atomic_store_n(tb, s->pos | 1, __ATOMIC_RELEASE);
	__atomic_store_n((uint64_t *)tail_at(s, s->base), 0, __ATOMIC_RELEASE);
	s->base = s->pos;
	__atomic_store_n(tb, s->base, __ATOMIC_RELEASE);
	s->win_gen++;
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
	/* the room the tail keeps: pos + STREAM_LOST_ROOM <= its end */
	if (!s->map || !fits(s, 0))
		return;
	struct mms_rec_lost *l = (void *)tail_at(s, s->pos);
	/* with the header word after it, when the tail has one there: an
	 * earlier round's record must not follow */
	zero8((uint8_t *)l, sizeof(*l) + (fits(s, 8) ? 8 : 0));
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
	struct mms_file_header fh;
	uint64_t magic;
	long fd, r;
	void *p;

	memset(s, 0, sizeof(*s));
	s->page = page;
	fd = sys_openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		s->fd = -1;
		return (int)fd;
	}
	s->fd = (int)fd;
	/* the header and the tail allocated now: a full disk says so here,
	 * never later as a SIGBUS on a store into the mapping */
	r = sys_call4(SYS_fallocate, s->fd, 0, 0, STREAM_DATA_OFF);
	if (r == -EOPNOTSUPP)
		r = sys_ftruncate(s->fd, STREAM_DATA_OFF);
	p = r < 0 ? NULL
		  : sys_mmap(NULL, STREAM_DATA_OFF, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (!r && sys_mmap_failed(p))
		r = (long)p;
	if (r < 0) {
		sys_close(s->fd);
		s->fd = -1;
		s->err = (int)r;
		if (page)
			__atomic_store_n(&page->fail_errno, (uint32_t)-r, __ATOMIC_RELAXED);
		return (int)r;
	}
	s->map = p;
	s->base = s->pos = STREAM_DATA_OFF;
	fh = *h;
	fh.version = MMS_VERSION;
	fh.tail_base = s->base;
	fh.tail_off = STREAM_TAIL_OFF;
	fh.tail_len = STREAM_TAIL_LEN;
	/* the magic last: a reader takes a header without it for none yet */
	memcpy(s->map + sizeof(magic), (uint8_t *)&fh + sizeof(magic), sizeof(fh) - sizeof(magic));
	memcpy(&magic, fh.magic, sizeof(magic));
	__atomic_store_n((uint64_t *)s->map, magic, __ATOMIC_RELEASE);
	return 0;
}

/* signal context: [pos, pos + size) zeroed, with the header word after it */
static void *fresh(struct stream *s, size_t size)
{
	uint8_t *p = tail_at(s, s->pos);

	zero8(p, size + 8);
	return p;
}

/* signal context */
void *stream_reserve(struct stream *s, size_t size)
{
	int r;

	if (s->fd < 0 || size + STREAM_LOST_ROOM > STREAM_TAIL_LEN) {
		lose(s);
		return NULL;
	}
	if (!s->lost_rec && fits(s, size))
		return fresh(s, size);
	if (s->lost_rec && now_ns() < s->retry_ns) {
		lose(s);
		return NULL;
	}
	r = empty_tail(s);
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
	s->lost_rec = NULL; /* written out: its count is final */
	s->backoff_ns = 0;
	return fresh(s, size);
}

/* signal context */
void stream_republish(void *rec, uint16_t type, uint16_t size, uint32_t count)
{
	struct mms_rec_hdr h = { .type = type, .size = size, .count = count };
	uint64_t word;

	__builtin_memcpy(&word, &h, sizeof(word));
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
	if (!s->map || off < s->base || off >= s->pos)
		return NULL;
	return tail_at(s, off);
}

void stream_close(struct stream *s)
{
	/* what the tail holds goes to the file; if it cannot, it stays in
	 * the tail, where readers find it.  An empty tail gives its blocks
	 * back (a short-lived thread's stream is then a page or two). */
	bool empty = s->map && s->fd >= 0 && (s->pos == s->base || empty_tail(s) == 0);

	if (s->map)
		sys_munmap(s->map, STREAM_DATA_OFF);
	if (empty)
		sys_call4(SYS_fallocate, s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  STREAM_TAIL_OFF, STREAM_TAIL_LEN);
	if (s->fd >= 0)
		sys_close(s->fd);
	s->map = NULL;
	s->fd = -1;
}

void stream_forget(struct stream *s)
{
	if (s->map)
		sys_munmap(s->map, STREAM_DATA_OFF);
	if (s->fd >= 0)
		sys_close(s->fd);
	s->map = NULL;
	s->fd = -1;
}
