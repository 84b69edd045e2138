build-dev/agent/src/debug/x86_64.o: src/debug/x86_64.c src/debug/x86_64.h
src/debug/x86_64.h:
