#pragma once
// The Beast HTTP server: accepts connections, reads requests with limits and timeouts, hands
// each to App::handle and writes the response. Runs until SIGINT or SIGTERM, then drains.
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace redloop::api {

class App;

struct ServerOptions {
    std::string address = "127.0.0.1";
    unsigned short port = 8080;  // 0: any free port (reported through on_listening)
    int threads = 2;
    int workers = 64;  // threads that run writes (each waits for its group commit)
    std::size_t body_limit = 1024 * 1024;
    std::size_t header_limit = 16 * 1024;
    std::chrono::seconds read_timeout{30};    // one request's header and body
    std::chrono::seconds idle_timeout{60};    // a keep-alive connection between requests
    std::chrono::seconds shutdown_grace{10};  // in-flight requests may finish within this
    std::chrono::milliseconds maintenance_interval{500};
};

// Returns 0 after a clean shutdown, non-zero when it could not listen.
int run_server(
    App& app, const ServerOptions& options,
    const std::function<void(const std::string& address, unsigned short port)>& on_listening);

}  // namespace redloop::api
