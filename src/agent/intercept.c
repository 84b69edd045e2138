/* SPDX-License-Identifier: MIT */
/*
 * Interposing the mmap family.  A MAP_SHARED mapping of a selected object
 * is armed: the agent maps a private alias of the same object (same fd and
 * offset), registers the region, then turns the program's view PROT_NONE.
 * munmap/mremap/mprotect keep the program's view, the alias and the table
 * coherent, with the same return values and errno the program would see
 * without mmscope.  Raw syscalls underneath: libc's own internal mmap calls
 * (malloc) and programs that issue the syscall themselves bypass this file
 * (docs/known-gaps.md).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "mmscope/trace-format.h"
#include "util/elf.h"
#include "util/maps.h"
#include "util/sys.h"

#define LOG_DOMAIN "intercept"
#include "util/log.h"

#define PC() ((uint64_t)__builtin_return_address(0))

void agent_table_lock(sigset_t *old)
{
	signals_block_all(old);
	pthread_mutex_lock(&agent.lock);
	region_write_begin(&agent.regions);
}

void agent_table_unlock(const sigset_t *old)
{
	region_write_end(&agent.regions);
	pthread_mutex_unlock(&agent.lock);
	signals_restore(old);
}

/*
 * Arm r (start, end, file_offset, prot, mmap_flags filled in) with alias,
 * a second mapping of the same pages: register it, then close the
 * program's view, then announce it.  On failure the alias is released and
 * the mapping stays untraced.  Returns the region id, 0 on failure.
 */
static uint32_t arm_region(struct region *r, void *alias, const char *path, uint64_t pc,
			   uint32_t mapflags)
{
	sigset_t old;
	int err;

	if (sys_mmap_failed(alias)) {
		pr_warn("cannot alias %s at %#lx (%s): not traced", path, (unsigned long)r->start,
			strerror(-(int)(long)alias));
		return 0;
	}
	r->alias = alias;
	r->flags |= REGION_TRACE;
	agent_table_lock(&old);
	err = region_add(&agent.regions, r);
	agent_table_unlock(&old);
	if (err) {
		sys_munmap(alias, r->end - r->start);
		pr_warn("cannot track %s at %#lx (%s): not traced", path, (unsigned long)r->start,
			strerror(-err));
		return 0;
	}
	sys_mprotect((void *)r->start, r->end - r->start, PROT_NONE);
	__atomic_add_fetch(&agent.matched, 1, __ATOMIC_RELAXED);
	agent_record_map(r, path, pc, mapflags);
	if (agent.cfg.verbose)
		pr_info("tracing %s at %#lx+%#lx as region %u", path, (unsigned long)r->start,
			(unsigned long)(r->end - r->start), r->id);
	return r->id;
}

/* A descriptor of ours for the object with this inode, if the program
 * still has one open (io_uring rings: the ring fd).  -1 if none. */
static int fd_for_inode(unsigned long ino)
{
	char path[64];
	struct stat st;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int found = -1;

	while (d && (de = readdir(d)) && found < 0) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] == '.' || fd == dirfd(d))
			continue;
		if (fstat(fd, &st) == 0 && st.st_ino == ino) {
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			found = open(path, O_RDWR | O_CLOEXEC);
			if (found < 0)
				found = fcntl(fd, F_DUPFD_CLOEXEC, AGENT_FD_MIN);
		}
	}
	if (d)
		closedir(d);
	return found;
}

/* An alias for a mapping we did not see being made: a second mapping of
 * the same pages by mremap(old, 0, len), else through a descriptor of the
 * same object, else through map_files. */
static void *alias_existing(uint64_t lo, uint64_t hi, int prot, long off, unsigned long ino)
{
	char path[96];
	void *alias = sys_mremap((void *)lo, 0, hi - lo, MREMAP_MAYMOVE, NULL);
	int fd;

	if (!sys_mmap_failed(alias)) {
		sys_mprotect(alias, hi - lo, prot & (PROT_READ | PROT_WRITE));
		return alias;
	}
	fd = ino ? fd_for_inode(ino) : -1;
	if (fd >= 0) {
		alias = sys_mmap(NULL, hi - lo, prot & (PROT_READ | PROT_WRITE), MAP_SHARED, fd,
				 off);
		close(fd);
		if (!sys_mmap_failed(alias))
			return alias;
	}
	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)lo,
		 (unsigned long)hi);
	fd = open(path, (prot & PROT_WRITE) ? O_RDWR | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return alias;
	alias = sys_mmap(NULL, hi - lo, prot & (PROT_READ | PROT_WRITE), MAP_SHARED, fd, off);
	close(fd);
	return alias;
}

static void maybe_arm_fd(void *addr, size_t len, int prot, int flags, int fd, long off, uint64_t pc,
			 const char *path)
{
	struct region r = {
		.start = (uint64_t)addr,
		.end = (uint64_t)addr + ((len + 4095) & ~4095ul),
		.file_offset = (uint64_t)off,
		.prot = prot,
		.mmap_flags = flags,
	};

	arm_region(&r,
		   sys_mmap(NULL, r.end - r.start, prot & (PROT_READ | PROT_WRITE), MAP_SHARED, fd,
			    off),
		   path, pc, 0);
}

static void maybe_arm(void *addr, size_t len, int prot, int flags, int fd, long off, uint64_t pc)
{
	char link[64], path[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (!agent.active || fd < 0)
		return;
	if ((flags & MAP_TYPE) != MAP_SHARED && (flags & MAP_TYPE) != MAP_SHARED_VALIDATE)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = 0;
	if (fstat(fd, &st) < 0)
		return;
	if (!config_selects(&agent.cfg, path, S_ISCHR(st.st_mode)))
		return;
	maybe_arm_fd(addr, len, prot, flags, fd, off, pc, path);
}

static void unmap_piece(void *arg, const struct region *piece)
{
	uint64_t pc = *(uint64_t *)arg;

	if (piece->alias)
		sys_munmap(piece->alias, piece->end - piece->start);
	if (piece->flags & REGION_TRACE)
		agent_record_unmap(piece, pc);
}

/* Forget [addr, addr+len) from the table; unmap the aliases. */
static void forget_range(uint64_t addr, uint64_t len, uint64_t pc)
{
	struct region probe[1];
	sigset_t old;

	if (!agent.active || !region_overlaps(&agent.regions, addr, addr + len, probe, 1))
		return;
	agent_table_lock(&old);
	region_cut(&agent.regions, addr, addr + len, unmap_piece, &pc);
	agent_table_unlock(&old);
	watch_on_unmapped(addr, addr + len);
}

static void *set_errno_ptr(void *p)
{
	if (sys_mmap_failed(p)) {
		errno = -(int)(long)p;
		return MAP_FAILED;
	}
	return p;
}

MMS_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	if ((flags & MAP_FIXED) && agent.active)
		forget_range((uint64_t)addr, len, PC());
	p = set_errno_ptr(sys_mmap(addr, len, prot, flags, fd, off));
	if (p != MAP_FAILED)
		maybe_arm(p, len, prot, flags, fd, off, PC());
	return p;
}

MMS_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

MMS_EXPORT int munmap(void *addr, size_t len)
{
	long r;

	/* Validate first so a failing munmap changes nothing, as without us. */
	if (((uint64_t)addr & 4095) || !len) {
		errno = EINVAL;
		return -1;
	}
	forget_range((uint64_t)addr, (len + 4095) & ~4095ul, PC());
	r = sys_munmap(addr, len);
	if (r < 0) {
		errno = -(int)r;
		return -1;
	}
	return 0;
}

MMS_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	struct region r[1];
	void *new_addr = NULL, *p, *alias;
	uint64_t pc = PC();
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (!agent.active || old_len == 0 ||
	    region_overlaps(&agent.regions, (uint64_t)old, (uint64_t)old + old_len, r, 1) == 0)
		return set_errno_ptr(sys_mremap(old, old_len, new_len, flags, new_addr));
	if (!r[0].alias) {
		/* watched private memory moves: its page watchpoints stay
		 * behind (docs/watch.md); the moved pages get the program's
		 * protection back */
		p = set_errno_ptr(sys_mremap(old, old_len, new_len, flags, new_addr));
		if (p != MAP_FAILED) {
			forget_range((uint64_t)old, old_len, pc);
			sys_mprotect(p, new_len, r[0].prot);
		}
		return p;
	}

	p = set_errno_ptr(sys_mremap(old, old_len, new_len, flags, new_addr));
	if (p == MAP_FAILED)
		return p;
	/* The moved view keeps PROT_NONE; give the new range a new alias. */
	struct region nr = r[0];
	uint64_t delta = (uint64_t)old - r[0].start;
	forget_range((uint64_t)old, old_len, pc);
	if (new_addr || p != old)
		forget_range((uint64_t)p, new_len, pc);
	nr.id = 0;
	nr.base = 0;
	nr.start = (uint64_t)p;
	nr.end = (uint64_t)p + ((new_len + 4095) & ~4095ul);
	nr.file_offset = r[0].file_offset + delta;
	alias = alias_existing(nr.start, nr.end, nr.prot, (long)nr.file_offset, 0);
	if (!arm_region(&nr, alias, "(mremap)", pc, MMS_MF_MREMAP))
		sys_mprotect(p, nr.end - nr.start, r[0].prot); /* untraced, but usable */
	return p;
}

MMS_EXPORT int mprotect(void *addr, size_t len, int prot)
{
	struct region r[64];
	uint64_t a = (uint64_t)addr, end = a + ((len + 4095) & ~4095ul);
	int n;
	long rc;
	sigset_t set;

	n = agent.active ? region_overlaps(&agent.regions, a, end, r, 64) : 0;
	if (!n) {
		rc = sys_mprotect(addr, len, prot);
		goto out;
	}
	/* Regions: change the alias (it answers EACCES exactly as the
	 * program's own view would), keep the view PROT_NONE. */
	for (int i = 0; i < n; i++) {
		uint64_t lo = r[i].start > a ? r[i].start : a;
		uint64_t hi = r[i].end < end ? r[i].end : end;
		if (!r[i].alias) {
			/* watched private page: the view is ours (the
			 * program's answer is checked against r.prot) */
			continue;
		}
		rc = sys_mprotect(r[i].alias + (lo - r[i].start), hi - lo,
				  prot & (PROT_READ | PROT_WRITE));
		if (rc < 0)
			goto out;
	}
	/* Gaps between regions: the program's plain mprotect. */
	uint64_t cur = a;
	for (int i = 0; i <= n; i++) {
		uint64_t gap_end = i < n ? (r[i].start > a ? r[i].start : a) : end;
		if (gap_end > cur) {
			rc = sys_mprotect((void *)cur, gap_end - cur, prot);
			if (rc < 0)
				goto out;
		}
		if (i < n)
			cur = r[i].end < end ? r[i].end : end;
	}
	agent_table_lock(&set);
	for (int i = 0; i < n; i++) {
		uint64_t lo = r[i].start > a ? r[i].start : a;
		uint64_t hi = r[i].end < end ? r[i].end : end;
		struct region piece = r[i];
		if (piece.alias)
			piece.alias += lo - r[i].start;
		piece.file_offset += lo - r[i].start;
		piece.start = lo;
		piece.end = hi;
		piece.prot = prot;
		region_cut(&agent.regions, lo, hi, NULL, NULL);
		region_add(&agent.regions, &piece);
		if (!piece.alias)
			sys_mprotect((void *)lo, hi - lo, agent_view_prot(&piece));
	}
	agent_table_unlock(&set);
	rc = 0;
out:
	if (rc < 0) {
		errno = -(int)rc;
		return -1;
	}
	return 0;
}

MMS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	long r;

	if (agent.active) {
		char msg[PATH_MAX + 128];
		if (elf_is_static(path) == 1) {
			snprintf(msg, sizeof(msg),
				 "exec of statically linked %s: mmscope cannot enter it, "
				 "its accesses are not traced",
				 path);
			agent_record_proc(MMS_PROC_NOTE, 0, msg);
			dprintf(2, "mmscope: warning: %s\n", msg);
		}
		agent_record_proc(MMS_PROC_EXEC, 0, path);
	}
	r = sys_call3(SYS_execve, path, argv, envp);
	errno = -(int)r;
	return -1;
}

MMS_EXPORT int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

MMS_EXPORT int execvp(const char *file, char *const argv[])
{
	char buf[PATH_MAX];
	const char *p = getenv("PATH");
	int saved = ENOENT;

	if (strchr(file, '/'))
		return execve(file, argv, environ);
	if (!p)
		p = "/bin:/usr/bin";
	while (*p) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, n ? p : ".", file);
		execve(buf, argv, environ);
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
		p += n + (colon ? 1 : 0);
		if (!colon)
			break;
	}
	errno = saved;
	return -1;
}

/* Returns the new region's id, 0 if not armed. */
static uint32_t arm_existing(uint64_t lo, uint64_t hi, int prot, long off, unsigned long ino,
			     const char *path, uint32_t mapflags)
{
	struct region r = {
		.start = lo,
		.end = hi,
		.file_offset = (uint64_t)off,
		.prot = prot,
		.mmap_flags = MAP_SHARED,
	};

	return arm_region(&r, alias_existing(lo, hi, prot, off, ino), path, 0, mapflags);
}

/*
 * Bring the region table in line with /proc/self/maps: arm selected shared
 * mappings the interposer never saw (made before the agent started, or by
 * a raw mmap syscall), and forget regions whose mapping is gone (a raw
 * munmap).  Called at startup and around library calls known to map or
 * unmap with raw syscalls (uring.c).
 */
void intercept_reconcile(uint32_t mapflags)
{
	static struct maps_line m;
	static uint32_t seen[REGION_MAX];
	char line[PATH_MAX + 128];
	int nseen = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct region cur[16];
		int n;
		if (!maps_parse(line, &m))
			continue;
		int total = 0;
		for (uint64_t from = m.lo;; from = cur[15].end) {
			n = region_overlaps(&agent.regions, from, m.hi, cur, 16);
			for (int i = 0; i < n && nseen < REGION_MAX; i++)
				seen[nseen++] = cur[i].id;
			total += n;
			if (n < 16)
				break;
		}
		if (total || !m.path[0] || m.perms[3] != 's')
			continue;
		if (!strncmp(m.path, "/proc/", 6) ||
		    !config_selects(&agent.cfg, m.path, !strncmp(m.path, "/dev/", 5)))
			continue;
		/* our own aliases are shared mappings of the same objects */
		bool is_alias = false;
		for (uint32_t i = 0; i < agent.regions.count && !is_alias; i++) {
			const struct region *r = &agent.regions.r[i];
			uint64_t alo = (uint64_t)r->alias, ahi = alo + (r->end - r->start);
			is_alias = r->alias && m.lo < ahi && m.hi > alo;
		}
		if (is_alias)
			continue;
		int prot = maps_prot(&m) & (PROT_READ | PROT_WRITE);
		uint32_t id = arm_existing(m.lo, m.hi, prot, (long)m.off, m.ino, m.path, mapflags);
		if (id && nseen < REGION_MAX)
			seen[nseen++] = id;
	}
	fclose(f);

	/* regions no longer present in the kernel's view were unmapped
	 * behind our back (a raw munmap) */
	for (uint32_t i = 0; i < agent.regions.count;) {
		struct region r = agent.regions.r[i];
		bool present = false;
		for (int j = 0; j < nseen && !present; j++)
			present = seen[j] == r.id;
		if (present)
			i++;
		else
			forget_range(r.start, r.end - r.start, 0);
	}
}
