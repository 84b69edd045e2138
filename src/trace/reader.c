/* SPDX-License-Identifier: MIT */
/*
 * Trace reader: finds the stream files of a trace (reader-stream.c maps
 * and checks each one), then merges the streams by `seq` with a binary
 * heap (one entry per stream), so memory does not grow with the trace.
 * A trace still being written can be looked at again (mms_trace_refresh):
 * streams that grew and streams that appeared join the merge.  See
 * reader.h for the API and docs/trace-format.md for the rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/reader-internal.h"

#define err_set rd_err_set

struct mms_trace {
	struct rd_stream *streams;
	size_t nstreams, cap;
	size_t *heap; /* stream indices, min-heap on (cur_seq, index) */
	size_t heap_len;
	char *dir;	 /* the directory, without trailing slashes; NULL: one file */
	int dir_fd;	 /* open on dir, or AT_FDCWD */
	char **warnings; /* files skipped, one message each */
	char **skipped;	 /* and their names, not to be looked at again */
	size_t nwarnings;
};

static int warn_add(struct mms_trace *t, const char *name, const char *msg)
{
	char **w = realloc(t->warnings, (t->nwarnings + 1) * sizeof(*w)), **n;

	if (!w)
		return -ENOMEM;
	t->warnings = w;
	n = realloc(t->skipped, (t->nwarnings + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->skipped = n;
	w[t->nwarnings] = strdup(msg);
	n[t->nwarnings] = strdup(name);
	if (!w[t->nwarnings] || !n[t->nwarnings]) {
		free(w[t->nwarnings]);
		free(n[t->nwarnings]);
		return -ENOMEM;
	}
	t->nwarnings++;
	return 0;
}

static bool name_is_stream(const char *name)
{
	size_t n = strlen(name), sl = strlen(MMS_STREAM_SUFFIX);

	return n > sl && !strcmp(name + n - sl, MMS_STREAM_SUFFIX);
}

static bool stream_known(const struct mms_trace *t, const char *name)
{
	for (size_t i = 0; i < t->nstreams; i++)
		if (!strcmp(t->streams[i].name, name))
			return true;
	for (size_t i = 0; i < t->nwarnings; i++)
		if (!strcmp(t->skipped[i], name))
			return true;
	return false;
}

static int streams_grow(struct mms_trace *t)
{
	size_t ncap;
	struct rd_stream *n;
	size_t *h;

	if (t->nstreams < t->cap)
		return 0;
	ncap = t->cap ? t->cap * 2 : 16;
	n = realloc(t->streams, ncap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->streams = n;
	h = realloc(t->heap, ncap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	t->heap = h;
	t->cap = ncap;
	return 0;
}

/*
 * Add the stream file `name`.  A file that is not a regular file, a
 * symlink in a directory, or a file with a zero header in front of data
 * is skipped with a warning; anything else wrong fails the trace.
 */
static int trace_add(struct mms_trace *t, const char *name, char *err, size_t errlen)
{
	struct rd_stream *s;
	char why[PATH_MAX + 160];
	int ret;

	if (streams_grow(t))
		goto nomem;
	s = &t->streams[t->nstreams];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (t->dir)
		ret = asprintf(&s->path, "%s/%s", t->dir, name);
	else
		ret = asprintf(&s->path, "%s", name);
	if (ret < 0 || !s->name) {
		free(s->name);
		goto nomem;
	}
	why[0] = 0;
	ret = rd_stream_load(s, t->dir_fd, t->dir != NULL, why, sizeof(why));
	if (ret == -ENOTSUP && t->dir) {
		rd_stream_free(s);
		return warn_add(t, name, why) ? -ENOMEM : 0;
	}
	t->nstreams++;
	if (ret)
		err_set(err, errlen, "%s", why);
	return ret;
nomem:
	err_set(err, errlen, "out of memory");
	return -ENOMEM;
}

/* Every stream file of the directory not yet known. */
static int trace_scan_dir(struct mms_trace *t, char *err, size_t errlen)
{
	struct dirent *de;
	int fd, ret = 0;
	DIR *d;

	fd = openat(t->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		err_set(err, errlen, "%s: %s", t->dir, strerror(-ret));
		return ret;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!name_is_stream(de->d_name) || stream_known(t, de->d_name))
			continue;
		ret = trace_add(t, de->d_name, err, errlen);
		if (ret)
			goto out;
	}
	if (errno) {
		ret = -errno;
		err_set(err, errlen, "%s: %s", t->dir, strerror(-ret));
	}
out:
	closedir(d);
	return ret;
}

static int trace_open_dir(struct mms_trace *t, const char *path, char *err, size_t errlen)
{
	size_t plen = strlen(path);
	int ret;

	/* "t.d/" names its files "t.d/x.mms", not "t.d//x.mms" */
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	t->dir = strndup(path, plen);
	if (!t->dir) {
		err_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dir_fd < 0) {
		ret = -errno;
		t->dir_fd = AT_FDCWD;
		err_set(err, errlen, "%s: %s", t->dir, strerror(-ret));
		return ret;
	}
	ret = trace_scan_dir(t, err, errlen);
	if (!ret && !t->nstreams) {
		ret = -ENOENT;
		err_set(err, errlen,
			"%s: no stream files (*%s); is this an mmscope trace directory?%s", t->dir,
			MMS_STREAM_SUFFIX, t->nwarnings ? " (some were skipped, see above)" : "");
	}
	return ret;
}

/* ---- merge ---- */

static bool cursor_valid(const struct rd_stream *s)
{
	return s->order ? s->pos < s->nrecords : s->pos < s->end;
}

static uint64_t cursor_offset(const struct rd_stream *s)
{
	return s->order ? s->order[s->pos].off : s->pos;
}

static void cursor_load(struct rd_stream *s)
{
	if (cursor_valid(s))
		s->cur_seq = rd_rec_seq(s, cursor_offset(s));
}

static void cursor_advance(struct rd_stream *s)
{
	if (s->order)
		s->pos++;
	else
		s->pos += rd_rec_size(s, s->pos);
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

static void heap_up(struct mms_trace *t, size_t i)
{
	size_t *h = t->heap, tmp;

	while (i && heap_less(t, h[i], h[(i - 1) / 2])) {
		tmp = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

/* Put stream i back into the merge if it has a record to give. */
static void heap_offer(struct mms_trace *t, size_t i)
{
	struct rd_stream *s = &t->streams[i];

	if (s->in_heap)
		return;
	cursor_load(s);
	if (!cursor_valid(s))
		return;
	s->in_heap = true;
	t->heap[t->heap_len] = i;
	heap_up(t, t->heap_len++);
}

void mms_trace_rewind(struct mms_trace *t)
{
	t->heap_len = 0;
	for (size_t i = 0; i < t->nstreams; i++) {
		struct rd_stream *s = &t->streams[i];

		s->pos = s->order ? 0 : s->begin;
		s->in_heap = false;
		heap_offer(t, i);
	}
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

static void record_fill(const struct rd_stream *s, uint64_t off, struct mms_record *rec)
{
	const uint8_t *p = rd_at(s, off);
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
	struct rd_stream *s;

	if (!t->heap_len)
		return -ENODATA;
	s = &t->streams[t->heap[0]];
	record_fill(s, cursor_offset(s), rec);
	cursor_advance(s);
	if (!cursor_valid(s)) {
		s->in_heap = false;
		t->heap[0] = t->heap[--t->heap_len];
	}
	heap_down(t, 0);
	return 0;
}

/* ---- open/close and queries ---- */

static int stream_cmp(const void *a, const void *b)
{
	const struct rd_stream *x = a, *y = b;

	if (x->hdr.pid != y->hdr.pid)
		return x->hdr.pid < y->hdr.pid ? -1 : 1;
	if (x->hdr.tid != y->hdr.tid)
		return x->hdr.tid < y->hdr.tid ? -1 : 1;
	if (x->hdr.serial != y->hdr.serial)
		return x->hdr.serial < y->hdr.serial ? -1 : 1;
	return strcmp(x->path, y->path);
}

int mms_trace_open(const char *path, struct mms_trace **tracep, char *err, size_t errlen)
{
	struct mms_trace *t;
	struct stat st;
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
	t->dir_fd = AT_FDCWD;
	if (S_ISDIR(st.st_mode))
		ret = trace_open_dir(t, path, err, errlen);
	else
		ret = trace_add(t, path, err, errlen);
	if (ret)
		goto fail;
	qsort(t->streams, t->nstreams, sizeof(*t->streams), stream_cmp);
	mms_trace_rewind(t);
	*tracep = t;
	return 0;
fail:
	mms_trace_close(t);
	return ret;
}

int mms_trace_refresh(struct mms_trace *t, uint64_t *nnew)
{
	size_t old = t->nstreams;
	uint64_t n = 0;
	int ret = 0;

	for (size_t i = 0; i < old; i++) {
		struct rd_stream *s = &t->streams[i];
		bool had_hdr = s->have_hdr;
		int64_t got = rd_stream_refresh(s, t->dir_fd, t->dir != NULL);

		if (got <= 0)
			continue; /* vanished or unreadable now: keep what was read */
		if (!had_hdr)
			s->pos = s->order ? 0 : s->begin;
		n += got;
		heap_offer(t, i);
	}
	if (t->dir)
		ret = trace_scan_dir(t, NULL, 0);
	for (size_t i = old; i < t->nstreams; i++) {
		n += t->streams[i].nrecords;
		t->streams[i].pos = t->streams[i].order ? 0 : t->streams[i].begin;
		heap_offer(t, i);
	}
	if (nnew)
		*nnew = n;
	return ret;
}

void mms_trace_close(struct mms_trace *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nstreams; i++)
		rd_stream_free(&t->streams[i]);
	for (size_t i = 0; i < t->nwarnings; i++) {
		free(t->warnings[i]);
		free(t->skipped[i]);
	}
	free(t->skipped);
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	free(t->warnings);
	free(t->streams);
	free(t->heap);
	free(t->dir);
	free(t);
}

size_t mms_trace_warning_count(const struct mms_trace *t)
{
	return t->nwarnings;
}

const char *mms_trace_warning(const struct mms_trace *t, size_t i)
{
	return i < t->nwarnings ? t->warnings[i] : NULL;
}

size_t mms_trace_stream_count(const struct mms_trace *t)
{
	return t->nstreams;
}

int mms_trace_stream_info(const struct mms_trace *t, size_t i, struct mms_stream_info *info)
{
	const struct rd_stream *s;

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
