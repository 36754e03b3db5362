# The callback channel's pure core (issue #14, phase 1): the
# WXBizMsgCrypt envelope of WeChat Official Accounts and WeCom
# self-built apps (wxcrypt.c), the query values it signs (query.c) and
# the callback XML in and out (xmlmsg.c, xmlmsg_write.c).  No worker
# kind yet: the listener, the hub link and the kind rows are phase 2.
# Unit tests in tests/unit/callback.mk, fuzzing in tests/fuzz/callback.mk.
libwxworkers_a_SOURCES += \
	workers/callback/wxcrypt.c workers/callback/wxcrypt.h \
	workers/callback/query.c workers/callback/query.h \
	workers/callback/xmlmsg.c workers/callback/xmlmsg_write.c \
	workers/callback/xmlmsg.h
