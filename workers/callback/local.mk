# The callback channel kinds wechat_mp and wecom_app (issue #14): the
# pure core (phase 1: the WXBizMsgCrypt envelope in wxcrypt.c, the
# query values it signs in query.c, the callback XML in xmlmsg.c and
# xmlmsg_write.c) and the worker (phase 2: callback.c the kind, conn.c
# its HTTP, req.c a request, turn.c messages and passive replies,
# seen.c nonces, api.c token.c push.c download.c the platform's API,
# videourl.c the URL an Official Account answers for a video).
# Unit tests in tests/unit/callback.mk, fuzzing in tests/fuzz/callback.mk.
libwxworkers_a_SOURCES += \
	workers/callback/wxcrypt.c workers/callback/wxcrypt.h \
	workers/callback/query.c workers/callback/query.h \
	workers/callback/xmlmsg.c workers/callback/xmlmsg_write.c \
	workers/callback/xmlmsg.h \
	workers/callback/callback.c workers/callback/callback.h \
	workers/callback/conn.c workers/callback/req.c \
	workers/callback/turn.c workers/callback/seen.c \
	workers/callback/api.c workers/callback/token.c \
	workers/callback/push.c workers/callback/download.c \
	workers/callback/videourl.c workers/callback/videourl.h
