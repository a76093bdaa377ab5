#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "webhook_sender.hpp"
#include "webhook_signature.hpp"

using namespace redloop::api;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "sender-test-secret-0123456789abcdef";

// A loopback HTTP endpoint that answers the first `failures` requests with 500, then 200, and
// keeps what it received.
class FakeEngine {
  public:
    explicit FakeEngine(int failures) : failures_(failures) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~FakeEngine() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    unsigned short port() const { return port_; }
    std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> requests() {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    void serve() {
        while (!stop_) {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            std::string in;
            char buf[4096];
            // read until the body (Content-Length) is complete
            while (true) {
                const auto n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                in.append(buf, static_cast<std::size_t>(n));
                const auto end = in.find("\r\n\r\n");
                const auto cl = in.find("Content-Length: ");
                if (end != std::string::npos && cl != std::string::npos &&
                    in.size() >= end + 4 + std::stoul(in.substr(cl + 16))) {
                    break;
                }
            }
            int status = 200;
            {
                std::lock_guard lock(mutex_);
                requests_.emplace_back(in, std::chrono::steady_clock::now());
                if (static_cast<int>(requests_.size()) <= failures_) status = 500;
            }
            const std::string out = "HTTP/1.1 " + std::to_string(status) +
                                    (status == 200 ? " OK" : " Internal Server Error") +
                                    "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            (void)::write(c, out.data(), out.size());
            ::close(c);
        }
    }

    int failures_;
    int fd_ = -1;
    unsigned short port_ = 0;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> requests_;
    std::thread thread_;
};

std::string header_of(const std::string& request, const std::string& name) {
    const auto at = request.find(name + ": ");
    if (at == std::string::npos) return "";
    const auto end = request.find("\r\n", at);
    return request.substr(at + name.size() + 2, end - at - name.size() - 2);
}

std::string body_of(const std::string& request) {
    return request.substr(request.find("\r\n\r\n") + 4);
}

}  // namespace

TEST_CASE("a webhook arrives signed over its exact body") {
    FakeEngine engine(0);
    WebhookSender sender(kSecret, "/v1/webhooks/payments");
    sender.set_target("127.0.0.1", engine.port());
    const std::string body = R"({"id":"evt_1","type":"payment.succeeded"})";
    sender.send(body);
    REQUIRE(sender.drain(3s));
    CHECK(sender.delivered() == 1);
    const auto got = engine.requests();
    REQUIRE(got.size() == 1);
    CHECK(got[0].first.rfind("POST /v1/webhooks/payments HTTP/1.1", 0) == 0);
    CHECK(body_of(got[0].first) == body);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    CHECK(
        verify_webhook_signature(kSecret, header_of(got[0].first, "Payment-Signature"), body, now));
}

TEST_CASE("failed deliveries are retried until one is accepted") {
    FakeEngine engine(2);
    WebhookSender sender(kSecret, "/hook");
    sender.set_target("127.0.0.1", engine.port());
    sender.send("{}");
    REQUIRE(sender.drain(5s));
    CHECK(engine.requests().size() == 3);
    CHECK(sender.delivered() == 1);
}

TEST_CASE("a delay is honoured, and events wait for a target") {
    FakeEngine engine(0);
    WebhookSender sender(kSecret, "/hook");
    const auto sent = std::chrono::steady_clock::now();
    sender.send("{\"n\":1}", 300ms);
    std::this_thread::sleep_for(100ms);
    CHECK(engine.requests().empty());
    sender.set_target("127.0.0.1", engine.port());
    REQUIRE(sender.drain(3s));
    const auto got = engine.requests();
    REQUIRE(got.size() == 1);
    CHECK(got[0].second - sent >= 300ms);
}

TEST_CASE("a refused connection is retried, and the target may change") {
    // A loopback port with nothing listening: connections are refused.
    unsigned short closed_port = 0;
    {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        closed_port = ntohs(addr.sin_port);
        ::close(fd);
    }
    FakeEngine engine(0);
    WebhookSender sender(kSecret, "/hook");
    sender.set_target("127.0.0.1", closed_port);
    sender.send("{\"n\":2}");
    CHECK_FALSE(sender.drain(150ms));  // first attempts refused, the event is still queued
    CHECK(sender.delivered() == 0);
    sender.set_target("127.0.0.1", engine.port());
    REQUIRE(sender.drain(3s));
    CHECK(sender.delivered() == 1);
    REQUIRE(engine.requests().size() == 1);
    CHECK(body_of(engine.requests()[0].first) == "{\"n\":2}");
}

TEST_CASE("with one sender thread, events sent together go out in the order they were sent") {
    FakeEngine engine(0);
    WebhookSender sender(kSecret, "/hook", 20, 1);
    for (int i = 0; i < 5; ++i) sender.send("{\"n\":" + std::to_string(i) + "}", 50ms);
    sender.set_target("127.0.0.1", engine.port());
    REQUIRE(sender.drain(3s));
    const auto got = engine.requests();
    REQUIRE(got.size() == 5);
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(body_of(got[i].first) == "{\"n\":" + std::to_string(i) + "}");
    }
    CHECK(sender.delivered() == 5);
}

TEST_CASE("with several sender threads, every event goes out exactly once, in any order") {
    FakeEngine engine(0);
    WebhookSender sender(kSecret, "/hook", 20, 8);
    for (int i = 0; i < 40; ++i) sender.send("{\"n\":" + std::to_string(i) + "}");
    sender.set_target("127.0.0.1", engine.port());
    REQUIRE(sender.drain(5s));
    const auto got = engine.requests();
    REQUIRE(got.size() == 40);
    std::set<std::string> bodies;
    for (const auto& r : got) bodies.insert(body_of(r.first));
    CHECK(bodies.size() == 40);
    CHECK(sender.delivered() == 40);
}
