build-dev/agent/src/agent/core.o: src/agent/core.c src/agent/agent.h \
 src/engine/arbiter.h src/engine/emulate.h src/engine/cpu.h \
 src/engine/insn.h src/engine/region.h src/engine/icache.h \
 src/engine/watch.h src/util/lock.h src/trace/stream.h \
 include/mmscope/trace-format.h src/util/config.h src/agent/core.h \
 src/agent/hot.h src/util/hotstub.h src/agent/mem.h src/agent/shadow.h \
 src/trace/shadow.h src/debug/x86_64.h src/util/fmt.h src/util/maps.h \
 src/util/proc.h src/util/sys.h src/util/log.h
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
src/agent/core.h:
src/agent/hot.h:
src/util/hotstub.h:
src/agent/mem.h:
src/agent/shadow.h:
src/trace/shadow.h:
src/debug/x86_64.h:
src/util/fmt.h:
src/util/maps.h:
src/util/proc.h:
src/util/sys.h:
src/util/log.h:
