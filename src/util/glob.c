/* SPDX-License-Identifier: MIT */
/*
 * Glob matching with glibc fnmatch(pattern, string, 0) semantics in the C
 * locale (see glob.h).  Bracket expressions are read the way glibc reads
 * them, quirks included, so that a pattern means the same here as in
 * every other tool: the set is scanned until an element matches, then the
 * rest is skipped; an unterminated '[' stands for itself; a trailing
 * backslash, an unknown class or a multi-byte collating element makes
 * that attempt fail.  tests/unit/test_glob.c
 * compares the two on every short pattern.
 */
#include <errno.h>
#include <stdio.h>

#include "util/glob.h"

typedef unsigned char uc;

enum {
	CLASS_NONE,
	CLASS_ALNUM,
	CLASS_ALPHA,
	CLASS_BLANK,
	CLASS_CNTRL,
	CLASS_DIGIT,
	CLASS_GRAPH,
	CLASS_LOWER,
	CLASS_PRINT,
	CLASS_PUNCT,
	CLASS_SPACE,
	CLASS_UPPER,
	CLASS_XDIGIT
};

static const char *const class_names[] = {
	[CLASS_ALNUM] = "alnum", [CLASS_ALPHA] = "alpha", [CLASS_BLANK] = "blank",
	[CLASS_CNTRL] = "cntrl", [CLASS_DIGIT] = "digit", [CLASS_GRAPH] = "graph",
	[CLASS_LOWER] = "lower", [CLASS_PRINT] = "print", [CLASS_PUNCT] = "punct",
	[CLASS_SPACE] = "space", [CLASS_UPPER] = "upper", [CLASS_XDIGIT] = "xdigit",
};

/* signal context: the class named by the len bytes at name, or CLASS_NONE */
static int class_lookup(const uc *name, size_t len)
{
	for (int i = CLASS_ALNUM; i <= CLASS_XDIGIT; i++) {
		const char *n = class_names[i];
		size_t k = 0;
		while (k < len && n[k] && (uc)n[k] == name[k])
			k++;
		if (k == len && !n[k])
			return i;
	}
	return CLASS_NONE;
}

/* signal context: the C locale's <ctype.h> classes */
static bool class_has(int cls, uc c)
{
	bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z';
	bool digit = c >= '0' && c <= '9';
	bool graph = c >= 0x21 && c <= 0x7e;

	switch (cls) {
	case CLASS_ALNUM:
		return upper || lower || digit;
	case CLASS_ALPHA:
		return upper || lower;
	case CLASS_BLANK:
		return c == ' ' || c == '\t';
	case CLASS_CNTRL:
		return c < 0x20 || c == 0x7f;
	case CLASS_DIGIT:
		return digit;
	case CLASS_GRAPH:
		return graph;
	case CLASS_LOWER:
		return lower;
	case CLASS_PRINT:
		return graph || c == ' ';
	case CLASS_PUNCT:
		return graph && !upper && !lower && !digit;
	case CLASS_SPACE:
		return c == ' ' || (c >= '\t' && c <= '\r');
	case CLASS_UPPER:
		return upper;
	case CLASS_XDIGIT:
		return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	}
	return false;
}

/* Class names are read only while they consist of 'a'..'y' (glibc's test
 * is c >= 'a' && c < 'z'); anything else makes "[:" two plain bytes. */
static bool class_name_byte(uc c)
{
	return c >= 'a' && c < 'z';
}

enum bracket_result {
	BR_MATCH,   /* ch is in the set (or not in a negated one) */
	BR_FAIL,    /* ch is not; or the set is malformed: this attempt fails */
	BR_LITERAL, /* unterminated and nothing matched: '[' is a plain byte */
};

/*
 * signal context.  p points just after '['; on BR_MATCH *end is just after
 * the closing ']'.
 */
static enum bracket_result bracket(const uc *p, uc ch, const uc **end)
{
	bool negate = *p == '!' || *p == '^';
	uc c, cold, cend;

	if (negate)
		p++;
	c = *p++;
	for (;;) {
		if (c == '\\') {
			if (!*p)
				return BR_FAIL;
			c = *p++;
			goto normal;
		} else if (c == '[' && *p == ':') {
			const uc *startp = p, *name = p + 1;
			size_t len = 0;
			for (;;) {
				c = *++p;
				if (c == ':' && p[1] == ']') {
					p += 2;
					break;
				}
				if (!class_name_byte(c)) {
					p = startp;
					c = '[';
					goto normal;
				}
				len++;
			}
			int cls = class_lookup(name, len);
			if (cls == CLASS_NONE)
				return BR_FAIL;
			if (class_has(cls, ch))
				goto matched;
			c = *p++;
		} else if (c == '[' && *p == '=') {
			const uc *startp = p;
			uc eq = p[1];
			if (!eq || p[2] != '=' || p[3] != ']') {
				p = startp;
				c = '[';
				goto normal;
			}
			p += 4;
			if (ch == eq)
				goto matched;
			c = *p++;
		} else if (!c) {
			return BR_LITERAL;
		} else {
			if (c == '[' && *p == '.') {
				const uc *startp = p;
				size_t len = 0;
				for (;;) {
					c = *++p;
					if (c == '.' && p[1] == ']') {
						p += 2;
						break;
					}
					if (!c)
						return BR_FAIL;
					len++;
				}
				if (len != 1)
					return BR_FAIL;
				if (!(*p == '-' && p[1]) && ch == startp[1])
					goto matched;
				cold = startp[1];
				c = *p++;
			} else {
			normal:
				if (!(*p == '-' && p[1] && p[1] != ']') && c == ch)
					goto matched;
				cold = c;
				c = *p++;
			}
			if (c == '-' && *p != ']') {
				cend = *p++;
				if (cend == '[' && *p == '.') {
					const uc *startp = p;
					size_t len = 0;
					for (;;) {
						c = *++p;
						if (c == '.' && p[1] == ']') {
							p += 2;
							break;
						}
						if (!c)
							return BR_FAIL;
						len++;
					}
					if (len != 1)
						return BR_FAIL;
					cend = startp[1];
				} else {
					if (cend == '\\')
						cend = *p++;
					if (!cend)
						return BR_FAIL;
				}
				if (cold <= ch && ch <= cend)
					goto matched;
				c = *p++;
			}
		}
		if (c == ']')
			break;
	}
	if (!negate)
		return BR_FAIL;
	*end = p;
	return BR_MATCH;

matched:
	/* skip the rest of the set; its remaining elements are not checked
	 * the way the scan above checks them (glibc) */
	while ((c = *p++) != ']') {
		if (!c)
			return BR_LITERAL;
		if (c == '\\') {
			if (!*p)
				return BR_FAIL;
			p++;
		} else if (c == '[' && *p == ':') {
			const uc *startp = p;
			for (;;) {
				c = *++p;
				if (c == ':' && p[1] == ']')
					break;
				if (!class_name_byte(c)) {
					p = startp - 2;
					break;
				}
			}
			p += 2;
		} else if (c == '[' && *p == '=') {
			if (!p[1] || p[2] != '=' || p[3] != ']')
				return BR_FAIL;
			p += 4;
		} else if (c == '[' && *p == '.') {
			for (;;) {
				c = *++p;
				if (!c)
					return BR_FAIL;
				if (c == '.' && p[1] == ']')
					break;
			}
			p += 2;
		}
	}
	if (negate)
		return BR_FAIL;
	*end = p;
	return BR_MATCH;
}

/* signal context.  literal: '[' is an ordinary byte (the kernel-name
 * reading, see glob.h). */
static bool match(const uc *p, const uc *n, bool literal)
{
	const uc *star_p = NULL, *star_n = NULL, *end;

	/* One backtracking point is enough: when a later '*' is reached,
	 * what lies between the two stars has matched as early as it can,
	 * and the later star can absorb anything the earlier one could. */
	for (;;) {
		uc c = *p;
		if (!c) {
			if (!*n)
				return true;
			goto mismatch;
		}
		if (c == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			star_p = p;
			star_n = n;
			continue;
		}
		if (!*n)
			goto mismatch;
		if (c == '?') {
			p++;
		} else if (c == '\\') {
			if (!p[1] || p[1] != *n)
				goto mismatch;
			p += 2;
		} else if (c == '[' && !literal) {
			enum bracket_result r = bracket(p + 1, *n, &end);
			if (r == BR_FAIL)
				goto mismatch;
			if (r == BR_LITERAL) {
				if (*n != '[')
					goto mismatch;
				p++;
			} else {
				p = end;
			}
		} else {
			if (c != *n)
				goto mismatch;
			p++;
		}
		n++;
		continue;
	mismatch:
		if (!star_p || !*star_n)
			return false;
		p = star_p;
		n = ++star_n;
	}
}

/* signal context */
bool glob_match(const char *pattern, const char *string)
{
	const uc *p = (const uc *)pattern, *n = (const uc *)string;
	bool brackets = false;
	size_t i = 0;

	while (pattern[i] && pattern[i] == string[i])
		i++;
	if (pattern[i] == string[i])
		return true;
	if (match(p, n, false))
		return true;
	for (const char *q = pattern; *q && !brackets; q++)
		brackets = *q == '[';
	return brackets && match(p, n, true);
}

/* The byte a [.c.] at p ('[' ".") stands for; p moves past it.  -1 if it
 * is not exactly one byte. */
static int collating(const uc **pp, char *err, size_t errlen)
{
	const uc *p = *pp + 2, *start = p;

	while (*p && !(p[0] == '.' && p[1] == ']'))
		p++;
	if (!*p) {
		snprintf(err, errlen, "unterminated '[.' collating element");
		return -1;
	}
	if (p - start != 1) {
		snprintf(err, errlen, "collating element [.%.*s.] is not a single byte",
			 (int)(p - start), (const char *)start);
		return -1;
	}
	*pp = p + 2;
	return *start;
}

/* One element of a set at *pp; its byte (or -2 for a class) in *out. */
static int set_element(const uc **pp, int *out, char *err, size_t errlen)
{
	const uc *p = *pp;

	if (p[0] == '\\') {
		if (!p[1]) {
			snprintf(err, errlen, "trailing backslash");
			return -EINVAL;
		}
		*out = p[1];
		*pp = p + 2;
		return 0;
	}
	if (p[0] == '[' && p[1] == ':') {
		const uc *q = p + 2;
		while (class_name_byte(*q))
			q++;
		if (q[0] == ':' && q[1] == ']') {
			if (class_lookup(p + 2, (size_t)(q - p - 2)) == CLASS_NONE) {
				snprintf(err, errlen, "unknown character class [:%.*s:]",
					 (int)(q - p - 2), (const char *)p + 2);
				return -EINVAL;
			}
			*out = -2;
			*pp = q + 2;
			return 0;
		}
	} else if (p[0] == '[' && p[1] == '=') {
		if (!p[2] || p[3] != '=' || p[4] != ']') {
			snprintf(err, errlen, "malformed [=c=] (one byte between [= and =])");
			return -EINVAL;
		}
		*out = p[2];
		*pp = p + 5;
		return 0;
	} else if (p[0] == '[' && p[1] == '.') {
		int c = collating(pp, err, errlen);
		if (c < 0)
			return -EINVAL;
		*out = c;
		return 0;
	}
	*out = p[0];
	*pp = p + 1;
	return 0;
}

int glob_check(const char *pattern, char *err, size_t errlen)
{
	const uc *p = (const uc *)pattern;

	while (*p) {
		if (*p == '\\') {
			if (!p[1]) {
				snprintf(err, errlen, "trailing backslash");
				return -EINVAL;
			}
			p += 2;
			continue;
		}
		if (*p != '[') {
			p++;
			continue;
		}
		const uc *open = p++;
		if (*p == '!' || *p == '^')
			p++;
		for (bool first = true; first || *p != ']'; first = false) {
			const uc *el = p;
			int lo, hi;
			if (!*p)
				goto unterminated;
			if (set_element(&p, &lo, err, errlen) < 0)
				return -EINVAL;
			/* a class or an equivalence class never starts a range */
			bool ranged = lo != -2 && !(el[0] == '[' && el[1] == '=');
			if (!ranged || p[0] != '-' || p[1] == ']' || !p[1]) {
				if (ranged && p[0] == '-' && !p[1])
					goto unterminated;
				continue;
			}
			p++;
			if (set_element(&p, &hi, err, errlen) < 0)
				return -EINVAL;
			if (hi == -2) {
				snprintf(err, errlen, "a character class cannot end a range");
				return -EINVAL;
			}
			if (hi < lo) {
				snprintf(err, errlen,
					 "range %c-%c is empty (its end comes before its start)",
					 lo, hi);
				return -EINVAL;
			}
		}
		p++;
		continue;
	unterminated:
		snprintf(err, errlen,
			 "unterminated '[' at offset %d (write \\[ for a plain bracket)",
			 (int)(open - (const uc *)pattern));
		return -EINVAL;
	}
	return 0;
}
