// OpenSSL (libssl, libcrypto) for Swift: the SHA-256 of session tokens and the SHA-1 of the
// WebSocket handshake.
#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/evp.h>

/// SHA-256 of `length` bytes into `digest` (32 bytes); 1 on success. EVP_sha256() is a function
/// call in a macro-heavy header, so the one-shot digest is spelled here.
static inline int copenssl_sha256(const void *data, size_t length, unsigned char *digest) {
    unsigned int size = 0;
    return EVP_Digest(data, length, digest, &size, EVP_sha256(), NULL);
}

/// SHA-1 of `length` bytes into `digest` (20 bytes); 1 on success. Only for the WebSocket
/// handshake (RFC 6455 section 4.2.2), where it is a checksum, not a security measure.
static inline int copenssl_sha1(const void *data, size_t length, unsigned char *digest) {
    unsigned int size = 0;
    return EVP_Digest(data, length, digest, &size, EVP_sha1(), NULL);
}
#endif
