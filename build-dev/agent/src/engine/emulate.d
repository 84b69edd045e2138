build-dev/agent/src/engine/emulate.o: src/engine/emulate.c \
 src/engine/copy.h src/engine/icache.h src/engine/emulate.h \
 src/engine/cpu.h src/engine/insn.h src/engine/region.h \
 src/engine/emu-internal.h src/engine/xol.h src/engine/xstate.h \
 include/mmscope/trace-format.h src/util/sys.h
src/engine/copy.h:
src/engine/icache.h:
src/engine/emulate.h:
src/engine/cpu.h:
src/engine/insn.h:
src/engine/region.h:
src/engine/emu-internal.h:
src/engine/xol.h:
src/engine/xstate.h:
include/mmscope/trace-format.h:
src/util/sys.h:
