/* SPDX-License-Identifier: MIT */
/* /proc/self/maps, parsed without stdio (see maps.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

#include "util/maps.h"
#include "util/proc.h"
#include "util/sys.h"

static const char *hex(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	const char *start = s;

	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		x = x << 4 | d;
	}
	*v = x;
	return s == start ? NULL : s;
}

static const char *skip_field(const char *s)
{
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

/* "lo-hi perms off dev ino   path" */
bool maps_parse(const char *s, struct maps_line *m)
{
	uint64_t ino = 0;
	size_t n = 0;

	m->path[0] = 0;
	if (!(s = hex(s, &m->lo)) || *s++ != '-' || !(s = hex(s, &m->hi)) || *s++ != ' ')
		return false;
	while (*s && *s != ' ' && n < sizeof(m->perms) - 1)
		m->perms[n++] = *s++;
	m->perms[n] = 0;
	if (n < 4 || *s++ != ' ' || !(s = hex(s, &m->off)) || *s++ != ' ')
		return false;
	s = skip_field(s); /* dev */
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++)
		ino = ino * 10 + (uint64_t)(*s - '0');
	m->ino = (unsigned long)ino;
	while (*s == ' ')
		s++;
	for (n = 0; *s && *s != '\n' && n < sizeof(m->path) - 1;)
		m->path[n++] = *s++;
	m->path[n] = 0;
	return true;
}

int maps_prot(const struct maps_line *m)
{
	return (m->perms[0] == 'r' ? PROT_READ : 0) | (m->perms[1] == 'w' ? PROT_WRITE : 0) |
	       (m->perms[2] == 'x' ? PROT_EXEC : 0);
}

int maps_open(struct maps_reader *r)
{
	r->len = r->pos = 0;
	r->fd = proc_open("self/maps", O_RDONLY);
	return r->fd < 0 ? (int)r->fd : 0;
}

void maps_close(struct maps_reader *r)
{
	if (r->fd >= 0)
		sys_close((int)r->fd);
	r->fd = -1;
}

int maps_open_smaps(struct maps_reader *r)
{
	r->len = r->pos = 0;
	r->fd = proc_open("self/smaps", O_RDONLY);
	return r->fd < 0 ? (int)r->fd : 0;
}

int maps_next_line(struct maps_reader *r)
{
	size_t n = 0;
	bool eol = false;

	/* one line, possibly spanning reads; overlong lines are cut */
	while (!eol) {
		if (r->pos == r->len) {
			long got = sys_read((int)r->fd, r->buf, sizeof(r->buf));
			if (got < 0)
				return (int)got;
			if (got == 0)
				break;
			r->len = (size_t)got;
			r->pos = 0;
		}
		char c = r->buf[r->pos++];
		if (c == '\n')
			eol = true;
		else if (n < sizeof(r->line) - 1)
			r->line[n++] = c;
	}
	r->line[n] = 0;
	return n || eol;
}

int maps_next(struct maps_reader *r, struct maps_line *out)
{
	for (;;) {
		int got = maps_next_line(r);
		if (got <= 0)
			return got;
		if (maps_parse(r->line, out))
			return 1;
	}
}
