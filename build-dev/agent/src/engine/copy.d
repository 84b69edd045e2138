build-dev/agent/src/engine/copy.o: src/engine/copy.c src/engine/copy.h
src/engine/copy.h:
