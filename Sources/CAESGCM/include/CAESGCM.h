#ifndef BLUETRACE_CAESGCM_H
#define BLUETRACE_CAESGCM_H

#include <stddef.h>
#include <stdint.h>

/// AES-256-GCM with a key set up once for any number of seals and opens, from any number of threads.
///
/// swift-crypto's `AES.GCM` sets a key up again on every call (the AES key schedule and the GHASH table, with three
/// `Data` values around them) and has no API that keeps one; sealing a 29-byte TempID that way costs about five times
/// the cipher's own work. This is BoringSSL's `EVP_AEAD` interface to the same BoringSSL that swift-crypto builds and
/// links, whose context is read-only once made (`EVP_AEAD_CTX_seal` and `EVP_AEAD_CTX_open` take it `const`), so one
/// context serves every thread. Where swift-crypto builds no BoringSSL (Apple platforms, which use CryptoKit),
/// `bluetrace_aes_gcm_new` returns NULL and callers use swift-crypto.

/// A prepared AES-256-GCM key with a 16-byte tag.
typedef struct bluetrace_aes_gcm bluetrace_aes_gcm;

/// The length, in bytes, of a key.
#define BLUETRACE_AES_GCM_KEY_LENGTH 32
/// The length, in bytes, of a nonce.
#define BLUETRACE_AES_GCM_NONCE_LENGTH 12
/// The length, in bytes, of a tag.
#define BLUETRACE_AES_GCM_TAG_LENGTH 16

/// Prepares `key` (32 bytes); NULL when this platform has no such context or it could not be made.
bluetrace_aes_gcm *_Nullable bluetrace_aes_gcm_new(const uint8_t *_Nonnull key);

/// Frees a context made by `bluetrace_aes_gcm_new`.
void bluetrace_aes_gcm_free(bluetrace_aes_gcm *_Nullable context);

/// Seals `length` bytes of `plaintext` under `nonce` (12 bytes), authenticating `associated_data`: writes the
/// ciphertext (`length` bytes) then the tag (16 bytes) to `out`, which must hold `length + 16` bytes. Returns 1 on
/// success, 0 on failure.
int bluetrace_aes_gcm_seal(
    const bluetrace_aes_gcm *_Nonnull context, uint8_t *_Nonnull out, const uint8_t *_Nonnull nonce,
    const uint8_t *_Nullable plaintext, size_t length, const uint8_t *_Nullable associated_data,
    size_t associated_data_length);

/// Opens `length` bytes of ciphertext followed by its 16-byte tag (`sealed`, `length + 16` bytes) under `nonce`,
/// authenticating `associated_data`: writes the `length` bytes of plaintext to `out`. Returns 1 when the box is
/// authentic, 0 when it is not (nothing useful is then in `out`).
int bluetrace_aes_gcm_open(
    const bluetrace_aes_gcm *_Nonnull context, uint8_t *_Nonnull out, const uint8_t *_Nonnull nonce,
    const uint8_t *_Nonnull sealed, size_t length, const uint8_t *_Nullable associated_data,
    size_t associated_data_length);

#endif
