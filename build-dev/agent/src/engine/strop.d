build-dev/agent/src/engine/strop.o: src/engine/strop.c \
 src/engine/emu-internal.h src/engine/emulate.h src/engine/cpu.h \
 src/engine/insn.h src/engine/region.h include/mmscope/trace-format.h
src/engine/emu-internal.h:
src/engine/emulate.h:
src/engine/cpu.h:
src/engine/insn.h:
src/engine/region.h:
include/mmscope/trace-format.h:
