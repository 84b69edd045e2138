/* SPDX-License-Identifier: MIT */
/*
 * Trace reader, one stream file: open it without blocking or following
 * links, map it read-only, check its header, and walk its records once
 * with full bounds checks to find where the valid data ends.  A trace may
 * still be written while it is read: a file that has grown since it was
 * mapped is mapped further (its records are complete once their header
 * word is visible, see docs/trace-format.md), so a record that crosses
 * the old end of the file is read, not reported as corrupt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/reader-internal.h"

/* The layout is a contract with the writer; catch accidental changes. */
_Static_assert(sizeof(struct mms_file_header) == 64, "file header size");
_Static_assert(sizeof(struct mms_rec_hdr) == 8, "record header size");
_Static_assert(sizeof(struct mms_rec_access) == 96, "access size");
_Static_assert(sizeof(struct mms_rec_access_v2) == 80, "v1/v2 access size");
_Static_assert(sizeof(struct mms_rec_map) == 72, "map size");
_Static_assert(sizeof(struct mms_rec_unmap) == 56, "unmap size"); /* header comment says 64 */
_Static_assert(sizeof(struct mms_rec_mark) == 24, "mark size");
_Static_assert(sizeof(struct mms_rec_proc) == 40, "proc size");
_Static_assert(sizeof(struct mms_rec_lost) == 32, "lost size");

/* A header larger than this is not a plausible future extension. */
#define READER_MAX_HEADER_SIZE 4096u
#define READER_MAX_DATA_OFF (16u << 20) /* v4: where the records start, at most */

void rd_err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
#define err_set rd_err_set

static bool bytes_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static size_t access_fixed(uint32_t version)
{
	return version >= 3 ? sizeof(struct mms_rec_access) : sizeof(struct mms_rec_access_v2);
}

static size_t rec_min_size(uint16_t type, uint32_t version)
{
	switch (type) {
	case MMS_REC_ACCESS:
		return access_fixed(version);
	case MMS_REC_MAP:
		return sizeof(struct mms_rec_map);
	case MMS_REC_UNMAP:
		return sizeof(struct mms_rec_unmap);
	case MMS_REC_MARK:
		return sizeof(struct mms_rec_mark);
	case MMS_REC_PROC:
		return sizeof(struct mms_rec_proc);
	case MMS_REC_LOST:
		return sizeof(struct mms_rec_lost);
	case MMS_REC_WATCH:
		return sizeof(struct mms_rec_watch);
	case MMS_REC_HIT:
		return sizeof(struct mms_rec_hit);
	}
	return 0;
}

/*
 * Check the record at p, which has `avail` bytes of file after it.
 * Returns 0, or -EBADMSG with the reason in why.
 */

/* a string run's elements all lie between 0 and 2^64 - 1 */
static bool run_fits(uint64_t addr, unsigned int width, uint64_t count, bool down)
{
	uint64_t span = (count - 1) * width; /* count < 2^32, width <= 64 */

	return down ? span <= addr : span <= UINT64_MAX - addr - (width - 1);
}

static int record_check(const uint8_t *p, uint64_t avail, uint32_t version, char *why,
			size_t whylen)
{
	struct mms_rec_hdr h;
	size_t min;

	memcpy(&h, p, sizeof(h));
	if (h.size < sizeof(h)) {
		err_set(why, whylen, "record size %u is smaller than 8", h.size);
		return -EBADMSG;
	}
	if (h.size % 8) {
		err_set(why, whylen, "record size %u is not a multiple of 8", h.size);
		return -EBADMSG;
	}
	if (h.size > avail) {
		err_set(why, whylen,
			"record of %u bytes runs past the end of the file (%llu bytes left)",
			h.size, (unsigned long long)avail);
		return -EBADMSG;
	}
	min = rec_min_size(h.type, version);
	if (!min) {
		err_set(why, whylen, "unknown record type %u", h.type);
		return -EBADMSG;
	}
	if (h.size < min) {
		err_set(why, whylen, "record type %u needs at least %zu bytes, has %u", h.type, min,
			h.size);
		return -EBADMSG;
	}
	if (h.type == MMS_REC_HIT) {
		const struct mms_rec_hit *x = (const void *)p;
		size_t need = sizeof(*x) + 2 * (((size_t)x->width + 7) & ~(size_t)7) +
			      8 * (size_t)x->nframes;

		if (x->width < 1 || x->width > 64) {
			err_set(why, whylen, "hit width %u is outside 1..64", x->width);
			return -EBADMSG;
		}
		if (h.size < need) {
			err_set(why, whylen,
				"hit record of %u bytes is too small for its values and %u frames",
				h.size, x->nframes);
			return -EBADMSG;
		}
	}
	if (h.type == MMS_REC_ACCESS) {
		/* the fields up to insn[] are the same in every version */
		const struct mms_rec_access_v2 *a = (const void *)p;
		uint64_t count = version >= 3 && h.count > 1 ? h.count : 1;
		uint64_t vlen = (a->flags & MMS_AF_STRING) ? count * a->width : a->width;

		/* width 0: an access single-stepped from undecodable bytes */
		if ((a->width < 1 && !(a->flags & MMS_AF_UNKNOWN_INSN)) || a->width > 64) {
			err_set(why, whylen, "access width %u is outside 1..64", a->width);
			return -EBADMSG;
		}
		if (a->width < 1 && (a->flags & (MMS_AF_STRING | MMS_AF_PAIRED | MMS_AF_MASKED))) {
			err_set(why, whylen, "string or masked access of width 0");
			return -EBADMSG;
		}
		if ((a->flags & MMS_AF_STRING) && count > 1 &&
		    !run_fits(a->addr, a->width, count, a->flags & MMS_AF_DOWN)) {
			err_set(why, whylen,
				"string run of %llu elements of %u bytes wraps around the address space",
				(unsigned long long)count, a->width);
			return -EBADMSG;
		}
		if (count > 1 &&
		    ((const struct mms_rec_access *)(const void *)p)->last_ts_ns < a->ts_ns) {
			err_set(why, whylen,
				"repeated access ends (last_ts_ns) before it begins (ts_ns)");
			return -EBADMSG;
		}
		if (h.size < min + vlen) {
			err_set(why, whylen,
				"access record of %u bytes is too small for %llu value bytes",
				h.size, (unsigned long long)vlen);
			return -EBADMSG;
		}
		if (a->dir != MMS_DIR_READ && a->dir != MMS_DIR_WRITE) {
			err_set(why, whylen, "access direction %u is neither read nor write",
				a->dir);
			return -EBADMSG;
		}
		if (a->insn_len > sizeof(a->insn)) {
			err_set(why, whylen, "instruction length %u exceeds 16", a->insn_len);
			return -EBADMSG;
		}
	}
	return 0;
}

static int seq_off_cmp(const void *a, const void *b)
{
	const struct seq_off *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

const uint8_t *rd_at(const struct rd_stream *s, uint64_t off)
{
	size_t lo = 0, hi = s->nsegs;

	if (!hi || off < s->segs[0].lo)
		return s->data + off;
	while (lo < hi) { /* the last segment that starts at or before off */
		size_t mid = lo + (hi - lo) / 2;
		if (s->segs[mid].lo <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct rd_seg *g = &s->segs[lo - 1];
	return off < g->hi ? g->bytes + (off - g->lo) : s->data + off;
}

uint64_t rd_rec_seq(const struct rd_stream *s, uint64_t off)
{
	const struct mms_rec_common *c = (const void *)rd_at(s, off);

	return c->seq;
}

static uint64_t rec_ts(const struct rd_stream *s, uint64_t off)
{
	const struct mms_rec_common *c = (const void *)rd_at(s, off);

	return c->ts_ns;
}

uint16_t rd_rec_size(const struct rd_stream *s, uint64_t off)
{
	const struct mms_rec_hdr *h = (const void *)rd_at(s, off);

	return h->size;
}

/*
 * Open the file: never blocking (a FIFO named *.mms), never following a
 * symlink found in a directory, nothing but a regular file.  Returns the
 * fd or -errno (-ENOTSUP: not a regular file, the reason in err).
 */
static int stream_open_fd(const struct rd_stream *s, int dir_fd, bool in_dir, struct stat *st,
			  char *err, size_t errlen)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (in_dir ? O_NOFOLLOW : 0);
	int fd = openat(dir_fd, s->name, flags), ret;

	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP && in_dir) {
			err_set(err, errlen, "%s: a symbolic link, not followed", s->path);
			return -ENOTSUP;
		}
		err_set(err, errlen, "%s: %s", s->path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, st)) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", s->path, strerror(-ret));
		close(fd);
		return ret;
	}
	if (!S_ISREG(st->st_mode)) {
		err_set(err, errlen, "%s: not a regular file", s->path);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

/*
 * Map the file up to new_size.  The part already mapped stays where it is
 * when the rest can be mapped right after it; otherwise the whole file is
 * mapped again elsewhere and the old mapping is kept for the records that
 * point into it.
 */
static int stream_map(struct rd_stream *s, int fd, size_t new_size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t have = (s->map_len + page - 1) / page * page;
	struct rd_old_map *old;
	void *p;

	if (new_size <= s->size)
		return 0;
	if (s->data && new_size > have) {
		void *want = (uint8_t *)s->data + have;

		p = mmap(want, new_size - have, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd,
			 (off_t)have);
		if (p == want) {
			s->size = s->map_len = new_size;
			return 0;
		}
		if (p != MAP_FAILED)
			munmap(p, new_size - have);
	} else if (s->data) {
		s->size = new_size; /* still inside the last mapped page */
		return 0;
	}
	p = mmap(NULL, new_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (s->data) {
		old = malloc(sizeof(*old));
		if (!old) {
			munmap(p, new_size);
			return -ENOMEM;
		}
		*old = (struct rd_old_map){ s->old_maps, (void *)s->data, s->map_len };
		s->old_maps = old;
	}
	s->data = p;
	s->size = s->map_len = new_size;
	return 0;
}

/* Map what the file has grown by; true if it grew. */
static bool stream_grow(struct rd_stream *s, int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) || (uint64_t)st.st_size <= s->size)
		return false;
	return stream_map(s, fd, st.st_size) == 0;
}

/*
 * 1: a header was checked; 0: there is none yet (an empty file or a
 * zero header: a stream created by a thread that has not written into it,
 * or is just doing so); -errno on a bad header.
 */
static int header_check(struct rd_stream *s, char *err, size_t errlen)
{
	const struct mms_file_header *h = &s->hdr;

	/* the writer stores the magic last (v4) */
	if (!s->size || bytes_all_zero(s->data, s->size < sizeof(*h) ? s->size : sizeof(*h)) ||
	    (s->size >= sizeof(*h) && bytes_all_zero(s->data, sizeof(h->magic))))
		return 0;
	if (s->size < sizeof(*h)) {
		err_set(err, errlen,
			"%s: file is %zu bytes, too short for the %zu-byte stream header", s->path,
			s->size, sizeof(*h));
		return -EBADMSG;
	}
	memcpy(&s->hdr, s->data, sizeof(s->hdr));
	if (memcmp(h->magic, MMS_MAGIC, sizeof(h->magic))) {
		err_set(err, errlen, "%s: not an mmscope trace stream (bad magic, expected \"%s\")",
			s->path, MMS_MAGIC);
		return -EBADMSG;
	}
	if (h->version < MMS_VERSION_MIN || h->version > MMS_VERSION) {
		err_set(err, errlen,
			"%s: trace format version %u is not supported by this mmscope (supports %u to %u)",
			s->path, h->version, MMS_VERSION_MIN, MMS_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (h->header_size < sizeof(*h) || h->header_size % 8 ||
	    h->header_size > READER_MAX_HEADER_SIZE || h->header_size > s->size) {
		err_set(err, errlen, "%s: bad stream header: header_size %u (file is %zu bytes)",
			s->path, h->header_size, s->size);
		return -EBADMSG;
	}
	s->begin = s->end = h->header_size;
	if (h->version >= 4) {
		uint64_t data = (uint64_t)h->tail_off + h->tail_len;
		if (h->tail_off < h->header_size || h->tail_off % 8 || h->tail_len % 8 ||
		    h->tail_len < 64 || data > READER_MAX_DATA_OFF || data > s->size) {
			err_set(err, errlen,
				"%s: bad stream header: a tail of %u bytes at %u (file is %zu bytes)",
				s->path, h->tail_len, h->tail_off, s->size);
			return -EBADMSG;
		}
		s->begin = s->end = data;
	}
	s->have_hdr = true;
	return 1;
}

static int order_add(struct rd_stream *s, uint64_t off)
{
	if (s->nrecords == s->order_cap) {
		size_t cap = s->order_cap ? s->order_cap * 2 : 256;
		struct seq_off *n = realloc(s->order, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->order = n;
		s->order_cap = cap;
	}
	s->order[s->nrecords].seq = rd_rec_seq(s, off);
	s->order[s->nrecords].off = off;
	return 0;
}

/* The records of a stream whose seq went backwards, in seq order. */
static int stream_sort(struct rd_stream *s)
{
	uint64_t off = s->begin, n = s->nrecords;

	s->nrecords = 0;
	for (uint64_t i = 0; i < n; i++, s->nrecords++) {
		if (order_add(s, off))
			return -ENOMEM;
		off += rd_rec_size(s, off);
	}
	qsort(s->order, s->nrecords, sizeof(*s->order), seq_off_cmp);
	return 0;
}

/* v4: the stream offset the tail's records stand at, as the writer left
 * it; 0 if there is no tail to read (an older version, or one being
 * emptied: the file then holds every record) */
static uint64_t tail_base(const struct rd_stream *s)
{
	const uint64_t *w =
		(const uint64_t *)(s->data + offsetof(struct mms_file_header, tail_base));
	uint64_t b;

	if (s->hdr.version < 4)
		return 0;
	b = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	return b & 1 || b < s->begin ? 0 : b;
}

/* v4: a copy of the tail from stream offset off on (off >= tb), taken
 * as a segment; false if the writer emptied the tail meanwhile */
static bool seg_take(struct rd_stream *s, uint64_t tb, uint64_t off)
{
	uint64_t skip = off - tb;
	size_t len = s->hdr.tail_len > skip ? s->hdr.tail_len - skip : 0;
	struct rd_seg *n;
	uint8_t *copy;

	if (!len || !(copy = malloc(len)))
		return false;
	/* 8 bytes at a time, in order (a record's header word is stored
	 * after its body and after the zeroing of the next one's) */
	const uint64_t *from = (const uint64_t *)(s->data + s->hdr.tail_off + skip);
	for (size_t i = 0; i < len / 8; i++) {
		uint64_t w = __atomic_load_n(&from[i], __ATOMIC_ACQUIRE);
		memcpy(copy + 8 * i, &w, 8);
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (tail_base(s) != tb || !(n = realloc(s->segs, (s->nsegs + 1) * sizeof(*n)))) {
		free(copy);
		return false;
	}
	s->segs = n;
	s->segs[s->nsegs++] = (struct rd_seg){ off, off + len, copy };
	return true;
}

/* the last segment cut at end, the stream offset where decoding of it
 * stopped; dropped if nothing of it was taken */
static void seg_trim(struct rd_stream *s, uint64_t end)
{
	struct rd_seg *g = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;

	if (!g || end < g->lo || end >= g->hi)
		return;
	g->hi = end;
	if (g->hi == g->lo) {
		free(g->bytes);
		s->nsegs--;
	}
}

/*
 * The bytes at stream offset off and how many of them there are: in the
 * file, up to the tail's base in v4; from there on, in a copy of the
 * tail (taken now if none covers off).  False at the end of what can be
 * read now.
 */
static bool where(struct rd_stream *s, int fd, uint64_t off, const uint8_t **p, uint64_t *avail)
{
	struct rd_seg *g = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
	uint64_t tb = tail_base(s), lim;

	/* a copy being decoded is decoded to its end: past its records it
	 * holds zeros and older rounds' bytes, never the file's */
	if (g && off >= g->lo && off < g->hi) {
		*p = g->bytes + (off - g->lo);
		*avail = g->hi - off;
		return true;
	}
	if (tb > s->size && stream_grow(s, fd))
		tb = tail_base(s);
	if (tb > s->size)
		tb = 0; /* the file lacks what the tail follows: read the file */
	lim = tb ? tb : s->size;
	if (off < lim) {
		*p = s->data + off;
		*avail = lim - off;
		return true;
	}
	if (!tb || !seg_take(s, tb, off))
		return false;
	g = &s->segs[s->nsegs - 1];
	*p = g->bytes + (off - g->lo);
	*avail = g->hi - off;
	return true;
}

/*
 * Walk the records from s->end on.  Every record is 8-byte aligned (the
 * header size and all record sizes are multiples of 8, the mapping is
 * page aligned), so the structs can be read in place.  fd >= 0: the file
 * may be growing; a record that seems to cross its end makes us look at
 * its size again.  first: the first scan, which orders the records by seq
 * if the file does not; later scans append in file order.
 */
static int stream_scan(struct rd_stream *s, int fd, bool first)
{
	uint64_t off = s->end, prev_seq = 0, before = s->nrecords;
	bool sorted = true;
	char why[160];
	int ret = 0;

	if (!first && s->status)
		return 0; /* a corrupt record ended it for good */
	if (s->nrecords)
		prev_seq = s->order ? s->order[s->nrecords - 1].seq : 0;
	if (first)
		s->first_ts = UINT64_MAX;
	for (;;) {
		uint64_t avail;
		const uint8_t *p;

		if (!where(s, fd, off, &p, &avail))
			break;
		if (avail < sizeof(struct mms_rec_hdr)) {
			if (bytes_all_zero(p, avail))
				break;
			if (stream_grow(s, fd))
				continue;
			err_set(why, sizeof(why),
				"only %llu bytes left, too few for a record header",
				(unsigned long long)avail);
			ret = -EBADMSG;
			break;
		}
		/* The writer stores the header word last: zero = end of data. */
		if (bytes_all_zero(p, sizeof(struct mms_rec_hdr)))
			break;
		if (((const struct mms_rec_hdr *)p)->size > avail && stream_grow(s, fd))
			continue;
		ret = record_check(p, avail, s->hdr.version, why, sizeof(why));
		if (ret)
			break;
		if (s->nrecords > before && rd_rec_seq(s, off) < prev_seq)
			sorted = false;
		prev_seq = rd_rec_seq(s, off);
		if (rec_ts(s, off) < s->first_ts)
			s->first_ts = rec_ts(s, off);
		if (s->order && order_add(s, off))
			return -ENOMEM;
		s->nrecords++;
		off += rd_rec_size(s, off);
	}
	seg_trim(s, off);
	s->end = off;
	if (ret) {
		s->status = ret;
		if (asprintf(
			    &s->problem,
			    "%s: corrupt record at byte offset %llu: %s (decoding of this stream stopped there, after %llu record%s)",
			    s->path, (unsigned long long)off, why, (unsigned long long)s->nrecords,
			    s->nrecords == 1 ? "" : "s") < 0) {
			s->problem = NULL;
			return -ENOMEM;
		}
	}
	if (first && !sorted)
		return stream_sort(s);
	return 0;
}

/* A zero header in front of data: say so rather than drop it silently. */
static bool zero_header_check(struct rd_stream *s, char *err, size_t errlen)
{
	if (s->have_hdr || s->size <= sizeof(s->hdr) ||
	    bytes_all_zero(s->data + sizeof(s->hdr), s->size - sizeof(s->hdr)))
		return false;
	err_set(err, errlen,
		"%s: the stream header is all zero but the file holds data after it: skipped",
		s->path);
	return true;
}

int rd_stream_load(struct rd_stream *s, int dir_fd, bool in_dir, char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	fd = stream_open_fd(s, dir_fd, in_dir, &st, err, errlen);
	if (fd < 0)
		return fd;
	ret = stream_map(s, fd, st.st_size);
	if (ret) {
		err_set(err, errlen, "%s: mmap: %s", s->path, strerror(-ret));
		goto out;
	}
	ret = header_check(s, err, errlen);
	if (ret == 0) {
		s->begin = s->end = s->size; /* no records: nothing to scan */
		if (zero_header_check(s, err, errlen))
			ret = -ENOTSUP;
	} else if (ret > 0) {
		ret = stream_scan(s, fd, true);
		if (ret == -ENOMEM)
			err_set(err, errlen, "%s: out of memory", s->path);
	}
out:
	close(fd);
	return ret;
}

int64_t rd_stream_refresh(struct rd_stream *s, int dir_fd, bool in_dir)
{
	uint64_t before = s->nrecords;
	struct stat st;
	int fd, ret;

	fd = stream_open_fd(s, dir_fd, in_dir, &st, NULL, 0);
	if (fd < 0)
		return fd;
	ret = stream_map(s, fd, st.st_size);
	if (!ret && !s->have_hdr) {
		ret = header_check(s, NULL, 0);
		if (ret > 0)
			ret = stream_scan(s, fd, true);
	} else if (!ret) {
		ret = stream_scan(s, fd, false);
	}
	close(fd);
	if (ret < 0)
		return ret;
	return (int64_t)(s->nrecords - before);
}

void rd_stream_free(struct rd_stream *s)
{
	if (s->data)
		munmap((void *)s->data, s->map_len);
	for (struct rd_old_map *m = s->old_maps, *n; m; m = n) {
		n = m->next;
		munmap(m->addr, m->len);
		free(m);
	}
	for (size_t i = 0; i < s->nsegs; i++)
		free(s->segs[i].bytes);
	free(s->segs);
	free(s->order);
	free(s->problem);
	free(s->path);
	free(s->name);
}
