/*
 * The debug-register arbiter decides who holds the hardware slots, without
 * signals or hardware: every decision shows up as a gained/lost callback,
 * logged here in order and compared with what the kwatch rules require.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine/arbiter.h"

static char log_buf[1024];

static void on_gained(struct arb_req *r, int slot)
{
	size_t n = strlen(log_buf);
	snprintf(log_buf + n, sizeof(log_buf) - n, "+%s@%d ", (const char *)r->arg, slot);
}

static void on_lost(struct arb_req *r, int slot)
{
	size_t n = strlen(log_buf);
	/* the slot is still ours while we are told: nobody else holds it yet */
	snprintf(log_buf + n, sizeof(log_buf) - n, "-%s@%d ", (const char *)r->arg, slot);
}

static struct arb_req req(enum arb_class cls, const char *name, uint32_t owner)
{
	return (struct arb_req){ .cls = cls,
				 .owner = owner,
				 .gained = on_gained,
				 .lost = on_lost,
				 .arg = (void *)name };
}

static int reset(void **state)
{
	(void)state;
	log_buf[0] = 0;
	return 0;
}

static void tool_requests_stop_at_the_tool_limit(void **state)
{
	struct arbiter a;
	struct arb_req t[4] = { req(ARB_TOOL, "t0", 1), req(ARB_TOOL, "t1", 1),
				req(ARB_TOOL, "t2", 1), req(ARB_TOOL, "t3", 1) };
	(void)state;
	arb_init(&a, 4, 2);
	assert_int_equal(arb_request(&a, &t[0]), 0);
	assert_int_equal(arb_request(&a, &t[1]), 1);
	/* two slots stay free for a debugger that attaches later */
	assert_int_equal(arb_request(&a, &t[2]), -EAGAIN);
	assert_int_equal(arb_request(&a, &t[3]), -EAGAIN);
	assert_string_equal(log_buf, "+t0@0 +t1@1 ");
	assert_int_equal(arb_held(&a, ARB_TOOL), 2);
	assert_int_equal(arb_waiting(&a), 2);
	assert_int_equal(arb_request(&a, &t[0]), -EALREADY);
}

static void program_takes_a_tool_slot_and_gives_it_back(void **state)
{
	struct arbiter a;
	struct arb_req t[4] = { req(ARB_TOOL, "t0", 1), req(ARB_TOOL, "t1", 1),
				req(ARB_TOOL, "t2", 1), req(ARB_TOOL, "t3", 1) };
	struct arb_req p = req(ARB_PROGRAM, "p", 2);
	(void)state;
	arb_init(&a, 4, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(arb_request(&a, &t[i]), i);
	log_buf[0] = 0;
	/* the newest tool holder is told first, then the program gets its slot */
	assert_int_equal(arb_request(&a, &p), 3);
	assert_string_equal(log_buf, "-t3@3 +p@3 ");
	assert_int_equal(t[3].slot, -1);
	assert_true(t[3].active);
	log_buf[0] = 0;
	arb_release(&a, &p);
	assert_string_equal(log_buf, "+t3@3 ");
	assert_int_equal(arb_held(&a, ARB_TOOL), 4);
}

static void program_requests_never_evict_each_other(void **state)
{
	struct arbiter a;
	struct arb_req p[3] = { req(ARB_PROGRAM, "p0", 2), req(ARB_PROGRAM, "p1", 2),
				req(ARB_PROGRAM, "p2", 2) };
	(void)state;
	arb_init(&a, 2, 2);
	assert_int_equal(arb_request(&a, &p[0]), 0);
	assert_int_equal(arb_request(&a, &p[1]), 1);
	assert_int_equal(arb_request(&a, &p[2]), -EAGAIN);
	assert_string_equal(log_buf, "+p0@0 +p1@1 ");
	/* the caller may withdraw a request that waits: no callback */
	arb_release(&a, &p[2]);
	assert_int_equal(arb_waiting(&a), 0);
	assert_string_equal(log_buf, "+p0@0 +p1@1 ");
}

static void invasive_takes_from_the_program_but_tool_loses_first(void **state)
{
	struct arbiter a;
	struct arb_req t = req(ARB_TOOL, "t", 1), p = req(ARB_PROGRAM, "p", 2),
		       x = req(ARB_INVASIVE, "x", 3), y = req(ARB_INVASIVE, "y", 3);
	(void)state;
	arb_init(&a, 2, 2);
	arb_request(&a, &p);
	arb_request(&a, &t);
	assert_int_equal(arb_request(&a, &x), 1); /* the tool's slot first */
	assert_int_equal(arb_request(&a, &y), 0); /* then the program's */
	assert_string_equal(log_buf, "+p@0 +t@1 -t@1 +x@1 -p@0 +y@0 ");
	log_buf[0] = 0;
	/* freed slots go to the highest class waiting: the program before the tool */
	arb_release(&a, &x);
	arb_release(&a, &y);
	assert_string_equal(log_buf, "+p@1 +t@0 ");
}

static void tool_limit_zero_hands_every_slot_back(void **state)
{
	struct arbiter a;
	struct arb_req t[3] = { req(ARB_TOOL, "t0", 1), req(ARB_TOOL, "t1", 1),
				req(ARB_TOOL, "t2", 1) };
	(void)state;
	arb_init(&a, 4, 4);
	for (int i = 0; i < 3; i++)
		arb_request(&a, &t[i]);
	log_buf[0] = 0;
	arb_set_tool_max(&a, 0); /* a debugger attached */
	assert_string_equal(log_buf, "-t2@2 -t1@1 -t0@0 ");
	assert_int_equal(arb_held(&a, ARB_TOOL), 0);
	log_buf[0] = 0;
	arb_set_tool_max(&a, 2); /* it detached: oldest first */
	assert_string_equal(log_buf, "+t0@0 +t1@1 ");
	assert_int_equal(arb_waiting(&a), 1);
}

static void closing_an_owner_removes_exactly_its_requests(void **state)
{
	struct arbiter a;
	struct arb_req s1[2] = { req(ARB_TOOL, "a0", 1), req(ARB_TOOL, "a1", 1) };
	struct arb_req s2[2] = { req(ARB_TOOL, "b0", 2), req(ARB_TOOL, "b1", 2) };
	(void)state;
	arb_init(&a, 2, 2);
	arb_request(&a, &s1[0]);
	arb_request(&a, &s2[0]);
	arb_request(&a, &s1[1]);
	arb_request(&a, &s2[1]);
	log_buf[0] = 0;
	assert_int_equal(arb_release_owner(&a, 1), 2);
	/* owner 1's slot went to owner 2's waiting request, no callback for owner 1 */
	assert_string_equal(log_buf, "+b1@0 ");
	assert_false(s1[0].active);
	assert_false(s1[1].active);
	assert_int_equal(arb_waiting(&a), 0);
	assert_int_equal(arb_held(&a, ARB_TOOL), 2);
}

static void no_working_slot_means_everyone_waits(void **state)
{
	struct arbiter a;
	struct arb_req t = req(ARB_TOOL, "t", 1), p = req(ARB_PROGRAM, "p", 2);
	(void)state;
	arb_init(&a, 0, 4); /* the probe found no data watchpoint that fires */
	assert_int_equal(arb_request(&a, &t), -EAGAIN);
	assert_int_equal(arb_request(&a, &p), -EAGAIN);
	assert_string_equal(log_buf, "");
	assert_int_equal(arb_request(&a, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(tool_requests_stop_at_the_tool_limit, reset),
		cmocka_unit_test_setup(program_takes_a_tool_slot_and_gives_it_back, reset),
		cmocka_unit_test_setup(program_requests_never_evict_each_other, reset),
		cmocka_unit_test_setup(invasive_takes_from_the_program_but_tool_loses_first, reset),
		cmocka_unit_test_setup(tool_limit_zero_hands_every_slot_back, reset),
		cmocka_unit_test_setup(closing_an_owner_removes_exactly_its_requests, reset),
		cmocka_unit_test_setup(no_working_slot_means_everyone_waits, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
