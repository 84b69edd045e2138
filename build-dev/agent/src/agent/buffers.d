build-dev/agent/src/agent/buffers.o: src/agent/buffers.c \
 src/agent/agent.h src/engine/arbiter.h src/engine/emulate.h \
 src/engine/cpu.h src/engine/insn.h src/engine/region.h \
 src/engine/icache.h src/engine/watch.h src/util/lock.h \
 src/trace/stream.h include/mmscope/trace-format.h src/util/config.h \
 src/agent/mem.h src/agent/real.h src/util/sys.h src/agent/observe.h \
 src/agent/debugsock.h
src/agent/agent.h:
src/engine/arbiter.h:
src/engine/emulate.h:
src/engine/cpu.h:
src/engine/insn.h:
src/engine/region.h:
src/engine/icache.h:
src/engine/watch.h:
src/util/lock.h:
src/trace/stream.h:
include/mmscope/trace-format.h:
src/util/config.h:
src/agent/mem.h:
src/agent/real.h:
src/util/sys.h:
src/agent/observe.h:
src/agent/debugsock.h:
