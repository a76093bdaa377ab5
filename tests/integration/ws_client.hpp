#pragma once
// A synchronous WebSocket client for the stream tests (Beast stays in ws_client.cpp).
#include <boost/json/value.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace redloop::it {

struct WsFrame {
    bool closed = false;     // the server closed the stream (close_code says how)
    bool timed_out = false;  // nothing arrived in time
    int close_code = 0;
    std::string close_reason;
    std::string text;
    boost::json::value json() const;
};

class WsClient {
  public:
    // Connects to ws://127.0.0.1:port<target> with an optional bearer token (header). Throws
    // with the HTTP status when the upgrade is refused. `receive_buffer` > 0 shrinks the
    // socket's receive buffer (to make a slow consumer quickly).
    WsClient(unsigned short port, const std::string& target, const std::string& token = "",
             int receive_buffer = 0);
    ~WsClient();
    WsClient(const WsClient&) = delete;
    WsClient& operator=(const WsClient&) = delete;

    void send_text(const std::string& text);
    void send_binary(const std::string& bytes);
    void subscribe(const std::string& topic, std::optional<std::int64_t> after_seq = std::nullopt);
    // The next frame, or timed_out / closed.
    WsFrame next(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Skips frames until one whose JSON "type" is `type` (throws on timeout or close).
    boost::json::value expect_type(const std::string& type,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
    void close();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The status of a refused upgrade ("GET target" with the usual WebSocket headers), or 101.
int upgrade_status(unsigned short port, const std::string& target, const std::string& token = "");

}  // namespace redloop::it
