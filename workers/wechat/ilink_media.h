/*
 * Inbound iLink media, as pure functions (shared/protocols/wechat-ilink.md
 * §5.2, §5.4, §6.1, §6.3): what the CDN download of each image, file,
 * voice and video item of a message needs, the quoted message
 * (ref_msg) as context text, and the AES-128-ECB decryption of what the
 * CDN sends.  No I/O: workers/wechat/inmedia.c does the downloads;
 * tests/fuzz/fuzz_ilink_media.c and fuzz_ilink_cdn.c reach every line.
 */
#ifndef WX_ILINK_MEDIA_H
#define WX_ILINK_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ipc_msg.h"

/* §6.1: AES-128, one new key per file. */
#define ILINK_KEY_LEN		16
/* Items of one message we look at; the rest are counted, not read. */
#define ILINK_ITEMS_MAX		16
/*
 * Quotes of quotes: WeChat shows one level, so three is generous; a
 * deeper chain is an error, never a walk down whatever a server sends.
 */
#define ILINK_REF_DEPTH		3
/* One quoted message's text, in bytes: context, not a second message. */
#define ILINK_QUOTE_MAX		512
/* encrypt_query_param and full_url: opaque, a few hundred bytes seen. */
#define ILINK_QUERY_MAX		4096
#define ILINK_MEDIA_URL_MAX	(ILINK_QUERY_MAX + 1024)

enum ilink_mkind {
	ILINK_MK_IMAGE,
	ILINK_MK_VOICE,
	ILINK_MK_FILE,
	ILINK_MK_VIDEO,
	ILINK_MK_OTHER		/* not media: an unknown type */
};

/* Why an item is not downloaded (or a quote not kept). */
enum ilink_merr {
	ILINK_M_OK = 0,
	ILINK_M_TYPE,		/* an item type we do not know */
	ILINK_M_SHAPE,		/* a field of the wrong type or too long */
	ILINK_M_NOURL,		/* neither full_url nor encrypt_query_param */
	ILINK_M_NOKEY,		/* voice, file, video without aes_key */
	ILINK_M_KEY,		/* a key in neither encoding */
	ILINK_M_TOOMANY,	/* past IPC_PARTS_MAX parts */
	ILINK_M_REFDEPTH,	/* quotes nested past ILINK_REF_DEPTH */
	ILINK_M_REFLOOP		/* a quote quoting itself */
};

/* How the key came (§6.1, §8.3). */
enum ilink_keyenc {
	ILINK_KEY_NONE,		/* an image sent in clear */
	ILINK_KEY_HEX,		/* image_item.aeskey, 32 hex characters */
	ILINK_KEY_B64RAW,	/* base64 of the 16 bytes */
	ILINK_KEY_B64HEX	/* base64 of the 32 hex characters */
};

/*
 * One media item.  url (full_url) and query (encrypt_query_param) are
 * credentials, as is the key: never logged, wiped when freed.  limit
 * bounds the ciphertext by the declared size (0: none declared).
 */
struct ilink_media {
	enum ilink_mkind	 kind;
	enum ilink_merr		 err;
	char			*url;
	char			*query;
	enum ilink_keyenc	 keyenc;
	uint8_t			 key[ILINK_KEY_LEN];
	uint64_t		 limit;
	char			*name;		/* file_name, or NULL */
};

struct ilink_mlist {
	size_t			 n;
	struct ilink_media	 v[ILINK_ITEMS_MAX];
	size_t			 ok;		/* entries without err */
	size_t			 unread;	/* items past ILINK_ITEMS_MAX */
	char			*quote;		/* "> " lines, or NULL */
	enum ilink_merr		 quote_err;
};

/* The media items of item_list (a JSON array); m is cleared first. */
void		 ilink_media_take(json_t *items, struct ilink_mlist *m);
/* The same from a message's JSON text, for tests and the fuzzer. */
int		 ilink_media_parse(const char *msg, size_t len,
		    struct ilink_mlist *m);
void		 ilink_mlist_clear(struct ilink_mlist *m);
int		 ilink_aes_key(const char *s, size_t len,
		    uint8_t key[ILINK_KEY_LEN], enum ilink_keyenc *enc);
char		*ilink_media_url(const char *cdn, const struct ilink_media *,
		    const char **why);
const char	*ilink_mkind_name(enum ilink_mkind);
const char	*ilink_merr_name(enum ilink_merr);

/* The CDN's bytes (§6.1). */
enum ilink_cdn_err {
	ILINK_CDN_OK = 0,
	ILINK_CDN_EMPTY,	/* no bytes */
	ILINK_CDN_BLOCK,	/* not a multiple of 16 */
	ILINK_CDN_DECLARED,	/* more than the item declared */
	ILINK_CDN_CAP,		/* more than the message may carry */
	ILINK_CDN_PAD,		/* PKCS#7 padding wrong */
	ILINK_CDN_CRYPTO	/* OpenSSL refused */
};

size_t		 ilink_cdn_limit(uint64_t declared, size_t cap, int keyed);
enum ilink_cdn_err ilink_cdn_decrypt(const uint8_t key[ILINK_KEY_LEN],
		    uint8_t *buf, size_t len, uint64_t declared, size_t cap,
		    size_t *plainlen);
enum ilink_cdn_err ilink_cdn_plain(size_t len, uint64_t declared,
		    size_t cap);
const char	*ilink_cdn_strerror(enum ilink_cdn_err);
uint64_t	 ilink_cdn_padded(uint64_t plainlen);
enum ilink_cdn_err ilink_cdn_encrypt(const uint8_t key[ILINK_KEY_LEN],
		    uint8_t *buf, size_t len, size_t cap, size_t *outlen);
int		 ilink_cdn_md5(const uint8_t *, size_t,
		    char out[2 * 16 + 1]);

/*
 * Outbound media (§3.5, §3.9, §6.2).  An attachment over this is
 * refused before any upload: no outbound limit is written down, and
 * the official client takes in nothing larger (§6.3, §7.1).
 */
#define ILINK_UPLOAD_MAX	(100 * 1024 * 1024)
/* The CDN's answer body, read for its error text only. */
#define ILINK_CDN_ERR_MAX	256

char		*ilink_upload_url(const char *cdn, const char *full_url,
		    const char *param, const char *filekey, const char **why);
int		 ilink_cdn_header(const char *line, size_t len,
		    const char *name, char *out, size_t outlen);

#endif
