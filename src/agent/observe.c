/* SPDX-License-Identifier: MIT */
/*
 * The mmap-family observer (see observe.h).  A MAP_SHARED mapping of a
 * selected object is armed: the agent maps an alias of the same object
 * (same fd and offset), registers the region, then turns the program's
 * view PROT_NONE.  munmap/mremap/mprotect keep view, alias and table
 * coherent with the results the program would see without mmscope.
 *
 * Every table change happens under the table lock, and so does everything
 * that decides on a table change from what the kernel says (the whole of
 * obs_reconcile), so two threads setting up or tearing down mappings at
 * once never see each other half-way.  Paths and directory listings are
 * read into static buffers that only the lock holder uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "agent/agent.h"
#include "agent/observe.h"
#include "agent/record.h"
#include "agent/shadow.h"
#include "mmscope/trace-format.h"
#include "util/fmt.h"
#include "util/lock.h"
#include "util/maps.h"
#include "util/proc.h"
#include "util/sys.h"

static struct mlock table_lock = MLOCK_INIT;

/* used by the lock holder only */
static char held_path[PATH_MAX];
static struct maps_reader held_maps;
static struct maps_line held_line;
static uint32_t held_seen[REGION_MAX];

void agent_table_lock(sigset_t *old)
{
	mlock_take(&table_lock, old);
	region_write_begin(&agent.regions);
}

void agent_table_unlock(const sigset_t *old)
{
	region_write_end(&agent.regions);
	mlock_give(&table_lock, old);
}

bool agent_table_held_by(int tid)
{
	return __atomic_load_n(&table_lock.word, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&table_lock.owner, __ATOMIC_ACQUIRE) == tid;
}

static sigset_t fork_saved;

void obs_before_fork(void)
{
	mlock_take(&table_lock, &fork_saved);
}

void obs_after_fork(int child)
{
	if (child)
		mlock_reset(&table_lock);
	else
		table_lock.owner = 0;
	if (child || !table_lock.word)
		sys_rt_sigprocmask(SIG_SETMASK, &fork_saved, NULL);
	else
		mlock_give(&table_lock, &fork_saved);
}

static uint64_t page_up(uint64_t n)
{
	return (n + 4095) & ~4095ull;
}

static void untraced(uint64_t addr, const char *what, const char *path, long err)
{
	char msg[1024]; /* signal context: the program's stack */
	size_t pos = 0;

	fmt_str(msg, sizeof(msg), &pos, what);
	if (path) {
		fmt_str(msg, sizeof(msg), &pos, " ");
		fmt_str(msg, sizeof(msg), &pos, path);
	}
	if (err) {
		fmt_str(msg, sizeof(msg), &pos, " (errno ");
		fmt_u64(msg, sizeof(msg), &pos, (uint64_t)-err);
		fmt_str(msg, sizeof(msg), &pos, ")");
	}
	fmt_str(msg, sizeof(msg), &pos, ": not traced");
	rec_untraced(addr, msg);
}

/* The device rule (docs/design.md): reads of a device have side effects,
 * so the engine never reads one more than the program does. */
static uint32_t region_kind(const char *path, bool chardev)
{
	if (config_is_device(&agent.cfg, path, chardev))
		return REGION_TRACE | REGION_DEVICE;
	return REGION_TRACE;
}

/*
 * Table lock held.  Arm r (start, end, file_offset, prot, mmap_flags
 * filled in) with alias: register it, close the program's view, announce
 * it.  On failure the alias is released and the mapping stays untraced,
 * and the trace says so.  Returns the region id, 0 on failure.
 */
static uint32_t arm_locked(struct region *r, void *alias, const char *path, bool chardev,
			   uint64_t pc, uint32_t mapflags)
{
	int err;

	if (sys_mmap_failed(alias)) {
		untraced(r->start, "cannot map a second view of", path, (long)alias);
		return 0;
	}
	r->alias = alias;
	r->flags |= region_kind(path, chardev);
	err = region_add(&agent.regions, r);
	if (err) {
		sys_munmap(alias, r->end - r->start);
		untraced(r->start, err == -ENOSPC ? "region table full for" : "cannot track", path,
			 err);
		return 0;
	}
	sys_mprotect((void *)r->start, r->end - r->start, PROT_NONE);
	if (r->flags & REGION_DEVICE)
		shadow_track(r);
	rec_map(r, path, pc, mapflags);
	return r->id;
}

/* Table lock held: the path of fd (held_path) and whether it is
 * selected. */
static bool fd_selected(int fd, bool *chardev)
{
	char link[40];
	size_t pos = 0;
	struct stat st;

	fmt_str(link, sizeof(link), &pos, "self/fd/");
	fmt_u64(link, sizeof(link), &pos, (uint64_t)fd);
	if (proc_readlink(link, held_path, sizeof(held_path)) <= 0)
		return false;
	if (sys_call2(SYS_fstat, fd, &st) < 0)
		return false;
	*chardev = S_ISCHR(st.st_mode);
	return config_selects(&agent.cfg, held_path, *chardev);
}

static bool shared_type(int flags)
{
	return (flags & MAP_TYPE) == MAP_SHARED || (flags & MAP_TYPE) == MAP_SHARED_VALIDATE;
}

/* Table lock held: a new shared mapping of fd at addr; armed if selected. */
static void arm_new_locked(uint64_t addr, uint64_t len, int prot, int flags, int fd, long off,
			   uint64_t pc)
{
	struct region r = {
		.start = addr,
		.end = addr + page_up(len),
		.file_offset = (uint64_t)off,
		.prot = prot,
		.mmap_flags = flags,
	};
	bool chardev = false;

	if (fd_selected(fd, &chardev))
		arm_locked(&r,
			   sys_mmap(NULL, r.end - r.start, prot & (PROT_READ | PROT_WRITE),
				    MAP_SHARED, fd, off),
			   held_path, chardev, pc, 0);
}

static void unmap_piece(void *arg, const struct region *piece)
{
	uint64_t pc = *(uint64_t *)arg;

	if (piece->alias)
		sys_munmap(piece->alias, piece->end - piece->start);
	if (piece->flags & REGION_TRACE)
		rec_unmap(piece, pc);
}

/* Table lock held: forget [lo, hi) from the table; unmap the aliases. */
static void forget_locked(uint64_t lo, uint64_t hi, uint64_t pc)
{
	region_cut(&agent.regions, lo, hi, unmap_piece, &pc);
	shadow_prune(&agent.regions);
}

/* signal context: see observe.h */
int obs_give_up(uint64_t addr, const char *why)
{
	struct region r;
	sigset_t set;
	int found;

	agent_table_lock(&set);
	found = region_overlaps_locked(&agent.regions, addr, addr + 1, &r, 1) == 1;
	if (found) {
		sys_mprotect((void *)r.start, r.end - r.start, r.prot);
		forget_locked(r.start, r.end, 0);
	}
	agent_table_unlock(&set);
	if (!found)
		return -ENOENT;
	untraced(r.start, why, NULL, 0);
	watch_on_unmapped(r.start, r.end);
	return 0;
}

/* Is anything of [lo, hi) in the table?  (A region cannot appear in a
 * range meanwhile unless the program races its own mmap with its own
 * unmap of the same addresses.) */
static bool overlaps(uint64_t lo, uint64_t hi)
{
	struct region probe[1];

	return region_overlaps(&agent.regions, lo, hi, probe, 1) > 0;
}

/*
 * The rule for every kernel call that changes mappings the table knows
 * (issue 7, C.9): the call and the table update happen under the table
 * lock, together.  Otherwise another thread's mmap can be handed the
 * addresses an unmap just freed while the table still holds the old
 * region, and the two collide.  A fault meanwhile waits for the lock's
 * short critical section, then finds the table as the kernel has it.
 */

/* signal context */
long obs_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, long off, uint64_t pc)
{
	/* a fixed mapping replaces whatever was there */
	bool fixed = (flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE);
	bool replaces = fixed && agent.active && overlaps(addr, addr + page_up(len));
	bool wanted = fd >= 0 && shared_type(flags) && !(flags & MAP_ANONYMOUS);
	sigset_t set;
	void *p;

	if (!agent.active || (!replaces && !wanted))
		return (long)sys_mmap((void *)addr, len, prot, flags, fd, off);
	agent_table_lock(&set);
	p = sys_mmap((void *)addr, len, prot, flags, fd, off);
	if (!sys_mmap_failed(p) && replaces)
		forget_locked(addr, addr + page_up(len), pc);
	if (!sys_mmap_failed(p) && wanted)
		arm_new_locked((uint64_t)p, len, prot, flags, fd, off, pc);
	agent_table_unlock(&set);
	if (!sys_mmap_failed(p) && replaces)
		watch_on_unmapped(addr, addr + page_up(len));
	return (long)p;
}

/* signal context */
long obs_munmap(uint64_t addr, uint64_t len, uint64_t pc)
{
	sigset_t set;
	long r;

	if (!agent.active || !overlaps(addr, addr + page_up(len)))
		return sys_munmap((void *)addr, len);
	agent_table_lock(&set);
	r = sys_munmap((void *)addr, len);
	if (r == 0)
		forget_locked(addr, addr + page_up(len), pc);
	agent_table_unlock(&set);
	if (r == 0)
		watch_on_unmapped(addr, addr + page_up(len));
	return r;
}

/* Table lock held: a descriptor of ours for the object with this inode,
 * if the program still has one open (io_uring rings: the ring fd). */
static long fd_for_inode(unsigned long ino, int flags)
{
	char buf[1024] __attribute__((aligned(8)));
	long dir = proc_open("self/fd", O_RDONLY | O_DIRECTORY), n, found = -1;

	if (dir < 0)
		return -1;
	while (found < 0 && (n = sys_call3(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n && found < 0;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			struct stat st;
			long fd = 0;
			off += d->reclen;
			if (d->name[0] < '0' || d->name[0] > '9')
				continue;
			for (const char *c = d->name; *c; c++)
				fd = fd * 10 + (*c - '0');
			if (fd == dir || sys_call2(SYS_fstat, fd, &st) < 0 || st.st_ino != ino)
				continue;
			char rel[40];
			size_t pos = 0;
			fmt_str(rel, sizeof(rel), &pos, "self/fd/");
			fmt_u64(rel, sizeof(rel), &pos, (uint64_t)fd);
			found = proc_open(rel, flags);
			if (found < 0)
				found = sys_call3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, AGENT_FD_MIN);
		}
	}
	sys_close((int)dir);
	return found;
}

/* Table lock held.  An alias for a mapping we did not see being made: a
 * second mapping of the same pages by mremap(old, 0, len), else through a
 * descriptor of the same object, else through map_files. */
static void *alias_existing(uint64_t lo, uint64_t hi, int prot, long off, unsigned long ino)
{
	int rw = prot & (PROT_READ | PROT_WRITE);
	void *alias = sys_mremap((void *)lo, 0, hi - lo, MREMAP_MAYMOVE, NULL);
	char rel[96];
	size_t pos = 0;
	long fd;

	if (!sys_mmap_failed(alias)) {
		sys_mprotect(alias, hi - lo, rw);
		return alias;
	}
	fd = ino ? fd_for_inode(ino, O_RDWR) : -1;
	if (fd >= 0) {
		alias = sys_mmap(NULL, hi - lo, rw, MAP_SHARED, (int)fd, off);
		sys_close((int)fd);
		if (!sys_mmap_failed(alias))
			return alias;
	}
	fmt_str(rel, sizeof(rel), &pos, "self/map_files/");
	fmt_hex(rel, sizeof(rel), &pos, lo);
	fmt_str(rel, sizeof(rel), &pos, "-");
	fmt_hex(rel, sizeof(rel), &pos, hi);
	fd = proc_open(rel, (prot & PROT_WRITE) ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return alias;
	alias = sys_mmap(NULL, hi - lo, rw, MAP_SHARED, (int)fd, off);
	sys_close((int)fd);
	return alias;
}

/* signal context */
long obs_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr,
		uint64_t pc)
{
	struct region r[1];
	uint64_t p;
	sigset_t set;

	if (!agent.active || old_len == 0 || !overlaps(old, old + old_len))
		return (long)sys_mremap((void *)old, old_len, new_len, flags, (void *)new_addr);
	agent_table_lock(&set);
	if (region_overlaps_locked(&agent.regions, old, old + old_len, r, 1) == 0) {
		p = (uint64_t)sys_mremap((void *)old, old_len, new_len, flags, (void *)new_addr);
		agent_table_unlock(&set);
		return (long)p;
	}
	p = (uint64_t)sys_mremap((void *)old, old_len, new_len, flags, (void *)new_addr);
	if (sys_mmap_failed((void *)p)) {
		agent_table_unlock(&set);
		return (long)p;
	}
	if (!r[0].alias) {
		/* watched private memory moves: its page watchpoints stay
		 * behind (docs/watch.md); the moved pages get the program's
		 * protection back */
		forget_locked(old, old + old_len, pc);
		sys_mprotect((void *)p, new_len, r[0].prot);
		agent_table_unlock(&set);
		watch_on_unmapped(old, old + old_len);
		return (long)p;
	}
	/* The moved view keeps PROT_NONE; give the new range a new alias. */
	struct region nr = r[0];
	uint64_t delta = old - r[0].start;
	forget_locked(old, old + old_len, pc);
	if ((flags & MREMAP_FIXED) || p != old)
		forget_locked(p, p + page_up(new_len), pc);
	nr.id = 0;
	nr.base = 0;
	nr.start = p;
	nr.end = p + page_up(new_len);
	nr.file_offset = r[0].file_offset + delta;
	nr.flags &= ~(uint32_t)(REGION_TRACE | REGION_DEVICE | REGION_WATCH);
	bool device = r[0].flags & REGION_DEVICE;
	char path[1024], rel[96]; /* on the program's stack: keep it small */
	size_t pos = 0;
	fmt_str(rel, sizeof(rel), &pos, "self/map_files/");
	fmt_hex(rel, sizeof(rel), &pos, nr.start);
	fmt_str(rel, sizeof(rel), &pos, "-");
	fmt_hex(rel, sizeof(rel), &pos, nr.end);
	if (proc_readlink(rel, path, sizeof(path)) < 0)
		memcpy(path, "(mremap)", sizeof("(mremap)"));
	if (!arm_locked(&nr, alias_existing(nr.start, nr.end, nr.prot, (long)nr.file_offset, 0),
			path, false, pc, MMS_MF_MREMAP))
		sys_mprotect((void *)p, nr.end - nr.start, r[0].prot); /* untraced, but usable */
	else if (device) {
		/* a fresh shadow: the moved registers are not known again
		 * until the program touches them */
		struct region *moved = region_get_mut(&agent.regions, nr.start);
		moved->flags |= REGION_DEVICE;
		shadow_track(moved);
	}
	agent_table_unlock(&set);
	watch_on_unmapped(old, old + old_len);
	return (long)p;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* signal context */
long obs_mprotect(uint64_t a, uint64_t len, int prot, uint64_t pc)
{
	static struct region r[64]; /* under the table lock */
	uint64_t end = a + page_up(len), cur = a;
	sigset_t set;
	long rc = 0;
	int n;

	(void)pc;
	struct region probe[1];

	if (!agent.active || !region_overlaps(&agent.regions, a, end, probe, 1))
		return sys_mprotect((void *)a, len, prot);
	agent_table_lock(&set);
	n = region_overlaps_locked(&agent.regions, a, end, r, 64);
	/* Regions: change the alias (it answers EACCES exactly as the
	 * program's own view would), keep the view closed.  Watched private
	 * pages have no alias: the program's answer is checked against
	 * r.prot. */
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t lo = max_u64(r[i].start, a), hi = min_u64(r[i].end, end);
		if (r[i].alias)
			rc = sys_mprotect(r[i].alias + (lo - r[i].start), hi - lo,
					  prot & (PROT_READ | PROT_WRITE));
	}
	/* Gaps between regions: the program's plain mprotect. */
	for (int i = 0; i <= n && rc == 0; i++) {
		uint64_t gap_end = i < n ? max_u64(r[i].start, a) : end;
		if (gap_end > cur)
			rc = sys_mprotect((void *)cur, gap_end - cur, prot);
		if (i < n)
			cur = min_u64(r[i].end, end);
	}
	for (int i = 0; i < n && rc == 0; i++) {
		uint64_t lo = max_u64(r[i].start, a), hi = min_u64(r[i].end, end);
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
	return rc;
}

/* Table lock held: is [lo, hi) one of our own aliases? */
static bool is_alias(uint64_t lo, uint64_t hi)
{
	for (uint32_t i = 0; i < agent.regions.count; i++) {
		const struct region *r = &agent.regions.r[i];
		uint64_t alo = (uint64_t)r->alias, ahi = alo + (r->end - r->start);
		if (r->alias && lo < ahi && hi > alo)
			return true;
	}
	return false;
}

void obs_reconcile(uint32_t mapflags)
{
	struct maps_line *m = &held_line;
	int nseen = 0, got;
	sigset_t set;

	agent_table_lock(&set);
	if (maps_open(&held_maps) < 0) {
		agent_table_unlock(&set);
		rec_untraced(0, "cannot read /proc/self/maps: mappings made before mmscope started "
				"are not traced");
		return;
	}
	while ((got = maps_next(&held_maps, m)) > 0) {
		struct region cur[16];
		int n, total = 0;

		for (uint64_t from = m->lo;; from = cur[15].end) {
			n = region_overlaps_locked(&agent.regions, from, m->hi, cur, 16);
			for (int i = 0; i < n && nseen < REGION_MAX; i++)
				held_seen[nseen++] = cur[i].id;
			total += n;
			if (n < 16)
				break;
		}
		if (total || !m->path[0] || m->path[0] == '[' || m->perms[3] != 's')
			continue;
		if (!strncmp(m->path, "/proc/", 6) ||
		    !config_selects(&agent.cfg, m->path, !strncmp(m->path, "/dev/", 5)))
			continue;
		if (is_alias(m->lo, m->hi))
			continue;
		struct region r = {
			.start = m->lo,
			.end = m->hi,
			.file_offset = m->off,
			.prot = maps_prot(m) & (PROT_READ | PROT_WRITE),
			.mmap_flags = MAP_SHARED,
		};
		uint32_t id =
			arm_locked(&r, alias_existing(m->lo, m->hi, r.prot, (long)m->off, m->ino),
				   m->path, !strncmp(m->path, "/dev/", 5), 0, mapflags);
		if (id && nseen < REGION_MAX)
			held_seen[nseen++] = id;
	}
	maps_close(&held_maps);
	/* regions no longer in the kernel's view were unmapped behind our
	 * back (a raw munmap where raw calls are not trapped) */
	for (uint32_t i = 0; got == 0 && i < agent.regions.count;) {
		struct region r = agent.regions.r[i];
		bool present = false;
		for (int j = 0; j < nseen && !present; j++)
			present = held_seen[j] == r.id;
		if (present || !(r.flags & REGION_TRACE))
			i++;
		else
			forget_locked(r.start, r.end, 0);
	}
	agent_table_unlock(&set);
}
