#pragma once
// Personal data at rest: AES-256-GCM (OpenSSL) under a ring of keys from the environment.
//
// A sealed value is text, self-describing: "v1:<key id>:<base64(nonce | ciphertext | tag)>"
// with a random 96-bit nonce and a 128-bit tag. The context (the column, "orders.ship_name")
// is authenticated data: a value moved to another column does not open.
//
// The ring, "k2:<base64 of 32 bytes>,k1:<base64 of 32 bytes>" (REDLOOP_DATA_KEYS): the first
// key seals, every key opens, so a key is rotated by putting a new one first, running
// `redloop rekey`, and then dropping the old one.
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "redloop/engine/result.hpp"

namespace redloop::db {

// The contexts (authenticated data) of the sealed columns: "table.column".
inline constexpr const char* kSealShipName = "orders.ship_name";
inline constexpr const char* kSealShipPhone = "orders.ship_phone";
inline constexpr const char* kSealShipLine1 = "orders.ship_line1";
inline constexpr const char* kSealShipCity = "orders.ship_city";
inline constexpr const char* kSealShipPostal = "orders.ship_postal_code";
inline constexpr const char* kSealShipCountry = "orders.ship_country";
inline constexpr const char* kSealJournalBody = "journal.body";
inline constexpr const char* kSealIdempotentResponse = "idempotency_keys.response_body";
inline constexpr const char* kSealEventData = "events.data";

class KeyRing {
  public:
    static constexpr std::size_t kKeyBytes = 32;
    // A ring from its text form; invalid_request naming the fault (never a key's bytes).
    static engine::Result<KeyRing> parse(std::string_view spec);
    // A one-key ring's text form with a fresh random key under this id.
    static std::string generate(std::string_view id);

    const std::string& sealing_key_id() const { return current_; }
    bool has_key(const std::string& id) const { return keys_.count(id) != 0; }
    std::size_t size() const { return keys_.size(); }

    // The sealed text of `plain` under the first key.
    std::string seal(std::string_view plain, std::string_view context) const;
    // The plaintext of a sealed value; an error for an unknown key id, a malformed value, or a
    // value that fails authentication (tampered, another key, another context).
    engine::Result<std::string> open(std::string_view sealed, std::string_view context) const;

    // Whether a stored value is in the sealed form (anything else is legacy plaintext).
    static bool is_sealed(std::string_view stored);
    // The key id of a sealed value ("" for plaintext).
    static std::string key_id_of(std::string_view stored);

  private:
    std::string current_;
    std::map<std::string, std::string, std::less<>> keys_;  // id -> 32 raw bytes
};

// The process's ring, installed once at start (before the first database access). Without
// one, sealing fails: personal data is never stored in plaintext by accident.
void install_key_ring(std::shared_ptr<const KeyRing> ring);
const KeyRing* installed_key_ring();

// Sealing through the installed ring. seal_value throws std::runtime_error without a ring.
std::string seal_value(std::string_view plain, std::string_view context);
// A stored value's plaintext: a sealed one is opened (std::runtime_error when it can't be), a
// legacy plaintext one (from before sealing, not yet rekeyed) is returned as it is.
std::string open_value(std::string_view stored, std::string_view context);

}  // namespace redloop::db
