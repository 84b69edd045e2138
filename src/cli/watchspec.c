/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/watchspec.h"
#include "mmscope/trace-format.h"

/* Lowest address above the x86-64 user half (47-bit virtual addresses). */
#define USER_END 0x800000000000ull

struct sym {
	uint64_t value, size;
	bool found;
};

/* The symbol NAME in ELF file path: .symtab first, then .dynsym. */
static int elf_find_symbol(Elf *e, const char *name, struct sym *out)
{
	Elf_Scn *scn = NULL;

	for (int pass = 0; pass < 2; pass++) {
		unsigned want = pass ? SHT_DYNSYM : SHT_SYMTAB;
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			Elf_Data *d;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want || !sh.sh_entsize)
				continue;
			d = elf_getdata(scn, NULL);
			for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym s;
				const char *n;
				if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
					continue;
				n = elf_strptr(e, sh.sh_link, s.st_name);
				if (!n || strcmp(n, name))
					continue;
				if (GELF_ST_TYPE(s.st_info) == STT_TLS)
					return -ENOTSUP;
				out->value = s.st_value;
				out->size = s.st_size;
				out->found = true;
				return 0;
			}
		}
	}
	return -ENOENT;
}

static Dwarf_Die *peel(Dwarf_Die *d, Dwarf_Die *buf)
{
	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(d);
		Dwarf_Attribute at;
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_restrict_type)
			return d;
		if (!dwarf_attr_integrate(d, DW_AT_type, &at) || !dwarf_formref_die(&at, buf))
			return NULL;
		d = buf;
	}
	return NULL;
}

/* Element size of the global array NAME from DWARF: >0, or -errno
 * (-ENODATA: no debug info, -ENOTSUP: not an array). */
static long dwarf_element_size(Elf *e, const char *name)
{
	Dwarf *dw = dwarf_begin_elf(e, DWARF_C_READ, NULL);
	Dwarf_Off off = 0, next;
	size_t hsize;
	long res = -ENODATA;

	if (!dw)
		return -ENODATA;
	while (res == -ENODATA && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				Dwarf_Attribute at;
				Dwarf_Die tbuf, ebuf, *t;
				Dwarf_Word size;
				const char *n;
				if (dwarf_tag(&die) != DW_TAG_variable)
					continue;
				n = dwarf_diename(&die);
				if (!n || strcmp(n, name))
					continue;
				if (!dwarf_attr_integrate(&die, DW_AT_type, &at) ||
				    !dwarf_formref_die(&at, &tbuf) || !(t = peel(&tbuf, &tbuf)))
					continue;
				if (dwarf_tag(t) != DW_TAG_array_type) {
					res = -ENOTSUP;
					break;
				}
				if (!dwarf_attr_integrate(t, DW_AT_type, &at) ||
				    !dwarf_formref_die(&at, &ebuf) ||
				    dwarf_aggregate_size(&ebuf, &size) != 0 || !size)
					continue;
				res = (long)size;
				break;
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		off = next;
	}
	dwarf_end(dw);
	return res;
}

/* The libraries PROGRAM loads at start, as its dynamic loader lists them
 * (`ld.so --list`, what ldd does): absolute paths, one per line into buf. */
static int list_libraries(const char *program, char *buf, size_t cap)
{
	char interp[PATH_MAX] = "";
	int fds[2], status;
	size_t used = 0;
	Elf *e;
	int fd = open(program, O_RDONLY | O_CLOEXEC);
	pid_t pid;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	e = elf_begin(fd, ELF_C_READ, NULL);
	for (size_t i = 0, n = 0; e && elf_getphdrnum(e, &n) == 0 && i < n; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP &&
		    ph.p_filesz < sizeof(interp) &&
		    pread(fd, interp, ph.p_filesz, (off_t)ph.p_offset) == (ssize_t)ph.p_filesz)
			interp[ph.p_filesz] = 0;
	}
	elf_end(e);
	close(fd);
	if (!interp[0])
		return 0; /* static: no libraries */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(fds[1], 1);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		execl(interp, interp, "--list", program, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	for (ssize_t n; used + 1 < cap && (n = read(fds[0], buf + used, cap - 1 - used)) > 0;)
		used += (size_t)n;
	buf[used] = 0;
	close(fds[0]);
	waitpid(pid, &status, 0);
	/* keep only the paths: "\tname => /path (0x..)" or "\t/path (0x..)" */
	char *w = buf;
	for (char *line = buf, *nl; *line; line = nl) {
		nl = strchr(line, '\n');
		nl = nl ? nl + 1 : line + strlen(line);
		char *p = strstr(line, "=> ");
		p = p && p < nl ? p + 3 : line;
		while (p < nl && isspace((unsigned char)*p))
			p++;
		if (*p != '/')
			continue;
		size_t len = strcspn(p, " \n");
		memmove(w, p, len);
		w += len;
		*w++ = '\n';
	}
	*w = 0;
	return 0;
}

static int open_elf(const char *path, int *fd, Elf **e)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	*e = elf_begin(*fd, ELF_C_READ, NULL);
	if (!*e) {
		close(*fd);
		return -ENOEXEC;
	}
	return 0;
}

int cli_elf_symbol(const char *path, const char *name, uint64_t *value)
{
	struct sym sym = { 0 };
	int fd, r;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	if ((r = open_elf(path, &fd, &e)) < 0)
		return r;
	r = elf_find_symbol(e, name, &sym);
	elf_end(e);
	close(fd);
	*value = sym.value;
	return r;
}

/* Find NAME in the program, then in its libraries, in load order. */
static int resolve_symbol(const char *name, long index, const char *program,
			  struct config_watch *out, uint64_t *elem, char *err, size_t errlen)
{
	static char libs[64 * 1024];
	char module[PATH_MAX];
	const char *next = NULL;
	int r;

	if (!realpath(program, module)) {
		snprintf(err, errlen, "%s: %s", program, strerror(errno));
		return -1;
	}
	for (bool first = true;; first = false) {
		struct sym s = { 0 };
		Elf *e = NULL;
		int fd;

		if (!first) {
			if (!next) {
				list_libraries(program, libs, sizeof(libs));
				next = libs;
			}
			if (!*next)
				break;
			size_t len = strcspn(next, "\n");
			snprintf(module, sizeof(module), "%.*s", (int)len, next);
			next += len + (next[len] ? 1 : 0);
			char real[PATH_MAX];
			if (realpath(module, real))
				snprintf(module, sizeof(module), "%s", real);
		}
		if (open_elf(module, &fd, &e) < 0)
			continue;
		r = elf_find_symbol(e, name, &s);
		if (r == -ENOTSUP) {
			snprintf(err, errlen,
				 "'%s' in %s is thread-local; watch an address instead", name,
				 module);
			elf_end(e);
			close(fd);
			return -1;
		}
		if (s.found) {
			*elem = 0;
			if (index >= 0) {
				long es = dwarf_element_size(e, name);
				if (es < 0) {
					if (es == -ENOTSUP)
						snprintf(err, errlen, "'%s' is not an array", name);
					else
						snprintf(err, errlen,
							 "no debug info in %s for the element size "
							 "of '%s'; write %s+OFFSET",
							 module, name, name);
					elf_end(e);
					close(fd);
					return -1;
				}
				*elem = (uint64_t)es;
			}
			out->vaddr = s.value;
			out->len = s.size;
			snprintf(out->module, sizeof(out->module), "%s", module);
			elf_end(e);
			close(fd);
			return 0;
		}
		elf_end(e);
		close(fd);
	}
	snprintf(err, errlen, "no symbol '%s' in %s or the libraries it loads at start", name,
		 program);
	return -1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

int watchspec_resolve(const char *arg, const char *program, struct config_watch *out, char *err,
		      size_t errlen)
{
	char expr[CONFIG_EXPR_MAX], name[CONFIG_EXPR_MAX];
	const char *colon = strchr(arg, ':');
	uint64_t len = 0, off = 0, elem = 0;
	long index = -1;
	bool have_len = false;

	memset(out, 0, sizeof(*out));
	out->type = MMS_WATCH_WRITE;
	elf_version(EV_CURRENT);
	if (!colon)
		colon = arg + strlen(arg);
	if (colon == arg || (size_t)(colon - arg) >= sizeof(expr)) {
		snprintf(err, errlen, "--watch '%s': %s expression", arg,
			 colon == arg ? "empty" : "too long an");
		return -1;
	}
	snprintf(expr, sizeof(expr), "%.*s", (int)(colon - arg), arg);
	snprintf(out->expr, sizeof(out->expr), "%s", expr);

	/* [:LEN][:r|w|rw] */
	for (const char *p = colon; *p;) {
		char part[64];
		const char *q = strchr(p + 1, ':');
		size_t n = q ? (size_t)(q - p - 1) : strlen(p + 1);
		snprintf(part, sizeof(part), "%.*s", (int)(n < 63 ? n : 63), p + 1);
		if (!strcmp(part, "r") || !strcmp(part, "w") || !strcmp(part, "rw")) {
			if (q) {
				snprintf(err, errlen, "--watch '%s': the access type comes last",
					 arg);
				return -1;
			}
			out->type = !strcmp(part, "r")	 ? MMS_WATCH_READ
				    : !strcmp(part, "w") ? MMS_WATCH_WRITE
							 : MMS_WATCH_RW;
		} else if (!have_len && parse_u64(part, &len) == 0) {
			have_len = true;
		} else {
			snprintf(err, errlen,
				 "--watch '%s': '%s' is neither a length nor r, w or rw", arg,
				 part);
			return -1;
		}
		p = q ? q : p + 1 + n;
	}
	if (have_len && !len) {
		snprintf(err, errlen, "--watch '%s': length 0", arg);
		return -1;
	}

	/* EXPR: ADDRESS | NAME[INDEX][+OFFSET] */
	if (isdigit((unsigned char)expr[0])) {
		if (parse_u64(expr, &out->vaddr) < 0) {
			snprintf(err, errlen, "--watch '%s': bad address '%s'", arg, expr);
			return -1;
		}
		snprintf(out->module, sizeof(out->module), "-");
		out->len = have_len ? len : WATCHSPEC_ADDR_LEN;
		if (out->vaddr >= USER_END || out->len > USER_END - out->vaddr) {
			snprintf(err, errlen,
				 "--watch '%s': the range runs past the end of the "
				 "user address space",
				 arg);
			return -1;
		}
		return 0;
	}
	size_t nlen = strcspn(expr, "[+");
	snprintf(name, sizeof(name), "%.*s", (int)nlen, expr);
	const char *rest = expr + nlen;
	if (*rest == '[') {
		char *end;
		errno = 0;
		index = strtol(rest + 1, &end, 0);
		if (errno || end == rest + 1 || *end != ']' || index < 0) {
			snprintf(err, errlen, "--watch '%s': bad index in '%s'", arg, expr);
			return -1;
		}
		rest = end + 1;
	}
	if (*rest == '+') {
		if (parse_u64(rest + 1, &off) < 0) {
			snprintf(err, errlen, "--watch '%s': bad offset in '%s'", arg, expr);
			return -1;
		}
		rest += strlen(rest);
	}
	if (*rest || !nlen) {
		snprintf(err, errlen,
			 "--watch '%s': cannot parse '%s' (want ADDRESS or "
			 "NAME[INDEX][+OFFSET])",
			 arg, expr);
		return -1;
	}
	char why[2 * PATH_MAX + 1024];
	if (resolve_symbol(name, index, program, out, &elem, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "--watch '%s': %s", arg, why);
		return -1;
	}
	uint64_t symsize = out->len;
	if (index >= 0)
		off += (uint64_t)index * elem;
	if (symsize && off >= symsize) {
		snprintf(err, errlen,
			 "--watch '%s': offset %" PRIu64 " is past the end of '%s' "
			 "(%" PRIu64 " bytes)",
			 arg, off, name, symsize);
		return -1;
	}
	/* A length past the symbol would watch whatever lies beyond it and be
	 * reported later as "not mapped": refuse it now, saying why. */
	if (have_len && symsize && len > symsize - off) {
		snprintf(err, errlen,
			 "--watch '%s': %" PRIu64 " bytes from offset %" PRIu64
			 " run past the end of '%s' (%" PRIu64 " bytes); give at most %" PRIu64
			 ", or watch an address",
			 arg, len, off, name, symsize, symsize - off);
		return -1;
	}
	out->vaddr += off;
	if (have_len)
		out->len = len;
	else if (index >= 0)
		out->len = elem;
	else if (symsize)
		out->len = symsize - off;
	else {
		snprintf(err, errlen, "--watch '%s': '%s' has no size; give one (%s:LEN)", arg,
			 name, expr);
		return -1;
	}
	if (out->len > USER_END || out->vaddr > USER_END - out->len) {
		snprintf(err, errlen,
			 "--watch '%s': the range runs past the end of the user "
			 "address space",
			 arg);
		return -1;
	}
	return 0;
}
