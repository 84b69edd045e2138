build-dev/host/src/engine/xol.o: src/engine/xol.S
