/* SPDX-License-Identifier: MIT */
/*
 * GDB remote protocol framing (src/debug/rsp.c), byte by byte as gdb
 * sends it (GDB manual, "Overview" of the remote protocol).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "debug/rsp.h"

static struct rsp_parser P;

/* Feed s; the last event other than RSP_NONE (RSP_NONE if none). */
static enum rsp_event feed(const char *s, size_t n)
{
	enum rsp_event last = RSP_NONE;

	for (size_t i = 0; i < n; i++) {
		enum rsp_event e = rsp_feed(&P, (uint8_t)s[i]);
		if (e != RSP_NONE)
			last = e;
	}
	return last;
}
#define FEED(s) feed(s, sizeof(s) - 1)

static void test_a_packet_with_a_good_checksum_is_delivered(void **state)
{
	(void)state;
	rsp_parser_init(&P);
	assert_int_equal(FEED("$qSupported:multiprocess+#c6"), RSP_PACKET);
	assert_string_equal(P.buf, "qSupported:multiprocess+");
	assert_int_equal(P.len, 24);
	assert_int_equal(FEED("$g#67"), RSP_PACKET);
	assert_string_equal(P.buf, "g");
}

static void test_a_bad_checksum_or_digit_is_reported(void **state)
{
	(void)state;
	rsp_parser_init(&P);
	assert_int_equal(FEED("$g#68"), RSP_BAD_CHECKSUM);
	assert_int_equal(FEED("$g#6z"), RSP_BAD_CHECKSUM);
	assert_int_equal(FEED("$g#z7"), RSP_BAD_CHECKSUM);
	/* and the parser is ready for the next one */
	assert_int_equal(FEED("$g#67"), RSP_PACKET);
}

static void test_interrupt_and_acks_outside_a_packet(void **state)
{
	(void)state;
	rsp_parser_init(&P);
	assert_int_equal(FEED("\x03"), RSP_INTERRUPT);
	assert_int_equal(FEED("+"), RSP_ACK);
	assert_int_equal(FEED("-"), RSP_NACK);
	/* inside a packet 0x03 is data */
	assert_int_equal(FEED("$\x03#03"), RSP_PACKET);
	assert_int_equal(P.len, 1);
}

static void test_a_dollar_inside_a_packet_restarts_it(void **state)
{
	(void)state;
	rsp_parser_init(&P);
	assert_int_equal(FEED("$abc"), RSP_NONE);
	assert_int_equal(FEED("$"), RSP_BAD_CHECKSUM);
	assert_int_equal(FEED("g#67"), RSP_PACKET);
	assert_string_equal(P.buf, "g");
}

static void test_an_escaped_hash_is_data(void **state)
{
	char pkt[] = "X0,1:}\x03";
	char framed[64];

	(void)state;
	/* '}' then '#' ^ 0x20 = 0x03: the escape keeps '#' out of framing */
	long n = rsp_frame(framed, sizeof(framed), "X0,1:#", 6);
	assert_true(n > 0);
	rsp_parser_init(&P);
	assert_int_equal(feed(framed, (size_t)n), RSP_PACKET);
	assert_int_equal(P.len, 7);
	assert_memory_equal(P.buf, pkt, 7);
	assert_int_equal(rsp_unescape(P.buf, P.len), 6);
	assert_memory_equal(P.buf, "X0,1:#", 6);
}

static void test_an_oversize_packet_is_dropped_whole(void **state)
{
	static char big[RSP_PACKET_MAX + 100];
	uint8_t sum = 0;
	char tail[4];

	(void)state;
	memset(big, 'a', sizeof(big));
	for (size_t i = 0; i < sizeof(big); i++)
		sum += 'a';
	rsp_parser_init(&P);
	assert_int_equal(rsp_feed(&P, '$'), RSP_NONE);
	assert_int_equal(feed(big, sizeof(big)), RSP_NONE);
	snprintf(tail, sizeof(tail), "#%02x", sum);
	assert_int_equal(feed(tail, 3), RSP_OVERSIZE);
	assert_int_equal(FEED("$g#67"), RSP_PACKET);
}

static void test_frame_escapes_and_sums(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(rsp_frame(out, sizeof(out), "OK", 2), 6);
	assert_memory_equal(out, "$OK#9a", 6);
	assert_int_equal(rsp_frame(out, sizeof(out), "a*b", 3), 8);
	assert_memory_equal(out,
			    "$a}\x0a"
			    "b#",
			    6);
	assert_int_equal(rsp_frame(out, 5, "OK", 2), -ENOSPC);
}

static void test_unescape_rejects_a_trailing_escape(void **state)
{
	char b[] = "ab}";

	(void)state;
	assert_int_equal(rsp_unescape(b, 3), -EINVAL);
}

static void test_hex_helpers(void **state)
{
	const char *s = "7fff0000,10";
	uint64_t v;
	uint8_t b[3];
	char h[7];

	(void)state;
	assert_int_equal(rsp_hex_u64(&s, &v), 0);
	assert_int_equal(v, 0x7fff0000);
	assert_int_equal(*s, ',');
	s = "11112222333344445";
	assert_int_equal(rsp_hex_u64(&s, &v), -EINVAL);
	s = ",";
	assert_int_equal(rsp_hex_u64(&s, &v), -EINVAL);
	assert_int_equal(rsp_hex_decode(b, "0aFf10", 3), 0);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(rsp_hex_decode(b, "0aF", 2), -EINVAL);
	assert_int_equal(rsp_hex_encode(h, b, 3), 6);
	assert_memory_equal(h, "0aff10", 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_packet_with_a_good_checksum_is_delivered),
		cmocka_unit_test(test_a_bad_checksum_or_digit_is_reported),
		cmocka_unit_test(test_interrupt_and_acks_outside_a_packet),
		cmocka_unit_test(test_a_dollar_inside_a_packet_restarts_it),
		cmocka_unit_test(test_an_escaped_hash_is_data),
		cmocka_unit_test(test_an_oversize_packet_is_dropped_whole),
		cmocka_unit_test(test_frame_escapes_and_sums),
		cmocka_unit_test(test_unescape_rejects_a_trailing_escape),
		cmocka_unit_test(test_hex_helpers),
	};

	return cmocka_run_group_tests_name("rsp framing", tests, NULL, NULL);
}
