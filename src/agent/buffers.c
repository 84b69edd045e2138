/* SPDX-License-Identifier: MIT */
/*
 * Buffers in traced or watched memory handed to the kernel.  The program's
 * view of those pages is closed, so read(fd, buf, n) would fail with
 * EFAULT under mmscope.  The common data-moving calls are interposed: a
 * buffer inside one traced mapping is given to the kernel through the
 * alias (the kernel's accesses are not instructions of the program and are
 * not recorded); a buffer that touches watched private pages goes through
 * a bounce buffer, and the kernel's accesses to watched bytes are recorded
 * as hits at the call (flag "syscall").  Other buffers pass unchanged.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/mem.h"
#include "agent/real.h"
#include "mmscope/trace-format.h"
#include "util/sys.h"

#include "agent/observe.h" /* PC() */

/* A buffer handed to the kernel: the alias of a traced mapping, or a
 * bounce buffer for watched private pages (the kernel cannot use their
 * closed view, and they have no alias). */
struct kbuf {
	uint64_t addr;
	size_t n;
	void *use;	 /* what the kernel gets */
	uint8_t *bounce; /* mmap'd, or NULL */
	size_t bounce_len;
	bool kernel_writes; /* read/pread/recv */
	uint64_t pc;
};

static void *kbuf_begin(struct kbuf *k, const void *buf, size_t n, bool kernel_writes, uint64_t pc)
{
	struct region r[8];
	uint64_t a = (uint64_t)buf;
	bool watched = false;
	int nr;

	*k = (struct kbuf){
		.addr = a, .n = n, .use = (void *)buf, .kernel_writes = kernel_writes, .pc = pc
	};
	if (!agent.active || !n || a + n < a)
		return k->use;
	/* one walk of the table: most buffers touch no region at all */
	nr = region_overlaps(&agent.regions, a, a + n, r, 8);
	if (nr && r[0].alias && r[0].start <= a && a + n <= r[0].end) {
		k->use = r[0].alias + (a - r[0].start);
		return k->use;
	}
	for (int i = 0; i < nr; i++)
		watched |= !r[i].alias;
	if (!watched)
		return k->use;
	k->bounce_len = (n + 4095) & ~(size_t)4095;
	k->bounce = sys_mmap(NULL, k->bounce_len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sys_mmap_failed(k->bounce) ||
	    (!kernel_writes && mem_peek(a, k->bounce, (unsigned)n) < 0)) {
		if (!sys_mmap_failed(k->bounce))
			sys_munmap(k->bounce, k->bounce_len);
		k->bounce = NULL;
		return k->use;
	}
	k->use = k->bounce;
	return k->use;
}

/* After the call: copy what the kernel wrote into the program's memory
 * and report the kernel's accesses to watched bytes as hits at the call. */
static ssize_t kbuf_end(struct kbuf *k, ssize_t r)
{
	struct thread_state *t;

	if (!k->bounce)
		return r;
	if (r > 0 && (!k->kernel_writes || mem_poke(k->addr, k->bounce, (unsigned)r) == 0) &&
	    (t = thread_get())) {
		for (ssize_t off = 0; off < r; off += 64) {
			struct emu_access a = {
				.addr = k->addr + (uint64_t)off,
				.width = (uint8_t)(r - off < 64 ? r - off : 64),
				.dir = k->kernel_writes ? MMS_DIR_WRITE : MMS_DIR_READ,
				.rflags = REGION_WATCH,
				.value = k->bounce + off,
			};
			watch_on_access(t, k->pc, &a, MMS_HF_SYSCALL);
		}
	}
	sys_munmap(k->bounce, k->bounce_len);
	return r;
}

MMS_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	watch_check_tracer();
	struct kbuf k;
	return kbuf_end(&k, REAL(read)(fd, kbuf_begin(&k, buf, n, true, PC()), n));
}

MMS_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	/* no watch_check_tracer() here: write() is what signal handlers
	 * call, and moving watches allocates */
	struct kbuf k;
	return kbuf_end(&k, REAL(write)(fd, kbuf_begin(&k, buf, n, false, PC()), n));
}

MMS_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct kbuf k;
	return kbuf_end(&k, REAL(pread)(fd, kbuf_begin(&k, buf, n, true, PC()), n, off));
}

MMS_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct kbuf k;
	return kbuf_end(&k, REAL(pwrite)(fd, kbuf_begin(&k, buf, n, false, PC()), n, off));
}

MMS_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off) __attribute__((alias("pread")));
MMS_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
	__attribute__((alias("pwrite")));

MMS_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	struct kbuf k;
	return kbuf_end(&k, REAL(send)(fd, kbuf_begin(&k, buf, n, false, PC()), n, flags));
}

MMS_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	struct kbuf k;
	return kbuf_end(&k, REAL(recv)(fd, kbuf_begin(&k, buf, n, true, PC()), n, flags));
}
