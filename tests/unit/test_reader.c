/* SPDX-License-Identifier: MIT */
/*
 * Trace reader specification.  Each test writes a small trace directory
 * byte by byte from include/mmscope/trace-format.h (no agent code), then
 * checks what src/trace/reader.c makes of it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace/reader.h"

#define TRACE_FIXTURE_NAME "mms-test-reader"
#include "trace-fixture.h"

/* ---- building streams ---- */

struct tbuf {
	uint8_t *p;
	size_t len;
};

static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Append `size` bytes (rounded to 8) and return where they start. */
static size_t tb_reserve(struct tbuf *b, size_t size)
{
	size_t off = b->len;

	size = round8(size);
	b->p = realloc(b->p, b->len + size);
	assert_non_null(b->p);
	memset(b->p + off, 0, size);
	b->len += size;
	return off;
}

/* a version 3 header: records right after it (version 4's tail: the
 * tail tests below) */
static void tb_header(struct tbuf *b, uint32_t pid, uint32_t tid, uint64_t serial)
{
	struct mms_file_header h = {
		.version = 3,
		.header_size = sizeof(h),
		.pid = pid,
		.tid = tid,
		.start_ns = 1000,
		.serial = serial,
	};

	size_t off;

	memcpy(h.magic, MMS_MAGIC, sizeof(h.magic));
	off = tb_reserve(b, sizeof(h)); /* may move b->p */
	memcpy(b->p + off, &h, sizeof(h));
}

/*
 * Start a record of `fixed + var` bytes; the header word is written by
 * tb_end() last, like the agent does.
 */
static void *tb_begin(struct tbuf *b, size_t fixed, size_t var, size_t *off, uint64_t seq,
		      uint64_t ts)
{
	struct mms_rec_common *c;

	*off = tb_reserve(b, fixed + var);
	c = (void *)(b->p + *off);
	c->seq = seq;
	c->ts_ns = ts;
	return c;
}

static size_t tb_end(struct tbuf *b, size_t off, uint16_t type)
{
	struct mms_rec_hdr h = { .type = type, .size = b->len - off };

	memcpy(b->p + off, &h, sizeof(h));
	return off;
}

static size_t tb_access(struct tbuf *b, uint64_t seq, uint64_t ts, uint8_t dir, uint8_t width,
			const uint8_t *value, uint16_t flags)
{
	static const uint8_t insn[] = { 0x8b, 0x07, 0x90 };
	struct mms_rec_access *a;
	size_t off;

	a = tb_begin(b, sizeof(*a), width, &off, seq, ts);
	a->pc = 0x401000 + seq;
	a->addr = 0x7f0000001000 + 8 * seq;
	a->offset = 8 * seq;
	a->region = 1;
	a->width = width;
	a->dir = dir;
	a->flags = flags;
	a->insn_len = sizeof(insn);
	memcpy(a->insn, insn, sizeof(insn));
	if (value)
		memcpy(a->value, value, width);
	return tb_end(b, off, MMS_REC_ACCESS);
}

static size_t tb_map(struct tbuf *b, uint64_t seq, uint64_t ts, const char *path)
{
	struct mms_rec_map *m;
	size_t off;

	m = tb_begin(b, sizeof(*m), strlen(path) + 1, &off, seq, ts);
	m->pc = 0x401234;
	m->addr = 0x7f0000000000;
	m->len = 0x2000;
	m->file_offset = 0x10000;
	m->region = 1;
	m->prot = 3;
	m->mmap_flags = 1;
	m->flags = MMS_MF_INHERITED;
	memcpy(m->path, path, strlen(path) + 1);
	return tb_end(b, off, MMS_REC_MAP);
}

static size_t tb_unmap(struct tbuf *b, uint64_t seq, uint64_t ts)
{
	struct mms_rec_unmap *u;
	size_t off;

	u = tb_begin(b, sizeof(*u), 0, &off, seq, ts);
	u->pc = 0x402000;
	u->addr = 0x7f0000000000;
	u->len = 0x2000;
	u->region = 1;
	return tb_end(b, off, MMS_REC_UNMAP);
}

static size_t tb_mark(struct tbuf *b, uint64_t seq, uint64_t ts, const char *text)
{
	struct mms_rec_mark *m;
	size_t off;

	m = tb_begin(b, sizeof(*m), strlen(text) + 1, &off, seq, ts);
	memcpy(m->text, text, strlen(text) + 1);
	return tb_end(b, off, MMS_REC_MARK);
}

static size_t tb_proc(struct tbuf *b, uint64_t seq, uint64_t ts, uint32_t event, int64_t arg,
		      const char *text)
{
	struct mms_rec_proc *p;
	size_t off;

	p = tb_begin(b, sizeof(*p), strlen(text) + 1, &off, seq, ts);
	p->event = event;
	p->pid = 4242;
	p->arg = arg;
	memcpy(p->text, text, strlen(text) + 1);
	return tb_end(b, off, MMS_REC_PROC);
}

static size_t tb_lost(struct tbuf *b, uint64_t seq, uint64_t ts, uint64_t count)
{
	struct mms_rec_lost *l;
	size_t off;

	l = tb_begin(b, sizeof(*l), 0, &off, seq, ts);
	l->count = count;
	return tb_end(b, off, MMS_REC_LOST);
}

/* Overwrite the header word of the record at off. */
static void tb_set_hdr(struct tbuf *b, size_t off, uint16_t type, uint16_t size)
{
	struct mms_rec_hdr h = { .type = type, .size = size };

	memcpy(b->p + off, &h, sizeof(h));
}

static char *tb_write(const char *dir, const char *name, struct tbuf *b, size_t len)
{
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b->p, len), (ssize_t)len);
	close(fd);
	free(b->p);
	b->p = NULL;
	b->len = 0;
	return path;
}

static void tb_write_all(const char *dir, const char *name, struct tbuf *b)
{
	free(tb_write(dir, name, b, b->len));
}

/* ---- fixture: tests/unit/trace-fixture.h ---- */

static struct mms_record next_ok(struct mms_trace *t)
{
	struct mms_record rec;

	assert_int_equal(mms_trace_next(t, &rec), 0);
	return rec;
}

static void assert_no_more(struct mms_trace *t)
{
	struct mms_record rec;

	assert_int_equal(mms_trace_next(t, &rec), -ENODATA);
}

/* Stream 0's status and problem text. */
static struct mms_stream_info stream0(struct mms_trace *t)
{
	struct mms_stream_info info;

	assert_int_equal(mms_trace_stream_info(t, 0, &info), 0);
	return info;
}

/* ---- tests ---- */

static void test_every_record_type_round_trips(void **state)
{
	static const uint8_t v4[4] = { 0x78, 0x56, 0x34, 0x12 };
	uint8_t v16[16];
	struct tbuf b = { 0 };
	struct mms_record r;
	struct mms_trace *t;
	size_t off[8];

	for (int i = 0; i < 16; i++)
		v16[i] = i;
	tb_header(&b, 100, 101, 1);
	off[0] = tb_map(&b, 1, 5000, "/dev/uio0");
	off[1] = tb_access(&b, 2, 5100, MMS_DIR_READ, 4, v4, MMS_AF_LOCKED);
	off[2] = tb_access(&b, 3, 5200, MMS_DIR_WRITE, 16, v16, MMS_AF_STRING);
	off[3] = tb_access(&b, 4, 5300, MMS_DIR_READ, 8, NULL,
			   MMS_AF_VALUE_UNKNOWN | MMS_AF_UNKNOWN_INSN);
	off[4] = tb_unmap(&b, 5, 5400);
	off[5] = tb_mark(&b, 6, 5500, "phase two");
	off[6] = tb_proc(&b, 7, 5600, MMS_PROC_EXIT, 3, "");
	off[7] = tb_lost(&b, 8, 5700, 9);
	tb_write_all(*state, "100-101-1.mms", &b);

	t = open_ok(*state);
	assert_int_equal(mms_trace_stream_count(t), 1);
	assert_int_equal(mms_trace_record_count(t), 8);
	assert_int_equal(mms_trace_first_ts(t), 5000);

	r = next_ok(t);
	assert_int_equal(r.type, MMS_REC_MAP);
	assert_int_equal(r.seq, 1);
	assert_int_equal(r.ts_ns, 5000);
	assert_int_equal(r.pid, 100);
	assert_int_equal(r.tid, 101);
	assert_int_equal(r.offset, off[0]);
	assert_int_equal(r.map->addr, 0x7f0000000000);
	assert_int_equal(r.map->len, 0x2000);
	assert_int_equal(r.map->file_offset, 0x10000);
	assert_int_equal(r.map->region, 1);
	assert_int_equal(r.map->prot, 3);
	assert_int_equal(r.map->mmap_flags, 1);
	assert_int_equal(r.map->flags, MMS_MF_INHERITED);
	assert_int_equal(r.map->pc, 0x401234);
	assert_int_equal(r.text_len, strlen("/dev/uio0"));
	assert_memory_equal(r.text, "/dev/uio0", r.text_len);
	assert_non_null(strstr(r.stream, "/100-101-1.mms"));

	r = next_ok(t);
	assert_int_equal(r.type, MMS_REC_ACCESS);
	assert_int_equal(r.seq, 2);
	assert_int_equal(r.offset, off[1]);
	assert_int_equal(r.acc.dir, MMS_DIR_READ);
	assert_int_equal(r.acc.width, 4);
	assert_int_equal(r.acc.flags, MMS_AF_LOCKED);
	assert_int_equal(r.acc.pc, 0x401002);
	assert_int_equal(r.acc.addr, 0x7f0000001010);
	assert_int_equal(r.acc.offset, 16);
	assert_int_equal(r.acc.insn_len, 3);
	assert_memory_equal(r.acc.value, v4, 4);
	assert_null(r.text);

	r = next_ok(t);
	assert_int_equal(r.offset, off[2]);
	assert_int_equal(r.acc.dir, MMS_DIR_WRITE);
	assert_int_equal(r.acc.width, 16);
	assert_int_equal(r.size, 96 + 16);
	assert_memory_equal(r.acc.value, v16, 16);

	r = next_ok(t);
	assert_int_equal(r.offset, off[3]);
	assert_int_equal(r.acc.flags, MMS_AF_VALUE_UNKNOWN | MMS_AF_UNKNOWN_INSN);

	r = next_ok(t);
	assert_int_equal(r.type, MMS_REC_UNMAP);
	assert_int_equal(r.offset, off[4]);
	assert_int_equal(r.unmap->addr, 0x7f0000000000);
	assert_int_equal(r.unmap->len, 0x2000);
	assert_int_equal(r.unmap->region, 1);
	assert_int_equal(r.unmap->pc, 0x402000);

	r = next_ok(t);
	assert_int_equal(r.type, MMS_REC_MARK);
	assert_int_equal(r.offset, off[5]);
	assert_int_equal(r.text_len, strlen("phase two"));
	assert_memory_equal(r.text, "phase two", r.text_len);

	r = next_ok(t);
	assert_int_equal(r.type, MMS_REC_PROC);
	assert_int_equal(r.offset, off[6]);
	assert_int_equal(r.proc->event, MMS_PROC_EXIT);
	assert_int_equal(r.proc->arg, 3);
	assert_int_equal(r.proc->pid, 4242);
	assert_int_equal(r.text_len, 0);

	r = next_ok(t);
	assert_int_equal(r.type, MMS_REC_LOST);
	assert_int_equal(r.offset, off[7]);
	assert_int_equal(r.lost->count, 9);
	assert_int_equal(r.ts_ns, 5700);

	assert_no_more(t);
	assert_int_equal(mms_trace_status(t), 0);
	assert_null(stream0(t).problem);
	mms_trace_close(t);
}

static void test_records_of_two_streams_merge_in_seq_order(void **state)
{
	static const uint64_t want_seq[] = { 1, 2, 3, 4, 5, 6 };
	static const uint32_t want_tid[] = { 10, 11, 11, 10, 10, 11 };
	struct tbuf b = { 0 };
	struct mms_trace *t;

	tb_header(&b, 10, 10, 1);
	tb_mark(&b, 1, 100, "a1");
	tb_mark(&b, 4, 400, "a4");
	tb_mark(&b, 5, 500, "a5");
	tb_write_all(*state, "10-10-1.mms", &b);
	tb_header(&b, 10, 11, 2);
	tb_mark(&b, 2, 200, "b2");
	tb_mark(&b, 3, 300, "b3");
	tb_mark(&b, 6, 600, "b6");
	tb_write_all(*state, "10-11-2.mms", &b);

	t = open_ok(*state);
	assert_int_equal(mms_trace_stream_count(t), 2);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < 6; i++) {
			struct mms_record r = next_ok(t);

			assert_int_equal(r.seq, want_seq[i]);
			assert_int_equal(r.pid, 10);
			assert_int_equal(r.tid, want_tid[i]);
		}
		assert_no_more(t);
		mms_trace_rewind(t); /* second pass: same sequence */
	}
	mms_trace_close(t);
}

static void test_stream_written_out_of_seq_order_is_merged_by_seq(void **state)
{
	struct tbuf b = { 0 };
	struct mms_trace *t;

	/* e.g. a signal handler's record landing inside another one's turn */
	tb_header(&b, 7, 7, 1);
	tb_mark(&b, 3, 300, "c");
	tb_mark(&b, 1, 100, "a");
	tb_mark(&b, 5, 500, "e");
	tb_write_all(*state, "7-7-1.mms", &b);
	tb_header(&b, 7, 8, 2);
	tb_mark(&b, 2, 200, "b");
	tb_mark(&b, 4, 400, "d");
	tb_write_all(*state, "7-8-2.mms", &b);

	t = open_ok(*state);
	for (uint64_t seq = 1; seq <= 5; seq++) {
		struct mms_record r = next_ok(t);

		assert_int_equal(r.seq, seq);
		assert_int_equal(r.text[0], 'a' + seq - 1);
	}
	assert_no_more(t);
	assert_int_equal(mms_trace_status(t), 0);
	mms_trace_close(t);
}

static void test_file_cut_mid_record_decodes_up_to_last_complete_one(void **state)
{
	struct mms_stream_info info;
	struct tbuf b = { 0 };
	struct mms_trace *t;
	char want[64];
	size_t third;

	tb_header(&b, 1, 1, 1);
	tb_mark(&b, 1, 100, "first");
	tb_mark(&b, 2, 200, "second");
	third = tb_mark(&b, 3, 300, "the third record, cut short");
	free(tb_write(*state, "1-1-1.mms", &b, third + 16));

	t = open_ok(*state);
	assert_int_equal(next_ok(t).seq, 1);
	assert_int_equal(next_ok(t).seq, 2);
	assert_no_more(t);
	assert_int_equal(mms_trace_status(t), -EBADMSG);
	info = stream0(t);
	assert_int_equal(info.nrecords, 2);
	assert_int_equal(info.end, third);
	snprintf(want, sizeof(want), "at byte offset %zu:", third);
	assert_non_null(strstr(info.problem, want));
	assert_non_null(strstr(info.problem, "runs past the end of the file"));
	assert_non_null(strstr(info.problem, "/1-1-1.mms: "));
	mms_trace_close(t);
}

static void test_zero_header_after_complete_records_ends_stream_cleanly(void **state)
{
	struct tbuf b = { 0 };
	struct mms_trace *t;
	size_t end;

	/* what a SIGKILL leaves: complete records, then the zeroed chunk */
	tb_header(&b, 1, 1, 1);
	tb_mark(&b, 1, 100, "one");
	tb_mark(&b, 2, 200, "two");
	end = b.len;
	tb_reserve(&b, 4096);
	b.p[end + 100] = 0xff; /* beyond the end marker: never looked at */
	tb_write_all(*state, "1-1-1.mms", &b);
	/* a stream that ends exactly at the end of the file */
	tb_header(&b, 1, 2, 2);
	tb_mark(&b, 3, 300, "three");
	tb_write_all(*state, "1-2-2.mms", &b);

	t = open_ok(*state);
	assert_int_equal(next_ok(t).seq, 1);
	assert_int_equal(next_ok(t).seq, 2);
	assert_int_equal(next_ok(t).seq, 3);
	assert_no_more(t);
	assert_int_equal(mms_trace_status(t), 0);
	assert_int_equal(stream0(t).end, end);
	assert_null(stream0(t).problem);
	mms_trace_close(t);
}

/*
 * Helper for the corruption tests: a stream with one good MARK, then a
 * record whose header is replaced by (type, size); returns its offset.
 */
static size_t write_with_bad_second(const char *dir, uint16_t type, uint16_t size)
{
	struct tbuf b = { 0 };
	size_t bad;

	tb_header(&b, 1, 1, 1);
	tb_mark(&b, 1, 100, "good");
	bad = tb_mark(&b, 2, 200, "the bad one, followed by more bytes");
	tb_mark(&b, 3, 300, "never reached");
	tb_set_hdr(&b, bad, type, size);
	tb_write_all(dir, "1-1-1.mms", &b);
	return bad;
}

static void expect_corrupt_at(const char *dir, size_t bad, const char *why)
{
	struct mms_stream_info info;
	struct mms_trace *t = open_ok(dir);
	char want[64];

	assert_int_equal(next_ok(t).seq, 1);
	assert_no_more(t);
	assert_int_equal(mms_trace_status(t), -EBADMSG);
	info = stream0(t);
	assert_int_equal(info.status, -EBADMSG);
	assert_int_equal(info.nrecords, 1);
	snprintf(want, sizeof(want), "corrupt record at byte offset %zu: ", bad);
	if (!strstr(info.problem, want) || !strstr(info.problem, why))
		fail_msg("unexpected problem text: %s", info.problem);
	mms_trace_close(t);
}

static void test_size_not_multiple_of_8_is_reported_with_offset(void **state)
{
	size_t bad = write_with_bad_second(*state, MMS_REC_MARK, 28);

	expect_corrupt_at(*state, bad, "size 28 is not a multiple of 8");
}

static void test_size_below_8_is_reported_with_offset(void **state)
{
	size_t bad = write_with_bad_second(*state, MMS_REC_MARK, 0);

	expect_corrupt_at(*state, bad, "size 0 is smaller than 8");
}

static void test_size_past_end_of_file_is_reported_with_offset(void **state)
{
	size_t bad = write_with_bad_second(*state, MMS_REC_MARK, 4096);

	expect_corrupt_at(*state, bad, "runs past the end of the file");
}

static void test_unknown_record_type_is_reported_with_offset(void **state)
{
	size_t bad = write_with_bad_second(*state, 99, 32);

	expect_corrupt_at(*state, bad, "unknown record type 99");
}

static void test_record_too_small_for_its_type_is_reported(void **state)
{
	size_t bad = write_with_bad_second(*state, MMS_REC_PROC, 32);

	expect_corrupt_at(*state, bad, "type 5 needs at least 40 bytes, has 32");
}

static void test_access_too_small_for_its_value_is_reported(void **state)
{
	static const uint8_t v[16];
	struct tbuf b = { 0 };
	size_t bad;

	tb_header(&b, 1, 1, 1);
	tb_mark(&b, 1, 100, "good");
	bad = tb_access(&b, 2, 200, MMS_DIR_READ, 16, v, 0);
	tb_set_hdr(&b, bad, MMS_REC_ACCESS, 104); /* 96 + 8 < 96 + 16 */
	tb_write_all(*state, "1-1-1.mms", &b);
	expect_corrupt_at(*state, bad, "too small for 16 value bytes");
}

static void test_unknown_version_is_rejected_naming_file_and_versions(void **state)
{
	struct mms_file_header *h;
	struct mms_trace *t = NULL;
	struct tbuf b = { 0 };
	char err[512], want[512], *slash;

	tb_header(&b, 123, 123, 1);
	tb_mark(&b, 1, 100, "x");
	h = (void *)b.p;
	h->version = 7;
	tb_write_all(*state, "123-123-1.mms", &b);

	/* a trailing slash must not end up in the file name */
	assert_true(asprintf(&slash, "%s/", (char *)*state) > 0);
	assert_int_equal(mms_trace_open(slash, &t, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_null(t);
	snprintf(
		want, sizeof(want),
		"%s/123-123-1.mms: trace format version 7 is not supported by this mmscope (supports 1 to 4)",
		(char *)*state);
	assert_string_equal(err, want);
	free(slash);
}

static void test_bad_magic_is_rejected_naming_file(void **state)
{
	struct mms_trace *t = NULL;
	struct tbuf b = { 0 };
	char err[512], want[512];

	tb_header(&b, 5, 5, 1);
	memcpy(b.p, "NOTMMSC1", 8);
	tb_write_all(*state, "5-5-1.mms", &b);

	assert_int_equal(mms_trace_open(*state, &t, err, sizeof(err)), -EBADMSG);
	assert_null(t);
	snprintf(want, sizeof(want), "%s/5-5-1.mms: not an mmscope trace stream", (char *)*state);
	assert_non_null(strstr(err, want));
}

static void test_bad_header_size_is_rejected(void **state)
{
	struct mms_file_header *h;
	struct mms_trace *t = NULL;
	struct tbuf b = { 0 };
	char err[512];

	tb_header(&b, 5, 5, 1);
	h = (void *)b.p;
	h->header_size = 12;
	tb_write_all(*state, "5-5-1.mms", &b);

	assert_int_equal(mms_trace_open(*state, &t, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "header_size 12"));
}

static void test_stream_file_without_header_yet_counts_as_empty(void **state)
{
	struct tbuf b = { 0 };
	struct mms_trace *t;

	/* created by a thread that was killed before it wrote anything */
	tb_reserve(&b, 4096);
	tb_write_all(*state, "3-4-2.mms", &b);
	free(tb_write(*state, "3-5-3.mms", &b, 0));
	tb_header(&b, 3, 3, 1);
	tb_mark(&b, 1, 100, "only record");
	tb_write_all(*state, "3-3-1.mms", &b);

	t = open_ok(*state);
	assert_int_equal(mms_trace_stream_count(t), 3);
	assert_int_equal(next_ok(t).seq, 1);
	assert_no_more(t);
	assert_int_equal(mms_trace_status(t), 0);
	mms_trace_close(t);
}

static void test_directory_without_streams_is_rejected(void **state)
{
	struct mms_trace *t = NULL;
	struct tbuf b = { 0 };
	char err[512];

	tb_reserve(&b, 8);
	tb_write_all(*state, "seq", &b); /* not a stream */
	assert_int_equal(mms_trace_open(*state, &t, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no stream files"));
	assert_int_equal(mms_trace_open("/nonexistent/mms-trace", &t, err, sizeof(err)), -ENOENT);
}

/* bytes [from, to) of b into dir/name, which is created if need be and
 * neither truncated nor shrunk (a writer appending to a live stream) */
static void tb_pwrite(const char *dir, const char *name, const struct tbuf *b, size_t from,
		      size_t to)
{
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b->p + from, to - from, from), (ssize_t)(to - from));
	close(fd);
	free(path);
}

static void test_refresh_reads_records_committed_and_streams_created_later(void **state)
{
	struct tbuf b = { 0 }, c = { 0 };
	struct mms_trace *t;
	uint64_t n = 99;
	char *path;
	size_t second;

	tb_header(&b, 1, 1, 1);
	tb_mark(&b, 1, 100, "first");
	second = tb_mark(&b, 2, 200, "committed later");
	tb_reserve(&b, 4096); /* room the writer has allocated, still zero */
	/* the file as the writer leaves it before the second record is
	 * written: allocated, zero from there on */
	tb_pwrite(*state, "1-1-1.mms", &b, 0, second);
	assert_true(asprintf(&path, "%s/1-1-1.mms", (char *)*state) > 0);
	assert_int_equal(truncate(path, b.len), 0);
	free(path);

	t = open_ok(*state);
	assert_int_equal(next_ok(t).seq, 1);
	assert_no_more(t);
	assert_int_equal(mms_trace_refresh(t, &n), 0);
	assert_int_equal(n, 0);
	assert_no_more(t);

	/* the record body, then its header word, as the writer does */
	tb_pwrite(*state, "1-1-1.mms", &b, second + 8, b.len);
	tb_pwrite(*state, "1-1-1.mms", &b, second, second + 8);
	tb_header(&c, 2, 2, 1);
	tb_mark(&c, 3, 300, "a new thread");
	tb_write_all(*state, "2-2-1.mms", &c);

	assert_int_equal(mms_trace_refresh(t, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(next_ok(t).seq, 2);
	assert_int_equal(next_ok(t).seq, 3);
	assert_no_more(t);
	assert_int_equal(mms_trace_status(t), 0);
	assert_int_equal(mms_trace_stream_count(t), 2);
	mms_trace_close(t);
	free(b.p);
}

static void test_fifo_symlink_and_zero_header_are_skipped_with_warnings(void **state)
{
	struct tbuf b = { 0 };
	struct mms_trace *t;
	char *path, *target;

	tb_header(&b, 1, 1, 1);
	tb_mark(&b, 1, 100, "real");
	tb_write_all(*state, "1-1-1.mms", &b);
	/* would hang a reader that opens it for reading */
	assert_true(asprintf(&path, "%s/fifo.mms", (char *)*state) > 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	free(path);
	/* a link to a stream: not followed inside a trace directory */
	assert_true(asprintf(&path, "%s/link.mms", (char *)*state) > 0);
	assert_true(asprintf(&target, "%s/1-1-1.mms", (char *)*state) > 0);
	assert_int_equal(symlink(target, path), 0);
	free(path);
	free(target);
	/* records behind a header that was zeroed */
	tb_header(&b, 2, 2, 1);
	tb_mark(&b, 2, 200, "behind a zero header");
	memset(b.p, 0, sizeof(struct mms_file_header));
	tb_write_all(*state, "2-2-1.mms", &b);

	t = open_ok(*state);
	assert_int_equal(mms_trace_stream_count(t), 1);
	assert_int_equal(next_ok(t).seq, 1);
	assert_no_more(t);
	assert_int_equal(mms_trace_warning_count(t), 3);
	for (size_t i = 0; i < 3; i++) {
		const char *w = mms_trace_warning(t, i);

		if (strstr(w, "/fifo.mms"))
			assert_non_null(strstr(w, "not a regular file"));
		else if (strstr(w, "/link.mms"))
			assert_non_null(strstr(w, "symbolic link"));
		else
			assert_non_null(strstr(w, "/2-2-1.mms: the stream header is all zero"));
	}
	/* looking again does not warn again */
	assert_int_equal(mms_trace_refresh(t, NULL), 0);
	assert_int_equal(mms_trace_warning_count(t), 3);
	mms_trace_close(t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dir_setup, dir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_record_type_round_trips),
		T(test_records_of_two_streams_merge_in_seq_order),
		T(test_stream_written_out_of_seq_order_is_merged_by_seq),
		T(test_file_cut_mid_record_decodes_up_to_last_complete_one),
		T(test_zero_header_after_complete_records_ends_stream_cleanly),
		T(test_size_not_multiple_of_8_is_reported_with_offset),
		T(test_size_below_8_is_reported_with_offset),
		T(test_size_past_end_of_file_is_reported_with_offset),
		T(test_unknown_record_type_is_reported_with_offset),
		T(test_record_too_small_for_its_type_is_reported),
		T(test_access_too_small_for_its_value_is_reported),
		T(test_unknown_version_is_rejected_naming_file_and_versions),
		T(test_bad_magic_is_rejected_naming_file),
		T(test_bad_header_size_is_rejected),
		T(test_stream_file_without_header_yet_counts_as_empty),
		T(test_directory_without_streams_is_rejected),
		T(test_refresh_reads_records_committed_and_streams_created_later),
		T(test_fifo_symlink_and_zero_header_are_skipped_with_warnings),
	};

	return cmocka_run_group_tests_name("trace reader", tests, NULL, NULL);
}
