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
    // A request's header must have arrived this long after the connection opened or the previous
    // response was sent (a client dripping the header byte by byte gains nothing).
    std::chrono::seconds idle_timeout{60};  // --http-idle-timeout
    // A request's body, and the writing of its response.
    std::chrono::seconds read_timeout{30};    // --http-read-timeout
    std::chrono::seconds shutdown_grace{10};  // in-flight requests may finish within this
    std::chrono::milliseconds maintenance_interval{500};
};

// Returns 0 after a clean shutdown, non-zero when it could not listen.
int run_server(
    App& app, const ServerOptions& options,
    const std::function<void(const std::string& address, unsigned short port)>& on_listening);

}  // namespace redloop::api
