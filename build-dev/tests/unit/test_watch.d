build-dev/tests/unit/test_watch: tests/unit/test_watch.c \
 src/engine/emulate.h src/engine/cpu.h src/engine/insn.h \
 src/engine/region.h src/engine/watch.h src/engine/arbiter.h \
 include/mmscope/trace-format.h
src/engine/emulate.h:
src/engine/cpu.h:
src/engine/insn.h:
src/engine/region.h:
src/engine/watch.h:
src/engine/arbiter.h:
include/mmscope/trace-format.h:
