#pragma once
// Delivers signed webhooks over HTTP from background threads, with retries: how the sandbox
// provider answers the engine, the way a real provider would. Each thread keeps its connection
// open between deliveries; events may arrive out of order, as from a real provider.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace redloop::api {

class WebhookSender {
  public:
    // `secret` signs each attempt; `path` is where events go ("/v1/webhooks/payments").
    WebhookSender(std::string secret, std::string path, int max_attempts = 20, int threads = 8);
    ~WebhookSender();  // stops the workers; undelivered events are logged and dropped
    WebhookSender(const WebhookSender&) = delete;
    WebhookSender& operator=(const WebhookSender&) = delete;

    // Where to deliver (may be changed later). Until it is set, events wait.
    void set_target(std::string host, unsigned short port);
    // Queues a JSON body for delivery after `delay`.
    void send(std::string body, std::chrono::milliseconds delay = std::chrono::milliseconds(0));
    // Blocks until nothing is queued or `timeout` passes; true when the queue is empty.
    bool drain(std::chrono::milliseconds timeout);
    std::size_t delivered() const;

  private:
    struct Item {
        std::chrono::steady_clock::time_point due;
        std::uint64_t seq = 0;  // ties on `due` go out in the order they were sent
        std::string body;
        int attempts = 0;
        bool operator>(const Item& o) const { return due != o.due ? due > o.due : seq > o.seq; }
    };
    struct Connection;
    void run();
    // One attempt; returns the HTTP status, or 0 when the connection failed.
    int post(Connection& c, const std::string& host, unsigned short port, const std::string& body);

    std::string secret_;
    std::string path_;
    int max_attempts_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> queue_;
    std::string host_;
    unsigned short port_ = 0;
    bool stopping_ = false;
    std::size_t in_flight_ = 0;
    std::uint64_t next_seq_ = 0;
    std::size_t delivered_ = 0;
    std::vector<std::thread> workers_;
};

}  // namespace redloop::api
