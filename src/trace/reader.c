/* SPDX-License-Identifier: MIT */
/*
 * Trace reader: maps every stream file of a trace read-only, checks its
 * file header, walks its records once with full bounds checks to find
 * where the valid data ends, then merges the streams by `seq` with a
 * binary heap (one entry per stream), so memory does not grow with the
 * trace.  See reader.h for the API and docs/trace-format.md for the rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/reader.h"

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

struct seq_off {
	uint64_t seq;
	uint64_t off;
};

struct stream {
	char *path;
	struct mms_file_header hdr;
	const uint8_t *data; /* whole file, read-only mapping */
	size_t size;
	uint64_t begin; /* first record */
	uint64_t end;	/* where decoding stopped */
	uint64_t nrecords;
	uint64_t first_ts;
	int status;
	char *problem;
	/* Only when seq is not monotonic in the file: records by seq. */
	struct seq_off *order;
	/* merge cursor: file offset, or index into order[] */
	uint64_t pos;
	uint64_t cur_seq;
};

struct mms_trace {
	struct stream *streams;
	size_t nstreams;
	size_t *heap; /* stream indices, min-heap on (cur_seq, index) */
	size_t heap_len;
};

static void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

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

static uint64_t rec_seq(const struct stream *s, uint64_t off)
{
	const struct mms_rec_common *c = (const void *)(s->data + off);

	return c->seq;
}

static uint64_t rec_ts(const struct stream *s, uint64_t off)
{
	const struct mms_rec_common *c = (const void *)(s->data + off);

	return c->ts_ns;
}

static uint16_t rec_size(const struct stream *s, uint64_t off)
{
	const struct mms_rec_hdr *h = (const void *)(s->data + off);

	return h->size;
}

/* Records of a stream whose seq goes backwards get an explicit order. */
static int stream_sort(struct stream *s)
{
	uint64_t off = s->begin;

	s->order = calloc(s->nrecords, sizeof(*s->order));
	if (!s->order)
		return -ENOMEM;
	for (uint64_t i = 0; i < s->nrecords; i++) {
		s->order[i].seq = rec_seq(s, off);
		s->order[i].off = off;
		off += rec_size(s, off);
	}
	qsort(s->order, s->nrecords, sizeof(*s->order), seq_off_cmp);
	return 0;
}

/*
 * Walk the records once.  Every record is 8-byte aligned (the header size
 * and all record sizes are multiples of 8, the mapping is page aligned),
 * so the structs can be read in place.
 */
static int stream_scan(struct stream *s)
{
	uint64_t off = s->begin, prev_seq = 0;
	bool sorted = true;
	char why[160];
	int ret = 0;

	s->first_ts = UINT64_MAX;
	while (off < s->size) {
		uint64_t avail = s->size - off;
		const uint8_t *p = s->data + off;

		if (avail < sizeof(struct mms_rec_hdr)) {
			if (bytes_all_zero(p, avail))
				break;
			err_set(why, sizeof(why),
				"only %llu bytes left, too few for a record header",
				(unsigned long long)avail);
			ret = -EBADMSG;
			break;
		}
		/* The writer stores the header word last: zero = end of data. */
		if (bytes_all_zero(p, sizeof(struct mms_rec_hdr)))
			break;
		ret = record_check(p, avail, s->hdr.version, why, sizeof(why));
		if (ret)
			break;
		if (s->nrecords && rec_seq(s, off) < prev_seq)
			sorted = false;
		prev_seq = rec_seq(s, off);
		if (rec_ts(s, off) < s->first_ts)
			s->first_ts = rec_ts(s, off);
		s->nrecords++;
		off += rec_size(s, off);
	}
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
	if (!sorted)
		return stream_sort(s);
	return 0;
}

static int header_check(struct stream *s, char *err, size_t errlen)
{
	const struct mms_file_header *h = &s->hdr;

	/*
	 * An empty file, or one whose header is still all zero, belongs to
	 * a thread stopped between creating its stream and writing into it.
	 */
	if (!s->size || bytes_all_zero(s->data, s->size < sizeof(*h) ? s->size : sizeof(*h))) {
		s->begin = s->size; /* no records: the scan finds none */
		return 0;
	}
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
	s->begin = h->header_size;
	return 0;
}

static int stream_load(struct stream *s, int dir_fd, const char *name, char *err, size_t errlen)
{
	struct stat st;
	void *map;
	int fd, ret;

	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", s->path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", s->path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		err_set(err, errlen, "%s: not a regular file", s->path);
		goto out;
	}
	s->size = st.st_size;
	if (s->size) {
		map = mmap(NULL, s->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			ret = -errno;
			err_set(err, errlen, "%s: mmap: %s", s->path, strerror(-ret));
			s->size = 0;
			goto out;
		}
		s->data = map;
	}
	ret = header_check(s, err, errlen);
	if (!ret)
		ret = stream_scan(s);
	if (ret == -ENOMEM)
		err_set(err, errlen, "%s: out of memory", s->path);
out:
	close(fd);
	return ret;
}

static void stream_free(struct stream *s)
{
	if (s->data)
		munmap((void *)s->data, s->size);
	free(s->order);
	free(s->problem);
	free(s->path);
}

static int stream_cmp(const void *a, const void *b)
{
	const struct stream *x = a, *y = b;

	if (x->hdr.pid != y->hdr.pid)
		return x->hdr.pid < y->hdr.pid ? -1 : 1;
	if (x->hdr.tid != y->hdr.tid)
		return x->hdr.tid < y->hdr.tid ? -1 : 1;
	if (x->hdr.serial != y->hdr.serial)
		return x->hdr.serial < y->hdr.serial ? -1 : 1;
	return strcmp(x->path, y->path);
}

static bool name_is_stream(const char *name)
{
	size_t n = strlen(name), sl = strlen(MMS_STREAM_SUFFIX);

	return n > sl && !strcmp(name + n - sl, MMS_STREAM_SUFFIX);
}

static int trace_add(struct mms_trace *t, size_t *cap, int dir_fd, const char *dir,
		     const char *name, char *err, size_t errlen)
{
	struct stream *s;
	int ret;

	if (t->nstreams == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct stream *n = realloc(t->streams, ncap * sizeof(*n));

		if (!n)
			goto nomem;
		t->streams = n;
		*cap = ncap;
	}
	s = &t->streams[t->nstreams];
	memset(s, 0, sizeof(*s));
	if (dir)
		ret = asprintf(&s->path, "%s/%s", dir, name);
	else
		ret = asprintf(&s->path, "%s", name);
	if (ret < 0) {
		s->path = NULL;
		goto nomem;
	}
	t->nstreams++;
	return stream_load(s, dir_fd, name, err, errlen);
nomem:
	err_set(err, errlen, "out of memory");
	return -ENOMEM;
}

static int trace_add_dir(struct mms_trace *t, const char *path, char *err, size_t errlen)
{
	size_t cap = 0, plen = strlen(path);
	struct dirent *de;
	char *dir;
	DIR *d;
	int ret = 0;

	/* "t.d/" names its files "t.d/x.mms", not "t.d//x.mms" */
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	dir = strndup(path, plen);
	if (!dir) {
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d = opendir(path);
	if (!d) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", dir, strerror(-ret));
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!name_is_stream(de->d_name))
			continue;
		ret = trace_add(t, &cap, dirfd(d), dir, de->d_name, err, errlen);
		if (ret)
			goto out_close;
	}
	if (errno) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", dir, strerror(-ret));
		goto out_close;
	}
	if (!t->nstreams) {
		ret = -ENOENT;
		err_set(err, errlen,
			"%s: no stream files (*%s); is this an mmscope trace directory?", dir,
			MMS_STREAM_SUFFIX);
	}
out_close:
	closedir(d);
out:
	free(dir);
	return ret;
}

/* ---- merge ---- */

static bool cursor_valid(const struct stream *s)
{
	return s->order ? s->pos < s->nrecords : s->pos < s->end;
}

static uint64_t cursor_offset(const struct stream *s)
{
	return s->order ? s->order[s->pos].off : s->pos;
}

static void cursor_load(struct stream *s)
{
	if (cursor_valid(s))
		s->cur_seq = rec_seq(s, cursor_offset(s));
}

static void cursor_advance(struct stream *s)
{
	if (s->order)
		s->pos++;
	else
		s->pos += rec_size(s, s->pos);
	cursor_load(s);
}

static bool heap_less(const struct mms_trace *t, size_t a, size_t b)
{
	uint64_t sa = t->streams[a].cur_seq, sb = t->streams[b].cur_seq;

	return sa != sb ? sa < sb : a < b;
}

static void heap_down(struct mms_trace *t, size_t i)
{
	size_t *h = t->heap, n = t->heap_len;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, tmp;

		if (l < n && heap_less(t, h[l], h[m]))
			m = l;
		if (r < n && heap_less(t, h[r], h[m]))
			m = r;
		if (m == i)
			return;
		tmp = h[i];
		h[i] = h[m];
		h[m] = tmp;
		i = m;
	}
}

void mms_trace_rewind(struct mms_trace *t)
{
	t->heap_len = 0;
	for (size_t i = 0; i < t->nstreams; i++) {
		struct stream *s = &t->streams[i];

		s->pos = s->order ? 0 : s->begin;
		cursor_load(s);
		if (cursor_valid(s))
			t->heap[t->heap_len++] = i;
	}
	for (size_t i = t->heap_len / 2; i-- > 0;)
		heap_down(t, i);
}

static void access_view(const void *p, uint32_t version, struct mms_access_view *v)
{
	const struct mms_rec_access_v2 *a = p;

	v->pc = a->pc;
	v->addr = a->addr;
	v->offset = a->offset;
	v->region = a->region;
	v->width = a->width;
	v->dir = a->dir;
	v->flags = a->flags;
	v->insn_len = a->insn_len;
	v->insn = a->insn;
	v->count = 1;
	v->last_ts_ns = a->ts_ns;
	v->mask = a->width >= 64 ? ~0ull : (1ull << a->width) - 1;
	v->value = a->value;
	if (version >= 3) {
		const struct mms_rec_access *a3 = p;
		if (a3->h.count > 1)
			v->count = a3->h.count;
		v->last_ts_ns = v->count > 1 ? a3->last_ts_ns : a3->ts_ns;
		if (a3->flags & MMS_AF_MASKED)
			v->mask = a3->mask;
		v->value = a3->value;
	}
	v->value_len = (v->flags & MMS_AF_STRING) ? (size_t)v->count * v->width : v->width;
}

static void record_fill(const struct stream *s, uint64_t off, struct mms_record *rec)
{
	const uint8_t *p = s->data + off;
	const char *text = NULL;
	size_t fixed = 0;

	memset(rec, 0, sizeof(*rec));
	rec->raw = p;
	rec->type = rec->common->h.type;
	rec->size = rec->common->h.size;
	rec->seq = rec->common->seq;
	rec->ts_ns = rec->common->ts_ns;
	rec->pid = s->hdr.pid;
	rec->tid = s->hdr.tid;
	rec->stream = s->path;
	rec->offset = off;
	rec->version = s->hdr.version;
	switch (rec->type) {
	case MMS_REC_ACCESS:
		access_view(rec->raw, s->hdr.version, &rec->acc);
		break;
	case MMS_REC_MAP:
		fixed = sizeof(struct mms_rec_map);
		text = rec->map->path;
		break;
	case MMS_REC_MARK:
		fixed = sizeof(struct mms_rec_mark);
		text = rec->mark->text;
		break;
	case MMS_REC_PROC:
		fixed = sizeof(struct mms_rec_proc);
		text = rec->proc->text;
		break;
	case MMS_REC_WATCH:
		fixed = sizeof(struct mms_rec_watch);
		text = rec->watch->expr;
		break;
	}
	if (text) {
		rec->text = text;
		rec->text_len = strnlen(text, rec->size - fixed);
	}
}

int mms_trace_next(struct mms_trace *t, struct mms_record *rec)
{
	struct stream *s;

	if (!t->heap_len)
		return -ENODATA;
	s = &t->streams[t->heap[0]];
	record_fill(s, cursor_offset(s), rec);
	cursor_advance(s);
	if (!cursor_valid(s))
		t->heap[0] = t->heap[--t->heap_len];
	heap_down(t, 0);
	return 0;
}

/* ---- open/close and queries ---- */

int mms_trace_open(const char *path, struct mms_trace **tracep, char *err, size_t errlen)
{
	struct mms_trace *t;
	struct stat st;
	size_t cap = 0;
	int ret;

	*tracep = NULL;
	if (stat(path, &st)) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (S_ISDIR(st.st_mode))
		ret = trace_add_dir(t, path, err, errlen);
	else
		ret = trace_add(t, &cap, AT_FDCWD, NULL, path, err, errlen);
	if (ret)
		goto fail;
	qsort(t->streams, t->nstreams, sizeof(*t->streams), stream_cmp);
	t->heap = calloc(t->nstreams, sizeof(*t->heap));
	if (!t->heap) {
		ret = -ENOMEM;
		err_set(err, errlen, "out of memory");
		goto fail;
	}
	mms_trace_rewind(t);
	*tracep = t;
	return 0;
fail:
	mms_trace_close(t);
	return ret;
}

void mms_trace_close(struct mms_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nstreams; i++)
		stream_free(&t->streams[i]);
	free(t->streams);
	free(t->heap);
	free(t);
}

size_t mms_trace_stream_count(const struct mms_trace *t)
{
	return t->nstreams;
}

int mms_trace_stream_info(const struct mms_trace *t, size_t i, struct mms_stream_info *info)
{
	const struct stream *s;

	if (i >= t->nstreams)
		return -ERANGE;
	s = &t->streams[i];
	info->path = s->path;
	info->pid = s->hdr.pid;
	info->tid = s->hdr.tid;
	info->serial = s->hdr.serial;
	info->start_ns = s->hdr.start_ns;
	info->nrecords = s->nrecords;
	info->end = s->end;
	info->status = s->status;
	info->problem = s->problem;
	return 0;
}

int mms_trace_status(const struct mms_trace *t)
{
	for (size_t i = 0; i < t->nstreams; i++)
		if (t->streams[i].status)
			return -EBADMSG;
	return 0;
}

uint64_t mms_trace_record_count(const struct mms_trace *t)
{
	uint64_t n = 0;

	for (size_t i = 0; i < t->nstreams; i++)
		n += t->streams[i].nrecords;
	return n;
}

uint64_t mms_trace_first_ts(const struct mms_trace *t)
{
	uint64_t ts = UINT64_MAX;

	for (size_t i = 0; i < t->nstreams; i++)
		if (t->streams[i].nrecords && t->streams[i].first_ts < ts)
			ts = t->streams[i].first_ts;
	return ts == UINT64_MAX ? 0 : ts;
}
