#pragma once
// The application: routes, authentication, the write path (transactions + idempotency) and the
// background upkeep, independent of the socket code in http_server.cpp.
#include <boost/json/value.hpp>

#include <array>
#include <atomic>
#include <chrono>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth.hpp"
#include "http_types.hpp"
#include "metrics.hpp"
#include "rate_limiter.hpp"
#include "redloop/db/database.hpp"
#include "redloop/engine/ids.hpp"
#include "redloop/engine/provider.hpp"
#include "redloop/engine/time.hpp"
#include "router.hpp"
#include "static_files.hpp"

namespace redloop::api {

struct AppConfig {
    std::string jwt_secret;
    std::string webhook_secret;
    std::int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
    std::int64_t checkout_ttl_ms = 900LL * 1000;  // reservations of an unpaid checkout
    // POST /v1/checkouts per user (token bucket, in memory): refill per minute, 0 = off (the
    // default here, for replays and in-process benchmarks; `serve` turns it on), and the burst.
    std::int64_t checkout_rate_per_minute = 0;
    std::int64_t checkout_rate_burst = 10;
    std::int64_t settle_interval_ms = 60LL * 1000;  // how often the commission settlement runs
};

using Clock = std::function<engine::Timestamp()>;
engine::Timestamp system_now();
// A request with two Authorization or two Idempotency-Key headers, which would leave the server
// to pick one: the 400 to answer it with.
std::optional<engine::Error> repeated_header(const Request& req);

// Note views are counted in memory and written in batches by App::flush_views().
class ViewCounter {
  public:
    void add(const engine::NoteId& id, std::int64_t n = 1);
    std::vector<std::pair<engine::NoteId, std::int64_t>> take();

  private:
    // Sharded by the counting thread, as Metrics is: no lock shared by the I/O threads.
    struct Shard {
        std::mutex mutex;
        std::map<engine::NoteId, std::int64_t> pending;
    };
    std::array<Shard, 8> shards_;
};

// Rendered notes (the JSON of GET /v1/notes/{id}), each kept with the catalog version it was
// read at and served only while that version is current (db::Database::catalog_version), so a
// hit is exactly what a read of the database would return. Bounded: when full, stale entries go
// first, then all.
class NoteCache {
  public:
    explicit NoteCache(std::size_t capacity = 20000) : capacity_(capacity) {}
    std::optional<std::string> get(const std::string& id, std::uint64_t version);
    void put(const std::string& id, std::uint64_t version, std::string body);
    std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
    std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

  private:
    struct Entry {
        std::uint64_t version = 0;
        std::string body;
    };
    std::size_t capacity_;
    std::shared_mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

// The JSON of orders as the order listing shows them, each kept with its row's fingerprint (the
// order's row as read, unsealed: status, amounts, address, shipment, times) and served only
// while the row read now has the same. An order's lines and discounts never change once it is
// placed, and its history grows only with a status change, which changes the row: so a hit is
// exactly what encoding the order read now would give, and the listing skips reading its lines
// and history. Keyed by order and viewer (with or without the address). Bounded: when full, it
// starts over.
class OrderJsonCache {
  public:
    explicit OrderJsonCache(std::size_t capacity = 8192) : capacity_(capacity) {}
    std::shared_ptr<const std::string> get(const std::string& key, const std::string& fingerprint);
    void put(const std::string& key, std::string fingerprint,
             std::shared_ptr<const std::string> json);
    std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
    std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

  private:
    struct Entry {
        std::string fingerprint;
        std::shared_ptr<const std::string> json;
    };
    std::size_t capacity_;
    std::shared_mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

class App;
class StreamHub;

struct Context {
    App& app;
    const Request& req;
    std::vector<std::string> params;
    engine::Timestamp now;
    std::optional<Principal> principal;
    std::vector<std::string> ids_created;  // by this request so far (for the journal)
    bool replaying = false;                // a journal replay: the transport's checks are done
    // Replaying: the entry's recorded response hash, which its journal entry keeps.
    const std::string* recorded_response_sha256 = nullptr;

    // 401 without a token, 403 when the token's role is not among `roles`.
    engine::Result<Principal> require(std::initializer_list<Role> roles) const;
    // The body as a JSON object (400 when missing or not JSON).
    engine::Result<boost::json::value> json_body() const;
    const std::string& param(std::size_t i) const { return params.at(i); }
};

class App {
  public:
    App(db::Database& db, AppConfig config, Clock clock = system_now);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // Never throws: every failure becomes a problem+json response.
    Response handle(const Request& req);

    // Replays a journaled HTTP command: the caller, time and new ids come from the entry; the
    // token and transport are skipped. Returns the response the engine gives now. The command's
    // journal entry is written again with the recorded response hash (the replay checks the
    // answer against it; an erased entry's is "erased").
    Response replay_http(const Request& req, const std::optional<Principal>& principal,
                         engine::Timestamp now, const std::vector<std::string>& ids,
                         const std::string& response_sha256, bool& ids_diverged);
    // The settings that shape decisions (the checkout TTL) as JSON; journaled as "config" when
    // they change, so a replay decides with the same settings.
    std::string decision_config() const;
    engine::Status journal_config_if_changed(engine::Timestamp now);
    engine::Status apply_decision_config(const std::string& json);
    // Appends the journal entry of a successful write, inside its transaction.
    void journal_write(db::Tx& tx, const Context& ctx, const Response& r);
    // Creates the caller's merchant or user row on first sight (journaled as "actor").
    engine::Status ensure_actor(const Principal& p, engine::Timestamp now);

    db::Database& db() { return db_; }
    // The payment provider (the sandbox by default); null: payments can't be confirmed.
    void set_provider(engine::PaymentProvider* provider) { provider_ = provider; }
    engine::PaymentProvider* provider() { return provider_; }
    const AppConfig& config() const { return config_; }
    // The live stream (GET /v1/stream), when the server runs one; woken after each commit that
    // wrote events.
    void set_stream_hub(StreamHub* hub) { hub_.store(hub); }
    StreamHub* stream_hub() const { return hub_.load(); }
    // Static files (the dashboard) served under their mount; set before serving.
    void set_static_site(StaticSite site) { static_ = std::move(site); }
    Metrics& metrics() { return metrics_; }
    // Per-user limit of checkout attempts (never consulted by a journal replay).
    RateLimiter& checkout_limiter() { return checkout_limiter_; }
    ViewCounter& views() { return views_; }
    NoteCache& note_cache() { return note_cache_; }
    OrderJsonCache& order_cache() { return order_cache_; }

    // Runs fn in a write transaction. For a POST with an Idempotency-Key, the first response
    // is stored with the key (per caller) and returned again for the same body; another body
    // under the same key is 422. Refusals decided while running (409, 404, 402...) are stored
    // too; malformed input (400) and internal errors are not, so those can be retried.
    engine::Result<Response> write(Context& ctx,
                                   const std::function<engine::Result<Response>(db::Tx&)>& fn);
    // The answer stored for this very request (caller, Idempotency-Key, method, path and
    // body), read without the writer; nullopt when there is none (or the key holds another
    // request's). A limit on new attempts (the checkout rate limit) answers a retry with it
    // instead of refusing: a client whose response was lost learns what happened, as the
    // contract promises. One read; asked only when a limit refuses.
    std::optional<Response> stored_response(const Context& ctx);

    // Upkeep run by the server about twice a second: batched note views, expired keys.
    void run_maintenance();
    void flush_views();
    // Counts a checkout attempt by outcome ("created", "out_of_stock", ...) for /metrics.
    void count_checkout(const std::string& outcome);
    std::map<std::string, std::uint64_t> checkout_counts();

  private:
    struct ReplayInput {
        std::optional<Principal> principal;
        const std::vector<std::string>* ids;
        const std::string* response_sha256;
        bool* ids_diverged;
    };
    Response serve(const Request& req, engine::Timestamp now, const ReplayInput* replay);
    engine::Result<Response> dispatch(Context& ctx, const Route& route);

    db::Database& db_;
    AppConfig config_;
    Clock clock_;
    Router router_;
    Metrics metrics_;
    RateLimiter checkout_limiter_;
    ViewCounter views_;
    NoteCache note_cache_;
    OrderJsonCache order_cache_;
    TokenCache tokens_;
    std::mutex known_mutex_;
    std::set<std::string> known_actors_;
    std::int64_t last_purge_ms_ = 0;
    std::int64_t last_webhook_retry_ms_ = 0;
    std::int64_t last_settle_ms_ = 0;
    engine::PaymentProvider* provider_ = nullptr;
    std::atomic<StreamHub*> hub_{nullptr};
    std::optional<StaticSite> static_;
    std::mutex checkouts_mutex_;
    std::map<std::string, std::uint64_t> checkouts_;
};

// The expiry sweeper (handlers_checkout.cpp); returns how many checkouts expired.
int expire_due_checkouts(db::Database& db, engine::Timestamp now);
// Provider events waiting for what they name (handlers_payments.cpp).
void retry_pending_webhooks(App& app, engine::Timestamp now);
// Retries one pending provider event (journaled as "webhook_retry"); with `replay_ids` the new
// ids come from a journal entry. False when the event is not pending.
bool retry_webhook(App& app, const std::string& event_id, engine::Timestamp now,
                   const std::vector<std::string>* replay_ids);
// Expires one checkout if it is due (journaled as "expire"); false when there was nothing to do.
bool expire_checkout(db::Database& db, const engine::CheckoutId& id, engine::Timestamp now);

// Commissions (handlers_commissions.cpp): the settlement sweep; returns how many orders were
// settled.
int settle_due_commissions(db::Database& db, engine::Timestamp now);
// Settles one order's commissions if due (journaled as "settle"); false when there was nothing
// to do.
bool settle_commissions(db::Database& db, const engine::OrderId& id, engine::Timestamp now);

// Route registration, one function per area (handlers_*.cpp).
void add_ops_routes(Router& r);
void add_merchant_routes(Router& r);
void add_catalog_routes(Router& r);
void add_note_routes(Router& r);
void add_cart_routes(Router& r);
void add_analytics_routes(Router& r);
void add_checkout_routes(Router& r);
void add_order_routes(Router& r);
void add_payment_routes(Router& r);
void add_promotion_routes(Router& r);
void add_commission_routes(Router& r);

}  // namespace redloop::api
