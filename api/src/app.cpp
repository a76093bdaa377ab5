#include "app.hpp"
#include "digest.hpp"
#include "event_publisher.hpp"
#include "stream_hub.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>
#include <utility>

#include "handler_util.hpp"
#include "id_generator.hpp"
#include "json_reader.hpp"
#include "problem.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/locks.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using engine::ErrorCode;
using engine::fail;

engine::Timestamp system_now() {
    return engine::Timestamp{std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count()};
}

void ViewCounter::add(const engine::NoteId& id, std::int64_t n) {
    auto& sh = shards_[std::hash<std::thread::id>{}(std::this_thread::get_id()) % shards_.size()];
    std::lock_guard lock(sh.mutex);
    sh.pending[id] += n;
}

std::vector<std::pair<engine::NoteId, std::int64_t>> ViewCounter::take() {
    std::map<engine::NoteId, std::int64_t> taken;
    for (auto& sh : shards_) {
        std::map<engine::NoteId, std::int64_t> part;
        {
            std::lock_guard lock(sh.mutex);
            part.swap(sh.pending);
        }
        for (auto& [id, n] : part) taken[id] += n;
    }
    return {taken.begin(), taken.end()};
}

std::optional<std::string> NoteCache::get(const std::string& id, std::uint64_t version) {
    {
        std::shared_lock lock(mutex_);
        auto it = entries_.find(id);
        if (it != entries_.end() && it->second.version == version) {
            hits_.fetch_add(1, std::memory_order_relaxed);
            return it->second.body;
        }
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
}

void NoteCache::put(const std::string& id, std::uint64_t version, std::string body) {
    std::unique_lock lock(mutex_);
    auto it = entries_.find(id);
    if (it != entries_.end()) {
        // Two readers of one note may race; the copy of the later version wins.
        if (it->second.version <= version) it->second = Entry{version, std::move(body)};
        return;
    }
    if (entries_.size() >= capacity_) {
        std::erase_if(entries_, [&](const auto& e) { return e.second.version < version; });
        if (entries_.size() >= capacity_) entries_.clear();
    }
    entries_.emplace(id, Entry{version, std::move(body)});
}

std::shared_ptr<const std::string> OrderJsonCache::get(const std::string& key,
                                                       const std::string& fingerprint) {
    {
        std::shared_lock lock(mutex_);
        auto it = entries_.find(key);
        if (it != entries_.end() && it->second.fingerprint == fingerprint) {
            hits_.fetch_add(1, std::memory_order_relaxed);
            return it->second.json;
        }
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
}

void OrderJsonCache::put(const std::string& key, std::string fingerprint,
                         std::shared_ptr<const std::string> json) {
    std::unique_lock lock(mutex_);
    if (entries_.size() >= capacity_ && !entries_.count(key)) entries_.clear();
    entries_.insert_or_assign(key, Entry{std::move(fingerprint), std::move(json)});
}

engine::Result<Principal> Context::require(std::initializer_list<Role> roles) const {
    if (!principal) {
        return fail(ErrorCode::unauthenticated,
                    "this endpoint needs 'Authorization: Bearer <token>'");
    }
    for (Role r : roles) {
        if (principal->role == r) return *principal;
    }
    std::string names;
    for (Role r : roles) names += (names.empty() ? "" : " or ") + std::string(to_string(r));
    return fail(ErrorCode::forbidden, "this endpoint is for the role " + names);
}

engine::Result<boost::json::value> Context::json_body() const {
    if (req.body.empty())
        return fail(ErrorCode::invalid_request, "a JSON request body is required");
    return parse_json_object(req.body);
}

void add_api_routes(Router& r) {
    add_ops_routes(r);
    add_merchant_routes(r);
    add_catalog_routes(r);
    add_note_routes(r);
    add_cart_routes(r);
    add_analytics_routes(r);
    add_checkout_routes(r);
    add_order_routes(r);
    add_payment_routes(r);
    add_promotion_routes(r);
    add_commission_routes(r);
}

App::App(db::Database& db, AppConfig config, Clock clock)
    : db_(db),
      config_(std::move(config)),
      clock_(std::move(clock)),
      checkout_limiter_(config_.checkout_rate_per_minute, config_.checkout_rate_burst) {
    add_api_routes(router_);
    // The outbox: what a write changed becomes event-log rows before it commits; the stream
    // hears of them after.
    db_.set_commit_hooks(publish_changes, [this] {
        if (auto* hub = hub_.load()) hub->wake();
    });
    // A command may run on the group commit's writer thread: it makes and records its ids
    // there as it would on its own.
    db_.set_thread_context_hooks(
        [] {
            const auto c = current_id_context();
            return db::Database::ThreadContext{c.recording, c.replay};
        },
        [](db::Database::ThreadContext c) {
            const auto previous = swap_id_context(IdContext{
                static_cast<std::vector<std::string>*>(c.a), static_cast<IdReplay*>(c.b)});
            return db::Database::ThreadContext{previous.recording, previous.replay};
        });
}

App::~App() {
    db_.set_commit_hooks(nullptr, nullptr);
    db_.set_thread_context_hooks(nullptr, nullptr);
}

void App::count_checkout(const std::string& outcome) {
    std::lock_guard lock(checkouts_mutex_);
    ++checkouts_[outcome];
}

std::map<std::string, std::uint64_t> App::checkout_counts() {
    std::lock_guard lock(checkouts_mutex_);
    return checkouts_;
}

namespace {

bool is_json_media_type(const std::string& ct) {
    std::string base = ct.substr(0, ct.find(';'));
    while (!base.empty() && base.back() == ' ') base.pop_back();
    for (auto& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return base == "application/json";
}

// The body as compared under an Idempotency-Key: JSON re-serialized (so spacing and line
// breaks don't matter), anything else as sent.
std::string canonical_body(const std::string& body) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    return ec ? body : boost::json::serialize(v);
}

engine::Status check_idempotency_key(const std::string& key) {
    if (key.empty() || key.size() > 255) {
        return fail(ErrorCode::invalid_request, "Idempotency-Key must have 1 to 255 characters");
    }
    for (unsigned char c : key) {
        if (c < 0x21 || c > 0x7E) {
            return fail(ErrorCode::invalid_request,
                        "Idempotency-Key must be printable ASCII without spaces");
        }
    }
    return {};
}

}  // namespace

std::optional<engine::Error> repeated_header(const Request& req) {
    // Not a structured binding: clang 14 can't capture one in a lambda.
    for (const auto& once : {std::pair{"idempotency-key", "Idempotency-Key"},
                             std::pair{"authorization", "Authorization"}}) {
        const std::string_view name = once.first;
        if (std::count_if(req.headers.begin(), req.headers.end(),
                          [&](const auto& h) { return h.first == name; }) > 1) {
            return engine::Error{ErrorCode::invalid_request,
                                 fmt::format("the {} header is given more than once", once.second)};
        }
    }
    return std::nullopt;
}

Response App::handle(const Request& req) {
    return serve(req, clock_(), nullptr);
}

Response App::replay_http(const Request& req, const std::optional<Principal>& principal,
                          engine::Timestamp now, const std::vector<std::string>& ids,
                          const std::string& response_sha256, bool& ids_diverged) {
    ReplayInput input{principal, &ids, &response_sha256, &ids_diverged};
    return serve(req, now, &input);
}

Response App::serve(const Request& req, engine::Timestamp now, const ReplayInput* replay) {
    const auto started = std::chrono::steady_clock::now();
    if (static_ && !replay) {
        if (auto file = serve_static(*static_, req)) {
            const double seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            metrics_.record_request(static_->mount + "/*", req.method, file->status, seconds);
            spdlog::info("{} {} {} {} {:.3f}ms {}B", req.request_id, req.method,
                         req.target.substr(0, 300), file->status, seconds * 1000,
                         file->body.size());
            return std::move(*file);
        }
    }
    Context ctx{*this, req, {}, now, std::nullopt, {}, replay != nullptr};
    if (replay) ctx.recorded_response_sha256 = replay->response_sha256;
    const auto match = router_.match(req.method, req.segments);
    static const std::string kUnmatched = "unmatched";
    const std::string& route_label = match.route ? match.route->pattern : kUnmatched;
    engine::Result<Response> result = fail(ErrorCode::internal, "unset");
    if (!match.route) {
        if (match.allowed.empty()) {
            result = fail(ErrorCode::not_found, "no resource at " + req.path.substr(0, 200));
        } else {
            std::string allow;
            for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
            result = fail(ErrorCode::method_not_allowed,
                          req.method.substr(0, 16) + " is not allowed here; allowed: " + allow);
        }
    } else if (auto twice = replay ? std::nullopt : repeated_header(req)) {
        result = fail(*twice);
    } else {
        ctx.params = match.params;
        try {
            if (replay) {
                // The entry says who asked and which ids were made; no token, no transport.
                ctx.principal = replay->principal;
                // It makes the entry's ids again and records them for the journal entry it
                // writes, as the live request did.
                IdRecording recording(ctx.ids_created);
                IdReplay ids(*replay->ids);
                result = match.route->handler(ctx);
                *replay->ids_diverged = ids.diverged() || !ids.all_used();
            } else {
                IdRecording ids(ctx.ids_created);
                result = dispatch(ctx, *match.route);
            }
        } catch (const std::exception& e) {
            result = fail(ErrorCode::internal, std::string("unhandled exception: ") + e.what());
        }
    }
    Response resp;
    if (result) {
        resp = std::move(*result);
    } else {
        if (result.error().code == ErrorCode::internal) {
            spdlog::error("request {} {} {} failed: {}", req.request_id, req.method, req.path,
                          result.error().detail);
        }
        resp = problem_response(result.error(), req.request_id);
        if (result.error().code == ErrorCode::method_not_allowed) {
            std::string allow;
            for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
            resp.headers.emplace_back("Allow", allow);
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.record_request(route_label, req.method, resp.status, seconds);
    if (!replay) {
        spdlog::info("{} {} {} {} {:.3f}ms {}B", req.request_id, req.method,
                     std::string_view(req.target).substr(0, 300), resp.status, seconds * 1000,
                     resp.body.size());
    }
    return resp;
}

engine::Result<Response> App::dispatch(Context& ctx, const Route& route) {
    const Request& req = ctx.req;
    const bool sends_body =
        !req.body.empty() ||
        ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH") &&
         !req.content_type.empty());
    if (sends_body && !is_json_media_type(req.content_type)) {
        return fail(ErrorCode::unsupported_media_type,
                    "request bodies must be application/json, not '" +
                        req.content_type.substr(0, 100) + "'");
    }
    if (!req.authorization.empty()) {
        auto p = tokens_.verify(req.authorization, config_.jwt_secret, ctx.now);
        if (!p) return fail(p.error());
        if (auto s = ensure_actor(*p, ctx.now); !s) return fail(s.error());
        ctx.principal = *p;
    }
    return route.handler(ctx);
}

std::string App::decision_config() const {
    return boost::json::serialize(
        boost::json::object{{"checkout_ttl_ms", config_.checkout_ttl_ms}});
}

engine::Status App::journal_config_if_changed(engine::Timestamp now) {
    const std::string current = decision_config();
    auto done = db_.write([&](db::Tx& tx) -> engine::Result<bool> {
        if (db::last_journal_body(tx, "config") == current) return false;
        db::JournalEntry e;
        e.at = now;
        e.kind = "config";
        e.actor = "system";
        e.role = "system";
        e.body = current;
        e.status = 200;
        e.response_sha256 = sha256_hex(current);
        db::append_journal(tx, e);
        return true;
    });
    if (!done) return fail(done.error());
    return {};
}

engine::Status App::apply_decision_config(const std::string& json) {
    boost::system::error_code ec;
    auto v = boost::json::parse(json, ec);
    const auto* ttl =
        (!ec && v.is_object()) ? v.as_object().if_contains("checkout_ttl_ms") : nullptr;
    if (!ttl || !ttl->is_int64())
        return fail(ErrorCode::invalid_request, "config entry without checkout_ttl_ms");
    config_.checkout_ttl_ms = ttl->as_int64();
    return {};
}

void App::journal_write(db::Tx& tx, const Context& ctx, const Response& r) {
    const Request& req = ctx.req;
    db::JournalEntry e;
    e.at = ctx.now;
    e.kind = "http";
    e.actor = ctx.principal ? ctx.principal->sub.str() : "anonymous";
    e.role = ctx.principal ? std::string(to_string(ctx.principal->role)) : "anonymous";
    e.method = req.method;
    e.target = req.path;
    if (req.has_idempotency_key) e.idem_key = req.idempotency_key;
    e.request_id = req.request_id;
    e.body = req.body;
    e.ids = ctx.ids_created;
    e.status = r.status;
    e.response_sha256 =
        ctx.recorded_response_sha256 ? *ctx.recorded_response_sha256 : sha256_hex(r.body);
    db::append_journal(tx, e);
}

engine::Status App::ensure_actor(const Principal& p, engine::Timestamp now) {
    {
        std::lock_guard lock(known_mutex_);
        if (known_actors_.contains(p.sub.str())) return {};
    }
    auto done = db_.write([&](db::Tx& tx) -> engine::Result<bool> {
        const bool inserted =
            p.sub.is_merchant()
                ? db::insert_merchant_if_absent(
                      tx, engine::new_merchant(engine::MerchantId::trusted(p.sub.str()), now))
                : db::insert_user_if_absent(tx, engine::UserId::trusted(p.sub.str()), now);
        if (inserted) {
            db::JournalEntry e;
            e.at = now;
            e.kind = "actor";
            e.actor = p.sub.str();
            e.role = std::string(to_string(p.role));
            e.status = 200;
            e.response_sha256 = sha256_hex(p.sub.str());
            db::append_journal(tx, e);
        }
        return inserted;
    });
    if (!done) return fail(done.error());
    std::lock_guard lock(known_mutex_);
    known_actors_.insert(p.sub.str());
    return {};
}

namespace {

// Errors that are the outcome of running the request (not of its input being malformed, and
// not a passing failure worth retrying): stored under the Idempotency-Key like a success.
bool is_final_outcome(ErrorCode code) {
    switch (code) {
        case ErrorCode::conflict:
        case ErrorCode::out_of_stock:
        case ErrorCode::invalid_transition:
        case ErrorCode::not_found:
        case ErrorCode::forbidden:
        case ErrorCode::payment_declined:
            return true;
        case ErrorCode::invalid_request:
        case ErrorCode::unauthenticated:
        case ErrorCode::method_not_allowed:
        case ErrorCode::idempotency_key_reused:
        case ErrorCode::payload_too_large:
        case ErrorCode::unsupported_media_type:
        case ErrorCode::rate_limited:
        case ErrorCode::unavailable:
        case ErrorCode::internal:
            return false;
    }
    return false;
}

// Who a journal entry and a stored answer belong to: the token's subject, or "anonymous".
std::string caller_of(const Context& ctx) {
    return ctx.principal ? ctx.principal->sub.str() : "anonymous";
}

// What a stored answer is kept against: the method, the path and the canonical body.
std::string request_hash(const Request& req) {
    return sha256_hex(req.method + " " + req.path + "\n" + canonical_body(req.body));
}

Response replay_of(const db::StoredResponse& stored) {
    Response r;
    r.status = stored.status;
    r.body = stored.body;
    if (stored.status >= 400) r.content_type = "application/problem+json";
    r.headers.emplace_back(kReplayedHeader, "true");
    return r;
}

}  // namespace

engine::Result<Response> App::write(Context& ctx,
                                    const std::function<engine::Result<Response>(db::Tx&)>& fn) {
    const Request& req = ctx.req;
    // On PostgreSQL a transaction that hit a deadlock or a serialization failure runs again
    // (Database::run): each attempt starts from the ids made before it, so the journal records
    // only the ids of the attempt that committed.
    const std::size_t ids_before = ctx.ids_created.size();
    auto attempt = [&](db::Tx& tx) {
        ctx.ids_created.resize(ids_before);
        tx.changes().at_ms = ctx.now.unix_ms;
        return fn(tx);
    };
    // Every successful write is journaled in its own transaction (see journal_write below),
    // last: the journal's commit-order lock is then held only from there to the commit.
    auto journaled = [&](db::Tx& tx) -> engine::Result<Response> {
        auto r = attempt(tx);
        if (r) journal_write(tx, ctx, *r);
        return r;
    };
    if (req.method != "POST" || !req.has_idempotency_key) return db_.write(journaled);
    if (auto s = check_idempotency_key(req.idempotency_key); !s) return fail(s.error());
    const std::string caller = caller_of(ctx);
    const std::string hash = request_hash(req);
    // Returns the stored response for the key, 422 for another body, or nullopt.
    auto lookup = [&](db::Tx& tx) -> engine::Result<std::optional<Response>> {
        auto stored = db::find_idempotent(tx, caller, req.idempotency_key);
        if (!stored) return std::optional<Response>{};
        if (stored->request_hash != hash) {
            return fail(ErrorCode::idempotency_key_reused,
                        "this Idempotency-Key was used with a different request; use a new key "
                        "for a new request");
        }
        return std::optional<Response>{replay_of(*stored)};
    };
    // Several processes (PostgreSQL): concurrent requests with one key take turns on this lock,
    // so the later ones find the first one's stored response instead of running again (the
    // unique key of idempotency_keys stays the last line of defence: a conflict, never a 500).
    const std::string lock_key = caller + " " + req.idempotency_key;
    auto result = db_.write([&](db::Tx& tx) -> engine::Result<Response> {
        db::lock_key(tx, db::LockSpace::idempotency_key, lock_key);
        auto seen = lookup(tx);
        if (!seen) return fail(seen.error());
        if (*seen) return std::move(**seen);
        auto r = attempt(tx);
        if (!r) return r;
        db::store_idempotent(tx, caller, req.idempotency_key,
                             db::StoredResponse{hash, r->status, r->body}, ctx.now);
        journal_write(tx, ctx, *r);
        return r;
    });
    if (result || !is_final_outcome(result.error().code)) return result;
    // The request ran and was refused: its changes are rolled back, and the refusal is kept
    // under the key so a retry gets the same answer (a new attempt needs a new key).
    const Response refusal = problem_response(result.error(), req.request_id);
    return db_.write([&](db::Tx& tx) -> engine::Result<Response> {
        db::lock_key(tx, db::LockSpace::idempotency_key, lock_key);
        auto seen = lookup(tx);
        if (!seen) return fail(seen.error());
        if (*seen) return std::move(**seen);  // a concurrent retry stored its answer first
        db::store_idempotent(tx, caller, req.idempotency_key,
                             db::StoredResponse{hash, refusal.status, refusal.body}, ctx.now);
        return refusal;
    });
}

std::optional<Response> App::stored_response(const Context& ctx) {
    const Request& req = ctx.req;
    if (req.method != "POST" || !req.has_idempotency_key) return std::nullopt;
    if (!check_idempotency_key(req.idempotency_key)) return std::nullopt;
    const std::string caller = caller_of(ctx);
    const std::string hash = request_hash(req);
    auto found = db_.read([&](db::Tx& tx) -> engine::Result<std::optional<Response>> {
        auto stored = db::find_idempotent(tx, caller, req.idempotency_key);
        if (!stored || stored->request_hash != hash) return std::optional<Response>{};
        return std::optional<Response>{replay_of(*stored)};
    });
    return found ? std::move(*found) : std::nullopt;
}

void App::flush_views() {
    auto batch = views_.take();
    if (batch.empty()) return;
    auto done = db_.write([&](db::Tx& tx) -> engine::Result<bool> {
        db::add_note_views(tx, batch);
        return true;
    });
    if (!done) {
        spdlog::warn("could not record {} note view batches: {}; retrying", batch.size(),
                     done.error().detail);
        for (const auto& [id, n] : batch) views_.add(id, n);
    }
}

void App::run_maintenance() {
    flush_views();
    const auto now = clock_();
    expire_due_checkouts(db_, now);
    if (now.unix_ms - last_webhook_retry_ms_ >= 2000) {
        last_webhook_retry_ms_ = now.unix_ms;
        retry_pending_webhooks(*this, now);
    }
    if (now.unix_ms - last_settle_ms_ >= config_.settle_interval_ms) {
        last_settle_ms_ = now.unix_ms;
        settle_due_commissions(db_, now);
    }
    if (now.unix_ms - last_purge_ms_ < 60'000) return;
    last_purge_ms_ = now.unix_ms;
    auto purged = db_.write([&](db::Tx& tx) -> engine::Result<std::int64_t> {
        return db::purge_idempotency(tx,
                                     engine::Timestamp{now.unix_ms - config_.idempotency_ttl_ms});
    });
    if (!purged) {
        spdlog::warn("idempotency key purge failed: {}", purged.error().detail);
    } else if (*purged > 0) {
        spdlog::info("purged {} idempotency keys older than 24 h", *purged);
    }
}

}  // namespace redloop::api
