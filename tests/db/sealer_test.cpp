// The sealing of personal data (AES-256-GCM under the ring from REDLOOP_DATA_KEYS), and the key
// rotation that re-seals what is stored.
#include <soci/soci.h>

#include <memory>

#include "db_fixture.hpp"
#include "redloop/db/events.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/rekey.hpp"
#include "redloop/db/sealer.hpp"
#include "test_key_ring.hpp"

using namespace redloop;
using db::KeyRing;
using redloop::test::DbFixture;

namespace {

// base64 of 32 bytes each ("k1" and "k2" test keys).
constexpr const char* kK1 = "k1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=";
constexpr const char* kK2 = "k2:MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=";

KeyRing ring(const std::string& spec) {
    auto r = KeyRing::parse(spec);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().detail));
    return *r;
}

// Flips one character of the base64 payload at `index` from its end (a different base64 digit).
std::string tamper(std::string sealed, std::size_t from_end) {
    char& c = sealed[sealed.size() - from_end];
    c = c == 'A' ? 'B' : 'A';
    return sealed;
}

// Installs `spec` for the scope, and the tests' usual ring again afterwards.
struct RingScope {
    explicit RingScope(const std::string& spec) { install(spec); }
    ~RingScope() { install(test::kTestDataKeys); }
    static void install(const std::string& spec) {
        db::install_key_ring(std::make_shared<const KeyRing>(ring(spec)));
    }
};

}  // namespace

TEST_CASE("a sealed value opens to its plaintext, and only with its key and context") {
    const KeyRing k1 = ring(kK1);
    const std::string plain = "Zhao Plaintextcanary, +86 138 0000 1234";
    const std::string sealed = k1.seal(plain, "orders.ship_name");
    CHECK(sealed.rfind("v1:k1:", 0) == 0);
    CHECK(sealed.find("Plaintextcanary") == std::string::npos);
    CHECK(KeyRing::is_sealed(sealed));
    CHECK(KeyRing::key_id_of(sealed) == "k1");
    CHECK_FALSE(KeyRing::is_sealed(plain));
    CHECK(k1.open(sealed, "orders.ship_name").value() == plain);
    // A fresh nonce each time: the same plaintext seals differently, and both open.
    const std::string again = k1.seal(plain, "orders.ship_name");
    CHECK(again != sealed);
    CHECK(k1.open(again, "orders.ship_name").value() == plain);
    // The empty string seals too.
    CHECK(k1.open(k1.seal("", "orders.ship_city"), "orders.ship_city").value() == "");

    SUBCASE("another column's context does not open it") {
        CHECK_FALSE(k1.open(sealed, "orders.ship_phone"));
    }
    SUBCASE("a ring without its key id can't open it, naming the key") {
        auto r = ring(kK2).open(sealed, "orders.ship_name");
        REQUIRE_FALSE(r);
        CHECK(r.error().detail.find("k1") != std::string::npos);
    }
    SUBCASE("a different key under the same id fails authentication") {
        const KeyRing other = ring("k1:MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=");
        CHECK_FALSE(other.open(sealed, "orders.ship_name"));
    }
    SUBCASE("a tampered tag, ciphertext or nonce fails authentication") {
        // The payload is base64(nonce 12 | ciphertext | tag 16): the last digits are the tag,
        // the first ones after "v1:k1:" the nonce, the middle the ciphertext.
        CHECK_FALSE(k1.open(tamper(sealed, 5), "orders.ship_name"));  // a whole tag byte
        CHECK_FALSE(k1.open(tamper(sealed, 3), "orders.ship_name"));  // non-canonical base64
        const std::size_t payload = sealed.size() - std::string("v1:k1:").size();
        CHECK_FALSE(k1.open(tamper(sealed, payload), "orders.ship_name"));
        CHECK_FALSE(k1.open(tamper(sealed, payload / 2), "orders.ship_name"));
        CHECK_FALSE(k1.open(sealed.substr(0, sealed.size() - 4), "orders.ship_name"));
        CHECK_FALSE(k1.open("v1:k1:AAAA", "orders.ship_name"));
        CHECK_FALSE(k1.open("v1:k1:not base64!", "orders.ship_name"));
    }
}

TEST_CASE("the ring: the first key seals, every key opens; malformed rings are refused") {
    const KeyRing both = ring(std::string(kK2) + "," + kK1);
    CHECK(both.sealing_key_id() == "k2");
    CHECK(both.size() == 2);
    const std::string old = ring(kK1).seal("88 Canary Road", "orders.ship_line1");
    CHECK(both.open(old, "orders.ship_line1").value() == "88 Canary Road");
    CHECK(KeyRing::key_id_of(both.seal("x", "c")) == "k2");
    // A generated ring is a valid one-key ring.
    const KeyRing generated = ring(KeyRing::generate("dev"));
    CHECK(generated.sealing_key_id() == "dev");

    for (const char* bad : {"", "k1", ",", "k1:", "k1:abc",
                            "k1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=",  // 29 bytes
                            "bad id:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=",
                            "k1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=,"
                            "k1:MjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjI=",
                            "k1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=,,"}) {
        CAPTURE(bad);
        auto r = KeyRing::parse(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == engine::ErrorCode::invalid_request);
        // The message never repeats key material.
        CHECK(r.error().detail.find("MTEx") == std::string::npos);
    }
}

TEST_CASE(
    "stored journal bodies, idempotent responses and order events are sealed; rekey "
    "rotates them to the first key and seals legacy plaintext") {
    DbFixture f;
    const std::string canary = R"({"shipping_address":{"name":"Zhao Plaintextcanary"}})";
    auto count_raw = [&](const std::string& sql) {
        return f.write([&](db::Tx& tx) {
            long long n = 0;
            tx.sql() << sql, soci::into(n);
            return n;
        });
    };
    auto count_everywhere = [&](const std::string& like) {
        return count_raw("SELECT COUNT(*) FROM journal WHERE body LIKE '" + like + "'") +
               count_raw("SELECT COUNT(*) FROM idempotency_keys WHERE response_body LIKE '" + like +
                         "'") +
               count_raw("SELECT COUNT(*) FROM events WHERE data LIKE '" + like + "'");
    };
    {
        RingScope k1(kK1);
        f.write([&](db::Tx& tx) {
            db::JournalEntry e;
            e.kind = "http";
            e.actor = "usr_zhao";
            e.role = "user";
            e.method = "POST";
            e.target = "/v1/checkouts";
            e.request_id = "req_1";
            e.body = canary;
            e.response_sha256 = "00";
            db::append_journal(tx, e);
            db::store_idempotent(tx, "usr_zhao", "key-1", db::StoredResponse{"h", 201, canary},
                                 engine::Timestamp{1});
            db::EventRow ev;
            ev.scope = "orders";
            ev.type = "order.created";
            ev.user_id = "usr_zhao";
            ev.data = canary;
            db::insert_event(tx, ev);
            ev.scope = "sku";  // public: not sealed
            ev.data = R"({"sku_id":"sku_1"})";
            db::insert_event(tx, ev);
            return 0;
        });
        CHECK(count_everywhere("%Plaintextcanary%") == 0);
        CHECK(count_everywhere("v1:k1:%") == 3);
        CHECK(count_raw("SELECT COUNT(*) FROM events WHERE data = '{\"sku_id\":\"sku_1\"}'") == 1);
    }
    // A row from before sealing: plaintext, read as it is.
    f.write([&](db::Tx& tx) {
        tx.sql() << "INSERT INTO idempotency_keys (caller, idem_key, request_hash, status, "
                    "response_body, created_at) VALUES ('usr_old', 'key-0', 'h', 200, "
                    "'{\"name\":\"Old Plaintext\"}', 1)";
        return 0;
    });

    RingScope rotated(std::string(kK2) + "," + kK1);
    auto report = db::rekey(*f.db, 2);  // batches of two rows
    REQUIRE_MESSAGE(report, (report ? "" : report.error().detail));
    CHECK(report->found["k1"] == 3);
    CHECK(report->found["plaintext"] == 1);
    CHECK(report->found.count("k2") == 0);
    CHECK(report->resealed == 4);
    CHECK(report->skipped_changed == 0);
    CHECK(count_everywhere("v1:k1:%") == 0);
    CHECK(count_everywhere("v1:k2:%") == 4);

    // Rekeying again finds everything under k2 and writes nothing.
    auto again = db::rekey(*f.db);
    REQUIRE(again);
    CHECK(again->found["k2"] == 4);
    CHECK(again->resealed == 0);

    // k1 dropped: everything still reads.
    RingScope::install(kK2);
    f.write([&](db::Tx& tx) {
        auto entries = db::journal_since(tx, 0, 10);
        REQUIRE(entries.size() == 1);
        CHECK(entries[0].body == canary);
        CHECK(db::find_idempotent(tx, "usr_zhao", "key-1")->body == canary);
        CHECK(db::find_idempotent(tx, "usr_old", "key-0")->body == "{\"name\":\"Old Plaintext\"}");
        auto events = db::events_between(tx, 0, 100, 10);
        REQUIRE(events.size() == 2);
        CHECK(events[0].data == canary);
        return 0;
    });

    // A value under a key the ring lacks stops rekey, naming the key.
    f.write([&](db::Tx& tx) {
        const std::string foreign = ring(kK1).seal("x", db::kSealIdempotentResponse);
        tx.sql() << "INSERT INTO idempotency_keys (caller, idem_key, request_hash, status, "
                    "response_body, created_at) VALUES ('usr_x', 'key-x', 'h', 200, :b, 1)",
            soci::use(foreign);
        return 0;
    });
    auto stuck = db::rekey(*f.db);
    REQUIRE_FALSE(stuck);
    CHECK(stuck.error().detail.find("k1") != std::string::npos);
}
