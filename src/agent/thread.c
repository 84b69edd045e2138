/* SPDX-License-Identifier: MIT */
/*
 * Per-thread state.  A thread's state (stream, scratch, out-of-line code
 * page) is created the first time it needs one, with raw mmap, so creation
 * is safe inside the fault handler.  Each thread writes only its own
 * stream (record.c): no locks on the record path.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/record.h"
#include "util/fmt.h"
#include "util/sys.h"

static __thread struct thread_state *self;

/* signal context */
static int stream_start(struct thread_state *t)
{
	struct mms_file_header h = { .version = MMS_VERSION, .header_size = sizeof(h) };
	char name[96];
	size_t pos = 0;
	uint64_t serial = rec_next_seq();
	long fd;
	int r;

	memcpy(h.magic, MMS_MAGIC, 8);
	h.pid = agent.pid;
	h.tid = t->tid;
	h.start_ns = rec_now();
	h.serial = serial;
	fmt_u64(name, sizeof(name), &pos, (uint64_t)agent.pid);
	fmt_str(name, sizeof(name), &pos, "-");
	fmt_u64(name, sizeof(name), &pos, (uint64_t)t->tid);
	fmt_str(name, sizeof(name), &pos, "-");
	fmt_u64(name, sizeof(name), &pos, serial);
	fmt_str(name, sizeof(name), &pos, MMS_STREAM_SUFFIX);
	r = stream_open(&t->stream, agent.dirfd, name, &h, agent.page);
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

/* signal context, general registers only (hot-fast.c) */
struct thread_state *thread_current(void)
{
	struct thread_state *t = self;

	return t && t->gen == agent.gen ? t : NULL;
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
		t->nruns = 0;
	} else {
		/* inherited over fork: the parent's stream is not ours */
		stream_forget(&t->stream);
		t->nruns = 0;
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
