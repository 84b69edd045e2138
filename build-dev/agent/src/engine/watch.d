build-dev/agent/src/engine/watch.o: src/engine/watch.c src/engine/watch.h \
 src/engine/arbiter.h include/mmscope/trace-format.h
src/engine/watch.h:
src/engine/arbiter.h:
include/mmscope/trace-format.h:
