build-dev/agent/src/engine/xstate.o: src/engine/xstate.c \
 src/engine/xstate.h src/engine/cpu.h
src/engine/xstate.h:
src/engine/cpu.h:
