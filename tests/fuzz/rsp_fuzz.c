/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness for the debugger's protocol layer (src/debug/): bytes as
 * gdb's socket would deliver them go through the packet parser, every
 * packet through dbg_handle over a fake target (fake_target.h), every
 * reply and stop reply is framed as the agent frames it, and abort()
 * stops the run on the first broken invariant:
 *
 * - no reply overruns its buffer (every buffer ends at a PROT_NONE page,
 *   the packet handed to dbg_handle too, so one byte past it faults) nor
 *   exceeds the PacketSize qSupported advertises;
 * - every reply frames with rsp_frame and parses back through a fresh
 *   rsp_parser as one packet with a good checksum and the same bytes;
 * - replies have the form the GDB manual gives each packet ("Packets",
 *   "Stop Reply Packets"): OK or Exx where that is all there is, hex of
 *   the right length for g and p, the fake's bytes for m, writes that
 *   landed when M or X said OK, the target description's own window for
 *   qXfer:features, the empty reply for what is unknown;
 * - a reply comes exactly when the target was not resumed; kill and
 *   detach reach the target.
 *
 * Each input runs three times: as given with AVX, then with every
 * packet's checksum made right (so that mutations reach the command
 * layer rather than die as bad checksums) with AVX and without.
 *
 *   rsp_fuzz [FILE...|-]          run each input (stdin if none); under
 *                                 afl-clang-fast, AFL++'s persistent mode
 *   rsp_fuzz --mutate N SEED [--save PATH] FILE...
 *                                 and N deterministic mutations of each
 *                                 (make check's smoke); each is written
 *                                 to PATH before it runs, so a crash or a
 *                                 hang leaves it there
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debug/rsp.h"
#include "debug/target.h"
#include "debug/x86_64.h"
#include "fake_target.h"

#define REPLY_CAP (RSP_PACKET_MAX + 8) /* the agent's buffers (debugsock.c) */
#define FRAMED_CAP (2 * RSP_PACKET_MAX + 16)
#define STOP_CAP 256 /* dbg_stop_reply: "well under 256 bytes" */
#define INPUT_MAX (1 << 20)

struct harness {
	struct fake_target target;
	struct dbg_session *sess; /* at the end of a guarded page */
	struct rsp_parser parser, check;
	char *pkt_end, *reply, *stop, *framed;
	long packet_size; /* as qSupported said it; RSP_PACKET_MAX until then */
	const char *what; /* the packet being checked, for messages */
	size_t what_len;
};

static struct harness H;

static void fail(const char *file, int line, const char *cond)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n  packet: \"", file, line, cond);
	for (size_t i = 0; H.what && i < H.what_len && i < 200; i++) {
		unsigned char c = (unsigned char)H.what[i];
		fprintf(stderr, c >= 0x20 && c < 0x7f && c != '"' ? "%c" : "\\x%02x", c);
	}
	fprintf(stderr, "%s\"\n", H.what_len > 200 ? "..." : "");
	abort();
}
#define CHECK(cond) ((cond) ? (void)0 : fail(__FILE__, __LINE__, #cond))

/* size bytes that end where a PROT_NONE page begins */
static char *guarded(size_t size)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), span = (size + pg - 1) / pg * pg;
	char *p = mmap(NULL, span + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + span, pg, PROT_NONE) < 0) {
		perror("rsp_fuzz: mmap");
		exit(2);
	}
	return p + span - size;
}

static void setup(void)
{
	H.sess = (struct dbg_session *)guarded(sizeof(struct dbg_session));
	H.pkt_end = guarded(RSP_PACKET_MAX + 1) + RSP_PACKET_MAX + 1;
	H.reply = guarded(REPLY_CAP);
	H.stop = guarded(STOP_CAP);
	H.framed = guarded(FRAMED_CAP);
}

/* ---- what any reply must be ---- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool is_err(const char *r, size_t n)
{
	return n == 3 && r[0] == 'E' && is_hex(r + 1, 2);
}

static bool is_ok_or_err(const char *r, size_t n)
{
	return (n == 2 && !memcmp(r, "OK", 2)) || is_err(r, n);
}

/* rsp_frame, then back through a parser: one packet, the same bytes. */
static void check_framing(const char *payload, size_t len)
{
	long n = rsp_frame(H.framed, FRAMED_CAP, payload, len);

	CHECK(n > 0 && (size_t)n <= FRAMED_CAP);
	rsp_parser_init(&H.check);
	for (long i = 0; i < n; i++) {
		enum rsp_event e = rsp_feed(&H.check, (uint8_t)H.framed[i]);
		CHECK(i + 1 < n ? e == RSP_NONE : e == RSP_PACKET);
	}
	/* what goes on the wire is a packet of at most PacketSize data bytes */
	CHECK(H.check.len <= (size_t)H.packet_size);
	CHECK(rsp_unescape(H.check.buf, H.check.len) == (long)len);
	CHECK(!memcmp(H.check.buf, payload, len));
}

/* T (signal, thread, expedited registers, why) or W/X (exit, kill) */
static void check_stop_reply(const char *r, size_t n)
{
	CHECK(n >= 3 && n < STOP_CAP && is_hex(r + 1, 2));
	if (r[0] == 'W' || r[0] == 'X') {
		CHECK(n == 3 ||
		      (n > 12 && !memcmp(r + 3, ";process:", 9) && is_hex(r + 12, n - 12)));
		return;
	}
	CHECK(r[0] == 'T' && n > 11 && !memcmp(r + 3, "thread:", 7) && r[n - 1] == ';');
}

static void check_stop(const struct dbg_stop *st)
{
	size_t n = dbg_stop_reply(H.sess, st, H.stop, STOP_CAP);

	H.what = "(stop reply)";
	H.what_len = 12;
	check_stop_reply(H.stop, n);
	check_framing(H.stop, n);
}

/* ---- what each packet's reply must be ---- */

static size_t regs_bytes(bool avx)
{
	size_t n = 0;

	for (int i = 0; i < x86_reg_count(avx); i++)
		n += (size_t)x86_reg_size(i);
	return n;
}

/* "ADDR,LEN" at *p; false if it is not that */
static bool addr_len(const char **p, uint64_t *addr, uint64_t *len)
{
	return !rsp_hex_u64(p, addr) && *(*p)++ == ',' && !rsp_hex_u64(p, len);
}

static void check_mem_read(const char *arg, const char *r, size_t n)
{
	uint64_t addr, len;
	uint8_t b[RSP_PACKET_MAX / 2], *mem;

	if (is_err(r, n))
		return;
	/* data: only for a well-formed request, fewer bytes than asked,
	 * and those of the fake's memory there */
	CHECK(addr_len(&arg, &addr, &len) && !*arg);
	CHECK(n && n % 2 == 0 && n / 2 <= len && !rsp_hex_decode(b, r, n / 2));
	mem = fake_bytes(&H.target, addr, n / 2);
	CHECK(mem && addr < FAKE_DEV_BASE && !memcmp(mem, b, n / 2));
}

static void check_mem_write(const char *pkt, size_t len, const char *r, size_t n)
{
	static char data[RSP_PACKET_MAX + 1];
	const char *p = pkt + 1;
	uint64_t addr, size;
	uint8_t *mem;

	CHECK(is_ok_or_err(r, n));
	if (r[0] != 'O')
		return;
	CHECK(addr_len(&p, &addr, &size) && *p++ == ':');
	if (!size)
		return;
	mem = fake_bytes(&H.target, addr, size);
	CHECK(mem);
	if (pkt[0] == 'X') {
		size_t d = len - (size_t)(p - pkt);
		memcpy(data, p, d);
		CHECK(rsp_unescape(data, d) == (long)size);
	} else {
		CHECK(!rsp_hex_decode(data, p, size));
	}
	CHECK(!memcmp(mem, data, size));
}

static void check_xfer(const char *q, const char *r, size_t n)
{
	static char obj[sizeof(H.sess->scratch)];
	const char *range, *src = obj;
	size_t olen;
	uint64_t off, len;

	if (!n || is_err(r, n))
		return;
	CHECK(r[0] == 'm' || r[0] == 'l');
	if (!strncmp(q, "qXfer:features:read:target.xml:", 32)) {
		range = q + 32;
		src = x86_target_xml(H.sess->avx, &olen);
	} else if (!strncmp(q, "qXfer:auxv:read:", 16) ||
		   !strncmp(q, "qXfer:exec-file:read:", 21)) {
		bool auxv = q[6] == 'a';
		range = strchr(q + (auxv ? 16 : 21), ':');
		CHECK(range);
		range++;
		olen = (size_t)fake_target_ops.object(&H.target, auxv ? "auxv" : "exec-file", obj,
						      sizeof(obj));
	} else {
		return; /* threads: the list is built by target.c itself */
	}
	CHECK(addr_len(&range, &off, &len) && !*range);
	CHECK(off <= olen && n - 1 <= len && n - 1 <= olen - off);
	CHECK((r[0] == 'l') == (off + n - 1 == olen));
	CHECK(!memcmp(r + 1, src + off, n - 1));
}

static void check_query(const char *q, const char *r, size_t n)
{
	if (!strncmp(q, "qSupported", 10)) {
		const char *ps = strstr(r, "PacketSize=");
		CHECK(n < REPLY_CAP && ps);
		H.packet_size = strtol(ps + 11, NULL, 16);
		CHECK(H.packet_size == RSP_PACKET_MAX);
	} else if (!strcmp(q, "QStartNoAckMode")) {
		CHECK(n == 2 && H.sess->no_ack);
	} else if (!strcmp(q, "qfThreadInfo") || !strcmp(q, "qsThreadInfo")) {
		CHECK(n >= 1 && (r[0] == 'l' ? n == 1 : r[0] == 'm'));
		for (size_t i = 1; i < n; i++)
			CHECK(is_hex(r + i, 1) || r[i] == ',' || r[i] == 'p' || r[i] == '.');
	} else if (!strncmp(q, "qXfer:", 6)) {
		check_xfer(q, r, n);
	} else if (!strncmp(q, "qRcmd,", 6)) {
		CHECK(!n || is_ok_or_err(r, n) || (n % 2 == 0 && is_hex(r, n)));
	} else if (!strcmp(q, "qC")) {
		CHECK(n > 2 && !memcmp(r, "QC", 2));
	} else if (!strncmp(q, "qThreadExtraInfo,", 17)) {
		CHECK(is_err(r, n) || (n % 2 == 0 && is_hex(r, n)));
	}
}

static void check_reply(const char *pkt, size_t len, enum dbg_result res, const char *r, size_t n)
{
	struct fake_target *t = &H.target;
	uint64_t reg;
	const char *p;

	CHECK(res == DBG_REPLY || res == DBG_RESUMED || res == DBG_DETACHED || res == DBG_KILLED);
	CHECK(n <= (size_t)H.packet_size);
	CHECK((res == DBG_RESUMED) == (t->resumed > 0));
	CHECK((res == DBG_KILLED) == (t->killed > 0));
	CHECK((res == DBG_DETACHED) == (t->detached > 0));
	if (res == DBG_RESUMED)
		CHECK(n == 0);
	check_framing(r, n);
	switch (pkt[0]) {
	case '?':
		check_stop_reply(r, n);
		break;
	case 'g':
		CHECK(is_err(r, n) || (n == 2 * regs_bytes(H.sess->avx) && is_hex(r, n)));
		break;
	case 'p':
		p = pkt + 1;
		if (is_err(r, n))
			break;
		CHECK(!rsp_hex_u64(&p, &reg) && !*p && reg < (uint64_t)x86_reg_count(H.sess->avx));
		CHECK(n == 2 * (size_t)x86_reg_size((int)reg) && is_hex(r, n));
		break;
	case 'G':
	case 'P':
	case 'H':
	case 'T':
		CHECK(is_ok_or_err(r, n));
		break;
	case 'm':
		check_mem_read(pkt + 1, r, n);
		break;
	case 'M':
	case 'X':
		check_mem_write(pkt, len, r, n);
		break;
	case 'Z':
	case 'z':
		CHECK(!n || is_ok_or_err(r, n));
		break;
	case 'c':
	case 'C':
	case 's':
	case 'S':
		CHECK(res == DBG_RESUMED || (res == DBG_REPLY && is_err(r, n)));
		break;
	case 'D':
		CHECK(res == DBG_DETACHED && n == 2 && !memcmp(r, "OK", 2));
		break;
	case 'k':
		CHECK(res == DBG_KILLED && !n);
		break;
	case 'v':
		if (!strcmp(pkt, "vCont?"))
			CHECK(n > 6 && !memcmp(r, "vCont;", 6));
		else if (!strncmp(pkt, "vCont;", 6))
			CHECK(res == DBG_RESUMED || (res == DBG_REPLY && is_err(r, n)));
		else if (!strncmp(pkt, "vKill", 5))
			CHECK(res == DBG_KILLED);
		else
			CHECK(res == DBG_REPLY && !n);
		break;
	case 'q':
	case 'Q':
		check_query(pkt, r, n);
		break;
	default: /* the empty reply: "not supported" */
		CHECK(res == DBG_REPLY && !n);
		break;
	}
}

/* ---- one connection's bytes ---- */

static void connect(bool restart)
{
	if (restart || !H.target.alive)
		fake_target_init(&H.target, H.target.first);
	rsp_parser_init(&H.parser);
	fake_target_connect(&H.target, H.sess);
	H.packet_size = RSP_PACKET_MAX;
}

static void on_packet(void)
{
	size_t len = H.parser.len, n = 0;
	char *pkt = H.pkt_end - (len + 1);
	struct fake_target *t = &H.target;
	struct dbg_stop st;
	enum dbg_result res;

	CHECK(len <= RSP_PACKET_MAX && H.parser.buf[len] == 0);
	memcpy(pkt, H.parser.buf, len + 1);
	t->resumed = t->killed = t->detached = 0;
	H.what = H.parser.buf;
	H.what_len = len;
	res = dbg_handle(H.sess, pkt, len, H.reply, REPLY_CAP, &n);
	check_reply(H.parser.buf, len, res, H.reply, n);
	if (res == DBG_KILLED) {
		connect(true); /* the program is gone; gdb runs another */
		return;
	}
	if (res == DBG_DETACHED) {
		connect(false); /* the program runs on; gdb comes back */
		return;
	}
	if (res == DBG_RESUMED && fake_target_take_stop(t, &st)) {
		check_stop(&st);
		if (st.why == DBG_STOP_EXITED || st.why == DBG_STOP_KILLED)
			connect(true);
	}
}

static void run_stream(const uint8_t *in, size_t n, int first)
{
	struct dbg_stop st;

	H.target.first = first;
	connect(true);
	for (size_t i = 0; i < n; i++) {
		switch (rsp_feed(&H.parser, in[i])) {
		case RSP_PACKET:
			on_packet();
			break;
		case RSP_INTERRUPT:
			if (fake_target_interrupt(&H.target, &st))
				check_stop(&st);
			break;
		default: /* the agent answers '-' or nothing */
			break;
		}
	}
}

/* Every packet's checksum made right, in place: what the parser will
 * see as a packet, it sees with a good one. */
static void fix_checksums(uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	enum { IDLE, DATA, ESC } st = IDLE;
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = b[i];
		if (c == '$') {
			st = DATA;
			sum = 0;
		} else if (st == DATA && c == '#') {
			if (i + 1 < n)
				b[i + 1] = (uint8_t)hex[sum >> 4];
			if (i + 2 < n)
				b[i + 2] = (uint8_t)hex[sum & 15];
			i += 2;
			st = IDLE;
		} else if (st != IDLE) {
			sum += c;
			st = st == DATA && c == '}' ? ESC : DATA;
		}
	}
}

static void run_input(const uint8_t *in, size_t n)
{
	static uint8_t fixed[INPUT_MAX];

	if (n > INPUT_MAX)
		n = INPUT_MAX;
	run_stream(in, n, 0);
	memcpy(fixed, in, n);
	fix_checksums(fixed, n);
	run_stream(fixed, n, 0);
	run_stream(fixed, n, 2); /* the first thread to stop has no AVX */
	H.what = NULL;
}

/* ---- inputs ---- */

static size_t read_input(const char *path, uint8_t *buf, size_t cap)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	size_t n = 0;
	ssize_t r;

	if (fd < 0) {
		fprintf(stderr, "rsp_fuzz: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	if (fd)
		close(fd);
	return n;
}

/* ---- --mutate: make check's deterministic mutator ---- */

#define MUT_CAP (1 << 18)

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t below(uint64_t *s, size_t n)
{
	return n ? (size_t)(rnd(s) % n) : 0;
}

static const char *pick(uint64_t *s, const char *const *v, size_t n)
{
	return v[below(s, n)];
}
#define PICK(s, v) pick(s, v, sizeof(v) / sizeof(v[0]))

/* numbers at the edges: of the fake's memory, of the parsers, of int */
static const char *const numbers[] = {
	"0",
	"1",
	"8",
	"10",
	"3f",
	"40",
	"4c",
	"fff",
	"1000",
	"2000",
	"2003",
	"3000",
	"3fff",
	"4000",
	"4001",
	"ffff",
	"401000",
	"401fff",
	"403ff8",
	"403fff",
	"404000",
	"7f0000000000",
	"7f0000000ffc",
	"7fffffff",
	"80000000",
	"ffffffff",
	"fffffffffffffff0",
	"ffffffffffffffff",
	"10000000000000000",
	"1000",
	"1011",
	"1012",
	"1014",
	"-1",
	"",
};
static const char *const tids[] = {
	"0",
	"-1",
	"1000",
	"1011",
	"1014",
	"1015",
	"p1000",
	"p1000.-1",
	"p-1.-1",
	"p1000.1012",
	"p1.1",
	"p0.0",
	"pfff",
	"7fffffff",
	"80000000",
	"ffffffffffffffff",
	"123456789abcdef01",
	"p1000.",
};

/* A packet gdb could send, or nearly: its payload into out. */
static size_t gen_payload(uint64_t *s, char *out, size_t cap)
{
	static const char *const xfer[] = { "features", "auxv", "exec-file", "threads",
					    "libraries" };
	static const char *const annex[] = { "target.xml", "", "i386.xml", "target.xml:x" };
	static const char *const mon[] = { "help",	 "fill", "auxv big",
					   "auxv small", "fail", "unsupported",
					   "echo hi",	 "",	 "regions" };
	static const char *const vacts[] = {
		"c", "s", "t", "C09", "S05", "C0f", "Cff", "C100", "x"
	};
	const char *a = PICK(s, numbers), *b = PICK(s, numbers);
	int n = 0;

	switch (below(s, 20)) {
	case 0:
		n = snprintf(out, cap, "m%s,%s", a, b);
		break;
	case 1:
	case 2: { /* M or X with as much data as it says, give or take */
		uint64_t len = strtoull(b, NULL, 16) % 0x3000 + below(s, 3) - 1;
		bool bin = below(s, 2);
		n = snprintf(out, cap, "%c%s,%llx:", bin ? 'X' : 'M', a, (unsigned long long)len);
		for (uint64_t i = 0; i < (bin ? len : 2 * len) && (size_t)n + 2 < cap; i++) {
			uint8_t c = (uint8_t)rnd(s);
			if (bin && (c == '$' || c == '#' || c == '}' || c == '*')) {
				out[n++] = '}';
				c ^= 0x20;
			}
			out[n++] = bin ? (char)c : "0123456789abcdef"[c & 15];
		}
		break;
	}
	case 3:
		n = snprintf(out, cap, "%c%d,%s,%s", below(s, 2) ? 'Z' : 'z', (int)below(s, 6), a,
			     PICK(s, numbers));
		break;
	case 4:
		n = snprintf(out, cap, "H%c%s", below(s, 2) ? 'g' : 'c', PICK(s, tids));
		break;
	case 5:
		n = snprintf(out, cap, "T%s", PICK(s, tids));
		break;
	case 6:
		n = snprintf(out, cap, "vCont;%s:%s;%s", PICK(s, vacts), PICK(s, tids),
			     PICK(s, vacts));
		break;
	case 7: {
		const char *m = PICK(s, mon);
		n = snprintf(out, cap, "qRcmd,");
		n += (int)rsp_hex_encode(out + n, m, strlen(m));
		break;
	}
	case 8:
		n = snprintf(out, cap, "qXfer:%s:read:%s:%s,%s", PICK(s, xfer), PICK(s, annex), a,
			     b);
		break;
	case 9:
		n = snprintf(out, cap, "p%s", a);
		break;
	case 10:
		n = snprintf(out, cap, "P%s=%.*s", a, (int)(2 * below(s, 20)),
			     "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
		break;
	case 11: { /* G: the whole file, or short, or long */
		size_t len = 2 * regs_bytes(below(s, 2)) + below(s, 5) - 2;
		out[n++] = 'G';
		for (size_t i = 0; i < len && (size_t)n < cap - 1; i++)
			out[n++] = "0123456789abcdef"[rnd(s) & 15];
		break;
	}
	case 12:
		n = snprintf(out, cap, "%c%s", "cCsS"[below(s, 4)], below(s, 2) ? a : "");
		break;
	case 13:
		n = snprintf(out, cap, "qThreadExtraInfo,%s", PICK(s, tids));
		break;
	default: {
		static const char *const plain[] = {
			"?",
			"g",
			"qC",
			"qfThreadInfo",
			"qsThreadInfo",
			"vCont?",
			"D",
			"k",
			"vKill;1000",
			"QStartNoAckMode",
			"qAttached",
			"qSymbol::",
			"vMustReplyEmpty",
			"qSupported:multiprocess+;swbreak+",
			"qSupported",
			"!",
			"qTStatus",
		};
		n = snprintf(out, cap, "%s", PICK(s, plain));
		break;
	}
	}
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* A payload of exactly RSP_PACKET_MAX - 1, RSP_PACKET_MAX or one more. */
static size_t gen_huge(uint64_t *s, char *out)
{
	static const char *const heads[] = { "qRcmd,",	      "M401000,1ffe:",
					     "X401000,3ff0:", "G",
					     "m401000,",      "qXfer:features:read:target.xml:0," };
	const char *h = PICK(s, heads);
	size_t len = RSP_PACKET_MAX - 1 + below(s, 3), n = strlen(h);

	memcpy(out, h, n);
	for (; n < len; n++)
		out[n] = h[0] == 'X' ? (char)(rnd(s) | 0x80) : "0123456789abcdef"[rnd(s) & 15];
	return len;
}

static size_t insert(uint8_t *b, size_t n, size_t at, const void *src, size_t len)
{
	if (n + len > MUT_CAP)
		len = MUT_CAP - n;
	memmove(b + at + len, b + at, n - at);
	memcpy(b + at, src, len);
	return n + len;
}

static size_t insert_packet(uint8_t *b, size_t n, size_t at, const char *payload, size_t len)
{
	static char framed[FRAMED_CAP];
	long f = rsp_frame(framed, sizeof(framed), payload, len);

	return f > 0 ? insert(b, n, at, framed, (size_t)f) : n;
}

static size_t mutate_once(uint64_t *s, uint8_t *b, size_t n, const uint8_t *other, size_t on)
{
	static const uint8_t special[] = { '$', '#', '}', '*', '+', '-', 0x03, 0,   0xff,
					   ':', ';', ',', '=', '0', 'f', 'p',  '.', 0x7f };
	static char payload[RSP_PACKET_MAX + 2];
	size_t at = below(s, n + 1), len;

	switch (below(s, 11)) {
	case 0:
		if (n)
			b[below(s, n)] ^= (uint8_t)(1u << below(s, 8));
		return n;
	case 1:
		if (n)
			b[below(s, n)] = special[below(s, sizeof(special))];
		return n;
	case 2: {
		uint8_t r[8];
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (uint8_t)rnd(s);
		return insert(b, n, at, r, 1 + below(s, 8));
	}
	case 3: /* delete a piece: packets cut, merged, lost */
		len = below(s, n - at + 1) % 64;
		memmove(b + at, b + at + len, n - at - len);
		return n - len;
	case 4: { /* the same bytes again, maybe many times */
		static uint8_t piece[4096];
		size_t from = below(s, n + 1), times = 1 + below(s, 2) * below(s, 40);
		len = below(s, n - from + 1) % sizeof(piece);
		memcpy(piece, b + from, len);
		for (size_t i = 0; i < times; i++)
			n = insert(b, n, at, piece, len);
		return n;
	}
	case 5: { /* splice in a piece of another input */
		size_t from = below(s, on + 1);
		return insert(b, n, at, other + from, below(s, on - from + 1));
	}
	case 6: { /* a hex number somewhere becomes an edge value */
		const char *v = PICK(s, numbers);
		size_t i = at, j;
		while (i < n && !is_hex((const char *)b + i, 1))
			i++;
		for (j = i; j < n && is_hex((const char *)b + j, 1); j++)
			;
		memmove(b + i, b + j, n - j);
		return insert(b, n - (j - i), i, v, strlen(v));
	}
	case 7:
	case 8:
		return insert_packet(b, n, at, payload, gen_payload(s, payload, sizeof(payload)));
	case 9:
		return insert_packet(b, n, at, payload, gen_huge(s, payload));
	default: /* cut short: the connection ends mid-packet */
		return at;
	}
}

static int mutate_main(int argc, char **argv)
{
	static uint8_t base[INPUT_MAX], other[INPUT_MAX], cur[MUT_CAP];
	unsigned long iters, seed;
	const char *save = NULL;
	int fd = -1, first = 3;
	long total = 0;

	if (argc > 4 && !strcmp(argv[3], "--save")) {
		save = argv[4];
		first = 5;
	}
	if (argc <= first) {
		fprintf(stderr, "usage: rsp_fuzz --mutate N SEED [--save PATH] FILE...\n");
		return 2;
	}
	iters = strtoul(argv[1], NULL, 0);
	seed = strtoul(argv[2], NULL, 0);
	if (save) {
		fd = open(save, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "rsp_fuzz: %s: %s\n", save, strerror(errno));
			return 2;
		}
	}
	for (int f = first; f < argc; f++) {
		size_t bn = read_input(argv[f], base, sizeof(base));
		size_t on = read_input(argv[first + (f - first + 1) % (argc - first)], other,
				       sizeof(other));
		uint64_t s = seed * 0x100000001b3ull + (uint64_t)(f - first);
		for (unsigned long k = 0; k < iters; k++) {
			size_t n = bn < MUT_CAP ? bn : MUT_CAP;
			memcpy(cur, base, n);
			for (size_t m = 1 + below(&s, 6); m; m--)
				n = mutate_once(&s, cur, n, other, on);
			if (fd >= 0 &&
			    (pwrite(fd, cur, n, 0) != (ssize_t)n || ftruncate(fd, (off_t)n))) {
				fprintf(stderr, "rsp_fuzz: %s: %s\n", save, strerror(errno));
				return 2;
			}
			run_input(cur, n);
			total++;
		}
	}
	if (fd >= 0) {
		close(fd);
		unlink(save);
	}
	printf("rsp_fuzz: %d inputs, %ld mutations, every invariant held\n", argc - first, total);
	return 0;
}

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

int main(int argc, char **argv)
{
	static uint8_t buf[INPUT_MAX];

	setup();
	if (argc > 1 && !strcmp(argv[1], "--mutate"))
		return mutate_main(argc - 1, argv + 1);
#ifdef __AFL_FUZZ_TESTCASE_LEN
	if (argc == 1) {
		__AFL_INIT();
		uint8_t *in = __AFL_FUZZ_TESTCASE_BUF;
		while (__AFL_LOOP(100000))
			run_input(in, (size_t)__AFL_FUZZ_TESTCASE_LEN);
		return 0;
	}
#endif
	if (argc == 1)
		run_input(buf, read_input("-", buf, sizeof(buf)));
	for (int i = 1; i < argc; i++)
		run_input(buf, read_input(argv[i], buf, sizeof(buf)));
	return 0;
}
