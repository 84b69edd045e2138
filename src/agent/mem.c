/* SPDX-License-Identifier: MIT */
/*
 * The debugger's memory accessor (see mem.h).  Work goes page by page:
 * each page is either in one region of ours or in none.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "agent/agent.h"
#include "agent/hot.h"
#include "agent/mem.h"
#include "agent/record.h"
#include "agent/shadow.h"
#include "util/proc.h"
#include "util/sys.h"

int mem_setup(void)
{
	long fd = proc_open("self/mem", O_RDWR);

	if (agent.memfd >= 0)
		sys_close(agent.memfd);
	agent.memfd = fd < 0 ? -1 : agent_high_fd((int)fd);
	return fd < 0 ? (int)fd : 0;
}

/* signal context */
int mem_peek(uint64_t addr, void *buf, unsigned len)
{
	long n = sys_call4(SYS_pread64, agent.memfd, buf, len, addr);
	return n == (long)len ? 0 : n < 0 ? (int)n : -EIO;
}

/* signal context */
int mem_poke(uint64_t addr, const void *buf, unsigned len)
{
	long n = sys_call4(SYS_pwrite64, agent.memfd, buf, len, addr);
	return n == (long)len ? 0 : n < 0 ? (int)n : -EIO;
}

/* One naturally aligned piece of at most 8 bytes at addr, no further
 * than end. */
static size_t piece(uint64_t addr, uint64_t end)
{
	size_t n = 8;

	while (n > 1 && ((addr & (n - 1)) || addr + n > end))
		n >>= 1;
	return n;
}

/* The debugger's access in the trace, flagged as its own (and in a
 * device's shadow, as any access is). */
static void record(const struct region *r, uint64_t addr, size_t n, bool wr, uint64_t v)
{
	struct emu_access a = {
		.addr = addr,
		.offset = addr - r->base,
		.region = r->id,
		.width = (uint8_t)n,
		.dir = wr ? MMS_DIR_WRITE : MMS_DIR_READ,
		.flags = MMS_AF_DEBUGGER,
		.rflags = r->flags,
		.run_left = 1,
		.value = (const uint8_t *)&v,
	};

	rec_access(thread_get(), 0, NULL, 0, &a);
}

/* Copy through a traced mapping's alias with accesses of the widths a
 * driver would use, so a device sees whole registers, each once; each
 * is recorded when rec says which region it is. */
static void alias_copy(volatile uint8_t *a, uint8_t *buf, size_t len, uint64_t addr, bool wr,
		       const struct region *rec)
{
	for (size_t i = 0; i < len;) {
		size_t n = piece(addr + i, addr + len);
		volatile void *p = a + i;
		uint64_t v = 0;
		if (wr)
			memcpy(&v, buf + i, n);
		switch (n) {
		case 8:
			if (wr)
				*(volatile uint64_t *)p = v;
			else
				v = *(volatile uint64_t *)p;
			break;
		case 4:
			if (wr)
				*(volatile uint32_t *)p = (uint32_t)v;
			else
				v = *(volatile uint32_t *)p;
			break;
		case 2:
			if (wr)
				*(volatile uint16_t *)p = (uint16_t)v;
			else
				v = *(volatile uint16_t *)p;
			break;
		default:
			if (wr)
				*(volatile uint8_t *)p = (uint8_t)v;
			else
				v = *(volatile uint8_t *)p;
		}
		if (!wr)
			memcpy(buf + i, &v, n);
		if (rec)
			record(rec, addr + i, n, wr, v);
		i += n;
	}
}

static long plain(uint64_t addr, void *buf, size_t len, bool wr)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };

	return wr ? sys_call6(SYS_process_vm_writev, agent.pid, (long)&local, 1, (long)&remote, 1,
			      0)
		  : sys_call6(SYS_process_vm_readv, agent.pid, (long)&local, 1, (long)&remote, 1,
			      0);
}

/* A device region read without reading the device: the bytes its shadow
 * knows from addr on, -EIO when it knows not even the first. */
static long from_shadow(const struct region *r, uint64_t addr, uint8_t *buf, size_t len)
{
	const struct shadow *s = shadow_of(r->id);
	uint64_t off = addr - r->base;
	size_t n = s ? shadow_known_run(s, off, len) : 0;

	if (!n)
		return -EIO;
	memcpy(buf, s->value + off, n);
	return (long)n;
}

/* The bytes of one page (or less) at addr; bytes done or -errno. */
static long one_page(uint64_t addr, uint8_t *buf, size_t len, unsigned flags, bool wr)
{
	struct region r;

	if (region_find(&agent.regions, addr, &r) < 0)
		return plain(addr, buf, len, wr);
	if (addr + len > r.end)
		len = (size_t)(r.end - addr);
	if (!(r.prot & (wr ? PROT_WRITE : PROT_READ)))
		return -EFAULT; /* the program's own protection */
	if (r.alias) {
		if (!wr && (r.flags & REGION_DEVICE) && !(flags & MEM_DEVICE_LIVE))
			return from_shadow(&r, addr, buf, len);
		alias_copy(r.alias + (addr - r.start), buf, len, addr, wr,
			   (flags & MEM_DEBUGGER) && (r.flags & REGION_TRACE) ? &r : NULL);
		return (long)len;
	}
	/* a watched private page: our PROT_NONE is not the program's */
	int e = wr ? mem_poke(addr, buf, (unsigned)len) : mem_peek(addr, buf, (unsigned)len);
	return e < 0 ? e : (long)len;
}

static long walk(uint64_t addr, uint8_t *buf, size_t len, unsigned flags, bool wr)
{
	size_t done = 0;

	while (done < len) {
		uint64_t a = addr + done;
		size_t n = 4096 - (a & 4095);
		if (n > len - done)
			n = len - done;
		long got = one_page(a, buf + done, n, flags, wr);
		if (got <= 0)
			return done ? (long)done : got < 0 ? got : -EFAULT;
		done += (size_t)got;
		if ((size_t)got < n)
			break;
	}
	return (long)done;
}

long mem_read(uint64_t addr, void *buf, size_t len, unsigned flags)
{
	long n = walk(addr, buf, len, flags, false);

	if (n > 0)
		hot_overlay(addr, buf, (size_t)n); /* the program's text, not our jumps */
	return n;
}

long mem_write(uint64_t addr, const void *buf, size_t len, unsigned flags)
{
	return walk(addr, (uint8_t *)buf, len, flags, true);
}

int mem_patch_text(uint64_t addr, const void *buf, size_t len)
{
	return mem_poke(addr, buf, (unsigned)len);
}
