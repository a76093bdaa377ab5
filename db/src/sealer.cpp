#include "redloop/db/sealer.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "base64.hpp"

namespace redloop::db {

using engine::ErrorCode;
using engine::fail;

namespace {

constexpr std::string_view kPrefix = "v1:";
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kKeyIdMaxChars = 32;

bool valid_key_id(std::string_view id) {
    if (id.empty() || id.size() > kKeyIdMaxChars) return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

struct CipherDeleter {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter>;

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// The installed ring: read with one atomic load per value. Rings are installed a few times in a
// process's life (once in production), so every one is kept alive to the end.
std::atomic<const KeyRing*> g_ring{nullptr};
std::mutex g_rings_mutex;
std::vector<std::shared_ptr<const KeyRing>>& installed_rings() {
    static std::vector<std::shared_ptr<const KeyRing>> rings;
    return rings;
}

// A cipher context per thread and key with the key schedule already made: a value then costs
// one re-initialisation with its nonce instead of a context and a key expansion.
EVP_CIPHER_CTX* cached_context(const std::string& key, bool encrypt) {
    struct Entry {
        std::string key;
        bool encrypt;
        CipherCtx ctx;
    };
    thread_local std::vector<Entry> cache;
    for (auto& e : cache) {
        if (e.encrypt == encrypt && e.key == key) return e.ctx.get();
    }
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return nullptr;
    const auto* k = reinterpret_cast<const unsigned char*>(key.data());
    const int ok = encrypt ? EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nullptr)
                           : EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nullptr);
    if (ok != 1) return nullptr;
    cache.push_back(Entry{key, encrypt, std::move(ctx)});
    return cache.back().ctx.get();
}

}  // namespace

engine::Result<KeyRing> KeyRing::parse(std::string_view spec) {
    KeyRing ring;
    std::size_t index = 0;
    for (std::size_t pos = 0; pos <= spec.size();) {
        auto comma = spec.find(',', pos);
        if (comma == std::string_view::npos) comma = spec.size();
        std::string_view item = spec.substr(pos, comma - pos);
        pos = comma + 1;
        ++index;
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        const std::string where = "key " + std::to_string(index);
        if (item.empty()) {
            return fail(ErrorCode::invalid_request,
                        where + " is empty (the form is id:base64key,id:base64key)");
        }
        const auto colon = item.find(':');
        if (colon == std::string_view::npos) {
            return fail(ErrorCode::invalid_request,
                        where + " has no id (the form is id:base64key)");
        }
        const std::string id(item.substr(0, colon));
        if (!valid_key_id(id)) {
            return fail(ErrorCode::invalid_request,
                        where + ": the id must be 1-32 of A-Z a-z 0-9 _ -");
        }
        const auto key = base64_decode(item.substr(colon + 1));
        if (!key) {
            return fail(ErrorCode::invalid_request,
                        "key " + id + " is not valid base64 (padded, no spaces)");
        }
        if (key->size() != kKeyBytes) {
            return fail(
                ErrorCode::invalid_request,
                "key " + id + " has " + std::to_string(key->size()) + " bytes; AES-256 needs 32");
        }
        if (ring.keys_.count(id)) {
            return fail(ErrorCode::invalid_request, "key id " + id + " appears twice");
        }
        if (ring.current_.empty()) ring.current_ = id;
        ring.keys_.emplace(id, *key);
        if (comma == spec.size()) break;
    }
    if (ring.keys_.empty()) return fail(ErrorCode::invalid_request, "the key ring is empty");
    return ring;
}

std::string KeyRing::generate(std::string_view id) {
    unsigned char key[kKeyBytes];
    if (RAND_bytes(key, sizeof key) != 1) throw std::runtime_error("RAND_bytes failed");
    return std::string(id) + ":" + base64_encode(key, sizeof key);
}

std::string KeyRing::seal(std::string_view plain, std::string_view context) const {
    const std::string& key = keys_.find(current_)->second;
    std::vector<unsigned char> out(kNonceBytes + plain.size() + kTagBytes);
    if (RAND_bytes(out.data(), int(kNonceBytes)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    EVP_CIPHER_CTX* ctx = cached_context(key, true);  // the default GCM nonce is 96 bits
    int len = 0;
    const bool ok =
        ctx && EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, out.data()) == 1 &&
        EVP_EncryptUpdate(ctx, nullptr, &len, bytes(context), int(context.size())) == 1 &&
        EVP_EncryptUpdate(ctx, out.data() + kNonceBytes, &len, bytes(plain), int(plain.size())) ==
            1 &&
        EVP_EncryptFinal_ex(ctx, out.data() + kNonceBytes + plain.size(), &len) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, int(kTagBytes),
                            out.data() + kNonceBytes + plain.size()) == 1;
    if (!ok) throw std::runtime_error("AES-256-GCM encryption failed");
    return std::string(kPrefix) + current_ + ":" + base64_encode(out.data(), out.size());
}

engine::Result<std::string> KeyRing::open(std::string_view sealed, std::string_view context) const {
    if (!is_sealed(sealed)) {
        return fail(ErrorCode::internal, "a sealed value is malformed (no v1: prefix)");
    }
    std::string_view rest = sealed.substr(kPrefix.size());
    const auto colon = rest.find(':');
    const std::string id(rest.substr(0, colon));
    auto key = keys_.find(id);
    if (key == keys_.end()) {
        return fail(ErrorCode::internal,
                    "a value sealed under key " + id +
                        " can't be opened: that key is not in REDLOOP_DATA_KEYS");
    }
    const auto raw = base64_decode(rest.substr(colon + 1));
    if (!raw || raw->size() < kNonceBytes + kTagBytes) {
        return fail(ErrorCode::internal, "a value sealed under key " + id + " is malformed");
    }
    const std::size_t n = raw->size() - kNonceBytes - kTagBytes;
    std::string plain(n, '\0');
    auto* p = reinterpret_cast<unsigned char*>(plain.data());
    const auto* r = bytes(*raw);
    std::vector<unsigned char> tag(r + kNonceBytes + n, r + raw->size());
    EVP_CIPHER_CTX* ctx = cached_context(key->second, false);
    int len = 0;
    const bool ok =
        ctx && EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, r) == 1 &&
        EVP_DecryptUpdate(ctx, nullptr, &len, bytes(context), int(context.size())) == 1 &&
        EVP_DecryptUpdate(ctx, p, &len, r + kNonceBytes, int(n)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, int(kTagBytes), tag.data()) == 1 &&
        EVP_DecryptFinal_ex(ctx, p + n, &len) == 1;
    if (!ok) {
        return fail(ErrorCode::internal, "a value sealed under key " + id +
                                             " failed authentication (" + std::string(context) +
                                             ")");
    }
    return plain;
}

bool KeyRing::is_sealed(std::string_view stored) {
    if (stored.substr(0, kPrefix.size()) != kPrefix) return false;
    const auto colon = stored.find(':', kPrefix.size());
    return colon != std::string_view::npos && colon > kPrefix.size();
}

std::string KeyRing::key_id_of(std::string_view stored) {
    if (!is_sealed(stored)) return {};
    const auto colon = stored.find(':', kPrefix.size());
    return std::string(stored.substr(kPrefix.size(), colon - kPrefix.size()));
}

void install_key_ring(std::shared_ptr<const KeyRing> ring) {
    std::lock_guard<std::mutex> lock(g_rings_mutex);
    g_ring.store(ring.get());
    installed_rings().push_back(std::move(ring));
}

const KeyRing* installed_key_ring() {
    return g_ring.load();
}

std::string seal_value(std::string_view plain, std::string_view context) {
    const KeyRing* ring = installed_key_ring();
    if (!ring) {
        throw std::runtime_error(
            "no data key ring is installed (REDLOOP_DATA_KEYS): personal data is not stored in "
            "plaintext");
    }
    return ring->seal(plain, context);
}

std::string open_value(std::string_view stored, std::string_view context) {
    if (!KeyRing::is_sealed(stored)) return std::string(stored);
    const KeyRing* ring = installed_key_ring();
    if (!ring) throw std::runtime_error("no data key ring is installed (REDLOOP_DATA_KEYS)");
    auto plain = ring->open(stored, context);
    if (!plain) throw std::runtime_error(plain.error().detail);
    return std::move(*plain);
}

}  // namespace redloop::db
