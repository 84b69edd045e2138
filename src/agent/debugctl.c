/* SPDX-License-Identifier: MIT */
/*
 * ctl sessions (`mmscope ctl`, docs/debugging.md): clients of the
 * debugger socket that speak lines instead of the GDB protocol, any
 * number of them beside gdb.  A command is one line; its answer is one
 * JSON line.  A session owns the watches it set (their ids are its own,
 * 1, 2, ...): they record hits like --watch and never stop the program,
 * and they go when the session does.  Changing watches needs the program
 * stopped: a session stops it for the moment it takes (unless gdb has it
 * stopped already), through the same parking as every stop.
 *
 * Runs on the debugger's thread: static buffers, no malloc.
 */
#define LOG_DOMAIN "gdb"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/hot.h"
#include "agent/core.h"
#include "agent/debugstate.h"
#include "agent/record.h"
#include "mmscope/trace-format.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/sys.h"

#define CTL_WATCH_MAX 64

static struct ctl {
	int fd; /* -1: free */
	int owner;
	size_t len;
	char in[1024];
	struct {
		bool used;
		int type;
		uint64_t addr, len;
	} w[CTL_WATCH_MAX];
} ctls[CTL_MAX];
static int next_owner = 1;
static char reply[1 << 16];

void ctl_init(void)
{
	for (int i = 0; i < CTL_MAX; i++)
		ctls[i].fd = -1;
}

int ctl_pollfds(struct pollfd *p, int max)
{
	int n = 0;

	for (int i = 0; i < CTL_MAX && n < max; i++)
		if (ctls[i].fd >= 0)
			p[n++] = (struct pollfd){ .fd = ctls[i].fd, .events = POLLIN };
	return n;
}

static void send_line(struct ctl *c, size_t n)
{
	if (n >= sizeof(reply) - 1)
		n = sizeof(reply) - 2;
	reply[n++] = '\n';
	debug_send(c->fd, reply, n);
}

static size_t error(const char *fmt, const char *arg)
{
	char safe[256]; /* the client's words, kept from breaking the JSON */

	fmt_json_safe(safe, sizeof(safe), arg);
	int n = snprintf(reply, sizeof(reply), "{\"ok\":false,\"error\":\"");
	n += snprintf(reply + n, sizeof(reply) - (size_t)n, fmt, safe);
	n += snprintf(reply + n, sizeof(reply) - (size_t)n, "\"}");
	return (size_t)n;
}

static size_t regions(void)
{
	size_t o = (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true,\"regions\":");

	o += (size_t)debug_describe_regions(reply + o, sizeof(reply) - o - 2, true);
	o += (size_t)snprintf(reply + o, sizeof(reply) - o, "}");
	return o;
}

static size_t watches(void)
{
	size_t o = (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true,\"watches\":");

	o += (size_t)watch_describe(reply + o, sizeof(reply) - o - 2, true);
	o += (size_t)snprintf(reply + o, sizeof(reply) - o, "}");
	return o;
}

static const char *why(int r)
{
	return r == -EPERM    ? "code or a thread's stack: pages cannot be closed there"
	       : r == -EINVAL ? "length 0 or over 256 bytes"
	       : r == -EFAULT ? "not mapped"
	       : r == -ENOSPC ? "every one of 256 debugger watches is in use"
			      : "the watch engine is off";
}

/* watch r|w|rw ADDR LEN [EXPR] */
static size_t watch(struct ctl *c, char *args)
{
	char type_s[4] = "", expr[64], name[48] = "";
	unsigned long long addr, len;
	int k = -1, r, type;
	struct dbg_stop st;

	if (sscanf(args, "%3s %llx %llu %47[^\n]", type_s, &addr, &len, name) < 3)
		return error("usage: watch r|w|rw ADDR LEN [NAME]%s", "");
	type = !strcmp(type_s, "r")    ? MMS_WATCH_READ
	       : !strcmp(type_s, "w")  ? MMS_WATCH_WRITE
	       : !strcmp(type_s, "rw") ? MMS_WATCH_RW
				       : 0;
	if (!type)
		return error("watch type '%s': r, w or rw", type_s);
	for (int i = 0; i < CTL_WATCH_MAX && k < 0; i++)
		if (!c->w[i].used)
			k = i;
	if (k < 0)
		return error("this session has %s watches already", "64");
	fmt_json_safe(name, sizeof(name), name);
	snprintf(expr, sizeof(expr), "ctl%d %s", c->owner, name[0] ? name : type_s);
	bool held = debug_hold(&st);
	r = watch_debugger_set(c->owner, true, type, addr, len, expr);
	debug_release(held, &st);
	if (r < 0)
		return error("cannot watch: %s", why(r));
	c->w[k].used = true;
	c->w[k].type = type;
	c->w[k].addr = addr;
	c->w[k].len = len;
	return (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true,\"id\":%d}", k + 1);
}

static void unwatch_one(struct ctl *c, int k)
{
	watch_debugger_set(c->owner, false, c->w[k].type, c->w[k].addr, c->w[k].len, NULL);
	c->w[k].used = false;
}

static size_t unwatch(struct ctl *c, const char *args)
{
	char *end;
	long id = strtol(args, &end, 10);
	int k = *args && !*end && id > 0 && id <= CTL_WATCH_MAX ? (int)id - 1 : -1;
	struct dbg_stop st;

	if (k < 0 || k >= CTL_WATCH_MAX || !c->w[k].used)
		return error("no watch '%s' in this session", args);
	bool held = debug_hold(&st);
	unwatch_one(c, k);
	debug_release(held, &st);
	return (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true}");
}

static size_t command(struct ctl *c, char *line)
{
	char *args = strchr(line, ' ');

	if (args)
		*args++ = 0;
	else
		args = line + strlen(line);
	if (!strcmp(line, "hello"))
		return (size_t)snprintf(reply, sizeof(reply),
					"{\"ok\":true,\"pid\":%d,\"session\":%d}", agent.pid,
					c->owner);
	if (!strcmp(line, "regions"))
		return regions();
	if (!strcmp(line, "watches"))
		return watches();
	if (!strcmp(line, "mark") && *args) {
		rec_mark(args);
		return (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true}");
	}
	if (!strcmp(line, "trace") && (!strcmp(args, "on") || !strcmp(args, "off"))) {
		rec_trace_pause(args[1] == 'f');
		return (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true}");
	}
	if (!strcmp(line, "dump")) {
		char msg[PATH_MAX + 64], safe[PATH_MAX + 64];
		struct dbg_stop st;
		bool held = debug_hold(&st);
		long r = core_dump_to(args, msg, sizeof(msg));
		debug_release(held, &st);
		if (r < 0)
			return error("%s", msg);
		fmt_json_safe(safe, sizeof(safe), msg);
		return (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true,\"said\":\"%s\"}",
					safe);
	}
	if (!strcmp(line, "unpatch"))
		return (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true,\"unpatched\":%d}",
					hot_unpatch_all(HOT_FOR_USER));
	if (!strcmp(line, "patch")) {
		hot_thaw(HOT_FOR_USER);
		return (size_t)snprintf(reply, sizeof(reply), "{\"ok\":true}");
	}
	if (!strcmp(line, "watch"))
		return watch(c, args);
	if (!strcmp(line, "unwatch"))
		return unwatch(c, args);
	return error("unknown command '%s' (hello, regions, watches, mark TEXT, trace on|off, "
		     "watch, unwatch, dump, unpatch, patch)",
		     line);
}

/* Teardown, in this order: the session's watches (the program stopped
 * for it), then its socket. */
static void close_ctl(struct ctl *c, const char *how)
{
	struct dbg_stop st;
	bool any = false;

	for (int k = 0; k < CTL_WATCH_MAX; k++)
		any |= c->w[k].used;
	if (any) {
		bool held = debug_hold(&st);
		watch_debugger_clear(c->owner);
		debug_release(held, &st);
	}
	memset(c->w, 0, sizeof(c->w));
	pr_info("ctl session %d closed (%s)", c->owner, how);
	sys_close(c->fd);
	c->fd = -1;
}

int ctl_add(int fd, const uint8_t *bytes, size_t n)
{
	for (int i = 0; i < CTL_MAX; i++) {
		struct ctl *c = &ctls[i];
		if (c->fd >= 0)
			continue;
		c->fd = fd;
		c->owner = next_owner++;
		c->len = 0;
		memset(c->w, 0, sizeof(c->w));
		pr_info("ctl session %d opened", c->owner);
		ctl_bytes(fd, bytes, n);
		return 0;
	}
	return -ENOSPC;
}

/* Bytes from a session: run every whole line. */
void ctl_bytes(int fd, const uint8_t *bytes, size_t n)
{
	struct ctl *c = NULL;

	for (int i = 0; i < CTL_MAX && !c; i++)
		if (ctls[i].fd == fd)
			c = &ctls[i];
	if (!c)
		return;
	for (size_t i = 0; i < n; i++) {
		if (bytes[i] != '\n') {
			if (c->len < sizeof(c->in) - 1)
				c->in[c->len++] = (char)bytes[i];
			continue;
		}
		c->in[c->len] = 0;
		if (c->len && c->in[c->len - 1] == '\r')
			c->in[c->len - 1] = 0;
		c->len = 0;
		send_line(c, command(c, c->in));
	}
}

void ctl_readable(int fd)
{
	static uint8_t buf[4096];
	long n = sys_read(fd, buf, sizeof(buf));

	if (n == -EINTR || n == -EAGAIN)
		return;
	for (int i = 0; i < CTL_MAX; i++)
		if (ctls[i].fd == fd && n <= 0) {
			close_ctl(&ctls[i], n == 0 ? "the client went away" : "read error");
			return;
		}
	ctl_bytes(fd, buf, (size_t)n);
}

void ctl_after_fork(void)
{
	for (int i = 0; i < CTL_MAX; i++)
		if (ctls[i].fd >= 0) {
			sys_close(ctls[i].fd);
			ctls[i].fd = -1;
		}
}
