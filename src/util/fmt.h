/* SPDX-License-Identifier: MIT */
/* Tiny formatting helpers for signal context (no stdio). */
#ifndef MMS_UTIL_FMT_H
#define MMS_UTIL_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Append decimal v to buf at *pos (bounded by cap, always NUL-terminated). */
static inline void fmt_u64(char *buf, size_t cap, size_t *pos, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && *pos + 1 < cap)
		buf[(*pos)++] = tmp[--n];
	buf[*pos] = 0;
}

static inline void fmt_str(char *buf, size_t cap, size_t *pos, const char *s)
{
	while (*s && *pos + 1 < cap)
		buf[(*pos)++] = *s++;
	buf[*pos] = 0;
}

/* Append v as lowercase hex without prefix (as /proc/self/map_files names). */
static inline void fmt_hex(char *buf, size_t cap, size_t *pos, uint64_t v)
{
	char tmp[17];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n && *pos + 1 < cap)
		buf[(*pos)++] = tmp[--n];
	buf[*pos] = 0;
}

/* Copy s into buf (cap bytes, NUL-terminated) with every character that
 * would need escaping in a JSON string ('"', '\\', control characters)
 * replaced by '_': names that go into JSON written by hand. */
static inline void fmt_json_safe(char *buf, size_t cap, const char *s)
{
	size_t k = 0;

	for (; s && *s && k + 1 < cap; s++)
		buf[k++] = *s == '"' || *s == '\\' || (unsigned char)*s < ' ' ? '_' : *s;
	if (cap)
		buf[k] = 0;
}

#endif
