#include "webhook_sender.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <optional>

#include "webhook_signature.hpp"

namespace redloop::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

// One worker's keep-alive connection to the target.
struct WebhookSender::Connection {
    net::io_context ioc;
    std::optional<beast::tcp_stream> stream;
    std::string host;
    unsigned short port = 0;
    beast::flat_buffer buffer;

    void close() {
        if (stream) {
            beast::error_code ec;
            stream->socket().shutdown(net::ip::tcp::socket::shutdown_both, ec);
            stream->socket().close(ec);
        }
        stream.reset();
        buffer.clear();
    }
};

WebhookSender::WebhookSender(std::string secret, std::string path, int max_attempts, int threads)
    : secret_(std::move(secret)), path_(std::move(path)), max_attempts_(max_attempts) {
    for (int i = 0; i < std::max(1, threads); ++i) workers_.emplace_back([this] { run(); });
}

WebhookSender::~WebhookSender() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();  // attempts in flight finish (5 s stream timeout)
    if (!queue_.empty()) {
        spdlog::warn("webhook sender stopping with {} undelivered events; dropped", queue_.size());
    }
}

void WebhookSender::set_target(std::string host, unsigned short port) {
    {
        std::lock_guard lock(mutex_);
        host_ = std::move(host);
        port_ = port;
    }
    cv_.notify_all();
}

void WebhookSender::send(std::string body, std::chrono::milliseconds delay) {
    {
        std::lock_guard lock(mutex_);
        queue_.push(
            Item{std::chrono::steady_clock::now() + delay, next_seq_++, std::move(body), 0});
    }
    cv_.notify_all();
}

bool WebhookSender::drain(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return queue_.empty() && in_flight_ == 0; });
}

std::size_t WebhookSender::delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
}

void WebhookSender::run() {
    Connection connection;
    std::unique_lock lock(mutex_);
    while (true) {
        if (stopping_) return;
        if (queue_.empty() || port_ == 0) {
            cv_.wait(lock);
            continue;
        }
        const auto due = queue_.top().due;
        if (std::chrono::steady_clock::now() < due) {
            cv_.wait_until(lock, due);
            continue;
        }
        Item item = queue_.top();
        queue_.pop();
        const std::string host = host_;
        const unsigned short port = port_;
        ++in_flight_;
        lock.unlock();
        const int status = post(connection, host, port, item.body);
        lock.lock();
        --in_flight_;
        ++item.attempts;
        if (status >= 200 && status < 300) {
            ++delivered_;
        } else if (item.attempts >= max_attempts_) {
            spdlog::error("webhook given up after {} attempts (last status {}): {}", item.attempts,
                          status, item.body.substr(0, 300));
        } else {
            const auto backoff =
                std::min(std::chrono::milliseconds(100 << std::min(item.attempts - 1, 6)),
                         std::chrono::milliseconds(5000));
            spdlog::warn("webhook attempt {} answered {}; retrying in {} ms", item.attempts, status,
                         backoff.count());
            item.due = std::chrono::steady_clock::now() + backoff;
            queue_.push(std::move(item));
        }
        cv_.notify_all();
    }
}

int WebhookSender::post(Connection& c, const std::string& host, unsigned short port,
                        const std::string& body) {
    http::request<http::string_body> req{http::verb::post, path_, 11};
    req.set(http::field::host, host);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "redloop-sandbox-provider");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    req.set("Payment-Signature", sign_webhook(secret_, now, body));
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    // A kept connection may have been closed by the server meanwhile: one fresh retry then
    // (a repeated event is harmless: the engine ignores an event id it has seen).
    for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = c.stream.has_value() && c.host == host && c.port == port;
        try {
            if (!reused) {
                c.close();
                net::ip::tcp::resolver resolver(c.ioc);
                c.stream.emplace(c.ioc);
                c.stream->expires_after(std::chrono::seconds(5));
                c.stream->connect(resolver.resolve(host, std::to_string(port)));
                c.host = host;
                c.port = port;
            }
            c.stream->expires_after(std::chrono::seconds(5));
            http::write(*c.stream, req);
            http::response<http::string_body> res;
            http::read(*c.stream, c.buffer, res);
            if (!res.keep_alive()) c.close();
            return static_cast<int>(res.result_int());
        } catch (const std::exception& e) {
            c.close();
            if (reused) continue;
            spdlog::warn("webhook delivery to {}:{} failed: {}", host, port, e.what());
            return 0;
        }
    }
    return 0;
}

}  // namespace redloop::api
