build-dev/host/src/trace/shadow.o: src/trace/shadow.c src/trace/shadow.h \
 include/mmscope/trace-format.h
src/trace/shadow.h:
include/mmscope/trace-format.h:
