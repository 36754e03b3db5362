# The wecom_bot channel worker: one process per WeCom AI bot on its
# WebSocket long connection.  frame.c, media.c and handshake.c are the
# pure protocol (unit tests in tests/unit/wecom.mk, fuzzing in
# tests/fuzz/wecom.mk); the rest runs it on the worker's loop.
libwxworkers_a_SOURCES += \
	workers/wecom_bot/wecom.h workers/wecom_bot/wecom_bot.c \
	workers/wecom_bot/wsc.c workers/wecom_bot/link.c \
	workers/wecom_bot/inbound.c workers/wecom_bot/attach.c \
	workers/wecom_bot/reply.c workers/wecom_bot/upload.c \
	workers/wecom_bot/frame.c workers/wecom_bot/frame.h \
	workers/wecom_bot/media.c workers/wecom_bot/media.h \
	workers/wecom_bot/handshake.c workers/wecom_bot/handshake.h
