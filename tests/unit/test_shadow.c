/* SPDX-License-Identifier: MIT */
/*
 * The shadow register file (src/trace/shadow.c) against a model that
 * keeps, per byte, its value, whether it is known and the record that
 * last changed it: random accesses of every width, masked, of unknown
 * value, past the end; then whole records (repeats, string runs up and
 * down) against the same accesses applied one by one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trace/shadow.h"

#define LEN 100 /* not a multiple of 8: the last word is short */

struct model {
	uint8_t value[LEN];
	int known[LEN];
	uint64_t seq[LEN]; /* the record that last set or cleared the byte */
};

static void model_apply(struct model *m, uint64_t off, unsigned width, int dir, unsigned flags,
			uint64_t mask, const uint8_t *v, uint64_t seq)
{
	int unknown = !v || (flags & MMS_AF_VALUE_UNKNOWN);

	if (unknown && dir != MMS_DIR_WRITE)
		return;
	for (unsigned i = 0; i < width; i++) {
		if (off + i >= LEN || ((flags & MMS_AF_MASKED) && !(mask >> i & 1)))
			continue;
		m->known[off + i] = !unknown;
		if (!unknown)
			m->value[off + i] = v[i];
		m->seq[off + i] = seq;
	}
}

/* the shadow's seq of a word: the latest record that touched one of its
 * bytes */
static uint64_t model_word_seq(const struct model *m, unsigned w)
{
	uint64_t s = 0;

	for (unsigned i = w * 8; i < w * 8 + 8 && i < LEN; i++)
		if (m->seq[i] > s)
			s = m->seq[i];
	return s;
}

static void check(const struct shadow *s, const struct model *m)
{
	for (unsigned i = 0; i < LEN; i++) {
		assert_int_equal(shadow_known(s, i), m->known[i]);
		if (m->known[i])
			assert_int_equal(s->value[i], m->value[i]);
	}
	for (unsigned w = 0; w < (LEN + 7) / 8; w++)
		assert_int_equal(s->seq[w], model_word_seq(m, w));
	for (unsigned i = 0; i < LEN; i++) {
		size_t run = 0;
		while (i + run < LEN && m->known[i + run])
			run++;
		assert_int_equal(shadow_known_run(s, i, LEN), run);
	}
	assert_int_equal(shadow_known(s, LEN), 0);
}

static void test_random_accesses_match_the_model(void **state)
{
	static const unsigned widths[] = { 1, 2, 4, 8, 16, 32, 64 };
	void *mem = calloc(1, shadow_size(LEN));
	struct shadow s;
	struct model m = { 0 };

	(void)state;
	shadow_init(&s, mem, LEN);
	srand(7);
	for (uint64_t seq = 1; seq <= 20000; seq++) {
		unsigned width = widths[rand() % 7];
		uint64_t off = (uint64_t)(rand() % (LEN + 8));
		int dir = rand() % 2 ? MMS_DIR_READ : MMS_DIR_WRITE;
		unsigned flags = 0;
		uint64_t mask = 0;
		uint8_t v[64];
		for (unsigned i = 0; i < width; i++)
			v[i] = (uint8_t)rand();
		if (rand() % 8 == 0)
			flags |= MMS_AF_VALUE_UNKNOWN;
		if (rand() % 6 == 0) {
			flags |= MMS_AF_MASKED;
			mask = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
		}
		const uint8_t *val = rand() % 16 == 0 ? NULL : v;
		shadow_apply(&s, off, width, dir, flags, mask, val, seq);
		model_apply(&m, off, width, dir, flags, mask, val, seq);
		if (seq % 97 == 0)
			check(&s, &m);
	}
	check(&s, &m);
	free(mem);
}

/* a record and the accesses it stands for leave the same shadow */
static void apply_both(const struct mms_rec_access *r, const uint8_t *values)
{
	void *a = calloc(1, shadow_size(LEN)), *b = calloc(1, shadow_size(LEN));
	struct shadow sa, sb;
	uint32_t n = r->h.count ? r->h.count : 1;

	shadow_init(&sa, a, LEN);
	shadow_init(&sb, b, LEN);
	shadow_apply_record(&sa, r);
	for (uint32_t i = 0; i < n; i++) {
		int string = r->flags & MMS_AF_STRING;
		uint64_t d = string ? (uint64_t)i * r->width : 0;
		uint64_t off = r->flags & MMS_AF_DOWN ? r->offset - d : r->offset + d;
		shadow_apply(&sb, off, r->width, r->dir, 0, 0, values + d, r->seq);
	}
	assert_memory_equal(a, b, shadow_size(LEN));
	free(a);
	free(b);
}

static void test_records_stand_for_their_accesses(void **state)
{
	uint8_t buf[sizeof(struct mms_rec_access) + 64];
	struct mms_rec_access *r = (void *)buf;
	uint8_t values[64];

	(void)state;
	for (unsigned i = 0; i < 64; i++)
		values[i] = (uint8_t)(i * 7 + 1);
	memset(buf, 0, sizeof(buf));
	r->seq = 5;
	r->width = 4;
	r->dir = MMS_DIR_WRITE;
	r->offset = 12;
	r->h.count = 3; /* a repeat: the same value thrice */
	memcpy(r->value, values, 4);
	apply_both(r, values);

	r->flags = MMS_AF_STRING; /* REP STOSD up */
	r->offset = 8;
	r->h.count = 10;
	memcpy(r->value, values, 40);
	apply_both(r, values);

	r->flags = MMS_AF_STRING | MMS_AF_DOWN; /* with DF set */
	r->offset = 60;
	r->width = 2;
	apply_both(r, values);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_accesses_match_the_model),
		cmocka_unit_test(test_records_stand_for_their_accesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
