# Outbound HTTP(S) on the worker's loop, shared by the workers that dial
# out (the openai agent backend, the wechat channel).
libwxworkers_a_SOURCES += workers/net/fetch.c workers/net/fetch.h
