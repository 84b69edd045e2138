build-dev/agent/src/util/maps.o: src/util/maps.c src/util/maps.h \
 src/util/proc.h src/util/sys.h
src/util/maps.h:
src/util/proc.h:
src/util/sys.h:
