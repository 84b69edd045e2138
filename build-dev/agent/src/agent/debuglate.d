build-dev/agent/src/agent/debuglate.o: src/agent/debuglate.c \
 src/agent/agent.h src/engine/arbiter.h src/engine/emulate.h \
 src/engine/cpu.h src/engine/insn.h src/engine/region.h \
 src/engine/icache.h src/engine/watch.h src/util/lock.h \
 src/trace/stream.h include/mmscope/trace-format.h src/util/config.h \
 src/agent/debugsock.h src/agent/debugstate.h src/agent/park.h \
 src/debug/rsp.h src/debug/target.h src/debug/x86_64.h \
 src/agent/observe.h src/util/log.h src/util/sys.h
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
src/agent/debugsock.h:
src/agent/debugstate.h:
src/agent/park.h:
src/debug/rsp.h:
src/debug/target.h:
src/debug/x86_64.h:
src/agent/observe.h:
src/util/log.h:
src/util/sys.h:
