/* SPDX-License-Identifier: MIT */
/* The shadow register file (shadow.h). */
#include <string.h>

#include "trace/shadow.h"

static uint64_t words(uint64_t len)
{
	return (len + 7) / 8;
}

size_t shadow_size(uint64_t len)
{
	/* value bytes, then the seq words (8-aligned), then the bitmap */
	return (size_t)(words(len) * 8 + words(len) * 8 + words(len));
}

void shadow_init(struct shadow *s, void *mem, uint64_t len)
{
	uint8_t *p = mem;

	s->len = len;
	s->value = p;
	s->seq = (uint64_t *)(p + words(len) * 8);
	s->known = p + words(len) * 16;
}

int shadow_known(const struct shadow *s, uint64_t offset)
{
	return offset < s->len &&
	       (__atomic_load_n(&s->known[offset / 8], __ATOMIC_RELAXED) >> (offset % 8)) & 1;
}

static void set_known(struct shadow *s, uint64_t i, int on)
{
	uint8_t bit = (uint8_t)(1u << (i % 8));

	if (on)
		__atomic_fetch_or(&s->known[i / 8], bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&s->known[i / 8], (uint8_t)~bit, __ATOMIC_RELAXED);
}

void shadow_apply(struct shadow *s, uint64_t offset, unsigned width, int dir, unsigned flags,
		  uint64_t mask, const uint8_t *value, uint64_t seq)
{
	int unknown = !value || (flags & MMS_AF_VALUE_UNKNOWN);

	if (!s->len || offset >= s->len || (unknown && dir != MMS_DIR_WRITE))
		return;
	uint64_t last_word = UINT64_MAX;

	for (unsigned i = 0; i < width && offset + i < s->len; i++) {
		uint64_t at = offset + i;
		if ((flags & MMS_AF_MASKED) && i < 64 && !(mask >> i & 1))
			continue;
		if (unknown) {
			set_known(s, at, 0);
		} else {
			s->value[at] = value[i];
			set_known(s, at, 1);
		}
		if (at / 8 != last_word)
			__atomic_store_n(&s->seq[at / 8], seq, __ATOMIC_RELAXED);
		last_word = at / 8;
	}
}

void shadow_apply_record(struct shadow *s, const struct mms_rec_access *r)
{
	uint32_t n = r->h.count ? r->h.count : 1;
	const uint8_t *v = (r->flags & MMS_AF_VALUE_UNKNOWN) || !r->width ? NULL : r->value;

	if (!(r->flags & MMS_AF_STRING)) {
		/* identical repeats leave what one leaves */
		shadow_apply(s, r->offset, r->width, r->dir, r->flags, r->mask, v, r->seq);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)i * r->width;
		uint64_t off = r->flags & MMS_AF_DOWN ? r->offset - d : r->offset + d;
		shadow_apply(s, off, r->width, r->dir, r->flags, r->mask, v ? v + d : NULL, r->seq);
	}
}

size_t shadow_known_run(const struct shadow *s, uint64_t offset, size_t len)
{
	size_t n = 0;

	while (n < len && shadow_known(s, offset + n))
		n++;
	return n;
}
