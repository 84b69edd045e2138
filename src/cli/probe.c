/* SPDX-License-Identifier: MIT */
/* mmscope probe: print what the debug hardware of this machine does. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/hwprobe.h"

static void probe_usage(FILE *f)
{
	fprintf(f, "usage: mmscope probe [--json]\n\n"
		   "Measure this machine's debug hardware: arm perf_event_open hardware\n"
		   "breakpoints and watchpoints in this process, trigger each one, and report\n"
		   "how many open at once and how many really fire, which lengths and types\n"
		   "are accepted, whether a hit can be delivered as SIGTRAP (TRAP_PERF), and\n"
		   "the page size.  `mmscope run --watch` uses the same measurement.\n\n"
		   "options:\n"
		   "  --json      one JSON object instead of text\n"
		   "  -h, --help  this help\n");
}

static void print_lengths(const struct hwprobe *p, FILE *f, const char *sep)
{
	const char *s = "";
	for (unsigned i = 0; i < 4; i++)
		if (p->len_ok & (1u << i)) {
			fprintf(f, "%s%u", s, 1u << i);
			s = sep;
		}
}

static void print_text(const struct hwprobe *p)
{
	printf("page size                         %ld\n", p->page_size);
	printf("perf_event_open breakpoints       %s\n",
	       p->perf_errno ? strerror(p->perf_errno) : "yes");
	printf("execute breakpoints               %d open at once, %d fire\n", p->exec_open,
	       p->exec_fire);
	printf("write watchpoints                 %d open at once, %d fire\n", p->data_open,
	       p->data_fire);
	printf("read/write watchpoint on a load   %s\n", p->rw_fires_on_read ? "fires" : "silent");
	if (p->read_only_errno)
		printf("read-only watchpoints             not accepted (%s)\n",
		       strerror(p->read_only_errno));
	else
		printf("read-only watchpoints             accepted, %s\n",
		       p->read_only_fires ? "fire" : "silent");
	printf("watch lengths that fire           ");
	print_lengths(p, stdout, " ");
	printf("%s\n", p->len_ok ? "" : "none");
	printf("hit as SIGTRAP (TRAP_PERF)        %s\n", p->sigtrap ? "yes" : "no");
	printf("hardware slots mmscope can use    %d%s\n", p->slots,
	       p->slots ? "" : " (every watchpoint uses pages)");
}

static void print_json(const struct hwprobe *p)
{
	printf("{\"page_size\":%ld,\"perf_breakpoints\":%s,\"perf_error\":", p->page_size,
	       p->perf_errno ? "false" : "true");
	if (p->perf_errno)
		printf("\"%s\"", strerror(p->perf_errno));
	else
		printf("null");
	printf(",\"exec_open\":%d,\"exec_fire\":%d,\"write_open\":%d,\"write_fire\":%d,"
	       "\"rw_fires_on_read\":%s,\"read_only_accepted\":%s,\"read_only_fires\":%s,"
	       "\"lengths\":[",
	       p->exec_open, p->exec_fire, p->data_open, p->data_fire,
	       p->rw_fires_on_read ? "true" : "false", p->read_only_errno ? "false" : "true",
	       p->read_only_fires ? "true" : "false");
	print_lengths(p, stdout, ",");
	printf("],\"sigtrap\":%s,\"slots\":%d}\n", p->sigtrap ? "true" : "false", p->slots);
}

int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hwprobe p;
	int json = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			probe_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'mmscope probe --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mmscope probe: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	hwprobe_run(&p);
	if (json)
		print_json(&p);
	else
		print_text(&p);
	return 0;
}
