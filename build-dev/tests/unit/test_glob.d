build-dev/tests/unit/test_glob: tests/unit/test_glob.c src/util/glob.h
src/util/glob.h:
