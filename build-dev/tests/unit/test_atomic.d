build-dev/tests/unit/test_atomic: tests/unit/test_atomic.c \
 tests/unit/emu-fixture.h src/engine/emulate.h src/engine/cpu.h \
 src/engine/insn.h src/engine/region.h src/engine/icache.h \
 src/engine/xol.h src/engine/xstate.h include/mmscope/trace-format.h
tests/unit/emu-fixture.h:
src/engine/emulate.h:
src/engine/cpu.h:
src/engine/insn.h:
src/engine/region.h:
src/engine/icache.h:
src/engine/xol.h:
src/engine/xstate.h:
include/mmscope/trace-format.h:
