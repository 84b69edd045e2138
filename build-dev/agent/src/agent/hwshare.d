build-dev/agent/src/agent/hwshare.o: src/agent/hwshare.c \
 src/agent/agent.h src/engine/arbiter.h src/engine/emulate.h \
 src/engine/cpu.h src/engine/insn.h src/engine/region.h \
 src/engine/icache.h src/engine/watch.h src/util/lock.h \
 src/trace/stream.h include/mmscope/trace-format.h src/util/config.h \
 src/agent/real.h src/agent/observe.h src/agent/debugsock.h \
 src/agent/record.h src/util/hwbp.h src/util/fmt.h src/util/proc.h \
 src/util/sys.h src/util/log.h
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
src/agent/real.h:
src/agent/observe.h:
src/agent/debugsock.h:
src/agent/record.h:
src/util/hwbp.h:
src/util/fmt.h:
src/util/proc.h:
src/util/sys.h:
src/util/log.h:
