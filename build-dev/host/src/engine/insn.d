build-dev/host/src/engine/insn.o: src/engine/insn.c src/engine/insn.h \
 src/engine/cpu.h
src/engine/insn.h:
src/engine/cpu.h:
