build-dev/agent/src/trace/stream.o: src/trace/stream.c src/trace/stream.h \
 include/mmscope/trace-format.h src/util/sys.h
src/trace/stream.h:
include/mmscope/trace-format.h:
src/util/sys.h:
