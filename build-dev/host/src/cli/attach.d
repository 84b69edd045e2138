build-dev/host/src/cli/attach.o: src/cli/attach.c src/cli/cmds.h \
 src/util/hotstub.h src/util/maps.h
src/cli/cmds.h:
src/util/hotstub.h:
src/util/maps.h:
