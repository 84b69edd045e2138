/* SPDX-License-Identifier: MIT */
/*
 * The debugger's `monitor` commands (docs/debugging.md), and the regions
 * table `monitor regions` and ctl's `regions` print.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "agent/agent.h"
#include "agent/core.h"
#include "agent/debugstate.h"
#include "agent/mem.h"
#include "agent/record.h"
#include "agent/watch-internal.h"

long debug_describe_regions(char *out, size_t cap, bool json)
{
	struct region r[64];
	uint64_t from = 0;
	long o = snprintf(out, cap,
			  json ? "[" : "id  start              end                prot kind\n");
	bool first = true;
	int n;

	while ((n = region_overlaps(&agent.regions, from, UINT64_MAX, r, 64)) > 0) {
		/* an entry is under 200 bytes: each one fits whole or not at all */
		for (int i = 0; i < n && (size_t)o + 200 < cap; i++) {
			char prot[4] = { r[i].prot & 1 ? 'r' : '-', r[i].prot & 2 ? 'w' : '-',
					 r[i].prot & 4 ? 'x' : '-', 0 };
			bool tr = r[i].flags & REGION_TRACE, dev = r[i].flags & REGION_DEVICE,
			     wa = r[i].flags & REGION_WATCH;
			if (json)
				o += snprintf(
					out + o, cap - (size_t)o,
					"%s{\"id\":%u,\"start\":\"0x%llx\",\"end\":\"0x%llx\","
					"\"prot\":\"%s\",\"traced\":%s,\"device\":%s,"
					"\"watched\":%s}",
					first ? "" : ",", r[i].id, (unsigned long long)r[i].start,
					(unsigned long long)r[i].end, prot, tr ? "true" : "false",
					dev ? "true" : "false", wa ? "true" : "false");
			else
				o += snprintf(out + o, cap - (size_t)o,
					      "r%-2u 0x%016llx 0x%016llx %s  %s%s%s\n", r[i].id,
					      (unsigned long long)r[i].start,
					      (unsigned long long)r[i].end, prot,
					      tr ? "traced" : "", dev ? " device" : "",
					      wa ? " watched" : "");
			first = false;
		}
		from = r[n - 1].end;
		if (n < 64)
			break;
	}
	if (json && (size_t)o + 2 < cap)
		o += snprintf(out + o, cap - (size_t)o, "]");
	return o;
}

long debug_monitor(void *arg, const char *cmd, char *out, size_t cap)
{
	(void)arg;
	if (!strcmp(cmd, "help"))
		return snprintf(
			out, cap,
			"mmscope monitor commands:\n"
			"  help                     this text\n"
			"  regions                  the mappings mmscope traces or watches\n"
			"  watches                  every watch: gdb's and --watch's\n"
			"  mark TEXT                a MARK record with TEXT in the trace\n"
			"  trace off|on             stop and resume recording accesses\n"
			"  device-reads live|shadow whether reads of a device mapping are "
			"real\n"
			"  dump [--full] [--device-reads] FILE\n"
			"                           a core of the program, devices as the trace\n"
			"                           knows them (docs/core.md)\n");
	if (!strcmp(cmd, "watches"))
		return watch_describe(out, cap, false);
	if (!strcmp(cmd, "trace off") || !strcmp(cmd, "trace on")) {
		rec_trace_pause(cmd[7] == 'f');
		return snprintf(out, cap, "trace %s\n", cmd[7] == 'f' ? "off" : "on");
	}
	if (!strncmp(cmd, "mark ", 5) && cmd[5]) {
		rec_mark(cmd + 5);
		return snprintf(out, cap, "marked\n");
	}
	if (!strcmp(cmd, "device-reads live") || !strcmp(cmd, "device-reads shadow")) {
		bool live = cmd[13] == 'l';
		dbg.mem_flags = live ? dbg.mem_flags | MEM_DEVICE_LIVE
				     : dbg.mem_flags & ~(unsigned)MEM_DEVICE_LIVE;
		return snprintf(out, cap, "device reads: %s\n",
				live ? "live (each read reaches the device)"
				     : "shadow (the last value the program read or wrote; "
				       "bytes it never touched are errors)");
	}
	if (!strcmp(cmd, "device-reads"))
		return snprintf(out, cap, "device reads: %s\n",
				dbg.mem_flags & MEM_DEVICE_LIVE ? "live" : "shadow");
	if (!strcmp(cmd, "regions"))
		return debug_describe_regions(out, cap, false);
	if (!strcmp(cmd, "dump") || !strncmp(cmd, "dump ", 5)) {
		char msg[PATH_MAX + 64];
		core_dump_to(cmd[4] ? cmd + 5 : "", msg, sizeof(msg));
		return snprintf(out, cap, "%s\n", msg);
	}
	return snprintf(out, cap, "unknown monitor command '%s'; try 'monitor help'\n", cmd);
}
