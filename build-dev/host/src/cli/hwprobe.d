build-dev/host/src/cli/hwprobe.o: src/cli/hwprobe.c src/cli/hwprobe.h \
 src/util/hwbp.h
src/cli/hwprobe.h:
src/util/hwbp.h:
