build-dev/agent/src/debug/target.o: src/debug/target.c src/debug/rsp.h \
 src/debug/target.h src/debug/x86_64.h
src/debug/rsp.h:
src/debug/target.h:
src/debug/x86_64.h:
