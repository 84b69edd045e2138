build-dev/host/src/cli/tracedir.o: src/cli/tracedir.c src/cli/tracedir.h \
 include/mmscope/trace-format.h src/util/glob.h
src/cli/tracedir.h:
include/mmscope/trace-format.h:
src/util/glob.h:
