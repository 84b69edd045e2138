build-dev/host/src/util/elf.o: src/util/elf.c src/util/elf.h
src/util/elf.h:
