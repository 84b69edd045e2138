build-dev/agent/src/util/config.o: src/util/config.c src/util/config.h \
 src/util/glob.h
src/util/config.h:
src/util/glob.h:
