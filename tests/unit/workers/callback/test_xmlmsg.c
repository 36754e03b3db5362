/*
 * Unit tests for workers/callback/xmlmsg.c and xmlmsg_write.c: the
 * envelopes of shared/protocols/wecom.md C.6, the messages of D.2, the
 * replies of D.3 byte for byte; CDATA (with "]]" inside and "]]>"
 * split), the five entities, numeric character references decoded to
 * UTF-8 or refused, DOCTYPE and ENTITY refused (no XXE),
 * every limit, malformed input and missing fields.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callback/xmlmsg.h"

#define PARSE(s, m)	xmlmsg_parse(s, strlen(s), m)

/* C.6, a WeCom app's POST body. */
static const char envelope_wecom[] =
    "<xml><ToUserName><![CDATA[wwFAKECORPID0001]]></ToUserName>"
    "<AgentID><![CDATA[1000002]]></AgentID>"
    "<Encrypt><![CDATA[4j/AuRx71kQlx+Vlz=]]></Encrypt></xml>";
/* C.6, an OA in safe mode: no CDATA. */
static const char envelope_oa[] =
    "<xml>\n  <ToUserName>gh_fake0001</ToUserName>\n"
    "  <Encrypt>4j/AuRx71kQlx+Vlz=</Encrypt>\n</xml>\n";
/* D.2's example, verbatim. */
static const char voice[] =
    "<xml><ToUserName><![CDATA[gh_fake0001]]></ToUserName><FromUserName>"
    "<![CDATA[oFAKEopenid0001]]></FromUserName><CreateTime>1731000000"
    "</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA["
    "FAKEmedia01]]></MediaId><Format><![CDATA[amr]]></Format><Recognition>"
    "<![CDATA[\xe4\xbd\xa0\xe5\xa5\xbd]]></Recognition><MsgId>"
    "24086087575195331</MsgId></xml>";
/* D.2, a WeCom text with its AgentID. */
static const char text_wecom[] =
    "<xml><ToUserName><![CDATA[wwFAKECORPID0001]]></ToUserName>"
    "<FromUserName><![CDATA[zhangsan]]></FromUserName>"
    "<CreateTime>1731000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[hello]]></Content><MsgId>1234567890123456</MsgId>"
    "<AgentID>1000002</AgentID></xml>";
/* D.3's reply, verbatim. */
static const char reply_d3[] =
    "<xml><ToUserName><![CDATA[oFAKEopenid0001]]></ToUserName><FromUserName>"
    "<![CDATA[gh_fake0001]]></FromUserName><CreateTime>1731000001"
    "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA["
    "\xe4\xbd\xa0\xe5\xa5\xbd]]></Content></xml>";
/* C.6's reply envelope, verbatim but for a real-looking signature. */
static const char reply_c6[] =
    "<xml><Encrypt><![CDATA[BASE64...]]></Encrypt><MsgSignature><![CDATA["
    "ac4eec2f391a8e1fa2fa3345e6d66e657a3d3bee]]></MsgSignature><TimeStamp>"
    "1731000600</TimeStamp><Nonce><![CDATA[n0nce42]]></Nonce></xml>";

static void
test_envelopes(void **state)
{
	struct xmlmsg m;

	(void)state;
	assert_int_equal(PARSE(envelope_wecom, &m), XMLMSG_OK);
	assert_int_equal(xmlmsg_check_envelope(&m), XMLMSG_OK);
	assert_string_equal(m.encrypt.p, "4j/AuRx71kQlx+Vlz=");
	assert_int_equal(m.encrypt.len, 18);
	assert_string_equal(m.to.p, "wwFAKECORPID0001");
	assert_int_equal(m.agentid_n, 1000002);
	/* An envelope is not a message. */
	assert_int_equal(xmlmsg_check_message(&m), XMLMSG_E_MISSING);
	xmlmsg_clear(&m);
	assert_null(m.buf);
	assert_int_equal(PARSE(envelope_oa, &m), XMLMSG_OK);
	assert_int_equal(xmlmsg_check_envelope(&m), XMLMSG_OK);
	assert_string_equal(m.encrypt.p, "4j/AuRx71kQlx+Vlz=");
	assert_string_equal(m.to.p, "gh_fake0001");
	assert_null(m.agentid.p);
	xmlmsg_clear(&m);
	/* No Encrypt, or an empty one. */
	assert_int_equal(PARSE("<xml><ToUserName>a</ToUserName></xml>", &m),
	    XMLMSG_OK);
	assert_int_equal(xmlmsg_check_envelope(&m), XMLMSG_E_MISSING);
	xmlmsg_clear(&m);
	assert_int_equal(PARSE("<xml><Encrypt><![CDATA[]]></Encrypt></xml>",
	    &m), XMLMSG_OK);
	assert_int_equal(xmlmsg_check_envelope(&m), XMLMSG_E_MISSING);
	xmlmsg_clear(&m);
}

static void
test_messages(void **state)
{
	struct xmlmsg m;

	(void)state;
	assert_int_equal(PARSE(voice, &m), XMLMSG_OK);
	assert_int_equal(xmlmsg_check_message(&m), XMLMSG_OK);
	assert_int_equal(m.type, XMLMSG_T_VOICE);
	assert_string_equal(m.to.p, "gh_fake0001");
	assert_string_equal(m.from.p, "oFAKEopenid0001");
	assert_int_equal(m.createtime_n, 1731000000);
	assert_string_equal(m.mediaid.p, "FAKEmedia01");
	assert_string_equal(m.format.p, "amr");
	assert_string_equal(m.recognition.p, "\xe4\xbd\xa0\xe5\xa5\xbd");
	assert_string_equal(m.msgid.p, "24086087575195331");
	assert_null(m.content.p);
	xmlmsg_clear(&m);
	assert_int_equal(PARSE(text_wecom, &m), XMLMSG_OK);
	assert_int_equal(xmlmsg_check_message(&m), XMLMSG_OK);
	assert_int_equal(m.type, XMLMSG_T_TEXT);
	assert_string_equal(m.content.p, "hello");
	assert_int_equal(m.agentid_n, 1000002);
	assert_string_equal(m.msgid.p, "1234567890123456");
	xmlmsg_clear(&m);
	/* C.10 #1's msg: well-formed, not a whole message. */
	assert_int_equal(PARSE("<xml><Content><![CDATA[hi]]></Content></xml>",
	    &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "hi");
	assert_int_equal(xmlmsg_check_message(&m), XMLMSG_E_MISSING);
	xmlmsg_clear(&m);
	/* An image: PicUrl; a type we do not name is OTHER, not refused. */
	assert_int_equal(PARSE("<xml><ToUserName>a</ToUserName><FromUserName>b"
	    "</FromUserName><CreateTime>1</CreateTime><MsgType>image</MsgType>"
	    "<PicUrl>http://x/y?a=1&amp;b=2</PicUrl><MsgId>7</MsgId></xml>",
	    &m), XMLMSG_OK);
	assert_int_equal(m.type, XMLMSG_T_IMAGE);
	assert_string_equal(m.picurl.p, "http://x/y?a=1&b=2");
	assert_int_equal(xmlmsg_check_message(&m), XMLMSG_OK);
	xmlmsg_clear(&m);
	assert_int_equal(PARSE("<xml><MsgType>miniprogrampage</MsgType></xml>",
	    &m), XMLMSG_OK);
	assert_int_equal(m.type, XMLMSG_T_OTHER);
	xmlmsg_clear(&m);
}

static void
test_missing(void **state)
{
	static const char *const bad[] = {
		/* a text without Content */
		"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
		"<CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>7"
		"</MsgId></xml>",
		/* a message without MsgId (dedup needs it, C.9) */
		"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
		"<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x"
		"</Content></xml>",
		/* no FromUserName */
		"<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime>"
		"<MsgType>text</MsgType><Content>x</Content><MsgId>7</MsgId>"
		"</xml>",
		/* no CreateTime */
		"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
		"<MsgType>text</MsgType><Content>x</Content><MsgId>7</MsgId>"
		"</xml>",
		/* no MsgType */
		"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
		"<CreateTime>1</CreateTime><Content>x</Content><MsgId>7</MsgId>"
		"</xml>",
		/* an event without Event */
		"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>"
		"<CreateTime>1</CreateTime><MsgType>event</MsgType></xml>",
	};
	struct xmlmsg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(bad[i], &m), XMLMSG_OK);
		assert_int_equal(xmlmsg_check_message(&m), XMLMSG_E_MISSING);
		xmlmsg_clear(&m);
	}
}

static void
test_events(void **state)
{
	static const struct {
		const char		*event;
		enum xmlmsg_event	 ev;
	} evs[] = {
		{ "subscribe", XMLMSG_EV_SUBSCRIBE },
		{ "unsubscribe", XMLMSG_EV_UNSUBSCRIBE },
		{ "enter_agent", XMLMSG_EV_ENTER_AGENT },
		{ "SCAN", XMLMSG_EV_SCAN },
		{ "LOCATION", XMLMSG_EV_LOCATION },
		{ "CLICK", XMLMSG_EV_CLICK },
		/* WeCom's spelling (D.2) */
		{ "click", XMLMSG_EV_CLICK },
		{ "VIEW", XMLMSG_EV_VIEW },
		{ "view", XMLMSG_EV_VIEW },
		{ "TEMPLATESENDJOBFINISH", XMLMSG_EV_OTHER },
	};
	struct xmlmsg m;
	char doc[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		snprintf(doc, sizeof(doc), "<xml><ToUserName><![CDATA[ww1]]>"
		    "</ToUserName><FromUserName><![CDATA[u1]]></FromUserName>"
		    "<CreateTime>1731000000</CreateTime><MsgType><![CDATA["
		    "event]]></MsgType><AgentID>1000002</AgentID><Event>"
		    "<![CDATA[%s]]></Event><EventKey><![CDATA[]]></EventKey>"
		    "</xml>", evs[i].event);
		assert_int_equal(PARSE(doc, &m), XMLMSG_OK);
		/* Events have no MsgId (D.2). */
		assert_int_equal(xmlmsg_check_message(&m), XMLMSG_OK);
		assert_int_equal(m.type, XMLMSG_T_EVENT);
		assert_int_equal(m.ev, evs[i].ev);
		assert_string_equal(m.event.p, evs[i].event);
		assert_non_null(m.eventkey.p);
		assert_int_equal(m.eventkey.len, 0);
		xmlmsg_clear(&m);
	}
	/* A subscribe from a parameter QR, with a nested field skipped. */
	assert_int_equal(PARSE("<xml><ToUserName>gh_1</ToUserName>"
	    "<FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
	    "<MsgType>event</MsgType><Event>subscribe</Event>"
	    "<EventKey>qrscene_42</EventKey>"
	    "<SendLocationInfo><Location_X>23.1</Location_X><Label><![CDATA["
	    "x]]></Label></SendLocationInfo><Ticket>T</Ticket></xml>", &m),
	    XMLMSG_OK);
	assert_int_equal(m.ev, XMLMSG_EV_SUBSCRIBE);
	assert_string_equal(m.eventkey.p, "qrscene_42");
	xmlmsg_clear(&m);
}

/* CDATA: "]]" and "]" inside, sections joined, text and CDATA mixed. */
static void
test_cdata(void **state)
{
	struct xmlmsg m;

	(void)state;
	assert_int_equal(PARSE("<xml><Content><![CDATA[a]]b]] ]]]]><![CDATA[>c"
	    "]]></Content></xml>", &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "a]]b]] ]]>c");
	xmlmsg_clear(&m);
	assert_int_equal(PARSE("<xml><Content>x<![CDATA[<b>&amp;</b>]]>y"
	    "</Content></xml>", &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "x<b>&amp;</b>y");
	xmlmsg_clear(&m);
	assert_int_equal(PARSE("<xml><Content><![CDATA[]]]></Content></xml>",
	    &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "]");
	xmlmsg_clear(&m);
	/* Unterminated, and CDATA at the root. */
	assert_int_equal(PARSE("<xml><Content><![CDATA[a]]</Content></xml>",
	    &m), XMLMSG_E_SYNTAX);
	assert_null(m.buf);
	assert_int_equal(PARSE("<xml><![CDATA[a]]></xml>", &m),
	    XMLMSG_E_SYNTAX);
	/* A comment inside a field is not text. */
	assert_int_equal(PARSE("<xml><Content>a<!-- b -->c</Content></xml>",
	    &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "ac");
	xmlmsg_clear(&m);
}

static void
test_entities(void **state)
{
	struct xmlmsg m;

	(void)state;
	assert_int_equal(PARSE("<xml><Content>a &lt;b&gt; &amp; &quot;q&quot; "
	    "&apos;s&apos; &amp;lt;</Content></xml>", &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "a <b> & \"q\" 's' &lt;");
	xmlmsg_clear(&m);
	assert_int_equal(PARSE("<xml><Content>&nbsp;</Content></xml>", &m),
	    XMLMSG_E_ENTITY);
	assert_int_equal(PARSE("<xml><Content>a & b</Content></xml>", &m),
	    XMLMSG_E_ENTITY);
	assert_int_equal(PARSE("<xml><Content>&lt</Content></xml>", &m),
	    XMLMSG_E_ENTITY);
	/* An entity in a field we skip is still checked. */
	assert_int_equal(PARSE("<xml><Other>&xxe;</Other></xml>", &m),
	    XMLMSG_E_ENTITY);
}

/* &#NNN; and &#xHH; as UTF-8, of every length, beside other text. */
static void
test_charrefs(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} good[] = {
		{ "&#20320;&#x597D;", "\xe4\xbd\xa0\xe5\xa5\xbd" },
		{ "&#60;b&#x3e;", "<b>" },
		{ "a&#9;&#10;&#13;b", "a\t\n\rb" },
		{ "&#xe9;&#233;&#xE9;", "\xc3\xa9\xc3\xa9\xc3\xa9" },
		{ "&#x7FF;&#x800;", "\xdf\xbf\xe0\xa0\x80" },
		{ "&#xD7FF;&#xE000;&#xFFFD;",
		    "\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbd" },
		{ "&#x1F600;", "\xf0\x9f\x98\x80" },
		{ "&#1114111;&#x10FFFF;", "\xf4\x8f\xbf\xbf\xf4\x8f\xbf\xbf" },
		/* Leading zeros count, up to the digit bound. */
		{ "&#0000065;&#x000041;", "AA" },
		/* In CDATA it is text, not a reference. */
		{ "<![CDATA[&#65;]]>&#65;", "&#65;A" },
	};
	static const char *const bad[] = {
		"&#0;", "&#x0;", "&#xD800;", "&#xDFFF;", "&#55296;",
		"&#x110000;", "&#1114112;", "&#xFFFE;", "&#xFFFF;", "&#1;",
		"&#x1F;", "&#;", "&#x;", "&#X41;", "&#65", "&#x41",
		"&#6 5;", "&#-65;", "&#+65;", "&#x4g;", "&#65a;",
		"&#00000065;", "&#x0000041;", "&#99999999999999999999;",
		"&#", "&#x",
	};
	char doc[256];
	struct xmlmsg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(doc, sizeof(doc), "<xml><Content>%s</Content></xml>",
		    good[i].in);
		assert_int_equal(PARSE(doc, &m), XMLMSG_OK);
		assert_string_equal(m.content.p, good[i].out);
		assert_int_equal(m.content.len, strlen(good[i].out));
		xmlmsg_clear(&m);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(doc, sizeof(doc), "<xml><Content>%s</Content></xml>",
		    bad[i]);
		assert_int_equal(PARSE(doc, &m), XMLMSG_E_CHARREF);
		assert_null(m.buf);
	}
	/* Truncated at the end of the body, in a field we skip too. */
	assert_int_equal(PARSE("<xml><Content>&#", &m), XMLMSG_E_CHARREF);
	assert_int_equal(PARSE("<xml><Other>&#0;</Other></xml>", &m),
	    XMLMSG_E_CHARREF);
	/* A decoded number field is still a number. */
	assert_int_equal(PARSE("<xml><CreateTime>&#49;7</CreateTime></xml>",
	    &m), XMLMSG_OK);
	assert_int_equal(m.createtime_n, 17);
	xmlmsg_clear(&m);
	assert_int_equal(PARSE("<xml><CreateTime>&#x4e00;</CreateTime></xml>",
	    &m), XMLMSG_E_NUMBER);
	assert_string_equal(xmlmsg_strerror(XMLMSG_E_CHARREF),
	    "bad character reference");
	assert_int_equal(xmlmsg_code(XMLMSG_E_CHARREF), -40002);
}

/* No DOCTYPE anywhere, so no entity can be defined (XXE). */
static void
test_doctype(void **state)
{
	static const char *const bad[] = {
		"<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "
		"\"file:///etc/passwd\">]><xml><Content>&xxe;</Content></xml>",
		"<!DOCTYPE xml SYSTEM \"http://example.invalid/x.dtd\"><xml/>",
		"<xml><!ENTITY a \"b\"><Content>x</Content></xml>",
		"<xml><Content>x</Content></xml><!DOCTYPE xml>",
		"<xml><Content><!DOCTYPE x></Content></xml>",
		"<!-- c --><!ELEMENT xml ANY><xml/>",
	};
	struct xmlmsg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(bad[i], &m), XMLMSG_E_DOCTYPE);
		assert_null(m.buf);
	}
}

static void
test_prolog(void **state)
{
	struct xmlmsg m;

	(void)state;
	assert_int_equal(PARSE("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<!-- a comment -->\n<xml >\n\t<ToUserName>a</ToUserName >\n"
	    "<Empty/><Nonce/></xml>\n<!-- after -->\n", &m), XMLMSG_OK);
	assert_string_equal(m.to.p, "a");
	assert_non_null(m.nonce.p);
	assert_int_equal(m.nonce.len, 0);
	xmlmsg_clear(&m);
	/* Another processing instruction, or the declaration later. */
	assert_int_equal(PARSE("<?php x ?><xml/>", &m), XMLMSG_E_SYNTAX);
	assert_int_equal(PARSE("<xml><?pi x?></xml>", &m), XMLMSG_E_SYNTAX);
	assert_int_equal(PARSE(" <?xml version=\"1.0\"?><xml/>", &m),
	    XMLMSG_E_SYNTAX);
	assert_int_equal(PARSE("<?xml version=\"1.0\"<xml/>", &m),
	    XMLMSG_E_SYNTAX);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char	*doc;
		int		 err;
	} bad[] = {
		{ "", XMLMSG_E_SYNTAX },
		{ "hello", XMLMSG_E_SYNTAX },
		{ "<xml>", XMLMSG_E_SYNTAX },
		{ "<xml><Content>a</xml>", XMLMSG_E_SYNTAX },
		{ "<xml><Content>a</Contentx></xml>", XMLMSG_E_SYNTAX },
		{ "<xml><Content>a</Content>", XMLMSG_E_SYNTAX },
		{ "<root><Content>a</Content></root>", XMLMSG_E_SYNTAX },
		{ "<xml>text<Content>a</Content></xml>", XMLMSG_E_SYNTAX },
		{ "<xml><Content>a</Content></xml>junk", XMLMSG_E_SYNTAX },
		{ "<xml/><xml/>", XMLMSG_E_SYNTAX },
		{ "<xml><Content a=\"1\">a</Content></xml>", XMLMSG_E_SYNTAX },
		{ "<xml>< Content>a</Content></xml>", XMLMSG_E_SYNTAX },
		{ "<xml><1a>a</1a></xml>", XMLMSG_E_SYNTAX },
		{ "<xml><Content>a<b></Content></b></xml>", XMLMSG_E_SYNTAX },
		{ "<xml><!-- open </xml>", XMLMSG_E_SYNTAX },
		/* a field we read may not have children */
		{ "<xml><Content><b>x</b></Content></xml>", XMLMSG_E_SYNTAX },
		{ "<xml><Content>a</Content><Content>b</Content></xml>",
		    XMLMSG_E_DUP },
		{ "<xml><Encrypt>a</Encrypt><Encrypt/></xml>", XMLMSG_E_DUP },
		{ "<xml><CreateTime>17a</CreateTime></xml>", XMLMSG_E_NUMBER },
		{ "<xml><CreateTime> 17</CreateTime></xml>", XMLMSG_E_NUMBER },
		{ "<xml><CreateTime></CreateTime></xml>", XMLMSG_E_NUMBER },
		{ "<xml><CreateTime>-1</CreateTime></xml>", XMLMSG_E_NUMBER },
		{ "<xml><CreateTime>9223372036854775808</CreateTime></xml>",
		    XMLMSG_E_NUMBER },
		{ "<xml><AgentID>99999999999999999999</AgentID></xml>",
		    XMLMSG_E_NUMBER },
		{ "<xml><MsgId>18446744073709551616</MsgId></xml>",
		    XMLMSG_E_NUMBER },
		{ "<xml><MsgId>184467440737095516150</MsgId></xml>",
		    XMLMSG_E_LIMIT },
	};
	struct xmlmsg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (PARSE(bad[i].doc, &m) != bad[i].err)
			fail_msg("%s: got %d, want %d", bad[i].doc,
			    PARSE(bad[i].doc, &m), bad[i].err);
		assert_null(m.buf);
	}
	/* A NUL in a field (fields are C strings), in text and in CDATA. */
	assert_int_equal(xmlmsg_parse("<xml><Content>a\0b</Content></xml>", 33,
	    &m), XMLMSG_E_SYNTAX);
	assert_int_equal(xmlmsg_parse("<xml><Content><![CDATA[a\0b]]>"
	    "</Content></xml>", 45, &m), XMLMSG_E_SYNTAX);
	/* The largest numbers that fit. */
	assert_int_equal(PARSE("<xml><CreateTime>9223372036854775807"
	    "</CreateTime><MsgId>18446744073709551615</MsgId></xml>", &m),
	    XMLMSG_OK);
	assert_int_equal(m.createtime_n, INT64_MAX);
	assert_string_equal(m.msgid.p, "18446744073709551615");
	xmlmsg_clear(&m);
}

/* Builds "<xml>" + n nested <a> + "x" + closing tags. */
static char *
nested(int n)
{
	char *s = malloc((size_t)n * 7 + 32), *p = s;
	int i;

	p += sprintf(p, "<xml>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "<a>");
	p += sprintf(p, "x");
	for (i = 0; i < n; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</xml>");
	return s;
}

static void
test_limits(void **state)
{
	struct xmlmsg m;
	char *s, *p;
	size_t n;
	int i;

	(void)state;
	/* Depth: the root and 9 below it is fine, 10 below is not. */
	s = nested(XMLMSG_DEPTH_MAX - 1);
	assert_int_equal(PARSE(s, &m), XMLMSG_OK);
	xmlmsg_clear(&m);
	free(s);
	s = nested(XMLMSG_DEPTH_MAX);
	assert_int_equal(PARSE(s, &m), XMLMSG_E_LIMIT);
	free(s);
	/* Elements: the root and 127 fields, then one more. */
	s = malloc(XMLMSG_ELEMS_MAX * 8 + 32);
	p = s + sprintf(s, "<xml>");
	for (i = 0; i < XMLMSG_ELEMS_MAX - 1; i++)
		p += sprintf(p, "<a/>");
	sprintf(p, "</xml>");
	assert_int_equal(PARSE(s, &m), XMLMSG_OK);
	xmlmsg_clear(&m);
	sprintf(p, "<a/></xml>");
	assert_int_equal(PARSE(s, &m), XMLMSG_E_LIMIT);
	free(s);
	/* A name of 64 characters, and of 65. */
	s = malloc(256);
	p = s + sprintf(s, "<xml><");
	memset(p, 'n', 64);
	sprintf(p + 64, "/></xml>");
	assert_int_equal(PARSE(s, &m), XMLMSG_OK);
	xmlmsg_clear(&m);
	memset(p, 'n', 65);
	sprintf(p + 65, "/></xml>");
	assert_int_equal(PARSE(s, &m), XMLMSG_E_LIMIT);
	free(s);
	/* Content: XMLMSG_CONTENT_MAX bytes, then one more. */
	n = XMLMSG_CONTENT_MAX + 64;
	s = malloc(n);
	p = s + sprintf(s, "<xml><Content>");
	memset(p, 'c', XMLMSG_CONTENT_MAX);
	sprintf(p + XMLMSG_CONTENT_MAX, "</Content></xml>");
	assert_int_equal(PARSE(s, &m), XMLMSG_OK);
	assert_int_equal(m.content.len, XMLMSG_CONTENT_MAX);
	xmlmsg_clear(&m);
	memset(p, 'c', XMLMSG_CONTENT_MAX + 1);
	sprintf(p + XMLMSG_CONTENT_MAX + 1, "</Content></xml>");
	assert_int_equal(PARSE(s, &m), XMLMSG_E_LIMIT);
	free(s);
	/* A field of ours past its limit: ToUserName of 129 bytes. */
	s = malloc(256);
	p = s + sprintf(s, "<xml><ToUserName>");
	memset(p, 'u', XMLMSG_ID_MAX + 1);
	sprintf(p + XMLMSG_ID_MAX + 1, "</ToUserName></xml>");
	assert_int_equal(PARSE(s, &m), XMLMSG_E_LIMIT);
	free(s);
	/* The body: refused by length before a byte is read. */
	assert_int_equal(xmlmsg_parse("<xml/>", XMLMSG_BODY_MAX + 1, &m),
	    XMLMSG_E_LIMIT);
	assert_null(m.buf);
}

/* D.3 byte for byte, and back through the parser. */
static void
test_reply_text(void **state)
{
	struct xmlmsg m;
	char *out;
	size_t len;
	char big[XMLMSG_CONTENT_MAX + 2];

	(void)state;
	assert_int_equal(xmlmsg_reply_text("oFAKEopenid0001", "gh_fake0001",
	    1731000001, "\xe4\xbd\xa0\xe5\xa5\xbd", 6, &out, &len), XMLMSG_OK);
	assert_int_equal(len, strlen(reply_d3));
	assert_memory_equal(out, reply_d3, len);
	assert_int_equal(xmlmsg_parse(out, len, &m), XMLMSG_OK);
	assert_string_equal(m.to.p, "oFAKEopenid0001");
	assert_string_equal(m.from.p, "gh_fake0001");
	assert_int_equal(m.createtime_n, 1731000001);
	assert_int_equal(m.type, XMLMSG_T_TEXT);
	xmlmsg_clear(&m);
	free(out);
	/* "]]>" split across sections; controls dropped but \t \n \r. */
	assert_int_equal(xmlmsg_reply_text("u", "ww", 1, "a]]>b]]]>\x01\t\n\r"
	    "\x1f" "c", 15, &out, &len), XMLMSG_OK);
	assert_non_null(strstr(out, "<Content><![CDATA[a]]]]><![CDATA[>b]]]]]>"
	    "<![CDATA[>\t\n\rc]]></Content>"));
	assert_int_equal(xmlmsg_parse(out, len, &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "a]]>b]]]>\t\n\rc");
	xmlmsg_clear(&m);
	free(out);
	/* A control dropped from "]]\x01>" must not leave a bare "]]>". */
	assert_int_equal(xmlmsg_reply_text("u", "ww", 1, "a]]\x0f>b", 6, &out,
	    &len), XMLMSG_OK);
	assert_int_equal(xmlmsg_parse(out, len, &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "a]]>b");
	xmlmsg_clear(&m);
	free(out);
	/* "]]]]>>": the split after each "]]" kept. */
	assert_int_equal(xmlmsg_reply_text("u", "ww", 1, "]]]]>>", 6, &out,
	    &len), XMLMSG_OK);
	assert_int_equal(xmlmsg_parse(out, len, &m), XMLMSG_OK);
	assert_string_equal(m.content.p, "]]]]>>");
	xmlmsg_clear(&m);
	free(out);
	/* An id with "]]>" in it round-trips too. */
	assert_int_equal(xmlmsg_reply_text("]]>", "x", 0, "", 0, &out, &len),
	    XMLMSG_OK);
	assert_int_equal(xmlmsg_parse(out, len, &m), XMLMSG_OK);
	assert_string_equal(m.to.p, "]]>");
	assert_int_equal(m.content.len, 0);
	xmlmsg_clear(&m);
	free(out);
	/* Refusals: too long, negative time, no recipient. */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(xmlmsg_reply_text("u", "ww", 1, big,
	    XMLMSG_CONTENT_MAX + 1, &out, &len), XMLMSG_E_REPLY);
	assert_null(out);
	assert_int_equal(xmlmsg_reply_text("u", "ww", 1, big,
	    XMLMSG_CONTENT_MAX, &out, &len), XMLMSG_OK);
	free(out);
	big[XMLMSG_ID_MAX + 1] = '\0';
	assert_int_equal(xmlmsg_reply_text(big, "ww", 1, "x", 1, &out, &len),
	    XMLMSG_E_REPLY);
	assert_int_equal(xmlmsg_reply_text("u", "ww", -1, "x", 1, &out, &len),
	    XMLMSG_E_REPLY);
	assert_int_equal(xmlmsg_reply_text(NULL, "ww", 1, "x", 1, &out, &len),
	    XMLMSG_E_REPLY);
	assert_int_equal(xmlmsg_code(XMLMSG_E_REPLY), -40011);
	assert_int_equal(xmlmsg_code(XMLMSG_E_DOCTYPE), -40002);
	assert_int_equal(xmlmsg_code(XMLMSG_OK), 0);
	assert_string_equal(xmlmsg_strerror(XMLMSG_E_DUP), "field repeated");
	assert_string_equal(xmlmsg_strerror(99), "unknown error");
}

/* C.6's reply envelope byte for byte, and back. */
static void
test_reply_envelope(void **state)
{
	struct xmlmsg m;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(xmlmsg_reply_envelope("BASE64...",
	    "ac4eec2f391a8e1fa2fa3345e6d66e657a3d3bee", "1731000600",
	    "n0nce42", &out, &len), XMLMSG_OK);
	assert_int_equal(len, strlen(reply_c6));
	assert_memory_equal(out, reply_c6, len);
	assert_int_equal(xmlmsg_parse(out, len, &m), XMLMSG_OK);
	assert_int_equal(xmlmsg_check_envelope(&m), XMLMSG_OK);
	assert_string_equal(m.encrypt.p, "BASE64...");
	assert_string_equal(m.msgsignature.p,
	    "ac4eec2f391a8e1fa2fa3345e6d66e657a3d3bee");
	assert_string_equal(m.timestamp.p, "1731000600");
	assert_string_equal(m.nonce.p, "n0nce42");
	xmlmsg_clear(&m);
	free(out);
	assert_int_equal(xmlmsg_reply_envelope("e", "s", "17x", "n", &out,
	    &len), XMLMSG_E_REPLY);
	assert_int_equal(xmlmsg_reply_envelope("e", "s", "", "n", &out,
	    &len), XMLMSG_E_REPLY);
	assert_int_equal(xmlmsg_reply_envelope(NULL, "s", "1", "n", &out,
	    &len), XMLMSG_E_REPLY);
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelopes),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_cdata),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_charrefs),
		cmocka_unit_test(test_doctype),
		cmocka_unit_test(test_prolog),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_reply_text),
		cmocka_unit_test(test_reply_envelope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
