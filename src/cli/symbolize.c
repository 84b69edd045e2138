/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/symbolize.h"

struct maps_file {
	uint32_t pid;
	uint64_t seq; /* the map is valid for records after it */
	char path[PATH_MAX];
	Dwfl *dwfl; /* opened on first use */
	bool failed;
};

/* Call chains repeat: one direct-mapped cache of descriptions. */
#define SYM_CACHE 8192

struct sym_cache_entry {
	const struct maps_file *map;
	uint64_t pc;
	bool call_site;
	char *text;
};

struct symbolizer {
	struct maps_file *m;
	size_t n;
	struct sym_cache_entry cache[SYM_CACHE];
};

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

struct symbolizer *symbolizer_open(const char *trace_dir)
{
	struct symbolizer *s;
	struct dirent *de;
	DIR *d = opendir(trace_dir);

	if (!d)
		return NULL;
	s = calloc(1, sizeof(*s));
	while (s && (de = readdir(d))) {
		unsigned long pid;
		unsigned long long seq;
		struct maps_file *nm;
		if (sscanf(de->d_name, "maps-%lu-%llu", &pid, &seq) != 2)
			continue;
		nm = realloc(s->m, (s->n + 1) * sizeof(*nm));
		if (!nm)
			break;
		s->m = nm;
		memset(&s->m[s->n], 0, sizeof(s->m[0]));
		s->m[s->n].pid = (uint32_t)pid;
		s->m[s->n].seq = seq;
		snprintf(s->m[s->n].path, sizeof(s->m[0].path), "%s/%s", trace_dir, de->d_name);
		s->n++;
	}
	closedir(d);
	if (s && !s->n) {
		free(s);
		return NULL;
	}
	return s;
}

void symbolizer_close(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].dwfl)
			dwfl_end(s->m[i].dwfl);
	for (size_t i = 0; i < SYM_CACHE; i++)
		free(s->cache[i].text);
	free(s->m);
	free(s);
}

static Dwfl *map_dwfl(struct maps_file *m)
{
	if (m->failed)
		return NULL;
	if (!m->dwfl) {
		FILE *f = fopen(m->path, "re");
		m->dwfl = f ? dwfl_begin(&callbacks) : NULL;
		if (m->dwfl) {
			dwfl_report_begin(m->dwfl);
			if (dwfl_linux_proc_maps_report(m->dwfl, f) != 0 ||
			    dwfl_report_end(m->dwfl, NULL, NULL) != 0) {
				dwfl_end(m->dwfl);
				m->dwfl = NULL;
			}
		}
		if (f)
			fclose(f);
		m->failed = !m->dwfl;
	}
	return m->dwfl;
}

/* The map of pid that knows pc: the newest saved before record seq, else
 * the next ones (a library dlopen()ed after it is in the map saved at
 * exit). */
static struct maps_file *map_for(struct symbolizer *s, uint32_t pid, uint64_t seq, uint64_t pc)
{
	struct maps_file *best = NULL;

	for (size_t i = 0; i < s->n; i++)
		if (s->m[i].pid == pid && s->m[i].seq <= seq && (!best || s->m[i].seq > best->seq))
			best = &s->m[i];
	if (best && map_dwfl(best) && dwfl_addrmodule(best->dwfl, pc))
		return best;
	for (uint64_t after = best ? best->seq : 0;;) {
		struct maps_file *next = NULL;
		for (size_t i = 0; i < s->n; i++)
			if (s->m[i].pid == pid && s->m[i].seq > after &&
			    (!next || s->m[i].seq < next->seq))
				next = &s->m[i];
		if (!next)
			return NULL;
		if (map_dwfl(next) && dwfl_addrmodule(next->dwfl, pc))
			return next;
		after = next->seq;
	}
}

static void describe(struct maps_file *m, uint64_t pc, bool call_site, char *out, size_t cap);

void symbolizer_describe(struct symbolizer *s, uint32_t pid, uint64_t seq, uint64_t pc,
			 bool call_site, char *out, size_t cap)
{
	struct maps_file *m;
	struct sym_cache_entry *e;

	out[0] = 0;
	if (!s || !(m = map_for(s, pid, seq, call_site && pc ? pc - 1 : pc)))
		return;
	e = &s->cache[((pc >> 1) ^ (pc >> 13) ^ (uintptr_t)m ^ call_site) % SYM_CACHE];
	if (e->text && e->map == m && e->pc == pc && e->call_site == call_site) {
		snprintf(out, cap, "%s", e->text);
		return;
	}
	describe(m, pc, call_site, out, cap);
	free(e->text);
	*e = (struct sym_cache_entry){
		.map = m, .pc = pc, .call_site = call_site, .text = strdup(out)
	};
}

static void describe(struct maps_file *m, uint64_t pc, bool call_site, char *out, size_t cap)
{
	Dwfl_Module *mod;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name, *file;
	Dwarf_Addr look = call_site && pc ? pc - 1 : pc;
	int line = 0;
	size_t used;

	out[0] = 0;
	if (!(mod = dwfl_addrmodule(m->dwfl, look)))
		return;
	name = dwfl_module_addrinfo(mod, look, &off, &sym, NULL, NULL, NULL);
	if (!name)
		return;
	/* the offset is from the address we describe, not the one looked up */
	snprintf(out, cap, "%s+0x%" PRIx64, name, (uint64_t)off + (pc - look));
	Dwfl_Line *l = dwfl_module_getsrc(mod, look);
	file = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
	used = strlen(out);
	if (file && used < cap)
		snprintf(out + used, cap - used, " (%s:%d)", file, line);
}
