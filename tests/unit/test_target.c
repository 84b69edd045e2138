/* SPDX-License-Identifier: MIT */
/*
 * The debugger's command layer (src/debug/target.c) over the fake target
 * the fuzz harness uses (tests/fuzz/fake_target.h): replies at the edges
 * of PacketSize, bogus thread ids and wild addresses (GDB manual,
 * "Packets"; qSupported's PacketSize in "General Query Packets").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "debug/rsp.h"
#include "debug/target.h"
#include "../fuzz/fake_target.h"

static struct fake_target T;
static struct dbg_session S;
static char reply[RSP_PACKET_MAX + 8]; /* the agent's reply buffer */

static int setup(void **state)
{
	(void)state;
	fake_target_init(&T, 0);
	fake_target_connect(&T, &S);
	return 0;
}

/* pkt's reply, NUL-terminated; its length */
static size_t ask(const char *pkt)
{
	static char buf[RSP_PACKET_MAX + 1];
	size_t n = strlen(pkt), len;

	memcpy(buf, pkt, n + 1);
	dbg_handle(&S, buf, n, reply, sizeof(reply), &len);
	assert_true(len < sizeof(reply));
	reply[len] = 0;
	return len;
}

static void test_a_memory_read_answers_at_most_packetsize(void **state)
{
	uint8_t got[RSP_PACKET_MAX / 2];

	(void)state;
	/* the fake has 12 KiB there: more than a reply holds in hex */
	assert_int_equal(ask("m401000,ffff"), RSP_PACKET_MAX);
	assert_int_equal(rsp_hex_decode(got, reply, sizeof(got)), 0);
	assert_memory_equal(got, T.mem, sizeof(got));
}

static void test_a_monitor_output_longer_than_its_buffer_is_cut(void **state)
{
	static char pkt[RSP_PACKET_MAX];
	static char cmd[8150], text[RSP_PACKET_MAX / 2];
	size_t n;

	(void)state;
	/* the agent answers an unknown command with snprintf's length, which
	 * counts what did not fit */
	memset(cmd, 'x', sizeof(cmd));
	n = (size_t)sprintf(pkt, "qRcmd,");
	n += rsp_hex_encode(pkt + n, cmd, sizeof(cmd));
	pkt[n] = 0;
	n = ask(pkt);
	assert_true(n <= RSP_PACKET_MAX && n % 2 == 0);
	assert_int_equal(rsp_hex_decode(text, reply, n / 2), 0);
	assert_memory_equal(text, "unknown monitor command 'xxx", 28);
}

static void test_x87_registers_of_a_context_without_fp_state_are_zero(void **state)
{
	(void)state;
	assert_null(T.t[3].uc.uc_mcontext.fpregs);
	assert_string_equal((ask("Hg1013"), reply), "OK");
	assert_int_equal(ask("p18"), 20); /* st0: 10 bytes */
	assert_string_equal(reply, "00000000000000000000");
}

static void test_a_qxfer_window_fits_packetsize_once_escaped(void **state)
{
	static char framed[2 * RSP_PACKET_MAX + 16];
	static struct rsp_parser p;
	enum rsp_event e = RSP_NONE;
	size_t n;

	(void)state;
	T.big_auxv = true; /* an object that fills its buffer, a quarter of it escaped */
	n = ask("qXfer:auxv:read::0,ffff");
	assert_true(n > 1000 && reply[0] == 'm');
	long f = rsp_frame(framed, sizeof(framed), reply, n);
	assert_true(f > 0);
	rsp_parser_init(&p);
	for (long i = 0; i < f; i++)
		e = rsp_feed(&p, (uint8_t)framed[i]);
	assert_int_equal(e, RSP_PACKET); /* not RSP_OVERSIZE */
	assert_true(p.len <= RSP_PACKET_MAX);
}

static void test_bogus_thread_ids_get_errors(void **state)
{
	(void)state;
	assert_string_equal((ask("Hg9999"), reply), "E03");	  /* ESRCH */
	assert_string_equal((ask("Hgp2000.1000"), reply), "E16"); /* another process */
	assert_string_equal((ask("Hg80000000"), reply), "E16");
	assert_string_equal((ask("Hg123456789abcdef01"), reply), "E16");
	assert_string_equal((ask("T7fffffff"), reply), "E03");
	assert_string_equal((ask("Hgp1000.1011"), reply), "OK");
}

static void test_wild_addresses_get_errors(void **state)
{
	(void)state;
	assert_string_equal((ask("mffffffffffffffff,2"), reply), "E0e"); /* EFAULT: wraps */
	assert_string_equal((ask("m404000,1"), reply), "E0e");
	assert_string_equal((ask("m7f0000000000,4"), reply), "E05"); /* the device page */
	assert_string_equal((ask("M404000,1:00"), reply), "E0e");
	assert_string_equal((ask("M403fff,2:0102"), reply), "E0e");	  /* half of it */
	assert_string_equal((ask("m10000000000000000,1"), reply), "E16"); /* 17 digits */
	assert_string_equal((ask("M401000,ffffffffffffffff:00"), reply), "E16");
}

static void test_pass_signals_are_gdbs_numbers_in_hex(void **state)
{
	(void)state;
	/* gdb's SIGALRM 0xe, SIGCHLD 0x14, SIGBUS 0xa, SIGUSR1 0x1e;
	 * Linux's 14, 17, 7, 10 (gdb/signals.def) */
	assert_string_equal((ask("QPassSignals:e;14;a;1e"), reply), "OK");
	assert_true(S.pass == (1ull << 13 | 1ull << 16 | 1ull << 6 | 1ull << 9));
	assert_string_equal((ask("QPassSignals:"), reply), "OK");
	assert_true(S.pass == 0);
	/* a real-time one (gdb 45 is Linux 33), one gdb knows and we do not */
	assert_string_equal((ask("QPassSignals:2d;96;"), reply), "OK");
	assert_true(S.pass == 1ull << 32);
	assert_string_equal((ask("QPassSignals:e;;14"), reply), "E16");
	assert_string_equal((ask("QPassSignals:zz"), reply), "E16");
	assert_true(S.pass == 1ull << 32); /* a bad packet changes nothing */
	assert_non_null(strstr((ask("qSupported:multiprocess+"), reply), ";QPassSignals+"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_a_memory_read_answers_at_most_packetsize, setup),
		cmocka_unit_test_setup(test_a_monitor_output_longer_than_its_buffer_is_cut, setup),
		cmocka_unit_test_setup(test_x87_registers_of_a_context_without_fp_state_are_zero,
				       setup),
		cmocka_unit_test_setup(test_a_qxfer_window_fits_packetsize_once_escaped, setup),
		cmocka_unit_test_setup(test_bogus_thread_ids_get_errors, setup),
		cmocka_unit_test_setup(test_wild_addresses_get_errors, setup),
		cmocka_unit_test_setup(test_pass_signals_are_gdbs_numbers_in_hex, setup),
	};

	return cmocka_run_group_tests_name("gdb packets over a fake target", tests, NULL, NULL);
}
