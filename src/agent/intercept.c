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
#include "util/sys.h"

#define LOG_DOMAIN "intercept"
#include "util/log.h"

#define PC() ((uint64_t)__builtin_return_address(0))

static void table_lock(sigset_t *old)
{
	signals_block_all(old);
	pthread_mutex_lock(&agent.lock);
	region_write_begin(&agent.regions);
}

static void table_unlock(const sigset_t *old)
{
	region_write_end(&agent.regions);
	pthread_mutex_unlock(&agent.lock);
	signals_restore(old);
}

bool intercept_arm(void *addr, size_t len, int prot, int flags, int fd, long off,
		   uint64_t pc, const char *path, uint32_t mapflags)
{
	struct region r = {
		.start = (uint64_t)addr,
		.end = (uint64_t)addr + ((len + 4095) & ~4095ul),
		.file_offset = (uint64_t)off,
		.prot = prot,
		.mmap_flags = flags,
	};
	sigset_t old;
	void *alias;
	int err;

	if (fd >= 0)
		alias = sys_mmap(NULL, r.end - r.start, prot & (PROT_READ | PROT_WRITE),
				 MAP_SHARED, fd, off);
	else
		alias = sys_mremap(addr, 0, r.end - r.start, MREMAP_MAYMOVE, NULL);
	if (sys_mmap_failed(alias)) {
		pr_warn("cannot alias %s at %p (%s): not traced", path, addr,
			strerror(-(int)(long)alias));
		return false;
	}
	r.alias = alias;
	table_lock(&old);
	err = region_add(&agent.regions, &r);
	table_unlock(&old);
	if (err) {
		sys_munmap(alias, r.end - r.start);
		pr_warn("cannot track %s at %p (%s): not traced", path, addr, strerror(-err));
		return false;
	}
	sys_mprotect(addr, r.end - r.start, PROT_NONE);
	__atomic_add_fetch(&agent.matched, 1, __ATOMIC_RELAXED);
	agent_record_map(&r, path, pc, mapflags);
	if (agent.cfg.verbose)
		pr_info("tracing %s at %p+0x%zx as region %u", path, addr, len, r.id);
	return true;
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
	intercept_arm(addr, len, prot, flags, fd, off, pc, path, 0);
}

static void unmap_piece(void *arg, const struct region *piece)
{
	uint64_t pc = *(uint64_t *)arg;

	sys_munmap(piece->alias, piece->end - piece->start);
	agent_record_unmap(piece, pc);
}

/* Forget [addr, addr+len) from the table; unmap the aliases. */
static void forget_range(uint64_t addr, uint64_t len, uint64_t pc)
{
	struct region probe[1];
	sigset_t old;

	if (!agent.active || !region_overlaps(&agent.regions, addr, addr + len, probe, 1))
		return;
	table_lock(&old);
	region_cut(&agent.regions, addr, addr + len, unmap_piece, &pc);
	table_unlock(&old);
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
	sigset_t set;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (!agent.active || old_len == 0 ||
	    region_overlaps(&agent.regions, (uint64_t)old, (uint64_t)old + old_len, r, 1) == 0)
		return set_errno_ptr(sys_mremap(old, old_len, new_len, flags, new_addr));

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
	alias = sys_mremap(p, 0, nr.end - nr.start, MREMAP_MAYMOVE, NULL);
	if (sys_mmap_failed(alias)) {
		pr_warn("mremap of a traced region: cannot alias the new range; not traced");
		sys_mprotect(p, nr.end - nr.start, r[0].prot);
		return p;
	}
	sys_mprotect(alias, nr.end - nr.start, nr.prot & (PROT_READ | PROT_WRITE));
	nr.alias = alias;
	table_lock(&set);
	region_add(&agent.regions, &nr);
	table_unlock(&set);
	sys_mprotect(p, nr.end - nr.start, PROT_NONE);
	agent_record_map(&nr, "(mremap)", pc, MMS_MF_MREMAP);
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
	table_lock(&set);
	for (int i = 0; i < n; i++) {
		uint64_t lo = r[i].start > a ? r[i].start : a;
		uint64_t hi = r[i].end < end ? r[i].end : end;
		struct region piece = r[i];
		piece.alias += lo - r[i].start;
		piece.file_offset += lo - r[i].start;
		piece.start = lo;
		piece.end = hi;
		piece.prot = prot;
		region_cut(&agent.regions, lo, hi, NULL, NULL);
		region_add(&agent.regions, &piece);
	}
	table_unlock(&set);
	rc = 0;
out:
	if (rc < 0) {
		errno = -(int)rc;
		return -1;
	}
	return 0;
}

/* Is path a dynamically linked ELF the agent can enter?  1 yes, 0 static,
 * -1 unknown (not ELF, unreadable: let execve decide). */
static int elf_has_interp(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), res = -1;

	if (fd < 0)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto out;
	res = 0;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * eh.e_phentsize) != sizeof(ph)) {
			res = -1;
			break;
		}
		if (ph.p_type == PT_INTERP) {
			res = 1;
			break;
		}
	}
out:
	close(fd);
	return res;
}

MMS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	long r;

	if (agent.active) {
		char msg[PATH_MAX + 128];
		if (elf_has_interp(path) == 0) {
			snprintf(msg, sizeof(msg),
				 "exec of statically linked %s: mmscope cannot enter it, "
				 "its accesses are not traced", path);
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

/* Mappings that exist before the agent starts (inherited or made by an
 * earlier constructor): armed from /proc/self/maps with an mremap alias. */
void intercept_scan_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;
		char perms[8], path[PATH_MAX];
		int prot = 0;

		path[0] = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %4095[^\n]", &lo, &hi, perms, &off, path) < 4)
			continue;
		if (perms[3] != 's' || !path[0])
			continue;
		if (!config_selects(&agent.cfg, path, !strncmp(path, "/dev/", 5)))
			continue;
		prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0);
		intercept_arm((void *)lo, hi - lo, prot, MAP_SHARED, -1, (long)off, 0, path,
			      MMS_MF_INHERITED);
	}
	fclose(f);
}
