build-dev/agent/src/engine/icache.o: src/engine/icache.c \
 src/engine/icache.h src/engine/emulate.h src/engine/cpu.h \
 src/engine/insn.h src/engine/region.h
src/engine/icache.h:
src/engine/emulate.h:
src/engine/cpu.h:
src/engine/insn.h:
src/engine/region.h:
