build-dev/host/src/engine/vsib.o: src/engine/vsib.c \
 src/engine/emu-internal.h src/engine/emulate.h src/engine/cpu.h \
 src/engine/insn.h src/engine/region.h src/engine/xstate.h \
 include/mmscope/trace-format.h
src/engine/emu-internal.h:
src/engine/emulate.h:
src/engine/cpu.h:
src/engine/insn.h:
src/engine/region.h:
src/engine/xstate.h:
include/mmscope/trace-format.h:
