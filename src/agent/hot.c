/* SPDX-License-Identifier: MIT */
/*
 * Finding and patching hot sites (see hot.h).  The fault path counts each
 * pc it completes in a heat table; the --hot=N-th fault of a site that
 * can be patched writes its stub and rewrites the instruction into
 * `jmp stub` with the protocol the kernel uses for live text patching:
 * int3 on the first byte, every core synchronised (membarrier
 * SYNC_CORE), the rest of the jump, synchronised, the first byte,
 * synchronised.  A thread that meets the int3 meanwhile is sent to the
 * stub by hot_on_int3().  Text is written through /proc/self/mem, as
 * ptrace writes it: the program's code is never made writable.
 *
 * Stubs live in chunks near their sites (hot-chunks.c), written the same
 * way.  Stubs and sites are never freed: a thread may be inside a stub
 * whenever it is not stopped.
 */
#include <cpuid.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <string.h>
#include <sys/mman.h>

#include "agent/agent.h"
#include "agent/hot-internal.h"
#include "agent/hot.h"
#include "agent/mem.h"
#include "util/fmt.h"
#include "util/hotstub.h"
#include "util/log.h"
#include "util/maps.h"
#include "util/sys.h"

#define HEAT_SLOTS 8192 /* power of two */

extern const char mms_hot_common[];

/* Why a hot pc stays on the fault path (the coverage report). */
enum hot_why {
	WHY_NONE,
	WHY_SHORT,     /* shorter than a 5-byte jump, which reaches no stub */
	WHY_NEIGHBOUR, /* its bytes and a patched neighbour's overlap */
	WHY_FORM,      /* not a one-operand instruction the stub completes */
	WHY_VECTOR,    /* x87/SSE/AVX state: not saved by the stub */
	WHY_RIP,       /* RIP-relative: the copy would move it */
	WHY_SEGMENT,   /* fs:/gs: addressing */
	WHY_STACK,     /* RSP as an operand */
	WHY_ROOM,      /* no stub memory within reach */
	WHY_FULL,      /* HOT_SITES_MAX sites */
	WHY_FAILED,    /* the text could not be written */
	WHY_CODE,      /* not read-only text of a file (JIT code can change) */
	WHY_REWRITTEN, /* the program wrote its own code over the patch */
	WHY_COUNT
};

static const char *const why_text[WHY_COUNT] = {
	[WHY_SHORT] = "shorter than 5 bytes, no stub where its jump can reach",
	[WHY_NEIGHBOUR] = "overlaps a patched neighbour's jump",
	[WHY_FORM] = "form not patched",
	[WHY_VECTOR] = "vector or x87 state",
	[WHY_RIP] = "RIP-relative",
	[WHY_SEGMENT] = "fs/gs segment",
	[WHY_STACK] = "RSP operand",
	[WHY_ROOM] = "no stub memory near",
	[WHY_FULL] = "site table full",
	[WHY_FAILED] = "text not writable",
	[WHY_CODE] = "generated or writable code",
	[WHY_REWRITTEN] = "rewritten by the program",
};

struct heat {
	uint64_t pc; /* 0: free */
	uint32_t faults;
	uint16_t why; /* enum hot_why, once decided */
	int16_t site; /* index in hot_sites + 1; 0 (as the table starts): none,
			 so an entry is never seen with a site it does not have */
};

struct hot_site *hot_sites;
static uint32_t nsites;
static struct heat *heat;
static int patch_lock; /* one patcher at a time (trylock) */
static bool synced;    /* membarrier SYNC_CORE registered */
static uint32_t threshold;

static void *table(size_t size)
{
	void *p = sys_mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return sys_mmap_failed(p) ? NULL : p;
}

/* bytes XSAVE writes for every user component enabled (hot-common.S) */
__attribute__((visibility("hidden"))) uint64_t mms_hot_xsave_size;

void hot_setup(void)
{
	unsigned a, b, c, d;

	threshold = agent.cfg.hot > 0 ? (uint32_t)agent.cfg.hot : 0;
	if (!threshold)
		return;
	/* XSAVE, and the kernel lets programs use it (OSXSAVE) */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 26)) || !(c & (1u << 27)) ||
	    !__get_cpuid_count(0xd, 0, &a, &b, &c, &d) || b < 576) {
		log_raw("mmscope-agent: this CPU has no XSAVE: hot sites are not patched\n");
		threshold = 0;
		return;
	}
	mms_hot_xsave_size = (b + 63) & ~63u;
	heat = table(HEAT_SLOTS * sizeof(struct heat));
	hot_sites = heat ? table(HOT_SITES_MAX * sizeof(struct hot_site)) : NULL;
	if (!hot_sites)
		threshold = 0;
}

/* ---- what can be patched ---- */

static enum hot_why judge(const struct insn *in)
{
	const ZydisDecodedOperand *m;

	if (in->cls != INSN_XOL || in->mem < 0)
		return WHY_FORM;
	m = &in->op[in->mem];
	if (in->uses_vector)
		return WHY_VECTOR;
	if (m->mem.base == ZYDIS_REGISTER_RIP)
		return WHY_RIP;
	if (m->mem.segment == ZYDIS_REGISTER_FS || m->mem.segment == ZYDIS_REGISTER_GS)
		return WHY_SEGMENT;
	if (in->rsp_operand || m->mem.base == ZYDIS_REGISTER_RSP ||
	    m->mem.index == ZYDIS_REGISTER_RSP)
		return WHY_STACK;
	return WHY_NONE;
}

/* signal context */
bool hot_patched_in(uint64_t lo, uint64_t hi)
{
	uint32_t n = __atomic_load_n(&nsites, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; hot_sites && i < n; i++)
		if (hot_sites[i].pc + hot_sites[i].len > lo && hot_sites[i].pc < hi &&
		    __atomic_load_n(&hot_sites[i].state, __ATOMIC_ACQUIRE) != HOT_UNPATCHED)
			return true;
	return false;
}

/* signal context */
uint64_t hot_program_pc(uint64_t pc)
{
	struct hot_site *s = hot_stub_site(pc);

	if (!s || pc < s->copy || pc > s->copy + s->len)
		return pc;
	return pc == s->copy ? s->pc : s->pc + s->len;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* the bytes of s's instruction its jump replaces: all of a short one
 * (its jump's other bytes are the instructions' after it, see
 * slot_punned) */
static unsigned patch_len(const struct hot_site *s)
{
	return s->len < 5 ? s->len : 5;
}

/* jmp stub, at s's pc */
static void jump_of(const struct hot_site *s, uint8_t jmp[5])
{
	jmp[0] = 0xe9;
	put32(jmp + 1, (uint32_t)(s->stub - (s->pc + 5)));
}

/* are the first 5 bytes b our jump, or our int3 before its rel32? */
static bool is_jump(const struct hot_site *s, const uint8_t b[5])
{
	uint8_t jmp[5];

	jump_of(s, jmp);
	return (b[0] == 0xe9 || b[0] == 0xcc) && !memcmp(b + 1, jmp + 1, 4);
}

/*
 * The stub of site index at slot (hot-run.c knows these offsets):
 *    0  lea -136(%rsp),%rsp      skip the red zone, room for cont
 *    8  push $index
 *   13  jmp *40(%rip-relative)   to mms_hot_common
 *   19  the original instruction, then jmp to the next one
 *   40  &mms_hot_common
 *   64  the engine's re-encoding of the instruction (EMU_CODE_SIZE)
 */
static void stub_build(uint8_t *b, uint64_t slot, uint32_t index, const struct hot_site *s,
		       const uint8_t *xcode, unsigned xlen)
{
	uint64_t common = (uint64_t)mms_hot_common;
	unsigned j = HOTSTUB_COPY + s->len;

	memset(b, 0xcc, HOT_SLOT);
	memcpy(b, hotstub_lea, HOTSTUB_PUSH);
	b[HOTSTUB_PUSH] = 0x68;
	put32(b + HOTSTUB_PUSH + 1, index);
	b[HOTSTUB_JMP] = 0xff;
	b[HOTSTUB_JMP + 1] = 0x25;
	put32(b + HOTSTUB_JMP + 2, HOTSTUB_TARGET - HOTSTUB_COPY);
	memcpy(b + HOTSTUB_COPY, s->orig, s->len);
	b[j] = 0xe9;
	put32(b + j + 1, (uint32_t)(s->pc + s->len - (slot + j + 5)));
	memcpy(b + HOTSTUB_TARGET, &common, 8);
	memcpy(b + HOTSTUB_XCODE, xcode, xlen);
}

/* ---- writing text ---- */

static int sync_cores(void)
{
	return (int)sys_call3(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
}

static int text(uint64_t addr, const void *b, size_t n)
{
	int r = mem_patch_text(addr, b, n);

	return r < 0 ? r : sync_cores();
}

/*
 * A site's text has one writer at a time, without a lock a parked thread
 * could hold: whoever moves its state from a settled one (NONE, PATCHED,
 * UNPATCHED) to the transition that leaves it (claim) writes, then
 * settles it.  int3 first, then the rest, then the first byte.
 */
static bool claim(struct hot_site *s, int from, int to)
{
	int want = from;

	return __atomic_compare_exchange_n(&s->state, &want, to, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static int rewrite(struct hot_site *s, const uint8_t *bytes, unsigned n, int after)
{
	static const uint8_t int3 = 0xcc;
	int r;

	if ((r = text(s->pc, &int3, 1)) < 0 || (r = text(s->pc + 1, bytes + 1, n - 1)) < 0 ||
	    (r = text(s->pc, bytes, 1)) < 0)
		return r; /* left in transition: its int3, if any, still leads to the stub */
	__atomic_store_n(&s->state, after, __ATOMIC_RELEASE);
	return 0;
}

/* from: the settled state the site is in (NONE or UNPATCHED) */
static int patch(struct hot_site *s, int from)
{
	uint8_t jmp[5];

	if (!claim(s, from, HOT_PATCHING))
		return -EBUSY;
	jump_of(s, jmp);
	if (rewrite(s, jmp, patch_len(s), HOT_PATCHED) < 0) {
		__atomic_store_n(&s->state, HOT_UNPATCHING, __ATOMIC_RELEASE);
		rewrite(s, s->orig, patch_len(s), HOT_UNPATCHED); /* what can be */
		return -EIO;
	}
	return 0;
}

static bool ours(struct hot_site *s);

static bool unpatch(struct hot_site *s)
{
	if (!ours(s))
		return false; /* the program's code there now, not our jump */
	return claim(s, HOT_PATCHED, HOT_UNPATCHING) &&
	       rewrite(s, s->orig, patch_len(s), HOT_UNPATCHED) == 0;
}

static int frozen; /* enum hot_freeze bits: no patching while any is set */

void hot_after_fork(void)
{
	/* the parent's patcher is not here; this process's cores are
	 * synchronised once it asks to be */
	patch_lock = 0;
	for (uint32_t i = 0; i < nsites; i++)
		hot_sites[i].hits = 0; /* the report says this process's */
	if (synced && sys_call3(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
				0, 0) < 0)
		threshold = 0;
}

int hot_unpatch_all(enum hot_freeze why)
{
	uint32_t n;
	int count = 0;

	__atomic_or_fetch(&frozen, why, __ATOMIC_ACQ_REL);
	n = __atomic_load_n(&nsites, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n; i++)
		count += unpatch(&hot_sites[i]);
	return count;
}

void hot_thaw(enum hot_freeze why)
{
	__atomic_and_fetch(&frozen, ~(int)why, __ATOMIC_ACQ_REL);
}

/* ---- the heat table ---- */

/* pc's entry, made if create and there is room; NULL otherwise */
static struct heat *heat_of(uint64_t pc, bool create)
{
	uint32_t h = (uint32_t)((pc * 0x9e3779b97f4a7c15ull) >> 51) & (HEAT_SLOTS - 1);

	for (uint32_t i = 0; heat && i < 64; i++) {
		struct heat *e = &heat[(h + i) & (HEAT_SLOTS - 1)];
		uint64_t cur = __atomic_load_n(&e->pc, __ATOMIC_ACQUIRE);
		if (cur == pc)
			return e;
		if (!cur && !create)
			return NULL;
		if (!cur && __atomic_compare_exchange_n(&e->pc, &cur, pc, false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
			return e;
		if (cur == pc)
			return e;
	}
	return NULL;
}

/* e's site index, -1 if it has none */
static int site_of(struct heat *e)
{
	return __atomic_load_n(&e->site, __ATOMIC_ACQUIRE) - 1;
}

/* signal context */
static struct hot_site *site_at(uint64_t pc)
{
	struct heat *e = hot_sites ? heat_of(pc, false) : NULL;
	int site = e ? site_of(e) : -1;

	return site >= 0 ? &hot_sites[site] : NULL;
}

/* signal context: are our bytes at s's pc now?  A patched site whose
 * jump the program wrote over is dropped: its code is the program's
 * again, and it is never patched again.  The state is read before the
 * bytes and again after: one that settled or left PATCHED meanwhile
 * means the bytes were being written by us. */
static bool ours(struct hot_site *s)
{
	int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	uint8_t now[5];

	if (st == HOT_UNPATCHED || st == HOT_NONE || mem_peek(s->pc, now, 5) < 0)
		return false;
	if (is_jump(s, now))
		return true;
	if (st != HOT_PATCHED || __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != HOT_PATCHED)
		return now[0] == 0xcc; /* between writes: our int3 */
	if (claim(s, HOT_PATCHED, HOT_UNPATCHED)) {
		struct heat *e = heat_of(s->pc, false);
		if (e)
			e->why = WHY_REWRITTEN;
	}
	return false;
}

/* signal context: code, read from pc before this call, as the program's
 * bytes: a thread that faulted at a site ran the program's instruction,
 * and whatever of ours it read there after -- the jump, our int3 before
 * it -- stands for it (no state is consulted).  The site is looked up
 * after the bytes were read: it is published before its text changes,
 * so bytes of ours always find it. */
void hot_orig_fix(uint64_t pc, uint8_t *code, size_t n)
{
	struct hot_site *s;
	uint8_t now[5] = { 0 };

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (!(s = site_at(pc)))
		return;
	memcpy(now, code, n < 5 ? n : 5);
	if (is_jump(s, now) || (now[0] == 0xcc && !memcmp(now + 1, s->orig + 1, 4)))
		memcpy(code, s->orig, n < patch_len(s) ? n : patch_len(s));
}

/* signal context */
void hot_overlay(uint64_t addr, void *buf, size_t len)
{
	uint32_t n = __atomic_load_n(&nsites, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; hot_sites && i < n; i++) {
		struct hot_site *s = &hot_sites[i];
		if (s->pc + s->len <= addr || s->pc >= addr + len || !ours(s))
			continue;
		for (unsigned k = 0; k < s->len; k++)
			if (s->pc + k >= addr && s->pc + k - addr < len)
				((uint8_t *)buf)[s->pc + k - addr] = s->orig[k];
	}
}

/* The first patch: from now on every signal the program handles passes
 * through our handler first (hot_fix), and every core can be told to
 * serialise. */
static bool first_patch(void)
{
	if (synced)
		return true;
	if (sys_call3(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0) <
	    0) {
		log_raw("mmscope-agent: membarrier SYNC_CORE is not available: hot sites are not "
			"patched (--hot=off)\n");
		threshold = 0;
		return false;
	}
	signals_borrow(~0ull);
	synced = true;
	return true;
}

/* patch_lock held: is pc in read-only, executable memory mapped from a
 * file?  Generated code may be rewritten in place (a JIT's inline
 * caches) under a patch that would then run the old instruction. */
static bool file_text(uint64_t pc)
{
	static struct maps_reader mr;
	static struct maps_line m;
	bool ok = false;

	if (maps_open(&mr) < 0)
		return false;
	while (maps_next(&mr, &m) > 0)
		if (pc >= m.lo && pc < m.hi) {
			ok = m.path[0] == '/' && m.perms[1] != 'w' && m.perms[2] == 'x';
			break;
		}
	maps_close(&mr);
	return ok;
}

/* patch_lock held: would the bytes a jump at pc (an instruction of len
 * bytes) writes, or the next bytes a short one's jump is made of, overlap
 * those of a site made already?  Either jump would change the other. */
static bool pinned(uint64_t pc, unsigned len)
{
	uint64_t mine_hi = pc + (len < 5 ? len : 5), uses_hi = pc + (len < 5 ? 5 : len);

	for (uint32_t i = 0; i < nsites; i++) {
		const struct hot_site *o = &hot_sites[i];
		uint64_t o_mine_hi = o->pc + patch_len(o),
			 o_uses_hi = o->pc + (o->len < 5 ? 5 : o->len);
		if ((pc < o_uses_hi && o->pc < mine_hi) || (o->pc < uses_hi && pc < o_mine_hi))
			return true;
	}
	return false;
}

/* signal context, patch_lock held */
static enum hot_why make_site(struct heat *e, uint64_t pc, const struct icache_entry *ce)
{
	struct icache_entry entry = *ce;
	uint8_t xcode[EMU_CODE_SIZE], b[HOT_SLOT], orig[15] = { 0 };
	struct hot_site *s;
	uint64_t slot;
	uint32_t index;
	unsigned len;

	if (nsites == HOT_SITES_MAX)
		return WHY_FULL;
	if (!file_text(pc))
		return WHY_CODE;
	/* the engine's re-encoding, made now and kept in the stub */
	entry.xcode = xcode;
	if (emu_prepare(&entry) < 0)
		return WHY_FORM;
	/* the instruction's bytes, and the next ones a short one's jump
	 * is made of */
	len = ce->in.len;
	memcpy(orig, ce->in.bytes, len);
	if (len < 5 && (mem_peek(pc + len, orig + len, 5 - len) < 0 || !file_text(pc + 4)))
		return WHY_SHORT;
	if (pinned(pc, len))
		return WHY_NEIGHBOUR;
	if (!first_patch())
		return WHY_FAILED;
	slot = len < 5 ? hot_slot_punned(pc, len, orig + len) : hot_slot_near(pc);
	if (!slot)
		return len < 5 ? WHY_SHORT : WHY_ROOM;
	index = nsites;
	s = &hot_sites[index];
	memset(s, 0, sizeof(*s));
	s->pc = pc;
	s->len = len;
	memcpy(s->orig, orig, sizeof(orig));
	s->stub = slot;
	s->copy = s->stub + HOTSTUB_COPY;
	s->ce = entry;
	s->ce.pc = pc;
	s->ce.xcode = (uint8_t *)s->stub + HOTSTUB_XCODE;
	hot_fast_plan(&s->fast, &s->ce.in);
	if (!hot_reach(pc, s->stub))
		return WHY_ROOM;
	stub_build(b, s->stub, index, s, xcode, entry.code_len);
	if (mem_patch_text(s->stub, b, HOT_SLOT) < 0)
		return WHY_FAILED;
	__atomic_store_n(&nsites, nsites + 1, __ATOMIC_RELEASE);
	hot_slot_take(slot, index);
	__atomic_store_n(&e->site, (int16_t)(index + 1), __ATOMIC_RELEASE);
	if (patch(s, HOT_NONE) < 0)
		return WHY_FAILED;
	if (__atomic_load_n(&frozen, __ATOMIC_ACQUIRE))
		unpatch(s); /* hot_unpatch_all ran meanwhile and did not see it */
	return WHY_NONE;
}

/* signal context */
void hot_note(uint64_t pc, const struct icache_entry *ce)
{
	struct heat *e;
	enum hot_why why;

	uint32_t faults;
	int site;

	if (!threshold || !ce || hot_stub_site(pc) || !(e = heat_of(pc, true)))
		return;
	faults = __atomic_add_fetch(&e->faults, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&frozen, __ATOMIC_ACQUIRE) || e->why)
		return;
	site = site_of(e);
	if (site >= 0) {
		/* unpatched for a debugger that has gone, and hot again */
		patch(&hot_sites[site], HOT_UNPATCHED);
		return;
	}
	if (faults < threshold)
		return;
	why = judge(&ce->in);
	if (why != WHY_NONE) {
		e->why = (uint16_t)why;
		return;
	}
	/* someone else is patching: next time.  Threads that faulted here
	 * together all come this far; the first to hold the lock decides */
	if (__atomic_exchange_n(&patch_lock, 1, __ATOMIC_ACQUIRE))
		return;
	if (!e->why && site_of(e) < 0)
		e->why = (uint16_t)make_site(e, pc, ce);
	__atomic_store_n(&patch_lock, 0, __ATOMIC_RELEASE);
}

/* signal context */
bool hot_on_int3(const siginfo_t *si, ucontext_t *uc)
{
	uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP] - 1;
	uint32_t n = __atomic_load_n(&nsites, __ATOMIC_ACQUIRE);

	if (!hot_sites || si->si_code != SI_KERNEL)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		struct hot_site *s = &hot_sites[i];
		if (s->pc != pc)
			continue;
		int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		uint8_t now;
		/* ours only while we write, or if the byte is no int3 now
		 * (our int3 was there when the thread met it) */
		if (st != HOT_PATCHING && st != HOT_UNPATCHING &&
		    (mem_peek(pc, &now, 1) < 0 || now == 0xcc))
			return false;
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(st == HOT_UNPATCHED ? s->pc : s->stub);
		return true;
	}
	return false;
}

void hot_report(void)
{
	uint64_t faults[WHY_COUNT] = { 0 }, sites[WHY_COUNT] = { 0 }, hits = 0, fast = 0,
		 patched = 0;
	char line[1024];
	size_t pos = 0;

	if (!threshold && !nsites)
		return;
	for (uint32_t i = 0; heat && i < HEAT_SLOTS; i++) {
		if (!heat[i].pc || heat[i].faults < threshold)
			continue;
		faults[heat[i].why] += heat[i].faults;
		sites[heat[i].why]++;
	}
	for (uint32_t i = 0; i < nsites; i++) {
		hits += hot_sites[i].hits;
		fast += hot_sites[i].fast_hits;
		patched += hot_sites[i].state == HOT_PATCHED;
	}
	fmt_str(line, sizeof(line), &pos, "mmscope-agent: pid ");
	fmt_u64(line, sizeof(line), &pos, (uint64_t)agent.pid);
	fmt_str(line, sizeof(line), &pos, ": hot sites: ");
	fmt_u64(line, sizeof(line), &pos, patched);
	fmt_str(line, sizeof(line), &pos, " patched, ");
	fmt_u64(line, sizeof(line), &pos, hits);
	fmt_str(line, sizeof(line), &pos, " accesses through them (");
	fmt_u64(line, sizeof(line), &pos, fast);
	fmt_str(line, sizeof(line), &pos, " on the fast path)");
	for (int w = WHY_SHORT; w < WHY_COUNT; w++) {
		if (!sites[w])
			continue;
		fmt_str(line, sizeof(line), &pos, "; not patched (");
		fmt_str(line, sizeof(line), &pos, why_text[w]);
		fmt_str(line, sizeof(line), &pos, "): ");
		fmt_u64(line, sizeof(line), &pos, sites[w]);
		fmt_str(line, sizeof(line), &pos, " sites, ");
		fmt_u64(line, sizeof(line), &pos, faults[w]);
		fmt_str(line, sizeof(line), &pos, " faults");
	}
	fmt_str(line, sizeof(line), &pos, "\n");
	log_raw(line);
}
