#pragma once
// The live stream's hub (GET /v1/stream): sessions, their subscriptions and the delivery of the
// event log. No Beast here — a connected client is a StreamSink, implemented by ws_session.cpp.
//
// One thread (the pump) owns every subscription and delivers events in log order: it reads what
// committed after its position, fans each event out to the subscribers of its topics, and handles
// subscribe requests between batches, so a resume (after_seq) replays exactly the events up to
// the pump's position and the live part starts right after it: no gap, no duplicate at the seam.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "auth.hpp"
#include "redloop/db/database.hpp"
#include "redloop/db/events.hpp"

namespace redloop::api {

struct StreamOptions {
    std::size_t max_sessions = 20'000;
    std::size_t max_subscriptions = 50;     // per session
    std::size_t queue_limit = 4096;         // frames waiting to be sent, per session
    std::size_t max_message_bytes = 4096;   // a client message
    std::chrono::seconds idle_timeout{60};  // no frame or pong from the client for this long
    int backlog_limit = 1000;               // events replayed by one resume (< queue_limit)
    std::size_t max_pending_messages = 8;   // client messages waiting for the hub, per session
    std::int64_t retention_ms = 72LL * 3600 * 1000;
};

// WebSocket close codes the stream uses (RFC 6455 section 7.4.1).
inline constexpr int kCloseGoingAway = 1001;    // server shutting down
inline constexpr int kCloseUnsupported = 1003;  // a binary message
inline constexpr int kClosePolicy = 1008;       // too slow: the send queue overflowed
inline constexpr int kCloseTooBig = 1009;       // a message over max_message_bytes

// A connected client. Both calls come from any thread and must not block.
class StreamSink {
  public:
    virtual ~StreamSink() = default;
    // Queues a text frame; a sink whose queue is full closes itself (kClosePolicy).
    virtual void send(std::shared_ptr<const std::string> frame) = 0;
    virtual void close(int code, std::string reason) = 0;
};

struct StreamCounters {
    std::atomic<std::int64_t> sessions{0};
    std::atomic<std::int64_t> subscriptions{0};
    std::atomic<std::uint64_t> events_delivered{0};  // events read from the log by the pump
    std::atomic<std::uint64_t> frames_queued{0};
    std::atomic<std::uint64_t> slow_closed{0};
    std::atomic<std::uint64_t> refused_sessions{0};
};

class StreamHub {
  public:
    StreamHub(db::Database& db, StreamOptions options);
    ~StreamHub();
    StreamHub(const StreamHub&) = delete;
    StreamHub& operator=(const StreamHub&) = delete;

    // Starts the pump at the log's current end. On PostgreSQL it also LISTENs for the events
    // other nodes commit (a wake-up; the log is read as always, and polled every 500 ms, so a
    // lost notification only delays delivery).
    void start();
    // Closes every session (kCloseGoingAway) and stops the pump.
    void stop();

    const StreamOptions& options() const { return options_; }
    StreamCounters& counters() { return counters_; }

    // A new connection; nullopt when max_sessions are open.
    std::optional<std::uint64_t> attach(std::shared_ptr<StreamSink> sink,
                                        std::optional<Principal> who);
    void detach(std::uint64_t session);
    // A text message from the client: {"op":"subscribe"|"unsubscribe","topic":T,"after_seq":N?}.
    // False when the session already has max_pending_messages waiting: the caller closes it.
    bool on_message(std::uint64_t session, const std::string& text);
    // Something committed events: deliver them now rather than at the next poll.
    void wake();
    // Prometheus lines for /metrics.
    std::string metrics_text() const;

  private:
    struct Op {
        enum class Kind { attach, detach, subscribe, unsubscribe, reply } kind;
        std::uint64_t session = 0;
        std::shared_ptr<StreamSink> sink;
        std::optional<Principal> who;
        std::string topic;
        std::optional<std::int64_t> after_seq;
    };
    struct Subscription {
        std::vector<std::string> keys;  // fan-out keys: "sku:<id>", "orders:<actor>", ...
    };
    struct Session {
        std::shared_ptr<StreamSink> sink;
        std::optional<Principal> who;
        std::map<std::string, Subscription> subs;  // by topic
    };
    // What a topic means for this caller: its fan-out keys and the log filter for a resume.
    struct Resolved {
        std::vector<std::string> keys;
        db::EventFilter filter;
    };

    void run();
    void handle(Op& op);
    void subscribe(std::uint64_t id, Session& s, const std::string& topic,
                   std::optional<std::int64_t> after_seq);
    void unsubscribe(std::uint64_t id, Session& s, const std::string& topic, bool reply);
    engine::Result<Resolved> resolve(const Session& s, const std::string& topic);
    void deliver_new();
    void fan_out(const db::EventRow& e);
    void purge_if_due();
    void enqueue(Op op);
    // A resume's backlog fits in half the session's send queue, so replaying it can't close the
    // session as too slow.
    int backlog_cap() const {
        return static_cast<int>(std::min<std::size_t>(
            static_cast<std::size_t>(options_.backlog_limit), options_.queue_limit / 2));
    }

    db::Database& db_;
    StreamOptions options_;
    StreamCounters counters_;

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<Op> ops_;
    std::unordered_map<std::uint64_t, std::size_t> pending_messages_;  // by session
    bool woken_ = false;
    bool stopping_ = false;
    std::thread thread_;
    std::atomic<std::uint64_t> next_session_{1};
    // PostgreSQL: wakes the pump when any node commits events (LISTEN/NOTIFY).
    std::unique_ptr<db::Database::Listener> listener_;

    // Owned by the pump thread.
    std::int64_t position_ = 0;  // every event up to here has been fanned out
    std::unordered_map<std::uint64_t, Session> sessions_;
    std::unordered_map<std::string, std::set<std::pair<std::uint64_t, std::string>>> index_;
    std::chrono::steady_clock::time_point next_purge_{};
};

// A client's text message: {"op":"subscribe"|"unsubscribe","topic":T,"after_seq":N?}. Anything
// else (not JSON, unknown fields, another op, after_seq on an unsubscribe, a topic over 100
// bytes) is invalid_request, answered with an error frame.
struct ClientMessage {
    std::string op;
    std::string topic;
    std::optional<std::int64_t> after_seq;
};
engine::Result<ClientMessage> parse_client_message(const std::string& text);

// What a topic names, before it is resolved for a caller: "orders", "earnings", "inventory",
// "sku:<id>" or "note:<id>" (the id checked for its prefix and shape). Anything else is
// invalid_request.
struct TopicName {
    enum class Kind { orders, earnings, inventory, sku, note } kind = Kind::orders;
    std::string id;  // sku and note
};
engine::Result<TopicName> parse_topic(const std::string& topic);

// The frames the stream sends, as text.
std::string event_frame(const db::EventRow& e, const std::string& topic);
std::string error_frame(const engine::Error& e, const std::string& topic);

}  // namespace redloop::api
