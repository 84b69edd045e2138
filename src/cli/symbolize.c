/* SPDX-License-Identifier: MIT */
/* The symbolizer (symbolize.h): one libdwfl session per saved memory map,
 * opened when a pc first needs it, and a cache in front. */
#include <dirent.h>
#include <errno.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/symbolize.h"

#define LOG_DOMAIN "show"
#include "util/log.h"

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
	const char *module; /* the Dwfl's own string */
	uint64_t module_offset;
};

struct symbolizer {
	struct maps_file *m;
	size_t n;
	char *debuginfo_path;	  /* libdwfl's search path, see debuginfo_path() */
	Dwfl_Callbacks callbacks; /* every Dwfl points at them */
	struct sym_cache_entry cache[SYM_CACHE];
};

/*
 * libdwfl's search path for separate debug files (libdwfl.h, before
 * dwfl_standard_find_debuginfo): ":.debug" is the module's own directory
 * and its .debug subdirectory, then each debug directory, where libdwfl
 * looks for .build-id/xx/yyyy.debug and for the .gnu_debuglink name under
 * the module's directory path (gdb's debug-file-directory does the same).
 * A relative element would mean a subdirectory of the module's directory
 * to libdwfl, so the user's relative directories are made absolute.
 */
static void debuginfo_path_add(FILE *f, const char *list)
{
	size_t n;

	for (const char *p = list; *p; p += n + (p[n] == ':')) {
		char *dir, *abs;
		struct stat st;

		n = strcspn(p, ":");
		if (!n || !(dir = strndup(p, n)))
			continue;
		/* a mistyped directory would otherwise just find nothing */
		if (stat(dir, &st))
			pr_warn("debug directory %s: %s", dir, strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			pr_warn("debug directory %s: not a directory", dir);
		abs = dir[0] == '/' ? dir : realpath(dir, NULL);
		if (abs)
			fprintf(f, ":%s", abs);
		if (abs != dir)
			free(abs);
		free(dir);
	}
}

static char *debuginfo_path(const struct symbolizer_opts *o)
{
	char *path = NULL;
	size_t len;
	FILE *f = open_memstream(&path, &len);

	if (!f)
		return NULL;
	fputs(":.debug", f);
	for (size_t i = 0; o && i < o->ndebug_dirs; i++)
		debuginfo_path_add(f, o->debug_dirs[i]);
	/* not checked: a system without debug files need not have it */
	if (!o || !o->no_system_debug_dir)
		fputs(":" SYMBOLIZER_DEBUG_DIR, f);
	if (fclose(f)) {
		free(path);
		return NULL;
	}
	return path;
}

struct symbolizer *symbolizer_open(const char *trace_dir, const struct symbolizer_opts *opts)
{
	struct symbolizer *s;
	struct dirent *de;
	DIR *d = opendir(trace_dir);

	if (!d)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s && !(s->debuginfo_path = debuginfo_path(opts))) {
		free(s);
		s = NULL;
	}
	if (s)
		s->callbacks = (Dwfl_Callbacks){
			.find_elf = dwfl_linux_proc_find_elf,
			.find_debuginfo = dwfl_standard_find_debuginfo,
			.debuginfo_path = &s->debuginfo_path,
		};
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
		symbolizer_close(s);
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
	free(s->debuginfo_path);
	free(s);
}

static Dwfl *map_dwfl(struct symbolizer *s, struct maps_file *m)
{
	if (m->failed)
		return NULL;
	if (!m->dwfl) {
		FILE *f = fopen(m->path, "re");
		m->dwfl = f ? dwfl_begin(&s->callbacks) : NULL;
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

/*
 * The module whose file is mapped at pc.  dwfl_addrmodule() alone also
 * answers for some addresses in the gap after a module (anonymous or JIT
 * code, [vdso], the agent's out-of-line pages): elfutils 0.188 leaves gaps
 * out of its address table depending on the order modules were reported.
 */
static Dwfl_Module *module_at(Dwfl *dwfl, Dwarf_Addr pc)
{
	Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
	Dwarf_Addr start, end;

	if (!mod || !dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL))
		return NULL;
	return pc >= start && pc < end ? mod : NULL;
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
	if (best && map_dwfl(s, best) && module_at(best->dwfl, pc))
		return best;
	for (uint64_t after = best ? best->seq : 0;;) {
		struct maps_file *next = NULL;
		for (size_t i = 0; i < s->n; i++)
			if (s->m[i].pid == pid && s->m[i].seq > after &&
			    (!next || s->m[i].seq < next->seq))
				next = &s->m[i];
		if (!next)
			return NULL;
		if (map_dwfl(s, next) && module_at(next->dwfl, pc))
			return next;
		after = next->seq;
	}
}

/*
 * The module's file name and pc in the file's own terms: pc - load bias,
 * the address the file's symbol table and DWARF use and addr2line -e FILE
 * takes (the offset from where a library or PIE program was loaded; the pc
 * itself in a non-PIE program).  It is not the byte offset in the file:
 * that differs for segments whose p_vaddr is not their p_offset.  Without
 * the file (gone since the trace was made) the bias is unknown; the offset
 * is then from the module's lowest mapped address, the same number for
 * libraries and PIE programs.
 */
static void module_offset(Dwfl_Module *mod, uint64_t pc, struct sym_where *w)
{
	Dwarf_Addr start = 0, bias;
	const char *name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	const char *base = name ? strrchr(name, '/') : NULL;

	if (!dwfl_module_getelf(mod, &bias))
		bias = start;
	w->module = base ? base + 1 : name ? name : "?";
	w->module_offset = pc - bias;
}

static void describe(struct maps_file *m, uint64_t pc, bool call_site, struct sym_where *w)
{
	Dwfl_Module *mod;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name, *file;
	Dwarf_Addr look = call_site && pc ? pc - 1 : pc;
	int line = 0;
	size_t used;

	if (!(mod = module_at(m->dwfl, look)))
		return;
	module_offset(mod, pc, w);
	/* .symtab, else .dynsym, of the file or of its separate debug file */
	name = dwfl_module_addrinfo(mod, look, &off, &sym, NULL, NULL, NULL);
	if (name && name[0])
		/* the offset is from the address we describe, not the one looked up */
		snprintf(w->text, sizeof(w->text), "%s+0x%" PRIx64 " (%s)", name,
			 (uint64_t)off + (pc - look), w->module);
	else
		snprintf(w->text, sizeof(w->text), "%s+0x%" PRIx64, w->module, w->module_offset);
	Dwfl_Line *l = dwfl_module_getsrc(mod, look);
	file = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
	used = strlen(w->text);
	if (file && used < sizeof(w->text))
		snprintf(w->text + used, sizeof(w->text) - used, " %s:%d", file, line);
}

void symbolizer_describe(struct symbolizer *s, uint32_t pid, uint64_t seq, uint64_t pc,
			 bool call_site, struct sym_where *w)
{
	struct maps_file *m;
	struct sym_cache_entry *e;

	*w = (struct sym_where){ .module = NULL };
	if (!s || !(m = map_for(s, pid, seq, call_site && pc ? pc - 1 : pc)))
		return;
	e = &s->cache[((pc >> 1) ^ (pc >> 13) ^ (uintptr_t)m ^ call_site) % SYM_CACHE];
	if (e->text && e->map == m && e->pc == pc && e->call_site == call_site) {
		snprintf(w->text, sizeof(w->text), "%s", e->text);
		w->module = e->module;
		w->module_offset = e->module_offset;
		return;
	}
	describe(m, pc, call_site, w);
	free(e->text);
	*e = (struct sym_cache_entry){
		.map = m,
		.pc = pc,
		.call_site = call_site,
		.text = strdup(w->text),
		.module = w->module,
		.module_offset = w->module_offset,
	};
}
