/* SPDX-License-Identifier: MIT */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/elf.h"

int elf_is_static(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC), res = -1;

	if (fd < 0)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto out;
	res = 1;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + (off_t)i * eh.e_phentsize) !=
		    sizeof(ph)) {
			res = -1;
			break;
		}
		if (ph.p_type == PT_INTERP) {
			res = 0;
			break;
		}
	}
out:
	close(fd);
	return res;
}
