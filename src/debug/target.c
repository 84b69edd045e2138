/* SPDX-License-Identifier: MIT */
/*
 * The GDB remote protocol command layer (see target.h).  Every reply is
 * built in the caller's buffer; a malformed packet gets "E" and a number,
 * an unknown one the empty reply the protocol asks for.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "debug/rsp.h"
#include "debug/target.h"

/* Linux signal numbers 1..31 as gdb numbers them (gdb/signals.def) */
static const unsigned char gdb_sig_of[32] = {
	0, 1,  2,  3,  4,  5,  6,  10, 8,  9,  30, 11, 31, 13, 14, 15,
	0, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12,
};

static int sig_to_gdb(int sig)
{
	if (sig > 0 && sig < 32)
		return gdb_sig_of[sig];
	if (sig == 32)
		return 77;
	if (sig >= 33 && sig <= 63)
		return 45 + (sig - 33);
	return sig == 64 ? 78 : 0;
}

static int sig_from_gdb(int g)
{
	if (g <= 0)
		return 0;
	for (int s = 1; s <= 64; s++)
		if (sig_to_gdb(s) == g)
			return s;
	return 0;
}

void dbg_session_init(struct dbg_session *s, const struct dbg_ops *ops, void *arg, int pid)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->arg = arg;
	s->pid = pid;
	s->last.why = DBG_STOP_SIGNAL;
	s->last.sig = 5;
}

static size_t str(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	return n;
}

static size_t err(char *out, int e)
{
	e = e < 0 ? -e : e;
	return (size_t)sprintf(out, "E%02x", e & 0xff);
}

static size_t put_tid(const struct dbg_session *s, char *out, int tid)
{
	return s->multiprocess ? (size_t)sprintf(out, "p%x.%x", (unsigned)s->pid, (unsigned)tid)
			       : (size_t)sprintf(out, "%x", (unsigned)tid);
}

/* A thread id: "p<pid>.<tid>", "<tid>", "-1" (all) or "0" (any); *p is
 * moved past it.  0 or -EINVAL. */
static int get_tid(const struct dbg_session *s, const char **p, int *tid)
{
	uint64_t v;

	if (**p == 'p') {
		(*p)++;
		if (!strncmp(*p, "-1", 2))
			*p += 2;
		else if (rsp_hex_u64(p, &v) < 0 || (v && v != (uint64_t)s->pid))
			return -EINVAL;
		if (**p != '.') {
			*tid = -1;
			return 0;
		}
		(*p)++;
	}
	if (!strncmp(*p, "-1", 2)) {
		*p += 2;
		*tid = -1;
		return 0;
	}
	if (rsp_hex_u64(p, &v) < 0 || v > 0x7fffffff)
		return -EINVAL;
	*tid = (int)v;
	return 0;
}

static int nthreads(struct dbg_session *s, int *tids)
{
	int n = s->ops->threads(s->arg, tids, DBG_MAX_THREADS);
	return n < 0 ? 0 : n;
}

/* The thread a g/p/G/P packet means: Hg's, or the one that stopped. */
static int reg_thread(struct dbg_session *s)
{
	return s->g_tid > 0 ? s->g_tid : s->last.tid;
}

static bool thread_alive(struct dbg_session *s, int tid)
{
	static int tids[DBG_MAX_THREADS];
	int n = nthreads(s, tids);

	for (int i = 0; i < n; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

size_t dbg_stop_reply(struct dbg_session *s, const struct dbg_stop *st, char *out, size_t cap)
{
	static const int expedite[] = { X86_REG_RBP, X86_REG_RSP, X86_REG_RIP };
	struct x86_regctx *c;
	size_t o = 0;

	(void)cap; /* a stop reply is short: well under 256 bytes */
	s->last = *st;
	if (st->why == DBG_STOP_EXITED || st->why == DBG_STOP_KILLED) {
		o = (size_t)sprintf(out, "%c%02x", st->why == DBG_STOP_EXITED ? 'W' : 'X',
				    st->why == DBG_STOP_EXITED ? st->status & 0xff
							       : sig_to_gdb(st->sig));
		if (s->multiprocess)
			o += (size_t)sprintf(out + o, ";process:%x", (unsigned)s->pid);
		return o;
	}
	o = (size_t)sprintf(out, "T%02xthread:", sig_to_gdb(st->sig));
	o += put_tid(s, out + o, st->tid);
	out[o++] = ';';
	if (s->ops->regs(s->arg, st->tid, &c) == 0) {
		for (size_t i = 0; i < sizeof(expedite) / sizeof(expedite[0]); i++) {
			uint8_t v[X86_REG_MAX_SIZE];
			int n = x86_reg_get(c, expedite[i], v);
			o += (size_t)sprintf(out + o, "%02x:", expedite[i]);
			o += rsp_hex_encode(out + o, v, (size_t)n);
			out[o++] = ';';
		}
	}
	switch (st->why) {
	case DBG_STOP_SWBREAK:
		o += (size_t)sprintf(out + o, "swbreak:;");
		break;
	case DBG_STOP_HWBREAK:
		o += (size_t)sprintf(out + o, "hwbreak:;");
		break;
	case DBG_STOP_WATCH:
	case DBG_STOP_RWATCH:
	case DBG_STOP_AWATCH:
		o += (size_t)sprintf(out + o, "%s:%llx;",
				     st->why == DBG_STOP_WATCH	  ? "watch"
				     : st->why == DBG_STOP_RWATCH ? "rwatch"
								  : "awatch",
				     (unsigned long long)st->addr);
		break;
	default:
		break;
	}
	return o;
}

/* ---- registers ---- */

static size_t regs_all(struct dbg_session *s, char *out, size_t cap)
{
	struct x86_regctx *c;
	size_t o = 0;

	if (s->ops->regs(s->arg, reg_thread(s), &c) < 0)
		return err(out, ESRCH);
	for (int n = 0; n < x86_reg_count(s->avx); n++) {
		uint8_t v[X86_REG_MAX_SIZE];
		int sz = x86_reg_get(c, n, v);
		if (o + 2 * (size_t)sz >= cap)
			break;
		o += rsp_hex_encode(out + o, v, (size_t)sz);
	}
	return o;
}

static size_t regs_set_all(struct dbg_session *s, const char *hex, char *out)
{
	struct x86_regctx *c;
	size_t len = strlen(hex), at = 0;
	int r = 0;

	if (s->ops->regs(s->arg, reg_thread(s), &c) < 0)
		return err(out, ESRCH);
	for (int n = 0; n < x86_reg_count(s->avx) && at < len; n++) {
		uint8_t v[X86_REG_MAX_SIZE];
		int sz = x86_reg_size(n);
		if (at + 2 * (size_t)sz > len || rsp_hex_decode(v, hex + at, (size_t)sz) < 0)
			return err(out, EINVAL);
		/* a selector gdb sends back unchanged is fine; a changed one
		 * is refused below, after the rest was written */
		int e = x86_reg_set(c, n, v);
		if (e < 0 && !r)
			r = e;
		at += 2 * (size_t)sz;
	}
	return r < 0 ? err(out, -r) : str(out, 4, "OK");
}

static size_t reg_one(struct dbg_session *s, const char *arg, char *out)
{
	struct x86_regctx *c;
	uint64_t n;
	uint8_t v[X86_REG_MAX_SIZE];

	if (rsp_hex_u64(&arg, &n) < 0 || *arg || n >= (uint64_t)x86_reg_count(s->avx))
		return err(out, EINVAL);
	if (s->ops->regs(s->arg, reg_thread(s), &c) < 0)
		return err(out, ESRCH);
	return rsp_hex_encode(out, v, (size_t)x86_reg_get(c, (int)n, v));
}

static size_t reg_set_one(struct dbg_session *s, const char *arg, char *out)
{
	struct x86_regctx *c;
	uint64_t n;
	uint8_t v[X86_REG_MAX_SIZE];
	int sz, r;

	if (rsp_hex_u64(&arg, &n) < 0 || *arg++ != '=' || n >= (uint64_t)x86_reg_count(s->avx))
		return err(out, EINVAL);
	sz = x86_reg_size((int)n);
	if (strlen(arg) != 2 * (size_t)sz || rsp_hex_decode(v, arg, (size_t)sz) < 0)
		return err(out, EINVAL);
	if (s->ops->regs(s->arg, reg_thread(s), &c) < 0)
		return err(out, ESRCH);
	r = x86_reg_set(c, (int)n, v);
	return r < 0 ? err(out, -r) : str(out, 4, "OK");
}

/* ---- memory ---- */

/* "ADDR,LEN" and what follows; 0 or -EINVAL */
static int addr_len(const char **p, uint64_t *addr, uint64_t *len)
{
	if (rsp_hex_u64(p, addr) < 0 || *(*p)++ != ',' || rsp_hex_u64(p, len) < 0)
		return -EINVAL;
	return 0;
}

static size_t mem_read(struct dbg_session *s, const char *arg, char *out, size_t cap)
{
	uint64_t addr, len;
	long n;

	if (addr_len(&arg, &addr, &len) < 0 || *arg)
		return err(out, EINVAL);
	if (len > (cap - 1) / 2)
		len = (cap - 1) / 2;
	if (len > sizeof(s->scratch))
		len = sizeof(s->scratch);
	if (addr + len < addr)
		return err(out, EFAULT);
	n = s->ops->read(s->arg, addr, s->scratch, (size_t)len);
	if (n <= 0)
		return err(out, n < 0 ? (int)-n : EFAULT);
	return rsp_hex_encode(out, s->scratch, (size_t)n);
}

static size_t mem_write(struct dbg_session *s, char *arg, size_t avail, bool binary, char *out)
{
	const char *p = arg;
	uint64_t addr, len;
	long n;

	if (addr_len(&p, &addr, &len) < 0 || *p++ != ':' || len > sizeof(s->scratch) ||
	    addr + len < addr)
		return err(out, EINVAL);
	size_t data = avail - (size_t)(p - arg);
	if (binary) {
		long got = rsp_unescape((char *)p, data);
		if (got != (long)len)
			return err(out, EINVAL);
		memcpy(s->scratch, p, (size_t)len);
	} else if (data != 2 * len || rsp_hex_decode(s->scratch, p, (size_t)len) < 0) {
		return err(out, EINVAL);
	}
	if (!len)
		return str(out, 4, "OK");
	n = s->ops->write(s->arg, addr, s->scratch, (size_t)len);
	return n == (long)len ? str(out, 4, "OK") : err(out, n < 0 ? (int)-n : EFAULT);
}

/* ---- qXfer ---- */

/* A window [off, off+len) of an object of olen bytes as a qXfer reply. */
static size_t xfer_window(const char *obj, size_t olen, const char *range, char *out, size_t cap)
{
	uint64_t off, len;
	size_t wire = 1, n = 0;

	if (addr_len(&range, &off, &len) < 0 || *range)
		return err(out, EINVAL);
	if (off > olen)
		return err(out, EINVAL);
	if (len > olen - off)
		len = olen - off;
	/* rsp_frame escapes what the framing needs, so any byte may be
	 * sent; counted as it goes on the wire, the window still fits in
	 * cap - 1: PacketSize data bytes at most */
	for (; n < len; n++) {
		wire += rsp_frame_escapes((uint8_t)obj[off + n]) ? 2 : 1;
		if (wire > cap - 1)
			break;
	}
	len = n;
	out[0] = off + len < olen ? 'm' : 'l';
	memcpy(out + 1, obj + off, (size_t)len);
	return 1 + (size_t)len;
}

static long threads_xml(struct dbg_session *s, char *buf, size_t cap)
{
	static int tids[DBG_MAX_THREADS];
	int n = nthreads(s, tids);
	size_t o = (size_t)snprintf(buf, cap, "<?xml version=\"1.0\"?>\n<threads>\n");

	for (int i = 0; i < n && o + 160 < cap; i++) {
		char id[40], name[64] = "";
		id[put_tid(s, id, tids[i])] = 0;
		if (s->ops->thread_name)
			name[s->ops->thread_name(s->arg, tids[i], name, sizeof(name) - 1)] = 0;
		/* names are the kernel's comm: escape what XML reserves */
		for (char *c = name; *c; c++)
			if (*c == '<' || *c == '>' || *c == '&' || *c == '"')
				*c = '_';
		o += (size_t)snprintf(buf + o, cap - o, "<thread id=\"%s\" name=\"%s\"/>\n", id,
				      name);
	}
	o += (size_t)snprintf(buf + o, cap - o, "</threads>\n");
	return o < cap ? (long)o : -ENOSPC;
}

static size_t xfer(struct dbg_session *s, const char *arg, char *out, size_t cap)
{
	/* qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH */
	const char *obj = arg, *colon = strchr(arg, ':'), *annex, *range;
	char name[32];
	long n;

	if (!colon || (size_t)(colon - obj) >= sizeof(name) || strncmp(colon, ":read:", 6))
		return 0; /* writes and unknown forms: unsupported */
	memcpy(name, obj, (size_t)(colon - obj));
	name[colon - obj] = 0;
	annex = colon + 6;
	range = strchr(annex, ':');
	if (!range)
		return err(out, EINVAL);
	range++;
	if (!strcmp(name, "features")) {
		size_t len;
		const char *xml = x86_target_xml(s->avx, &len);
		if (strncmp(annex, "target.xml:", 11))
			return err(out, ENOENT);
		return xfer_window(xml, len, range, out, cap);
	}
	if (!strcmp(name, "threads"))
		n = threads_xml(s, s->scratch, sizeof(s->scratch));
	else if (!strcmp(name, "auxv") || !strcmp(name, "exec-file"))
		n = s->ops->object(s->arg, name, s->scratch, sizeof(s->scratch));
	else if (!strcmp(name, "siginfo")) {
		char which[32];
		int tid = s->g_tid > 0 ? s->g_tid : s->last.tid;
		if (tid <= 0)
			return err(out, ESRCH);
		snprintf(which, sizeof(which), "siginfo:%d", tid);
		n = s->ops->object(s->arg, which, s->scratch, sizeof(s->scratch));
	} else
		return 0;
	if (n < 0)
		return err(out, (int)-n);
	return xfer_window(s->scratch, (size_t)n, range, out, cap);
}

/* ---- queries ---- */

static size_t thread_list(struct dbg_session *s, bool first, char *out, size_t cap)
{
	static int tids[DBG_MAX_THREADS];
	int n = nthreads(s, tids);
	size_t o = 0;

	if (first)
		s->thread_cursor = 0;
	if (s->thread_cursor >= n)
		return str(out, 2, "l");
	out[o++] = 'm';
	for (; s->thread_cursor < n && o + 40 < cap; s->thread_cursor++) {
		if (o > 1)
			out[o++] = ',';
		o += put_tid(s, out + o, tids[s->thread_cursor]);
	}
	return o;
}

static size_t monitor(struct dbg_session *s, const char *hex, char *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	long got;

	if (strlen(hex) % 2 || n >= sizeof(s->scratch) / 2 ||
	    rsp_hex_decode(s->scratch, hex, n) < 0)
		return err(out, EINVAL);
	s->scratch[n] = 0;
	char *text = s->scratch + n + 1;
	size_t room = sizeof(s->scratch) - n - 1;
	if (room > (cap - 1) / 2)
		room = (cap - 1) / 2;
	got = s->ops->monitor ? s->ops->monitor(s->arg, s->scratch, text, room) : -EOPNOTSUPP;
	if (got == -EOPNOTSUPP)
		return 0;
	if (got < 0)
		return err(out, (int)-got);
	if (got == 0)
		return str(out, 4, "OK");
	/* a length from snprintf may be what did not fit: send what did */
	if ((size_t)got >= room)
		got = (long)room - 1;
	return rsp_hex_encode(out, text, (size_t)got);
}

static size_t query(struct dbg_session *s, const char *q, char *out, size_t cap)
{
	if (!strncmp(q, "qSupported", 10)) {
		s->multiprocess = strstr(q, "multiprocess+") != NULL;
		return (size_t)snprintf(
			out, cap,
			"PacketSize=%x;QStartNoAckMode+;qXfer:features:read+;"
			"qXfer:auxv:read+;qXfer:exec-file:read+;"
			"qXfer:threads:read+;qXfer:siginfo:read+;swbreak+;hwbreak+;vContSupported+;"
			"QPassSignals+%s",
			RSP_PACKET_MAX, s->multiprocess ? ";multiprocess+" : "");
	}
	if (!strncmp(q, "QPassSignals:", 13)) {
		uint64_t pass = 0, g;
		const char *p = q + 13;
		while (*p) {
			if (rsp_hex_u64(&p, &g) < 0 || (*p && *p++ != ';'))
				return err(out, EINVAL);
			int sig = g < 256 ? sig_from_gdb((int)g) : 0;
			if (sig)
				pass |= 1ull << (sig - 1); /* a number we do not have: none */
		}
		__atomic_store_n(&s->pass, pass, __ATOMIC_RELEASE);
		return str(out, 4, "OK");
	}
	if (!strcmp(q, "QStartNoAckMode")) {
		s->no_ack = true;
		return str(out, 4, "OK");
	}
	if (!strncmp(q, "qAttached", 9))
		return str(out, 2, "1"); /* detach leaves it running */
	if (!strcmp(q, "qC")) {
		int tid = s->last.tid;
		size_t o = (size_t)sprintf(out, "QC");
		return o + put_tid(s, out + o, tid);
	}
	if (!strcmp(q, "qfThreadInfo") || !strcmp(q, "qsThreadInfo"))
		return thread_list(s, q[1] == 'f', out, cap);
	if (!strncmp(q, "qThreadExtraInfo,", 17)) {
		const char *p = q + 17;
		char name[64];
		int tid;
		long n;
		if (get_tid(s, &p, &tid) < 0 || *p)
			return err(out, EINVAL);
		n = s->ops->thread_name ? s->ops->thread_name(s->arg, tid, name, sizeof(name)) : 0;
		return rsp_hex_encode(out, name, (size_t)(n > 0 ? n : 0));
	}
	if (!strncmp(q, "qXfer:", 6))
		return xfer(s, q + 6, out, cap);
	if (!strncmp(q, "qRcmd,", 6))
		return monitor(s, q + 6, out, cap);
	if (!strncmp(q, "qSymbol", 7))
		return str(out, 4, "OK");
	return 0;
}

/* ---- resuming ---- */

static int resume(struct dbg_session *s, struct dbg_resume *r)
{
	return s->ops->resume(s->arg, r);
}

/* c, C, s, S: one action for the H c thread (or all), continue the rest */
static enum dbg_result resume_simple(struct dbg_session *s, char cmd, const char *arg, char *out,
				     size_t *outlen)
{
	struct dbg_resume r = { 0 };
	uint64_t sig = 0, addr;
	bool step = cmd == 's' || cmd == 'S';

	if (cmd == 'C' || cmd == 'S') {
		if (rsp_hex_u64(&arg, &sig) < 0 || sig > 255) {
			*outlen = err(out, EINVAL);
			return DBG_REPLY;
		}
		if (*arg == ';')
			arg++;
	}
	int tid = s->c_tid > 0 ? s->c_tid : s->last.tid;
	if (*arg) { /* resume at addr */
		struct x86_regctx *c;
		uint8_t v[8];
		if (rsp_hex_u64(&arg, &addr) < 0 || *arg || s->ops->regs(s->arg, tid, &c) < 0) {
			*outlen = err(out, EINVAL);
			return DBG_REPLY;
		}
		memcpy(v, &addr, 8);
		x86_reg_set(c, X86_REG_RIP, v);
	}
	r.a[r.n].act = step ? DBG_ACT_STEP : DBG_ACT_CONTINUE;
	r.a[r.n].sig = sig_from_gdb((int)sig);
	r.a[r.n++].tid = tid;
	r.a[r.n].act = step ? DBG_ACT_STOP : DBG_ACT_CONTINUE;
	r.a[r.n++].tid = -1;
	int e = resume(s, &r);
	if (e < 0) {
		*outlen = err(out, -e);
		return DBG_REPLY;
	}
	return DBG_RESUMED;
}

static enum dbg_result vcont(struct dbg_session *s, const char *p, char *out, size_t *outlen)
{
	struct dbg_resume r = { 0 };
	bool all = false;

	while (*p == ';') {
		uint64_t sig = 0;
		char c = *++p;
		if (r.n == DBG_MAX_ACTIONS || all)
			goto bad;
		p++;
		if (c == 'C' || c == 'S') {
			if (rsp_hex_u64(&p, &sig) < 0 || sig > 255)
				goto bad;
		} else if (c != 'c' && c != 's' && c != 't') {
			goto bad;
		}
		r.a[r.n].act = c == 'c' || c == 'C'   ? DBG_ACT_CONTINUE
			       : c == 's' || c == 'S' ? DBG_ACT_STEP
						      : DBG_ACT_STOP;
		r.a[r.n].sig = sig_from_gdb((int)sig);
		r.a[r.n].tid = -1;
		if (*p == ':') {
			p++;
			if (get_tid(s, &p, &r.a[r.n].tid) < 0)
				goto bad;
		}
		all = r.a[r.n].tid == -1;
		r.n++;
	}
	if (*p || !r.n)
		goto bad;
	int e = resume(s, &r);
	if (e < 0) {
		*outlen = err(out, -e);
		return DBG_REPLY;
	}
	return DBG_RESUMED;
bad:
	*outlen = err(out, EINVAL);
	return DBG_REPLY;
}

static size_t breakpoint(struct dbg_session *s, const char *p, char *out)
{
	bool insert = p[0] == 'Z';
	uint64_t type, addr, kind;

	p++;
	if (rsp_hex_u64(&p, &type) < 0 || *p++ != ',' || addr_len(&p, &addr, &kind) < 0 || type > 4)
		return err(out, EINVAL);
	/* conditions and commands after ';' are gdb's to evaluate */
	if (*p && *p != ';')
		return err(out, EINVAL);
	int r = s->ops->bp(s->arg, insert, (enum dbg_bp_type)type, addr, kind);
	if (r == -EOPNOTSUPP)
		return 0;
	return r < 0 ? err(out, -r) : str(out, 4, "OK");
}

enum dbg_result dbg_handle(struct dbg_session *s, char *pkt, size_t len, char *out, size_t cap,
			   size_t *outlen)
{
	const char *p = pkt + 1;
	int tid;

	*outlen = 0;
	if (!len)
		return DBG_REPLY;
	/* every reply is built in at most cap - 1 bytes: none is longer
	 * than the PacketSize qSupported advertises, whatever the buffer */
	if (cap > RSP_PACKET_MAX + 1)
		cap = RSP_PACKET_MAX + 1;
	switch (pkt[0]) {
	case '?':
		*outlen = dbg_stop_reply(s, &s->last, out, cap);
		return DBG_REPLY;
	case 'q':
	case 'Q':
		*outlen = query(s, pkt, out, cap);
		return DBG_REPLY;
	case 'H':
		if ((*p != 'g' && *p != 'c') || (p++, get_tid(s, &p, &tid) < 0) || *p) {
			*outlen = err(out, EINVAL);
			return DBG_REPLY;
		}
		if (tid > 0 && !thread_alive(s, tid)) {
			*outlen = err(out, ESRCH);
			return DBG_REPLY;
		}
		if (pkt[1] == 'g')
			s->g_tid = tid;
		else
			s->c_tid = tid;
		*outlen = str(out, 4, "OK");
		return DBG_REPLY;
	case 'T':
		*outlen = get_tid(s, &p, &tid) < 0 || *p ? err(out, EINVAL)
			  : thread_alive(s, tid)	 ? str(out, 4, "OK")
							 : err(out, ESRCH);
		return DBG_REPLY;
	case 'g':
		*outlen = regs_all(s, out, cap);
		return DBG_REPLY;
	case 'G':
		*outlen = regs_set_all(s, p, out);
		return DBG_REPLY;
	case 'p':
		*outlen = reg_one(s, p, out);
		return DBG_REPLY;
	case 'P':
		*outlen = reg_set_one(s, p, out);
		return DBG_REPLY;
	case 'm':
		*outlen = mem_read(s, p, out, cap);
		return DBG_REPLY;
	case 'M':
	case 'X':
		*outlen = mem_write(s, pkt + 1, len - 1, pkt[0] == 'X', out);
		return DBG_REPLY;
	case 'c':
	case 'C':
	case 's':
	case 'S':
		return resume_simple(s, pkt[0], p, out, outlen);
	case 'v':
		if (!strcmp(pkt, "vCont?")) {
			*outlen = str(out, 32, "vCont;c;C;s;S;t");
			return DBG_REPLY;
		}
		if (!strncmp(pkt, "vCont;", 5) && pkt[5] == ';')
			return vcont(s, pkt + 5, out, outlen);
		if (!strncmp(pkt, "vKill", 5)) {
			s->ops->kill(s->arg);
			*outlen = str(out, 4, "OK");
			return DBG_KILLED;
		}
		return DBG_REPLY; /* vMustReplyEmpty and the rest: empty */
	case 'Z':
	case 'z':
		*outlen = breakpoint(s, pkt, out);
		return DBG_REPLY;
	case 'D':
		s->ops->detach(s->arg);
		*outlen = str(out, 4, "OK");
		return DBG_DETACHED;
	case 'k':
		s->ops->kill(s->arg);
		return DBG_KILLED;
	default:
		return DBG_REPLY;
	}
}
