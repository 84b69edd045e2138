build-dev/host/src/engine/region.o: src/engine/region.c \
 src/engine/region.h
src/engine/region.h:
