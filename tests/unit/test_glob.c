/* SPDX-License-Identifier: MIT */
/*
 * glob_match specification: exactly what glibc's fnmatch(pattern, string, 0)
 * says in the C locale, plus "a pattern equal to the string matches" and
 * "a pattern matches with its brackets read literally" (the kernel's names
 * hold brackets: anon_inode:[io_uring], socket:[4711]) -- the latter is
 * fnmatch of the pattern with every unescaped '[' escaped.  glibc is the
 * ground truth: every pattern over a small alphabet up to a length is
 * compared on every string over another, then random longer ones, then the
 * cases worth naming.  glob_check: malformed patterns are refused.
 */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/glob.h"

static unsigned long compared, mismatches;

/* pattern with every '[' not already escaped written as "\[" */
static void escape_brackets(const char *pattern, char *out)
{
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\') {
			*out++ = *p;
			if (!p[1])
				break;
			*out++ = *++p;
			continue;
		}
		if (*p == '[')
			*out++ = '\\';
		*out++ = *p;
	}
	*out = 0;
}

static bool want(const char *pattern, const char *string)
{
	char literal[2 * 256 + 1];

	if (!strcmp(pattern, string) || fnmatch(pattern, string, 0) == 0)
		return true;
	escape_brackets(pattern, literal);
	return fnmatch(literal, string, 0) == 0;
}

static void compare(const char *pattern, const char *string)
{
	bool w = want(pattern, string), got = glob_match(pattern, string);

	compared++;
	if (w != got && mismatches++ < 20)
		print_error("glob_match(\"%s\", \"%s\") = %d, fnmatch says %d\n", pattern, string,
			    got, w);
}

/* Every string of length 0..max over alphabet, into fn. */
static void each_string(const char *alphabet, int max, char *buf, int len,
			void (*fn)(const char *s, void *arg), void *arg)
{
	buf[len] = 0;
	fn(buf, arg);
	if (len == max)
		return;
	for (const char *a = alphabet; *a; a++) {
		buf[len] = *a;
		each_string(alphabet, max, buf, len + 1, fn, arg);
	}
}

static const char STRINGS[] = "ab[]-!\\*";

/* compare() takes (pattern, string); each_string hands (string, arg) */
static void compare_swapped(const char *string, void *pattern)
{
	compare(pattern, string);
}

static void against_strings_fixed(const char *pattern, void *arg)
{
	char s[8];
	(void)arg;
	each_string(STRINGS, 3, s, 0, compare_swapped, (void *)pattern);
}

static void test_every_short_pattern_agrees_with_fnmatch(void **state)
{
	char p[8];

	(void)state;
	compared = mismatches = 0;
	each_string("a[]-!^\\*?:b", 4, p, 0, against_strings_fixed, NULL);
	print_message("compared %lu pattern/string pairs\n", compared);
	assert_int_equal(mismatches, 0);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void random_string(char *out, int max, const char *alphabet)
{
	int len = (int)rnd((unsigned)max + 1);
	size_t na = strlen(alphabet);

	for (int i = 0; i < len; i++)
		out[i] = alphabet[rnd((unsigned)na)];
	out[len] = 0;
}

static void test_random_longer_patterns_agree_with_fnmatch(void **state)
{
	static const char *const pieces[] = {
		"*",	     "?",	  "[",	     "]",	    "[!",	  "[^",
		"-",	     "\\",	  "a",	     "b",	    "/",	  ":",
		"[:alpha:]", "[:digit:]", "[:foo:]", "[=a=]",	    "[.a.]",	  "[.-.]",
		"[.ab.]",    "a-z",	  "0-9",     "[]",	    "[]a]",	  "[!]a]",
		"[a-]",	     "[-a]",	  "\\]",     "\\[",	    "[[:upper:]", "[:space:]",
		"[=",	     "[.",	  "dev",     "0",	    "9",	  "A",
		"Z",	     "\x80",	  "\xff",    "[\x80-\xff]", ".",	  "=",
	};
	const size_t np = sizeof(pieces) / sizeof(pieces[0]);
	char pat[256], str[64];

	(void)state;
	compared = mismatches = 0;
	for (int i = 0; i < 200000; i++) {
		int n = (int)rnd(7);
		pat[0] = 0;
		for (int k = 0; k < n; k++)
			strcat(pat, pieces[rnd((unsigned)np)]);
		for (int j = 0; j < 8; j++) {
			random_string(str, 12, "ab/:.-[]!\\09AZz=\x80\xff \t");
			compare(pat, str);
		}
	}
	print_message("compared %lu pattern/string pairs\n", compared);
	assert_int_equal(mismatches, 0);
}

static const struct {
	const char *pattern, *string;
} named[] = {
	/* the default selection and the README's patterns */
	{ "/dev/zero*", "/dev/zero" },
	{ "/dev/zero*", "/dev/zero (deleted)" },
	{ "/sys/devices/pci*/resource[0-9]*", "/sys/devices/pci0000:00/0000:00:02.0/resource0" },
	{ "/sys/devices/pci*/resource[0-9]*", "/sys/devices/pci0000:00/0000:00:02.0/resourceX" },
	{ "/sys/bus/pci/devices/*/resource[0-9]*",
	  "/sys/bus/pci/devices/0000:00:02.0/resource2_wc" },
	{ "/dev/shm/ring*", "/dev/shm/ring0" },
	{ "/memfd:*", "/memfd:mmscope-marks (deleted)" },
	{ "anon_inode:[io_uring]", "anon_inode:[io_uring]" },
	{ "anon_inode:[io_uring]", "anon_inode:i" },
	{ "anon_inode:\\[io_uring\\]", "anon_inode:[io_uring]" },
	{ "socket:\\[*\\]", "socket:[123456]" },
	{ "socket:[[]*]", "socket:[123456]" },
	{ "socket:[*]", "socket:[123456]" },
	{ "socket:[*]", "socket:*" },
	{ "anon_inode:[[]perf_event]", "anon_inode:[perf_event]" },
	/* '*' crosses '/' and leading dots without flags */
	{ "*", "" },
	{ "*", "/a/.b" },
	{ "a*b*c", "a/x/b/y/c" },
	{ "a*b*c", "abcb" },
	{ "*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ ".*", ".hidden" },
	/* brackets */
	{ "[]]", "]" },
	{ "[!]]", "]" },
	{ "[!]]", "a" },
	{ "[^a]", "b" },
	{ "[a-]", "-" },
	{ "[z-a]", "m" },
	{ "[[:alnum:]_]*", "_x1" },
	{ "[[:xdigit:]][[:xdigit:]]", "fF" },
	{ "[[:punct:]]", "~" },
	{ "[[:cntrl:]]", "\x7f" },
	{ "[[:graph:]]", " " },
	{ "[[:print:]]", " " },
	{ "[[:blank:]]", "\t" },
	{ "[[:space:]]", "\v" },
	{ "[[:lower:][:upper:]]", "Q" },
	{ "[[:alpha:]]", "\xe9" },
	{ "[\\]]", "]" },
	{ "[\\-a]", "-" },
	{ "[a\\-z]", "m" },
	{ "[[.-.]]", "-" },
	{ "[[.a.]-c]", "b" },
	{ "[a-[.c.]]", "b" },
	{ "[[=a=]]", "a" },
	/* malformed: fnmatch's own reading */
	{ "[", "[" },
	{ "[a", "[a" },
	{ "[a", "a" },
	{ "a\\", "a\\" },
	{ "a\\", "a" },
	{ "*\\", "x\\" },
	{ "[[:foo:]]", "f" },
	{ "[a[:foo:]]", "a" },
	{ "[a[=b]", "a" },
	{ "[a[=b]", "[" },
	{ "[[.ab.]]", "a" },
	{ "[a-", "a" },
	{ "[\\", "\\" },
};

static void test_named_cases_agree_with_fnmatch(void **state)
{
	(void)state;
	compared = mismatches = 0;
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		compare(named[i].pattern, named[i].string);
	assert_int_equal(mismatches, 0);
}

static void test_kernel_names_match_with_their_brackets_as_typed(void **state)
{
	(void)state;
	assert_true(glob_match("socket:[*]", "socket:[4711]"));
	assert_true(glob_match("socket:[47*]", "socket:[4711]"));
	assert_false(glob_match("socket:[48*]", "socket:[4711]"));
	assert_true(glob_match("anon_inode:[*]", "anon_inode:[perf_event]"));
	assert_true(glob_match("anon_inode:[io_*]", "anon_inode:[io_uring]"));
	assert_false(glob_match("anon_inode:[io_*]", "anon_inode:[perf_event]"));
	/* a set still works as a set */
	assert_true(glob_match("/dev/uio[0-9]", "/dev/uio3"));
	assert_false(glob_match("/dev/uio[0-9]", "/dev/uioX"));
}

static void test_a_pattern_equal_to_the_string_matches(void **state)
{
	(void)state;
	assert_true(glob_match("anon_inode:[io_uring]", "anon_inode:[io_uring]"));
	assert_true(glob_match("a\\", "a\\"));
	assert_true(glob_match("[", "["));
	assert_false(glob_match("anon_inode:[io_uring]", "anon_inode:[perf_event]"));
}

static void test_check_accepts_well_formed_patterns(void **state)
{
	static const char *const ok[] = {
		"/dev/*",
		"anon_inode:[io_uring]",
		"socket:\\[*\\]",
		"[]a]",
		"[!]]",
		"[a-z0-9_]",
		"[[:digit:]]*",
		"x\\*",
		"/dev/shm/ring?",
		"[[.-.]]",
		"[[=e=]]",
		"*",
		"/sys/devices/pci*/resource[0-9]*",
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		err[0] = 0;
		if (glob_check(ok[i], err, sizeof(err)) != 0)
			fail_msg("glob_check(\"%s\") refused it: %s", ok[i], err);
	}
}

static void test_check_refuses_malformed_patterns_with_a_reason(void **state)
{
	static const struct {
		const char *pattern, *why;
	} bad[] = {
		{ "[", "unterminated" },
		{ "/dev/[abc", "unterminated" },
		{ "[[:alpha:]", "unterminated" },
		{ "[a-", "unterminated" },
		{ "a\\", "backslash" },
		{ "[\\", "backslash" },
		{ "[[:foo:]]", "foo" },
		{ "[[.ab.]]", "collating" },
		{ "[a[=b]", "[=" },
		{ "[z-a]", "range" },
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (glob_check(bad[i].pattern, err, sizeof(err)) != -EINVAL)
			fail_msg("glob_check(\"%s\") accepted it", bad[i].pattern);
		if (!strstr(err, bad[i].why))
			fail_msg("glob_check(\"%s\"): '%s' does not say '%s'", bad[i].pattern, err,
				 bad[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_short_pattern_agrees_with_fnmatch),
		cmocka_unit_test(test_random_longer_patterns_agree_with_fnmatch),
		cmocka_unit_test(test_named_cases_agree_with_fnmatch),
		cmocka_unit_test(test_a_pattern_equal_to_the_string_matches),
		cmocka_unit_test(test_kernel_names_match_with_their_brackets_as_typed),
		cmocka_unit_test(test_check_accepts_well_formed_patterns),
		cmocka_unit_test(test_check_refuses_malformed_patterns_with_a_reason),
	};

	/* '^' negates a bracket only without POSIXLY_CORRECT (glibc) */
	unsetenv("POSIXLY_CORRECT");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
