build-dev/agent/src/agent/real.o: src/agent/real.c src/agent/real.h
src/agent/real.h:
