build-dev/tests/fuzz/rsp_fuzz: tests/fuzz/rsp_fuzz.c src/debug/rsp.h \
 src/debug/target.h src/debug/x86_64.h tests/fuzz/fake_target.h
src/debug/rsp.h:
src/debug/target.h:
src/debug/x86_64.h:
tests/fuzz/fake_target.h:
