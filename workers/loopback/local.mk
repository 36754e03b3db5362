# A test-only channel kind (workers/loopback/loopback.c is empty without
# --enable-test-hooks): the channel interface's proof.
libwxworkers_a_SOURCES += workers/loopback/loopback.c
