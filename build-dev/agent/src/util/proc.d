build-dev/agent/src/util/proc.o: src/util/proc.c src/util/proc.h \
 src/util/sys.h
src/util/proc.h:
src/util/sys.h:
