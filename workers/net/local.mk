# Outbound HTTP(S) on the worker's loop, shared by the workers that dial
# out (the openai agent backend, the wechat channel), and the pure
# Content-Disposition parser that names what they download, and the
# WebSocket client under the WeCom bot's long connection (and
# wxgate-relay's).
libwxworkers_a_SOURCES += workers/net/fetch.c workers/net/fetch.h \
	workers/net/curl_dl.c workers/net/curl_dl.h \
	workers/net/resolv.c workers/net/resolv.h \
	workers/net/cdisp.c workers/net/cdisp.h \
	workers/net/wsclient.c workers/net/wsclient.h
