#include "CAESGCM.h"

#if defined(__APPLE__)

// swift-crypto uses CryptoKit here and builds no BoringSSL: no context, so callers use swift-crypto.
bluetrace_aes_gcm *bluetrace_aes_gcm_new(const uint8_t *key) {
    (void)key;
    return NULL;
}

void bluetrace_aes_gcm_free(bluetrace_aes_gcm *context) { (void)context; }

int bluetrace_aes_gcm_seal(
    const bluetrace_aes_gcm *context, uint8_t *out, const uint8_t *nonce, const uint8_t *plaintext, size_t length,
    const uint8_t *associated_data, size_t associated_data_length) {
    (void)context, (void)out, (void)nonce, (void)plaintext, (void)length, (void)associated_data,
        (void)associated_data_length;
    return 0;
}

int bluetrace_aes_gcm_open(
    const bluetrace_aes_gcm *context, uint8_t *out, const uint8_t *nonce, const uint8_t *sealed, size_t length,
    const uint8_t *associated_data, size_t associated_data_length) {
    (void)context, (void)out, (void)nonce, (void)sealed, (void)length, (void)associated_data,
        (void)associated_data_length;
    return 0;
}

#else

// BoringSSL's EVP_AEAD interface (include/openssl/aead.h), as swift-crypto builds it: every symbol carries the
// `CCryptoBoringSSL_` prefix. Its types are opaque here; only pointers to them are passed.
typedef struct evp_aead_st EVP_AEAD;
typedef struct evp_aead_ctx_st EVP_AEAD_CTX;

const EVP_AEAD *CCryptoBoringSSL_EVP_aead_aes_256_gcm(void);
EVP_AEAD_CTX *CCryptoBoringSSL_EVP_AEAD_CTX_new(
    const EVP_AEAD *aead, const uint8_t *key, size_t key_len, size_t tag_len);
void CCryptoBoringSSL_EVP_AEAD_CTX_free(EVP_AEAD_CTX *ctx);
int CCryptoBoringSSL_EVP_AEAD_CTX_seal(
    const EVP_AEAD_CTX *ctx, uint8_t *out, size_t *out_len, size_t max_out_len, const uint8_t *nonce,
    size_t nonce_len, const uint8_t *in, size_t in_len, const uint8_t *ad, size_t ad_len);
int CCryptoBoringSSL_EVP_AEAD_CTX_open(
    const EVP_AEAD_CTX *ctx, uint8_t *out, size_t *out_len, size_t max_out_len, const uint8_t *nonce,
    size_t nonce_len, const uint8_t *in, size_t in_len, const uint8_t *ad, size_t ad_len);

bluetrace_aes_gcm *bluetrace_aes_gcm_new(const uint8_t *key) {
    return (bluetrace_aes_gcm *)CCryptoBoringSSL_EVP_AEAD_CTX_new(
        CCryptoBoringSSL_EVP_aead_aes_256_gcm(), key, BLUETRACE_AES_GCM_KEY_LENGTH, BLUETRACE_AES_GCM_TAG_LENGTH);
}

void bluetrace_aes_gcm_free(bluetrace_aes_gcm *context) {
    if (context != NULL) CCryptoBoringSSL_EVP_AEAD_CTX_free((EVP_AEAD_CTX *)context);
}

int bluetrace_aes_gcm_seal(
    const bluetrace_aes_gcm *context, uint8_t *out, const uint8_t *nonce, const uint8_t *plaintext, size_t length,
    const uint8_t *associated_data, size_t associated_data_length) {
    size_t written = 0;
    int sealed = CCryptoBoringSSL_EVP_AEAD_CTX_seal(
        (const EVP_AEAD_CTX *)context, out, &written, length + BLUETRACE_AES_GCM_TAG_LENGTH, nonce,
        BLUETRACE_AES_GCM_NONCE_LENGTH, plaintext, length, associated_data, associated_data_length);
    return sealed == 1 && written == length + BLUETRACE_AES_GCM_TAG_LENGTH;
}

int bluetrace_aes_gcm_open(
    const bluetrace_aes_gcm *context, uint8_t *out, const uint8_t *nonce, const uint8_t *sealed, size_t length,
    const uint8_t *associated_data, size_t associated_data_length) {
    size_t written = 0;
    int opened = CCryptoBoringSSL_EVP_AEAD_CTX_open(
        (const EVP_AEAD_CTX *)context, out, &written, length, nonce, BLUETRACE_AES_GCM_NONCE_LENGTH, sealed,
        length + BLUETRACE_AES_GCM_TAG_LENGTH, associated_data, associated_data_length);
    return opened == 1 && written == length;
}

#endif
