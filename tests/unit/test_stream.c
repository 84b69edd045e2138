/* SPDX-License-Identifier: MIT */
/*
 * The stream writer (src/trace/stream.c) and the reader together, format
 * version 4: records written through the tail, which is written out to
 * the file every few hundred records, come back exactly once and in
 * order -- from a stream closed cleanly, from one whose writer was
 * killed (never closed: its last records only in the tail), while it is
 * being written (refresh after refresh), and from the states a writer
 * killed halfway through writing the tail out leaves behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace/reader.h"
#include "trace/stream.h"

#define TRACE_FIXTURE_NAME "mms-test-stream"
#include "trace-fixture.h"

#define NAME "5-5-1.mms"
#define N 5000 /* records: ~40 tails' worth */

static struct mms_seq_page page; /* LOST records take their seq from it */

static void open_stream(const char *dir, struct stream *s)
{
	struct mms_file_header h = { .header_size = sizeof(h), .pid = 5, .tid = 5, .serial = 1 };
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(dfd >= 0);
	memcpy(h.magic, MMS_MAGIC, sizeof(h.magic));
	h.version = MMS_VERSION;
	memset(&page, 0, sizeof(page));
	assert_int_equal(stream_open(s, dfd, NAME, &h, &page), 0);
	close(dfd);
}

/* MARK record i: its text is "mark <i>" and some padding that varies
 * its size (so records end anywhere in the tail) */
static void put_mark(struct stream *s, unsigned i)
{
	char text[96];
	int len = snprintf(text, sizeof(text), "mark %u %.*s", i, (int)(i % 61), "");
	size_t size = MMS_PAD8(sizeof(struct mms_rec_mark) + (size_t)len + 1);
	struct mms_rec_mark *m = stream_reserve(s, size);

	assert_non_null(m);
	m->seq = i + 1;
	m->ts_ns = 1000 + i;
	memcpy(m->text, text, (size_t)len + 1);
	stream_commit(s, m, MMS_REC_MARK, size);
}

/* the next n records are marks from, in order, each once */
static void expect_marks(struct mms_trace *t, unsigned from, unsigned n)
{
	struct mms_record rec;
	char want[32];

	for (unsigned i = from; i < from + n; i++) {
		assert_int_equal(mms_trace_next(t, &rec), 0);
		assert_int_equal(rec.type, MMS_REC_MARK);
		assert_int_equal(rec.seq, i + 1);
		snprintf(want, sizeof(want), "mark %u ", i);
		assert_memory_equal(rec.mark->text, want, strlen(want));
	}
}

static void assert_all(const char *dir, unsigned n)
{
	struct mms_trace *t = open_ok(dir);
	struct mms_record rec;

	expect_marks(t, 0, n);
	assert_int_equal(mms_trace_next(t, &rec), -ENODATA);
	assert_int_equal(mms_trace_status(t), 0);
	mms_trace_close(t);
}

static void test_closed_stream_reads_back_every_record(void **state)
{
	struct stream s;
	struct stat st;
	char path[512];

	open_stream(*state, &s);
	for (unsigned i = 0; i < N; i++)
		put_mark(&s, i);
	stream_close(&s);
	assert_all(*state, N);
	/* written out: the tail is a hole again */
	snprintf(path, sizeof(path), "%s/%s", (char *)*state, NAME);
	assert_int_equal(stat(path, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size - STREAM_TAIL_LEN / 2);
}

static void test_killed_writer_loses_nothing(void **state)
{
	struct stream s;

	open_stream(*state, &s);
	for (unsigned i = 0; i < N; i++)
		put_mark(&s, i);
	/* not closed: the last records are only in the tail */
	assert_true(s.pos > s.base);
	assert_all(*state, N);
	stream_forget(&s);
	assert_all(*state, N);
}

static void test_live_reader_takes_every_record_once(void **state)
{
	struct stream s;
	struct mms_trace *t;
	unsigned done = 0, step = 7;
	uint64_t n;

	open_stream(*state, &s);
	put_mark(&s, done++);
	t = open_ok(*state);
	expect_marks(t, 0, 1);
	while (done < N) {
		unsigned k = done + step > N ? N - done : step;
		for (unsigned i = 0; i < k; i++)
			put_mark(&s, done + i);
		assert_int_equal(mms_trace_refresh(t, &n), 0);
		assert_int_equal(n, k);
		expect_marks(t, done, k);
		done += k;
		step = step * 5 % 97 + 1; /* some refreshes inside one tail, some across */
	}
	stream_close(&s);
	assert_int_equal(mms_trace_refresh(t, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(mms_trace_status(t), 0);
	mms_trace_close(t);
	assert_all(*state, N);
}

#define NLIVE 200000

static void *writer(void *arg)
{
	struct stream *s = arg;

	for (unsigned i = 1; i < NLIVE; i++)
		put_mark(s, i);
	return NULL;
}

/* a reader looking while another thread writes: every record once, in
 * order, never a damaged one (the tail copied while being emptied) */
static void test_reader_beside_a_running_writer(void **state)
{
	struct mms_record rec;
	struct mms_trace *t;
	struct stream s;
	pthread_t th;
	unsigned seen = 0;
	char want[32];

	open_stream(*state, &s);
	put_mark(&s, 0);
	t = open_ok(*state);
	assert_int_equal(pthread_create(&th, NULL, writer, &s), 0);
	while (seen < NLIVE) {
		assert_int_equal(mms_trace_refresh(t, NULL), 0);
		while (mms_trace_next(t, &rec) == 0) {
			assert_int_equal(rec.seq, seen + 1);
			snprintf(want, sizeof(want), "mark %u ", seen);
			assert_memory_equal(rec.mark->text, want, strlen(want));
			seen++;
		}
		assert_int_equal(mms_trace_status(t), 0);
	}
	pthread_join(th, NULL);
	stream_close(&s);
	mms_trace_close(t);
	assert_all(*state, NLIVE);
}

/* the file cannot grow (RLIMIT_FSIZE: the pwrite fails, as on a full
 * disk) after many rounds of the tail: the records before, one LOST
 * record counting the rest, and nothing of an earlier round after it;
 * once the file can grow, records go on after the LOST record */
static void test_records_that_cannot_be_written_are_counted_once(void **state)
{
	struct rlimit old, lim;
	struct mms_record rec;
	struct mms_trace *t;
	struct stream s;
	unsigned i = 0, lost = 0;

	open_stream(*state, &s);
	for (; i < N; i++)
		put_mark(&s, i);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = s.base;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	/* what an earlier round left in the rest of the tail, made loud */
	memset(s.map + STREAM_TAIL_OFF + (s.pos - s.base), 0xff,
	       STREAM_TAIL_LEN - (s.pos - s.base));
	/* until the tail is full and a LOST record counts */
	for (unsigned k = 0; k < 3000; k++) {
		char text[] = "mark lost";
		size_t size = MMS_PAD8(sizeof(struct mms_rec_mark) + sizeof(text));
		uint64_t rem = s.base + STREAM_TAIL_LEN - s.pos;
		struct mms_rec_mark *m;

		/* the last record that fits leaves 48 bytes: the LOST record
		 * then has 24 of the earlier round's after it */
		if (rem < 160 && rem >= 48 + 40)
			size = rem - 48;

		page.seq = i + 1; /* the LOST record's, when it is made now */
		m = stream_reserve(&s, size);
		if (!m) {
			lost++;
			continue;
		}
		m->seq = ++i;
		memcpy(m->text, text, sizeof(text));
		stream_commit(&s, m, MMS_REC_MARK, size);
	}
	assert_true(lost > 0);
	assert_int_equal(s.lost, lost);
	assert_int_equal(page.lost, lost);
	/* as a program killed now leaves it: the LOST record last */
	t = open_ok(*state);
	expect_marks(t, 0, N);
	for (unsigned k = N; k < i; k++)
		assert_int_equal(mms_trace_next(t, &rec), 0);
	assert_int_equal(mms_trace_next(t, &rec), 0);
	assert_int_equal(rec.type, MMS_REC_LOST);
	assert_int_equal(mms_trace_next(t, &rec), -ENODATA);
	assert_int_equal(mms_trace_status(t), 0);
	mms_trace_close(t);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	s.retry_ns = 0; /* retry now, not after the backoff */
	put_mark(&s, 99999);
	stream_close(&s);

	t = open_ok(*state);
	expect_marks(t, 0, N);
	for (unsigned k = N; k < i; k++) {
		assert_int_equal(mms_trace_next(t, &rec), 0);
		assert_int_equal(rec.type, MMS_REC_MARK);
		assert_string_equal(rec.mark->text, "mark lost");
	}
	assert_int_equal(mms_trace_next(t, &rec), 0);
	assert_int_equal(rec.type, MMS_REC_LOST);
	assert_int_equal(rec.lost->count, lost);
	assert_int_equal(mms_trace_next(t, &rec), 0);
	assert_int_equal(rec.type, MMS_REC_MARK);
	assert_memory_equal(rec.mark->text, "mark 99999 ", 11);
	assert_int_equal(mms_trace_next(t, &rec), -ENODATA);
	assert_int_equal(mms_trace_status(t), 0);
	mms_trace_close(t);
}

/* the file's bytes, and its header */
static uint8_t *slurp(const char *dir, size_t *len)
{
	char path[512];
	struct stat st;
	uint8_t *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, NAME);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0 && fstat(fd, &st) == 0);
	p = malloc((size_t)st.st_size);
	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void spill(const char *dir, const uint8_t *p, size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, NAME);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

/* a stream of n marks, closed: its bytes */
static uint8_t *written(const char *dir, unsigned n, size_t *len)
{
	struct stream s;

	open_stream(dir, &s);
	for (unsigned i = 0; i < n; i++)
		put_mark(&s, i);
	stream_close(&s);
	return slurp(dir, len);
}

/* the file offset of record k of a stream written out whole */
static uint64_t record_at(const uint8_t *p, unsigned k)
{
	uint64_t off = STREAM_DATA_OFF;

	for (unsigned i = 0; i < k; i++)
		off += ((const struct mms_rec_hdr *)(p + off))->size;
	return off;
}

/* killed after the pwrite, before tail_base moved: the file holds the
 * tail's records too (here cut inside one: a short write); the tail's
 * copy is what counts */
static void test_records_past_the_tail_base_are_the_tails(void **state)
{
	struct mms_file_header *h;
	uint64_t base, end;
	uint8_t *p;
	size_t len;

	p = written(*state, 300, &len);
	h = (void *)p;
	base = record_at(p, 250);
	end = record_at(p, 300);
	assert_int_equal(end, len);
	assert_true(end - base < STREAM_TAIL_LEN);
	memcpy(p + STREAM_TAIL_OFF, p + base, end - base);
	h->tail_base = base;
	spill(*state, p, (size_t)(base + (end - base) / 2 + 3));
	assert_all(*state, 300);
	free(p);
}

/* bit 0 of tail_base: the file holds everything, the tail is ignored */
static void test_a_tail_being_emptied_is_not_read(void **state)
{
	struct mms_file_header *h;
	uint8_t *p;
	size_t len;

	p = written(*state, 300, &len);
	h = (void *)p;
	memcpy(p + STREAM_TAIL_OFF, p + record_at(p, 10), 4096); /* stale records */
	h->tail_base = len | 1;
	spill(*state, p, len);
	assert_all(*state, 300);
	free(p);
}

/* a file cut before tail_base: its records up to the cut, not the tail */
static void test_a_file_cut_before_the_tail_base_ends_at_the_cut(void **state)
{
	struct mms_trace *t;
	struct mms_record rec;
	struct stream s;

	open_stream(*state, &s);
	for (unsigned i = 0; i < N; i++)
		put_mark(&s, i);
	assert_true(s.base > STREAM_DATA_OFF);
	uint8_t *p;
	size_t len;
	stream_forget(&s);
	p = slurp(*state, &len);
	spill(*state, p, (size_t)record_at(p, 100));
	t = open_ok(*state);
	expect_marks(t, 0, 100);
	assert_int_equal(mms_trace_next(t, &rec), -ENODATA);
	mms_trace_close(t);
	free(p);
}

static void test_a_bad_tail_in_the_header_is_refused(void **state)
{
	struct mms_file_header *h;
	struct mms_trace *t = NULL;
	char err[512] = "";
	uint8_t *p;
	size_t len;

	p = written(*state, 1, &len);
	h = (void *)p;
	h->tail_off = 12;
	spill(*state, p, len);
	assert_int_equal(mms_trace_open(*state, &t, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "bad stream header: a tail of"));
	free(p);
}

#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_closed_stream_reads_back_every_record),
		T(test_killed_writer_loses_nothing),
		T(test_live_reader_takes_every_record_once),
		T(test_reader_beside_a_running_writer),
		T(test_records_that_cannot_be_written_are_counted_once),
		T(test_records_past_the_tail_base_are_the_tails),
		T(test_a_tail_being_emptied_is_not_read),
		T(test_a_file_cut_before_the_tail_base_ends_at_the_cut),
		T(test_a_bad_tail_in_the_header_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
