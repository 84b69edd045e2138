/* SPDX-License-Identifier: MIT */
/*
 * The core dumper (core.h, docs/core.md).  Two walks over
 * /proc/self/maps with every other thread parked: the first decides the
 * segments and their sizes, the second (inside the write) names the
 * files for NT_FILE.  Memory is read as the debugger reads it (mem.c):
 * traced pages through their aliases, watched private pages through
 * /proc/self/mem, the rest with process_vm_readv; a device region comes
 * from its shadow register file, never from the device.  Static buffers
 * only.
 */
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/syscall.h>

#include "agent/agent.h"
#include "agent/core.h"
#include "agent/hot.h"
#include "agent/mem.h"
#include "agent/shadow.h"
#include "debug/x86_64.h"
#include "util/fmt.h"
#include "util/maps.h"
#include "util/proc.h"
#include "util/sys.h"

#define LOG_DOMAIN "core"
#include "util/log.h"

#define PAGE 4096
/* as many as the kernel's default vm.max_map_count allows, and an
 * e_phnum below PN_XNUM (untouched, the arrays cost no memory) */
#define SEG_MAX 65534
#define NAMES_MAX (256 * 1024)
#define NT_MMSCOPE_STATE 0x4d4d0001  /* docs/core.md */
#define NT_MMSCOPE_DEVICE 0x4d4d0002 /* one per device segment */

/* NT_MMSCOPE_DEVICE's fixed part; then the known bitmap (a bit per byte)
 * and the last record's seq of each 8-byte word */
struct device_note {
	uint64_t vaddr, len; /* the segment */
	uint64_t offset;     /* of vaddr in the region */
	uint32_t region;
	uint32_t live; /* 1: the bytes were read from the device for the core */
};

struct seg {
	uint64_t lo, hi, filesz;
	uint32_t flags;	 /* PF_R | PF_W | PF_X, the program's view */
	uint32_t region; /* a device region's id: filled from its shadow */
	bool device;
};

static struct seg segs[SEG_MAX];
static int nleft_out; /* mappings past SEG_MAX: not in the core */
/* read device regions for real (--dump-device-reads, dump --device-reads):
 * core_write's argument, for the writer's pieces */
static bool device_live;
static int nsegs;
/* NT_FILE: the file-backed mappings, names back to back */
static struct {
	uint64_t lo, hi, pgoff;
} files[SEG_MAX];
static int nfiles;
static char names[NAMES_MAX];
static size_t names_len;
static struct region regs[REGION_MAX];
static int nregs;
static uint8_t buf[64 * 1024];

/* ---- output ---- */

struct out {
	int fd;
	uint64_t pos;  /* where the file is, holes included */
	uint64_t hole; /* zero bytes at the end not written: a hole, as the
			  kernel's own cores leave untouched pages */
	int err;       /* the first write that failed; nothing is written after */
};

static void put(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (o->hole && !o->err) {
		long r = sys_call3(SYS_lseek, o->fd, (long)o->hole, SEEK_CUR);
		if (r < 0)
			o->err = (int)-r;
		o->hole = 0;
	}
	while (n && !o->err) {
		long w = sys_write(o->fd, b, n);
		if (w == -EINTR)
			continue;
		if (w <= 0) {
			o->err = w < 0 ? (int)-w : ENOSPC;
			return;
		}
		b += w;
		n -= (size_t)w;
		o->pos += (uint64_t)w;
	}
}

/* n zero bytes as a hole in the file (end_holes makes the last one real) */
static void put_hole(struct out *o, uint64_t n)
{
	o->hole += n;
	o->pos += n;
}

static void end_holes(struct out *o)
{
	if (o->hole && !o->err) {
		long r = sys_call2(SYS_ftruncate, o->fd, (long)o->pos);
		if (r < 0)
			o->err = (int)-r;
		o->hole = 0;
	}
}

static const uint8_t zero_page[PAGE];

static void put_zeros(struct out *o, uint64_t n)
{
	while (n && !o->err) {
		size_t k = n < PAGE ? (size_t)n : PAGE;
		put(o, zero_page, k);
		n -= k;
	}
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

static size_t note_size(const char *name, size_t desc)
{
	return sizeof(Elf64_Nhdr) + pad4(strlen(name) + 1) + pad4(desc);
}

static void note_begin(struct out *o, const char *name, uint32_t type, size_t desc)
{
	Elf64_Nhdr h = { .n_namesz = (uint32_t)strlen(name) + 1,
			 .n_descsz = (uint32_t)desc,
			 .n_type = type };
	char nm[16] = { 0 };

	memcpy(nm, name, h.n_namesz);
	put(o, &h, sizeof(h));
	put(o, nm, pad4(h.n_namesz));
}

static void note_end(struct out *o, size_t desc)
{
	put_zeros(o, pad4(desc) - desc);
}

static void note(struct out *o, const char *name, uint32_t type, const void *desc, size_t n)
{
	note_begin(o, name, type, n);
	put(o, desc, n);
	note_end(o, n);
}

/* ---- what the segments are ---- */

static bool is_alias(uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < nregs; i++) {
		uint64_t a = (uint64_t)(uintptr_t)regs[i].alias;
		if (a && a < hi && a + (regs[i].end - regs[i].start) > lo)
			return true;
	}
	return false;
}

static const struct region *region_at(uint64_t addr)
{
	for (int i = 0; i < nregs; i++)
		if (addr >= regs[i].start && addr < regs[i].end)
			return &regs[i];
	return NULL;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

/* How many bytes of mapping m go in the core (as the kernel's default
 * coredump_filter 0x33 decides, plus what mmscope traces); anon: it has
 * pages of its own (copied on write), as smaps says. */
static uint64_t dump_size(const struct maps_line *m, const struct region *r, int prot, bool anon,
			  enum core_mode mode)
{
	uint64_t len = m->hi - m->lo;
	bool file = m->path[0] == '/', shared = m->perms[3] == 's';
	uint8_t magic[4];

	if (!(prot & PROT_READ) || !strcmp(m->path, "[vvar]"))
		return 0; /* the program's own PROT_NONE; the kernel's page */
	if (r || mode == CORE_FULL || !file)
		return len; /* traced or watched, anonymous, [heap], [stack], [vdso] */
	if (shared)	    /* a memfd or deleted shm file: anonymous shared memory */
		return has_suffix(m->path, " (deleted)") || !strncmp(m->path, "/memfd:", 7) ? len
											    : 0;
	/* a page of text has a private copy once mmscope patched a hot
	 * site in it: the file still has the program's bytes (a program
	 * that wrote its read-only text itself and has a site patched
	 * there loses that change in the core) */
	if (anon && !(prot & PROT_WRITE) && hot_patched_in(m->lo, m->hi))
		anon = false;
	if (anon || (prot & PROT_WRITE))
		return len; /* a private file mapping's data, relocations, ... */
	/* text and read-only data: the file has them; its ELF header is kept */
	if (m->off == 0 && mem_read(m->lo, magic, 4, 0) == 4 && !memcmp(magic, ELFMAG, SELFMAG))
		return PAGE;
	return 0;
}

static void add_seg(const struct maps_line *m, bool anon, enum core_mode mode)
{
	if (is_alias(m->lo, m->hi) || hot_is_stubs(m->lo, m->hi) || !strcmp(m->path, "[vsyscall]"))
		return; /* an alias is mmscope's own view of a traced mapping,
			   stubs are mmscope's code */
	if (nsegs == SEG_MAX) {
		nleft_out++;
		return;
	}
	const struct region *r = region_at(m->lo);
	int prot = r ? r->prot : maps_prot(m);
	struct seg *s = &segs[nsegs++];
	*s = (struct seg){ .lo = m->lo, .hi = m->hi };
	s->flags = (prot & PROT_READ ? PF_R : 0) | (prot & PROT_WRITE ? PF_W : 0) |
		   (prot & PROT_EXEC ? PF_X : 0);
	s->filesz = dump_size(m, r, prot, anon, mode);
	if (r && (r->flags & REGION_DEVICE)) {
		s->device = true;
		s->region = r->id;
	}
	size_t nl = strlen(m->path) + 1;
	if (m->path[0] == '/' && names_len + nl <= sizeof(names)) {
		files[nfiles].lo = m->lo;
		files[nfiles].hi = m->hi;
		files[nfiles].pgoff = m->off / PAGE;
		nfiles++;
		memcpy(names + names_len, m->path, nl);
		names_len += nl;
	}
}

static void plan(enum core_mode mode)
{
	static struct maps_reader mr;
	static struct maps_line m, next;
	bool have = false, anon = false;

	nsegs = nfiles = nleft_out = 0;
	names_len = 0;
	nregs = region_overlaps(&agent.regions, 0, UINT64_MAX, regs, REGION_MAX);
	if (maps_open_smaps(&mr) < 0)
		return;
	while (maps_next_line(&mr) > 0) {
		if (maps_parse(mr.line, &next)) {
			if (have)
				add_seg(&m, anon, mode);
			m = next;
			have = true;
			anon = false;
		} else if (!strncmp(mr.line, "Anonymous:", 10)) {
			const char *p = mr.line + 10;
			while (*p == ' ')
				p++;
			anon = *p >= '1' && *p <= '9';
		}
	}
	if (have)
		add_seg(&m, anon, mode);
	maps_close(&mr);
}

/* ---- the notes ---- */

/* user_regs_struct (NT_PRSTATUS's pr_reg) in gdb's register numbers */
static const int prstatus_reg[27] = { 15, 14, 13, 12, 6,  1, 11, 10, 9,	 8,  0,	 2,  3, 4,
				      5,  57, 16, 18, 17, 7, 19, 58, 59, 20, 21, 22, 23 };

static void fill_prstatus(struct elf_prstatus *st, const struct core_thread *t, int sig)
{
	struct x86_regctx c = { .uc = (ucontext_t *)t->uc,
				.fs_base = t->fs_base,
				.gs_base = t->gs_base };

	memset(st, 0, sizeof(*st));
	st->pr_info.si_signo = sig;
	st->pr_cursig = (short)sig;
	memcpy(&st->pr_sighold, &t->uc->uc_sigmask, sizeof(st->pr_sighold));
	st->pr_pid = t->tid;
	st->pr_ppid = (int)sys_call0(SYS_getppid);
	st->pr_pgrp = (int)sys_call1(SYS_getpgid, 0);
	st->pr_sid = (int)sys_call1(SYS_getsid, 0);
	for (int i = 0; i < 27; i++) {
		uint8_t v[X86_REG_MAX_SIZE] = { 0 };
		uint64_t r = 0;
		x86_reg_get(&c, prstatus_reg[i], v);
		memcpy(&r, v, 8);
		if (x86_reg_size(prstatus_reg[i]) == 4)
			r &= 0xffffffffu;
		st->pr_reg[i] = r;
	}
	if (st->pr_reg[20] == 0)
		st->pr_reg[20] = 0x2b; /* ss: a context without it is user data */
	st->pr_fpvalid = t->uc->uc_mcontext.fpregs != NULL;
}

/* The XSAVE area of a signal frame: its size (0 when the frame has
 * none) and the features it says it holds. */
static size_t frame_xstate(const ucontext_t *uc, uint64_t *features)
{
	const uint8_t *fx = (const uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t magic, size;

	if (!fx)
		return 0;
	memcpy(&magic, fx + 464, 4);
	memcpy(features, fx + 464 + 8, 8);
	memcpy(&size, fx + 464 + 16, 4);
	return magic == 0x46505853 /* FP_XSTATE_MAGIC1 */ && size > 576 && size <= 1 << 16 ? size
											   : 0;
}

/* The size of the standard XSAVE layout for features (CPUID leaf 0xd:
 * where each component ends), which gdb wants NT_X86_XSTATE to have. */
static size_t layout_size(uint64_t features)
{
	size_t end = 576; /* legacy area and header */

	for (unsigned i = 2; i < 64; i++) {
		unsigned a, b, c, d;
		if (!(features >> i & 1) || !__get_cpuid_count(0xd, i, &a, &b, &c, &d))
			continue;
		if (b + a > end)
			end = b + a;
	}
	return end;
}

static size_t xstate_size(const ucontext_t *uc)
{
	uint64_t features = 0;
	size_t n = frame_xstate(uc, &features), want = n ? layout_size(features) : 0;

	return want > n ? want : n;
}

static void put_xstate(struct out *o, const ucontext_t *uc, size_t n)
{
	const uint8_t *fx = (const uint8_t *)uc->uc_mcontext.fpregs;
	uint64_t features = 0, bv;
	size_t have = frame_xstate(uc, &features);
	uint8_t head[576];

	/* a frame keeps its own header in the software bytes; a core keeps
	 * XCR0 in their first word (the kernel's USER_XSTATE_XCR0_WORD) */
	memcpy(head, fx, 576);
	memcpy(head + 464, &features, 8);
	memset(head + 472, 0, 40);
	/* a component the frame has no room for is in its initial state */
	memcpy(&bv, head + 512, 8);
	for (unsigned i = 2; i < 64; i++) {
		unsigned a, b, c, d;
		if (bv >> i & 1 && __get_cpuid_count(0xd, i, &a, &b, &c, &d) && b + a > have)
			bv &= ~(1ull << i);
	}
	memcpy(head + 512, &bv, 8);
	note_begin(o, "LINUX", NT_X86_XSTATE, n);
	put(o, head, 576);
	put(o, fx + 576, have - 576);
	put_zeros(o, n - have);
	note_end(o, n);
}

static size_t thread_notes_size(const struct core_thread *t)
{
	size_t x = xstate_size(t->uc);

	return note_size("CORE", sizeof(struct elf_prstatus)) +
	       (t->uc->uc_mcontext.fpregs ? note_size("CORE", 512) : 0) +
	       (x ? note_size("LINUX", x) : 0);
}

static void thread_notes(struct out *o, const struct core_thread *t, int sig)
{
	struct elf_prstatus st;
	size_t x = xstate_size(t->uc);

	fill_prstatus(&st, t, sig);
	note(o, "CORE", NT_PRSTATUS, &st, sizeof(st));
	if (t->uc->uc_mcontext.fpregs)
		note(o, "CORE", NT_FPREGSET, t->uc->uc_mcontext.fpregs, 512);
	if (x)
		put_xstate(o, t->uc, x);
}

static void fill_prpsinfo(struct elf_prpsinfo *p)
{
	long n;

	memset(p, 0, sizeof(*p));
	p->pr_state = 0;
	p->pr_sname = 'R';
	p->pr_uid = (unsigned)sys_call0(SYS_getuid);
	p->pr_gid = (unsigned)sys_call0(SYS_getgid);
	p->pr_pid = agent.pid;
	p->pr_ppid = (int)sys_call0(SYS_getppid);
	p->pr_pgrp = (int)sys_call1(SYS_getpgid, 0);
	p->pr_sid = (int)sys_call1(SYS_getsid, 0);
	n = proc_read("self/comm", p->pr_fname, sizeof(p->pr_fname) - 1);
	for (long i = 0; i < n; i++)
		if (p->pr_fname[i] == '\n')
			p->pr_fname[i] = 0;
	n = proc_read("self/cmdline", p->pr_psargs, sizeof(p->pr_psargs) - 1);
	for (long i = 0; i + 1 < n; i++)
		if (!p->pr_psargs[i])
			p->pr_psargs[i] = ' ';
}

static size_t file_note_size(void)
{
	return 16 + (size_t)nfiles * 24 + names_len;
}

static void file_note(struct out *o)
{
	uint64_t head[2] = { (uint64_t)nfiles, PAGE };
	size_t n = file_note_size();

	note_begin(o, "CORE", NT_FILE, n);
	put(o, head, sizeof(head));
	for (int i = 0; i < nfiles; i++) {
		uint64_t e[3] = { files[i].lo, files[i].hi, files[i].pgoff };
		put(o, e, sizeof(e));
	}
	put(o, names, names_len);
	note_end(o, n);
}

/* ---- what is known of each device segment ---- */

static size_t device_note_size(const struct seg *g)
{
	return note_size("MMSCOPE", sizeof(struct device_note) + g->filesz / 8 + g->filesz);
}

static uint64_t region_base(const struct seg *g)
{
	struct region r;

	return region_find(&agent.regions, g->lo, &r) == 0 ? r.base : g->lo;
}

/* n bytes of arr (of have bytes) from at, zeros past its end */
static void put_part(struct out *o, const void *arr, uint64_t have, uint64_t at, uint64_t n)
{
	uint64_t k = at < have ? have - at : 0;

	if (k > n)
		k = n;
	if (arr && k)
		put(o, (const uint8_t *)arr + at, (size_t)k);
	put_zeros(o, n - (arr ? k : 0));
}

static void device_note(struct out *o, const struct seg *g)
{
	const struct shadow *sh = shadow_of(g->region);
	uint64_t off = g->lo - region_base(g); /* a page multiple: whole words */
	struct device_note d = { .vaddr = g->lo,
				 .len = g->filesz,
				 .offset = off,
				 .region = g->region,
				 .live = device_live };
	size_t n = sizeof(d) + g->filesz / 8 + g->filesz;

	note_begin(o, "MMSCOPE", NT_MMSCOPE_DEVICE, n);
	put(o, &d, sizeof(d));
	uint64_t words = sh ? (sh->len + 7) / 8 : 0;

	put_part(o, sh ? sh->known : NULL, words, off / 8, g->filesz / 8);
	put_part(o, sh ? sh->seq : NULL, words * 8, off, g->filesz);
	note_end(o, n);
}

/* ---- the memory ---- */

static void put_memory(struct out *o, const struct seg *s, unsigned flags);

static void put_device(struct out *o, const struct seg *s)
{
	if (device_live) {
		put_memory(o, s, MEM_DEVICE_LIVE); /* through the alias, as the program would */
		return;
	}
	const struct shadow *sh = shadow_of(s->region);
	uint64_t base = region_base(s);

	for (uint64_t a = s->lo; a < s->lo + s->filesz && !o->err;) {
		size_t n = sizeof(buf);
		if (n > s->lo + s->filesz - a)
			n = (size_t)(s->lo + s->filesz - a);
		for (size_t i = 0; i < n; i++) {
			uint64_t off = a + i - base;
			buf[i] = sh && off < sh->len && shadow_known(sh, off) ? sh->value[off] : 0;
		}
		put(o, buf, n);
		a += n;
	}
}

/* Memory bytes: each whole page of zeros (never touched, most often) a
 * hole, the rest written. */
static void put_pages(struct out *o, const uint8_t *b, size_t n)
{
	while (n) {
		size_t k = n < PAGE ? n : PAGE;
		if (k == PAGE && !memcmp(b, zero_page, PAGE))
			put_hole(o, PAGE);
		else
			put(o, b, k);
		b += k;
		n -= k;
	}
}

static void put_memory(struct out *o, const struct seg *s, unsigned flags)
{
	for (uint64_t a = s->lo; a < s->lo + s->filesz && !o->err;) {
		size_t n = sizeof(buf);
		if (n > s->lo + s->filesz - a)
			n = (size_t)(s->lo + s->filesz - a);
		long got = mem_read(a, buf, n, flags);
		if (got <= 0) { /* a page that cannot be read: a hole */
			got = (long)(PAGE - (a & (PAGE - 1)));
			if ((size_t)got > n)
				got = (long)n;
			memset(buf, 0, (size_t)got);
		}
		put_pages(o, buf, (size_t)got);
		a += (uint64_t)got;
	}
}

/* ---- the whole file ---- */

/* The bytes of every note core_write writes. */
static size_t notes_size(const struct core_thread *t, int n, size_t nauxv)
{
	size_t notes = note_size("MMSCOPE", 8) + note_size("CORE", sizeof(struct elf_prpsinfo)) +
		       note_size("CORE", sizeof(siginfo_t)) + note_size("CORE", nauxv) +
		       note_size("CORE", file_note_size());

	for (int i = 0; i < n; i++)
		notes += thread_notes_size(&t[i]);
	for (int i = 0; i < nsegs; i++)
		if (segs[i].device)
			notes += device_note_size(&segs[i]);
	return notes;
}

/* The ELF header and the program headers: the notes, then a PT_LOAD per
 * segment, whose bytes start at data. */
static void put_headers(struct out *o, size_t notes, uint64_t data)
{
	Elf64_Ehdr eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
				       EV_CURRENT, ELFOSABI_NONE },
			  .e_type = ET_CORE,
			  .e_machine = EM_X86_64,
			  .e_version = EV_CURRENT,
			  .e_phoff = sizeof(Elf64_Ehdr),
			  .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr),
			  .e_phnum = (uint16_t)(nsegs + 1) };
	Elf64_Phdr ph = { .p_type = PT_NOTE,
			  .p_offset =
				  sizeof(Elf64_Ehdr) + (uint64_t)(nsegs + 1) * sizeof(Elf64_Phdr),
			  .p_filesz = notes,
			  .p_align = 4 };
	uint64_t off = data;

	put(o, &eh, sizeof(eh));
	put(o, &ph, sizeof(ph));
	for (int i = 0; i < nsegs; i++) {
		ph = (Elf64_Phdr){ .p_type = PT_LOAD,
				   .p_flags = segs[i].flags,
				   .p_offset = off,
				   .p_vaddr = segs[i].lo,
				   .p_filesz = segs[i].filesz,
				   .p_memsz = segs[i].hi - segs[i].lo,
				   .p_align = PAGE };
		put(o, &ph, sizeof(ph));
		off += segs[i].filesz;
	}
}

int core_write(int fd, const struct core_thread *t, int n, int sig, const siginfo_t *si,
	       enum core_mode mode, bool device_reads)
{
	static char auxv[4096];
	struct out o = { .fd = fd };
	struct elf_prpsinfo ps;
	siginfo_t info;
	uint32_t state[2] = { 1, 0 }; /* version 1; 0: being written, 1: whole */
	long nauxv = proc_read("self/auxv", auxv, sizeof(auxv));
	size_t notes, state_at;
	uint64_t data;

	if (nauxv < 0)
		nauxv = 0;
	device_live = device_reads;
	plan(mode);
	memset(&info, 0, sizeof(info));
	if (si)
		info = *si;
	notes = notes_size(t, n, (size_t)nauxv);
	data = (sizeof(Elf64_Ehdr) + (uint64_t)(nsegs + 1) * sizeof(Elf64_Phdr) + notes + PAGE -
		1) &
	       ~(uint64_t)(PAGE - 1);
	put_headers(&o, notes, data);

	state_at = (size_t)o.pos + sizeof(Elf64_Nhdr) + pad4(sizeof("MMSCOPE"));
	note(&o, "MMSCOPE", NT_MMSCOPE_STATE, state, sizeof(state));
	fill_prpsinfo(&ps);
	note(&o, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
	note(&o, "CORE", NT_SIGINFO, &info, sizeof(info));
	note(&o, "CORE", NT_AUXV, auxv, (size_t)nauxv);
	file_note(&o);
	for (int i = 0; i < n; i++)
		thread_notes(&o, &t[i], sig);
	for (int i = 0; i < nsegs; i++)
		if (segs[i].device)
			device_note(&o, &segs[i]);
	put_zeros(&o, data - o.pos);
	for (int i = 0; i < nsegs && !o.err; i++) {
		if (segs[i].device)
			put_device(&o, &segs[i]);
		else
			put_memory(&o, &segs[i], 0);
	}
	end_holes(&o);
	if (nleft_out) {
		char line[128];
		size_t pos = 0;
		fmt_str(line, sizeof(line), &pos, "mmscope-agent: warning: the core leaves out ");
		fmt_u64(line, sizeof(line), &pos, (uint64_t)nleft_out);
		fmt_str(line, sizeof(line), &pos, " mappings past the first 65534\n");
		log_raw(line);
	}
	if (o.err)
		return -o.err;
	state[1] = 1; /* whole: a file that ends early says 0 */
	if (sys_call4(SYS_pwrite64, fd, (long)state, sizeof(state), (long)state_at) !=
	    sizeof(state))
		return -EIO;
	return 0;
}
