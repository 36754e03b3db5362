# The metrics worker: metrics.listen's loopback HTTP listener (issue
# #17), with the web chat's request parser (workers/webchat/http.c).
libwxworkers_a_SOURCES += workers/metrics/metrics.c
