/* SPDX-License-Identifier: MIT */
/*
 * Per-thread state and record emission.  A thread's state (stream, scratch,
 * out-of-line code page) is created the first time it needs one, with raw
 * mmap, so creation is safe inside the fault handler.  Each thread writes
 * only its own stream: no locks on the record path.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "util/fmt.h"
#include "util/sys.h"

static __thread struct thread_state *self;

/* signal context */
uint64_t agent_next_seq(void)
{
	return __atomic_fetch_add(&agent.shared[0], 1, __ATOMIC_RELAXED);
}

/* signal context (clock_gettime is async-signal-safe, vDSO) */
uint64_t agent_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* signal context */
static int stream_start(struct thread_state *t)
{
	struct mms_file_header h = { .version = MMS_VERSION, .header_size = sizeof(h) };
	char name[96];
	size_t pos = 0;
	uint64_t serial = agent_next_seq();
	long fd;
	int r;

	memcpy(h.magic, MMS_MAGIC, 8);
	h.pid = agent.pid;
	h.tid = t->tid;
	h.start_ns = agent_now();
	h.serial = serial;
	fmt_u64(name, sizeof(name), &pos, (uint64_t)agent.pid);
	fmt_str(name, sizeof(name), &pos, "-");
	fmt_u64(name, sizeof(name), &pos, (uint64_t)t->tid);
	fmt_str(name, sizeof(name), &pos, "-");
	fmt_u64(name, sizeof(name), &pos, serial);
	fmt_str(name, sizeof(name), &pos, MMS_STREAM_SUFFIX);
	r = stream_open(&t->stream, agent.dirfd, name, &h);
	if (r < 0)
		return r;
	/* keep our descriptors out of the program's low numbers */
	fd = sys_call3(SYS_fcntl, t->stream.fd, F_DUPFD_CLOEXEC, AGENT_FD_MIN);
	if (fd >= 0) {
		sys_close(t->stream.fd);
		t->stream.fd = (int)fd;
	}
	return 0;
}

/* signal context */
struct thread_state *thread_get(void)
{
	struct thread_state *t = self;
	uint8_t *mem, *code;

	if (t && t->gen == agent.gen)
		return t;
	if (!t) {
		mem = sys_mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);
		if (sys_mmap_failed(mem))
			return NULL;
		/* one code slot per cache entry, then one for uncached use */
		code = sys_mmap(NULL, ICACHE_ENTRIES * EMU_CODE_SIZE + 4096,
				PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
				0);
		if (sys_mmap_failed(code)) {
			sys_munmap(mem, 8192);
			return NULL;
		}
		t = (struct thread_state *)mem;
		t->scratch = mem + 4096;
		t->code = code + ICACHE_ENTRIES * EMU_CODE_SIZE;
		t->icache = sys_mmap(NULL, sizeof(struct icache), PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sys_mmap_failed(t->icache))
			t->icache = NULL;
		else
			icache_init(t->icache, code);
		t->stream.fd = -1;
	} else {
		/* inherited over fork: the parent's stream is not ours */
		stream_forget(&t->stream);
	}
	t->gen = agent.gen;
	t->tid = (int)sys_gettid();
	self = t;
	stream_start(t);
	return t;
}

/* A thread of the program is exiting: close its stream (the file keeps
 * exactly its records) and give back its buffers, with our signals
 * blocked so that no handler uses them meanwhile.  If the thread touches
 * traced memory after this, thread_get() starts a new stream. */
void thread_release(void)
{
	struct thread_state *t = self;
	sigset_t old;

	if (!t)
		return;
	signals_block_all(&old);
	self = NULL;
	if (t->gen == agent.gen)
		stream_close(&t->stream);
	else
		stream_forget(&t->stream);
	if (t->icache)
		sys_munmap(t->icache, sizeof(struct icache));
	sys_munmap(t->code - ICACHE_ENTRIES * EMU_CODE_SIZE, ICACHE_ENTRIES * EMU_CODE_SIZE + 4096);
	sys_munmap(t, 8192);
	signals_restore(&old);
}

void thread_after_fork(void)
{
	struct thread_state *t = self;

	if (t) {
		stream_forget(&t->stream);
		t->gen = agent.gen - 1;
		t->stepping = 0;
	}
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* signal context */
void agent_record_map(const struct region *r, const char *path, uint64_t pc, uint32_t flags)
{
	struct thread_state *t = thread_get();
	size_t plen = strlen(path) + 1, size = pad8(sizeof(struct mms_rec_map) + plen);
	struct mms_rec_map *m;

	if (!t || size > 65528)
		return;
	m = stream_reserve(&t->stream, size);
	if (!m)
		return;
	m->seq = agent_next_seq();
	m->ts_ns = agent_now();
	m->pc = pc;
	/* offsets in access records count from base, also for a region that
	 * was trimmed since (a fork child re-announcing an inherited one) */
	m->addr = r->base ? r->base : r->start;
	m->len = r->end - m->addr;
	m->file_offset = r->file_offset - (r->start - m->addr);
	m->region = r->id;
	m->prot = r->prot;
	m->mmap_flags = r->mmap_flags;
	m->flags = flags;
	memcpy(m->path, path, plen);
	stream_commit(&t->stream, m, MMS_REC_MAP, size);
}

/* signal context */
void agent_record_unmap(const struct region *r, uint64_t pc)
{
	struct thread_state *t = thread_get();
	struct mms_rec_unmap *u;

	if (!t)
		return;
	u = stream_reserve(&t->stream, sizeof(*u));
	if (!u)
		return;
	u->seq = agent_next_seq();
	u->ts_ns = agent_now();
	u->pc = pc;
	u->addr = r->start;
	u->len = r->end - r->start;
	u->region = r->id;
	stream_commit(&t->stream, u, MMS_REC_UNMAP, sizeof(*u));
}

/* signal context: reserve a record of fixed part fixed + NUL-terminated
 * text (truncated to 4 KiB) and copy the text to its end.  The caller fills
 * the fixed part and commits.  NULL if there is no room. */
static void *reserve_with_text(struct thread_state *t, size_t fixed, const char *text, size_t *size)
{
	size_t tlen = strlen(text);
	uint8_t *rec;

	if (tlen > 4095)
		tlen = 4095;
	*size = pad8(fixed + tlen + 1);
	rec = stream_reserve(&t->stream, *size);
	if (rec)
		memcpy(rec + fixed, text, tlen);
	return rec;
}

/* signal context */
void agent_record_proc(uint32_t event, int64_t arg, const char *text)
{
	struct thread_state *t = thread_get();
	struct mms_rec_proc *p;
	size_t size;

	if (!t || !(p = reserve_with_text(t, sizeof(*p), text, &size)))
		return;
	p->seq = agent_next_seq();
	p->ts_ns = agent_now();
	p->event = event;
	p->pid = agent.pid;
	p->arg = arg;
	stream_commit(&t->stream, p, MMS_REC_PROC, size);
}

/* signal context */
void agent_record_mark(const char *text)
{
	struct thread_state *t = thread_get();
	struct mms_rec_mark *m;
	size_t size;

	if (!t || !(m = reserve_with_text(t, sizeof(*m), text, &size)))
		return;
	m->seq = agent_next_seq();
	m->ts_ns = agent_now();
	stream_commit(&t->stream, m, MMS_REC_MARK, size);
}

/* The marker API (include/mmscope/mmscope.h) resolves to this. */
MMS_EXPORT void mmscope_agent_mark(const char *text)
{
	if (agent.active && text)
		agent_record_mark(text);
}
