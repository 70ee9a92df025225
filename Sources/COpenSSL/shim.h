#ifndef OAAS_COPENSSL_SHIM_H
#define OAAS_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <string.h>

// Wrappers for OpenSSL macros that Swift cannot import (they expand to SSL_CTX_ctrl & co.).

static inline int oaas_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int oaas_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// Options every context gets: no renegotiation (refused with an alert), no compression, partial writes and moving
/// write buffers (we hand SSL_write slices of NIO buffers), and no session cache/tickets on the server: our clients
/// never resume, so caching sessions and minting tickets is pure per-connection overhead.
static inline void oaas_SSL_CTX_apply_defaults(SSL_CTX *ctx, int is_server) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (is_server) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
}

/// ALPN selection on the server: the first protocol of the server's list (wire format, passed as `arg`, owned by
/// the Swift context object which outlives every SSL made from it) that the client offered. No overlap is a fatal
/// `no_application_protocol` alert, as RFC 7301 asks.
static int oaas_alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                               const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    const unsigned char *server = (const unsigned char *)arg;
    if (server == NULL || inlen == 0) { return SSL_TLSEXT_ERR_NOACK; }
    unsigned int server_len = (unsigned int)server[0] | ((unsigned int)server[1] << 8);
    const unsigned char *list = server + 2;
    // Walk our own list in order; accept the first entry that also appears in the client's (well-formed) list.
    for (unsigned int i = 0; i < server_len;) {
        unsigned int len = list[i];
        if (len == 0 || i + 1 + len > server_len) { break; }
        for (unsigned int j = 0; j < inlen;) {
            unsigned int clen = in[j];
            if (clen == 0 || j + 1 + clen > inlen) { return SSL_TLSEXT_ERR_ALERT_FATAL; }
            if (clen == len && memcmp(in + j + 1, list + i + 1, len) == 0) {
                *out = in + j + 1;
                *outlen = (unsigned char)clen;
                return SSL_TLSEXT_ERR_OK;
            }
            j += 1 + clen;
        }
        i += 1 + len;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/// `arg`: two bytes little-endian length, then the ALPN wire-format list.
static inline void oaas_SSL_CTX_set_alpn_select(SSL_CTX *ctx, const unsigned char *arg) {
    SSL_CTX_set_alpn_select_cb(ctx, oaas_alpn_select_cb, (void *)arg);
}

/// RFC 2253 rendering of a certificate's subject into `buf` (NUL-terminated, truncated to fit). Returns the length
/// written, or -1.
static inline int oaas_X509_subject_rfc2253(X509 *cert, char *buf, int buflen) {
    if (cert == NULL || buf == NULL || buflen <= 0) { return -1; }
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) { return -1; }
    int result = -1;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len >= 0 && data != NULL) {
            if (len > buflen - 1) { len = buflen - 1; }
            memcpy(buf, data, (size_t)len);
            buf[len] = 0;
            result = (int)len;
        }
    }
    BIO_free(bio);
    return result;
}

/// Upper-case hex serial number into `buf` (NUL-terminated). Returns the length written, or -1.
static inline int oaas_X509_serial_hex(X509 *cert, char *buf, int buflen) {
    if (cert == NULL || buf == NULL || buflen <= 0) { return -1; }
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn == NULL) { return -1; }
    char *hex = BN_bn2hex(bn);
    BN_free(bn);
    if (hex == NULL) { return -1; }
    size_t len = strlen(hex);
    if (len > (size_t)(buflen - 1)) { len = (size_t)(buflen - 1); }
    memcpy(buf, hex, len);
    buf[len] = 0;
    OPENSSL_free(hex);
    return (int)len;
}

#endif
