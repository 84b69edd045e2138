build-dev/agent/src/debug/rsp.o: src/debug/rsp.c src/debug/rsp.h
src/debug/rsp.h:
