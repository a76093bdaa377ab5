#include "stream_hub.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <limits>

#include "json_reader.hpp"
#include "problem.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

namespace json = boost::json;
using engine::ErrorCode;
using engine::fail;

namespace {

constexpr int kBatch = 1000;

std::shared_ptr<const std::string> shared(std::string s) {
    return std::make_shared<const std::string>(std::move(s));
}

// Control frames carry no `seq`: a frame with one is an event, whose seq increases per topic.
// `position` is the log position a subscription goes live after.
std::string ack_frame(const char* type, const std::string& topic,
                      std::optional<std::int64_t> position) {
    json::object o{{"type", type}, {"topic", topic}};
    if (position) o["position"] = *position;
    return json::serialize(o);
}

}  // namespace

engine::Result<ClientMessage> parse_client_message(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec) return fail(ErrorCode::invalid_request, "the message is not JSON: " + ec.message());
    JsonReader r(v);
    ClientMessage m;
    m.op = r.string("op");
    m.topic = r.string("topic");
    m.after_seq = r.opt_integer("after_seq", 0, std::numeric_limits<std::int64_t>::max());
    if (auto s = r.finish(); !s) return fail(s.error());
    if (m.op != "subscribe" && m.op != "unsubscribe")
        return fail(ErrorCode::invalid_request, "op: expected \"subscribe\" or \"unsubscribe\"");
    if (m.op == "unsubscribe" && m.after_seq)
        return fail(ErrorCode::invalid_request, "after_seq: only subscribe takes it");
    if (m.topic.size() > 100) return fail(ErrorCode::invalid_request, "topic: too long");
    return m;
}

engine::Result<TopicName> parse_topic(const std::string& topic) {
    using Kind = TopicName::Kind;
    if (topic == "orders") return TopicName{Kind::orders, {}};
    if (topic == "earnings") return TopicName{Kind::earnings, {}};
    if (topic == "inventory") return TopicName{Kind::inventory, {}};
    const auto colon = topic.find(':');
    const std::string kind = topic.substr(0, colon);
    const std::string id = colon == std::string::npos ? "" : topic.substr(colon + 1);
    if (kind == "sku" && colon != std::string::npos) {
        auto sku_id = engine::SkuId::parse(id);
        if (!sku_id) return fail(ErrorCode::invalid_request, "topic: " + sku_id.error().detail);
        return TopicName{Kind::sku, id};
    }
    if (kind == "note" && colon != std::string::npos) {
        auto note_id = engine::NoteId::parse(id);
        if (!note_id) return fail(ErrorCode::invalid_request, "topic: " + note_id.error().detail);
        return TopicName{Kind::note, id};
    }
    return fail(ErrorCode::invalid_request,
                "topic: expected \"orders\", \"earnings\", \"inventory\", \"note:<id>\" or "
                "\"sku:<id>\"");
}

namespace {

// The key every admin session's `orders` subscription is under: admins see every order, but
// not the person (the address is the buyer's and the shop's only; docs/reliability.md).
constexpr const char* kAllOrders = "orders:*";

// The event with the order's shipping address set to null (an order event carries the order).
db::EventRow without_address(const db::EventRow& e) {
    if (e.scope != "orders") return e;
    boost::system::error_code ec;
    auto v = json::parse(e.data, ec);
    auto* o = ec ? nullptr : v.if_object();
    auto* address = o ? o->if_contains("shipping_address") : nullptr;
    if (!address || address->is_null()) return e;
    *address = nullptr;
    db::EventRow out = e;
    out.data = json::serialize(v);
    return out;
}

}  // namespace

std::string event_frame(const db::EventRow& e, const std::string& topic) {
    // The data is stored as serialized JSON: framed here without parsing it again. Topics are
    // validated ids and names, so they need no escaping; the type is one of ours.
    return fmt::format(R"({{"seq":{},"topic":"{}","type":"{}","data":{}}})", e.seq, topic, e.type,
                       e.data);
}

std::string error_frame(const engine::Error& e, const std::string& topic) {
    json::object o{{"type", "error"},
                   {"code", std::string(engine::to_string(e.code))},
                   {"status", http_status(e.code)},
                   {"detail", e.detail}};
    if (!topic.empty()) o["topic"] = topic;
    return json::serialize(o);
}

StreamHub::StreamHub(db::Database& db, StreamOptions options)
    : db_(db), options_(std::move(options)) {}

StreamHub::~StreamHub() {
    stop();
}

void StreamHub::start() {
    auto last =
        db_.read([](db::Tx& tx) -> engine::Result<std::int64_t> { return db::last_event_seq(tx); });
    position_ = last ? *last : 0;
    next_purge_ = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    thread_ = std::thread([this] { run(); });
    auto listener = db_.listen(db::kEventChannel, [this] { wake(); });
    if (!listener) {
        spdlog::warn("stream: cannot listen for other nodes' events ({}); polling the log",
                     listener.error().detail);
    } else {
        listener_ = std::move(*listener);
    }
}

void StreamHub::stop() {
    listener_.reset();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    for (auto& [id, s] : sessions_) s.sink->close(kCloseGoingAway, "server shutting down");
    std::deque<Op> left;
    {
        std::lock_guard lock(mutex_);
        left.swap(ops_);
    }
    for (auto& op : left) {
        if (op.kind == Op::Kind::attach) op.sink->close(kCloseGoingAway, "server shutting down");
    }
    sessions_.clear();
    index_.clear();
}

std::optional<std::uint64_t> StreamHub::attach(std::shared_ptr<StreamSink> sink,
                                               std::optional<Principal> who) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return std::nullopt;
    }
    if (static_cast<std::size_t>(++counters_.sessions) > options_.max_sessions) {
        --counters_.sessions;
        ++counters_.refused_sessions;
        return std::nullopt;
    }
    const auto id = next_session_++;
    Op op{Op::Kind::attach, id, std::move(sink), std::move(who), {}, {}};
    enqueue(std::move(op));
    return id;
}

void StreamHub::detach(std::uint64_t session) {
    enqueue(Op{Op::Kind::detach, session, nullptr, std::nullopt, {}, {}});
}

bool StreamHub::on_message(std::uint64_t session, const std::string& text) {
    {
        // A client may not queue work faster than the pump does it (each subscribe may read the
        // log): beyond a few messages in flight the session is closed.
        std::lock_guard lock(mutex_);
        if (++pending_messages_[session] > options_.max_pending_messages) return false;
    }
    auto m = parse_client_message(text);
    if (!m) {
        // Answered on the pump so the reply keeps its place among the session's frames.
        Op op{Op::Kind::reply, session, nullptr, std::nullopt, {}, {}};
        op.topic = error_frame(m.error(), "");
        enqueue(std::move(op));
        return true;
    }
    Op op{m->op == "subscribe" ? Op::Kind::subscribe : Op::Kind::unsubscribe,
          session,
          nullptr,
          std::nullopt,
          m->topic,
          m->after_seq};
    enqueue(std::move(op));
    return true;
}

void StreamHub::enqueue(Op op) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        ops_.push_back(std::move(op));
    }
    cv_.notify_one();
}

void StreamHub::wake() {
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    cv_.notify_one();
}

void StreamHub::run() {
    while (true) {
        std::deque<Op> ops;
        {
            std::unique_lock lock(mutex_);
            cv_.wait_for(lock, std::chrono::milliseconds(500),
                         [&] { return stopping_ || woken_ || !ops_.empty(); });
            if (stopping_) return;
            woken_ = false;
            ops.swap(ops_);
        }
        try {
            // Events first: a subscribe handled next replays up to the new position.
            deliver_new();
            for (auto& op : ops) handle(op);
            purge_if_due();
        } catch (const std::exception& e) {
            spdlog::error("stream: {}", e.what());
        }
    }
}

void StreamHub::handle(Op& op) {
    if (op.kind == Op::Kind::subscribe || op.kind == Op::Kind::unsubscribe ||
        op.kind == Op::Kind::reply) {
        std::lock_guard lock(mutex_);
        auto p = pending_messages_.find(op.session);
        if (p != pending_messages_.end() && p->second > 0) --p->second;
    }
    if (op.kind == Op::Kind::attach) {
        sessions_.emplace(op.session, Session{std::move(op.sink), std::move(op.who), {}});
        return;
    }
    auto it = sessions_.find(op.session);
    if (it == sessions_.end()) return;
    Session& s = it->second;
    switch (op.kind) {
        case Op::Kind::detach: {
            std::vector<std::string> topics;
            for (const auto& [topic, sub] : s.subs) topics.push_back(topic);
            for (const auto& t : topics) unsubscribe(op.session, s, t, false);
            sessions_.erase(it);
            --counters_.sessions;
            {
                std::lock_guard lock(mutex_);
                pending_messages_.erase(op.session);
            }
            return;
        }
        case Op::Kind::reply:
            s.sink->send(shared(std::move(op.topic)));
            return;
        case Op::Kind::subscribe:
            subscribe(op.session, s, op.topic, op.after_seq);
            return;
        case Op::Kind::unsubscribe:
            unsubscribe(op.session, s, op.topic, true);
            return;
        case Op::Kind::attach:
            return;
    }
}

engine::Result<StreamHub::Resolved> StreamHub::resolve(const Session& s, const std::string& topic) {
    auto name = parse_topic(topic);
    if (!name) return fail(name.error());
    Resolved r;
    switch (name->kind) {
        case TopicName::Kind::orders: {
            if (!s.who)
                return fail(
                    ErrorCode::unauthenticated,
                    "the orders topic needs a token (Authorization header or ?access_token=)");
            r.filter.scope = "orders";
            const std::string sub = s.who->sub.str();
            switch (s.who->role) {
                case Role::user:
                    r.keys.push_back("orders:" + sub);
                    r.filter.user_id = sub;
                    break;
                case Role::merchant:
                    r.keys.push_back("orders:" + sub);
                    r.filter.merchant_id = sub;
                    break;
                case Role::admin:
                    r.keys.push_back(kAllOrders);
                    r.filter.everything = true;
                    break;
            }
            return r;
        }
        case TopicName::Kind::earnings: {
            // A creator's own commission entries; a shop's, what it owes; everything for an
            // admin.
            if (!s.who) return fail(ErrorCode::unauthenticated, "the earnings topic needs a token");
            r.filter.scope = "earnings";
            const std::string sub = s.who->sub.str();
            switch (s.who->role) {
                case Role::user:
                    r.keys.push_back("earnings:" + sub);
                    r.filter.user_id = sub;
                    break;
                case Role::merchant:
                    r.keys.push_back("earnings:" + sub);
                    r.filter.merchant_id = sub;
                    break;
                case Role::admin:
                    r.keys.push_back("earnings:*");
                    r.filter.everything = true;
                    break;
            }
            return r;
        }
        case TopicName::Kind::inventory:
            if (!s.who)
                return fail(ErrorCode::unauthenticated, "the inventory topic needs a token");
            if (s.who->role != Role::merchant)
                return fail(ErrorCode::forbidden, "the inventory topic is a merchant's own SKUs");
            r.keys.push_back("inventory:" + s.who->sub.str());
            r.filter.scope = "sku";
            r.filter.merchant_id = s.who->sub.str();
            return r;
        case TopicName::Kind::sku: {
            const auto sku_id = engine::SkuId::trusted(name->id);
            auto found = db_.read([&](db::Tx& tx) -> engine::Result<bool> {
                return db::find_sku(tx, sku_id).has_value();
            });
            if (!found) return fail(found.error());
            if (!*found) return fail(ErrorCode::not_found, "no SKU " + name->id);
            r.keys.push_back("sku:" + name->id);
            r.filter.scope = "sku";
            r.filter.sku_ids.push_back(name->id);
            return r;
        }
        case TopicName::Kind::note: {
            const auto note_id = engine::NoteId::trusted(name->id);
            auto note = db_.read([&](db::Tx& tx) -> engine::Result<std::optional<engine::Note>> {
                return db::find_note(tx, note_id);
            });
            if (!note) return fail(note.error());
            if (!*note) return fail(ErrorCode::not_found, "no note " + name->id);
            r.filter.scope = "sku";
            for (const auto& sku : (*note)->skus) {
                r.keys.push_back("sku:" + sku.str());
                r.filter.sku_ids.push_back(sku.str());
            }
            return r;
        }
    }
    return fail(ErrorCode::internal, "unknown topic kind");
}

void StreamHub::subscribe(std::uint64_t id, Session& s, const std::string& topic,
                          std::optional<std::int64_t> after_seq) {
    auto refuse = [&](ErrorCode code, std::string detail) {
        s.sink->send(shared(error_frame(engine::Error{code, std::move(detail)}, topic)));
    };
    if (s.subs.count(topic)) return refuse(ErrorCode::conflict, "already subscribed");
    if (s.subs.size() >= options_.max_subscriptions)
        return refuse(ErrorCode::rate_limited, fmt::format("at most {} subscriptions per session",
                                                           options_.max_subscriptions));
    auto resolved = resolve(s, topic);
    if (!resolved) {
        s.sink->send(shared(error_frame(resolved.error(), topic)));
        return;
    }
    std::vector<db::EventRow> backlog;
    if (after_seq) {
        if (*after_seq > position_)
            return refuse(ErrorCode::invalid_request,
                          fmt::format("after_seq {} is ahead of the event log (at {})", *after_seq,
                                      position_));
        auto missed = db_.read([&](db::Tx& tx) -> engine::Result<std::vector<db::EventRow>> {
            if (db::events_purged_through(tx) > *after_seq)
                return fail(ErrorCode::conflict,
                            fmt::format("events after {} are no longer kept; subscribe without "
                                        "after_seq, then fetch the current state",
                                        *after_seq));
            if (resolved->keys.empty()) return std::vector<db::EventRow>{};
            return db::events_matching(tx, resolved->filter, *after_seq, position_,
                                       backlog_cap() + 1);
        });
        if (!missed) {
            s.sink->send(shared(error_frame(missed.error(), topic)));
            return;
        }
        if (missed->size() > static_cast<std::size_t>(backlog_cap()))
            return refuse(ErrorCode::conflict,
                          fmt::format("more than {} events were missed; subscribe without "
                                      "after_seq, then fetch the current state",
                                      backlog_cap()));
        backlog = std::move(*missed);
    }
    // Acknowledged with the position the live part starts after; then the backlog, then live.
    s.sink->send(shared(ack_frame("subscribed", topic, position_)));
    const bool all_orders =
        std::find(resolved->keys.begin(), resolved->keys.end(), kAllOrders) != resolved->keys.end();
    for (const auto& e : backlog) {
        s.sink->send(shared(event_frame(all_orders ? without_address(e) : e, topic)));
    }
    counters_.frames_queued += backlog.size();
    for (const auto& key : resolved->keys) index_[key].emplace(id, topic);
    s.subs.emplace(topic, Subscription{std::move(resolved->keys)});
    ++counters_.subscriptions;
}

void StreamHub::unsubscribe(std::uint64_t id, Session& s, const std::string& topic, bool reply) {
    auto it = s.subs.find(topic);
    if (it == s.subs.end()) {
        if (reply)
            s.sink->send(
                shared(error_frame(engine::Error{ErrorCode::not_found, "not subscribed"}, topic)));
        return;
    }
    for (const auto& key : it->second.keys) {
        auto k = index_.find(key);
        if (k == index_.end()) continue;
        k->second.erase({id, topic});
        if (k->second.empty()) index_.erase(k);
    }
    s.subs.erase(it);
    --counters_.subscriptions;
    if (reply) s.sink->send(shared(ack_frame("unsubscribed", topic, std::nullopt)));
}

void StreamHub::deliver_new() {
    while (true) {
        auto batch = db_.read([&](db::Tx& tx) -> engine::Result<std::vector<db::EventRow>> {
            return db::events_between(tx, position_, std::numeric_limits<std::int64_t>::max(),
                                      kBatch);
        });
        if (!batch) {
            spdlog::warn("stream: reading the event log failed: {}", batch.error().detail);
            return;
        }
        for (const auto& e : *batch) {
            fan_out(e);
            position_ = e.seq;
        }
        counters_.events_delivered += batch->size();
        if (batch->size() < static_cast<std::size_t>(kBatch)) return;
    }
}

void StreamHub::fan_out(const db::EventRow& e) {
    std::vector<std::string> keys;
    if (e.scope == "sku") {
        if (e.sku_id) keys.push_back("sku:" + *e.sku_id);
        if (e.merchant_id) keys.push_back("inventory:" + *e.merchant_id);
    } else if (e.scope == "earnings") {
        if (e.user_id) keys.push_back("earnings:" + *e.user_id);
        if (e.merchant_id) keys.push_back("earnings:" + *e.merchant_id);
        keys.push_back("earnings:*");
    } else {
        if (e.user_id) keys.push_back("orders:" + *e.user_id);
        if (e.merchant_id) keys.push_back("orders:" + *e.merchant_id);
        keys.push_back(kAllOrders);
    }
    // Encoded once per topic name (and once more for admins, without the address), shared by
    // every session subscribed under it.
    std::map<std::pair<bool, std::string>, std::shared_ptr<const std::string>> frames;
    for (const auto& key : keys) {
        auto k = index_.find(key);
        if (k == index_.end()) continue;
        const bool all_orders = key == kAllOrders;
        for (const auto& [session, topic] : k->second) {
            auto s = sessions_.find(session);
            if (s == sessions_.end()) continue;
            auto& frame = frames[{all_orders, topic}];
            if (!frame) frame = shared(event_frame(all_orders ? without_address(e) : e, topic));
            s->second.sink->send(frame);
            ++counters_.frames_queued;
        }
    }
}

void StreamHub::purge_if_due() {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_purge_) return;
    next_purge_ = now + std::chrono::minutes(1);
    const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    auto removed = db_.write([&](db::Tx& tx) -> engine::Result<std::int64_t> {
        return db::purge_events(tx, wall - options_.retention_ms);
    });
    if (!removed) {
        spdlog::warn("stream: event retention failed: {}", removed.error().detail);
    } else if (*removed > 0) {
        spdlog::info("stream: removed {} events older than the retention", *removed);
    }
}

std::string StreamHub::metrics_text() const {
    return fmt::format(
        "# TYPE redloop_ws_sessions gauge\nredloop_ws_sessions {}\n"
        "# TYPE redloop_ws_subscriptions gauge\nredloop_ws_subscriptions {}\n"
        "# TYPE redloop_ws_events_total counter\nredloop_ws_events_total {}\n"
        "# TYPE redloop_ws_frames_total counter\nredloop_ws_frames_total {}\n"
        "# TYPE redloop_ws_slow_consumers_closed_total counter\n"
        "redloop_ws_slow_consumers_closed_total {}\n"
        "# TYPE redloop_ws_sessions_refused_total counter\nredloop_ws_sessions_refused_total {}\n"
        "# HELP redloop_ws_notifications_total Wake-ups from other nodes' commits (PostgreSQL "
        "LISTEN/NOTIFY).\n"
        "# TYPE redloop_ws_notifications_total counter\nredloop_ws_notifications_total {}\n",
        counters_.sessions.load(), counters_.subscriptions.load(),
        counters_.events_delivered.load(), counters_.frames_queued.load(),
        counters_.slow_closed.load(), counters_.refused_sessions.load(),
        listener_ ? listener_->received() : 0);
}

}  // namespace redloop::api
