#include "ws_session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <deque>
#include <memory>

namespace redloop::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;

namespace {

// How long a close waits for a write stuck on a client that stopped reading before the socket
// is closed without the close frame.
constexpr auto kCloseGrace = std::chrono::seconds(10);
// The kernel's send buffer per stream socket: bounded, so a stalled client is noticed after
// this much plus the session's queue, and idle sessions stay small.
constexpr int kSocketSendBuffer = 64 * 1024;

std::atomic<std::size_t> g_live_sessions{0};

using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Strand>;

class WsSession : public StreamSink, public std::enable_shared_from_this<WsSession> {
  public:
    WsSession(StrandSocket socket, StreamHub& hub, std::optional<Principal> who)
        : ws_(std::move(socket)),
          hub_(hub),
          who_(std::move(who)),
          close_timer_(ws_.get_executor()) {
        ++g_live_sessions;
    }
    ~WsSession() override { --g_live_sessions; }
    WsSession(const WsSession&) = delete;
    WsSession& operator=(const WsSession&) = delete;

    void start(http::request<http::string_body> req) {
        beast::error_code ec;
        ws_.next_layer().set_option(net::socket_base::send_buffer_size(kSocketSendBuffer), ec);
        websocket::stream_base::timeout t;
        t.handshake_timeout = std::chrono::seconds(30);
        t.idle_timeout = hub_.options().idle_timeout;
        t.keep_alive_pings = true;  // a ping at half the idle time; no answer -> closed
        ws_.set_option(t);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "redloop"); }));
        ws_.read_message_max(hub_.options().max_message_bytes);
        ws_.auto_fragment(false);
        auto r = std::make_shared<http::request<http::string_body>>(std::move(req));
        ws_.async_accept(
            *r, [self = shared_from_this(), r](beast::error_code e) { self->on_accept(e); });
    }

    void send(std::shared_ptr<const std::string> frame) override {
        if (closing_.load()) return;
        if (queued_.fetch_add(1) >= hub_.options().queue_limit) {
            --queued_;
            if (!overflowed_.exchange(true)) {
                ++hub_.counters().slow_closed;
                spdlog::info("stream session {}: {} frames waiting; closing a slow consumer", id_,
                             hub_.options().queue_limit);
                close(kClosePolicy, "too slow: the send queue is full");
            }
            return;
        }
        net::post(ws_.get_executor(), [self = shared_from_this(), f = std::move(frame)]() mutable {
            if (self->close_requested_) {
                --self->queued_;
                return;
            }
            self->queue_.push_back(std::move(f));
            if (!self->writing_) self->write_next();
        });
    }

    void close(int code, std::string reason) override {
        closing_ = true;
        net::post(ws_.get_executor(),
                  [self = shared_from_this(), code, reason = std::move(reason)]() mutable {
                      self->request_close(code, std::move(reason));
                  });
    }

  private:
    void on_accept(beast::error_code ec) {
        if (ec) {
            spdlog::debug("stream handshake failed: {}", ec.message());
            return;
        }
        auto id = hub_.attach(shared_from_this(), who_);
        if (!id) {
            request_close(1013, "too many stream sessions; try again later");
            return;
        }
        id_ = *id;
        attached_ = true;
        read_next();
    }

    void read_next() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            self->on_read(ec);
        });
    }

    void on_read(beast::error_code ec) {
        if (ec) return finish();  // closed, timed out, or a protocol error Beast answered (1009...)
        if (!ws_.got_text()) {
            buffer_.consume(buffer_.size());
            request_close(kCloseUnsupported, "binary messages are not accepted; send JSON text");
            return read_next();  // to receive the client's close frame
        }
        const std::string text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        if (!close_requested_ && !hub_.on_message(id_, text))
            request_close(kClosePolicy, "too many messages waiting for an answer");
        read_next();
    }

    void write_next() {
        if (queue_.empty() || close_started_) return;
        writing_ = true;
        ws_.text(true);
        ws_.async_write(
            net::buffer(*queue_.front()),
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        queue_.pop_front();
        --queued_;
        if (ec) return finish();
        if (close_requested_) return start_close();
        write_next();
    }

    void request_close(int code, std::string reason) {
        if (close_requested_ || finished_) return;  // finished: the connection is gone already
        close_requested_ = true;
        closing_ = true;
        close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
        // What waits behind the frame being written is dropped: the client is told why instead.
        while (queue_.size() > (writing_ ? 1U : 0U)) {
            queue_.pop_back();
            --queued_;
        }
        if (!writing_) return start_close();
        close_timer_.expires_after(kCloseGrace);
        close_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
            if (e || self->close_started_ || self->finished_) return;
            beast::error_code ignored;
            self->ws_.next_layer().close(ignored);
        });
    }

    void start_close() {
        if (close_started_) return;
        close_started_ = true;
        // A client that never answers the close frame is dropped after the same grace.
        close_timer_.expires_after(kCloseGrace);
        close_timer_.async_wait([self = shared_from_this()](beast::error_code e) {
            if (e || self->finished_) return;
            beast::error_code ignored;
            self->ws_.next_layer().close(ignored);
        });
        ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
            // Answered (the read loop then ends with websocket::error::closed) or failed: either
            // way the deadline is not needed any more.
            if (ec) self->close_timer_.cancel();
        });
    }

    void finish() {
        if (finished_) return;
        finished_ = true;
        closing_ = true;
        close_timer_.cancel();
        if (attached_) hub_.detach(id_);
    }

    // On the bare socket: the websocket's own timeouts (handshake, idle with pings) are the only
    // deadlines, and each frame's write skips tcp_stream's timer bookkeeping.
    websocket::stream<StrandSocket> ws_;
    StreamHub& hub_;
    std::optional<Principal> who_;
    Timer close_timer_;
    beast::flat_buffer buffer_;
    std::deque<std::shared_ptr<const std::string>> queue_;
    std::atomic<std::size_t> queued_{0};
    std::atomic<bool> overflowed_{false};
    std::atomic<bool> closing_{false};
    websocket::close_reason close_reason_;
    std::uint64_t id_ = 0;
    bool attached_ = false;
    bool writing_ = false;
    bool close_requested_ = false;
    bool close_started_ = false;
    bool finished_ = false;
};

}  // namespace

std::size_t live_stream_sessions() {
    return g_live_sessions.load();
}

bool is_websocket_upgrade(const http::request<http::string_body>& req) {
    return websocket::is_upgrade(req);
}

void start_stream_session(HttpStream stream, http::request<http::string_body> req, StreamHub& hub,
                          std::optional<Principal> who) {
    std::make_shared<WsSession>(stream.release_socket(), hub, std::move(who))
        ->start(std::move(req));
}

}  // namespace redloop::api
