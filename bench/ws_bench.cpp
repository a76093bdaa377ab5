// The live-stream benchmark: starts `redloop serve` on a scratch database, opens N WebSocket
// subscribers to one note's topic, makes M stock changes on the note's SKU through the API and
// prints how long each change took to reach every subscriber (p50/p90/p99/max), plus the
// server's memory per session (sessions per GB). Figures, not assertions: docs/performance.md.
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth.hpp"
#include "proc_stats.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace redloop;

namespace {

constexpr const char* kJwtSecret = "ws-bench-jwt-secret-0123456789abcdefghij";
constexpr const char* kWebhookSecret = "ws-bench-webhook-secret-0123456789abcdef";

using bench::cpu_seconds;
using bench::raise_fd_limit;
using bench::rss_kb;

std::string token(api::Role role, const std::string& sub) {
    auto t =
        api::mint_token(api::Principal{*engine::ActorId::parse(sub), role}, kJwtSecret,
                        engine::Timestamp{std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count()},
                        3600);
    return *t;
}

class HttpClient {
  public:
    explicit HttpClient(unsigned short port) : stream_(ioc_) {
        stream_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }
    std::pair<int, std::string> call(http::verb verb, const std::string& target,
                                     const std::string& auth, const std::string& body) {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        req.set(http::field::authorization, "Bearer " + auth);
        req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
        http::write(stream_, req);
        http::response<http::string_body> res;
        http::read(stream_, buffer_, res);
        return {res.result_int(), res.body()};
    }

  private:
    net::io_context ioc_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
};

struct Stats {
    std::vector<double> latencies_ms;
    std::uint64_t frames = 0;
    std::atomic<std::uint64_t> closed{0};
};

// One subscriber: connect, upgrade, subscribe, then read frames and time each event.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
  public:
    Subscriber(net::io_context& ioc, unsigned short port, std::string topic,
               const std::vector<std::atomic<std::int64_t>>& sent_at, std::int64_t base,
               Stats& stats, std::atomic<int>& ready)
        : ws_(ioc.get_executor()),
          port_(port),
          topic_(std::move(topic)),
          sent_at_(sent_at),
          base_(base),
          stats_(stats),
          ready_(ready) {}

    void start() {
        ws_.next_layer().async_connect(
            tcp::endpoint(net::ip::make_address("127.0.0.1"), port_),
            [self = shared_from_this()](beast::error_code ec) {
                if (ec) return self->fail("connect", ec);
                self->ws_.async_handshake("127.0.0.1", "/v1/stream",
                                          [self](beast::error_code e) { self->on_handshake(e); });
            });
    }

  private:
    void fail(const char* what, beast::error_code ec) {
        ++stats_.closed;
        if (stats_.closed <= 3) std::cerr << what << ": " << ec.message() << "\n";
    }
    void on_handshake(beast::error_code ec) {
        if (ec) return fail("handshake", ec);
        msg_ = R"({"op":"subscribe","topic":")" + topic_ + R"("})";
        ws_.async_write(net::buffer(msg_),
                        [self = shared_from_this()](beast::error_code e, std::size_t) {
                            if (e) return self->fail("subscribe", e);
                            self->read();
                        });
    }
    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->fail("read", ec);
            self->on_frame();
            self->read();
        });
    }
    // Kept light: the subscribers share the server's two cores, so what they spend per frame
    // is taken from the server being measured.
    void on_frame() {
        const auto now = Clock::now().time_since_epoch().count();
        const auto data = buffer_.cdata();
        const std::string_view text(static_cast<const char*>(data.data()), data.size());
        struct Consume {
            beast::flat_buffer& b;
            ~Consume() { b.clear(); }
        } consume{buffer_};
        const auto p = text.find("\"available\":");
        if (p == std::string_view::npos) {
            if (text.find("\"subscribed\"") != std::string_view::npos) ++ready_;
            return;
        }
        std::int64_t available = 0;
        const char* first = text.data() + p + 12;
        if (std::from_chars(first, text.data() + text.size(), available).ec != std::errc{}) return;
        const auto k = available - base_ - 1;
        if (k < 0 || k >= static_cast<std::int64_t>(sent_at_.size())) return;
        ++stats_.frames;
        stats_.latencies_ms.push_back(static_cast<double>(now - sent_at_[k].load()) / 1e6);
    }

    // No per-operation timers (the bench has one deadline), and the io_context's own executor
    // rather than the type-erased default: what the subscribers spend is taken from the server.
    websocket::stream<net::basic_stream_socket<tcp, net::io_context::executor_type>> ws_;
    unsigned short port_;
    std::string topic_;
    const std::vector<std::atomic<std::int64_t>>& sent_at_;
    std::int64_t base_;
    Stats& stats_;
    std::atomic<int>& ready_;
    beast::flat_buffer buffer_;
    std::string msg_;
};

double percentile(std::vector<double>& v, double p) {
    if (v.empty()) return 0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"Live-stream benchmark"};
    std::string bin = REDLOOP_BINARY_DIR "/api/redloop";
    int subscribers = 1000, changes = 100, interval_ms = 20;
    unsigned short port = 18777;
    cli.add_option("--bin", bin, "the redloop binary")->check(CLI::ExistingFile);
    cli.add_option("--subscribers", subscribers, "WebSocket sessions on one note topic")
        ->check(CLI::Range(1, 19'000));
    cli.add_option("--changes", changes, "stock changes of the note's SKU")
        ->check(CLI::Range(1, 100'000));
    cli.add_option("--interval", interval_ms, "milliseconds between changes")
        ->check(CLI::Range(0, 10'000));
    cli.add_option("--port", port, "port for the server");
    CLI11_PARSE(cli, argc, argv);
    raise_fd_limit();

    const auto work = fs::temp_directory_path() / ("redloop-ws-bench-" + std::to_string(getpid()));
    fs::create_directories(work);
    const auto db = (work / "bench.db").string();
    const auto log = (work / "server.log").string();
    const pid_t server = fork();
    if (server == 0) {
        setenv("REDLOOP_JWT_SECRET", kJwtSecret, 1);
        setenv("REDLOOP_WEBHOOK_SECRET", kWebhookSecret, 1);
        // Personal data is sealed at rest: a fixed bench key unless the caller sets one.
        setenv("REDLOOP_DATA_KEYS", "bench:cmVkbG9vcC1iZW5jaC1kYXRhLWtleS0zMi1ieXRlcyE=", 0);
        freopen(log.c_str(), "w", stderr);
        freopen("/dev/null", "w", stdout);
        const std::string port_s = std::to_string(port), max_s = std::to_string(subscribers + 100);
        execl(bin.c_str(), bin.c_str(), "--log-level", "warn", "serve", "--db", db.c_str(),
              "--port", port_s.c_str(), "--ws-max-sessions", max_s.c_str(), nullptr);
        _exit(127);
    }
    auto stop_server = [&] {
        kill(server, SIGTERM);
        int st = 0;
        waitpid(server, &st, 0);
        fs::remove_all(work);
    };
    std::unique_ptr<HttpClient> api;
    for (int i = 0; i < 100 && !api; ++i) {
        try {
            api = std::make_unique<HttpClient>(port);
        } catch (const std::exception&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    if (!api) {
        std::cerr << "the server did not start; see " << log << "\n";
        stop_server();
        return 2;
    }
    try {
        const auto merchant = token(api::Role::merchant, "mer_wsbench");
        const auto author = token(api::Role::user, "usr_wsbench");
        const std::int64_t base = 1000;
        auto [ps, pb] = api->call(
            http::verb::post, "/v1/products", merchant,
            fmt::format(
                R"({{"title":"Viral tea","skus":[{{"title":"tin","price":{{"amount":5000,"currency":"CNY"}},"stock":{}}}]}})",
                base));
        if (ps != 201) throw std::runtime_error("product: " + pb);
        const std::string sku(json::parse(pb).at("skus").at(0).at("id").as_string());
        auto [ns, nb] = api->call(
            http::verb::post, "/v1/notes", author,
            fmt::format(
                R"({{"title":"The tea everyone buys","body":"...","media":[],"products":[{{"sku_id":"{}"}}]}})",
                sku));
        if (ns != 201) throw std::runtime_error("note: " + nb);
        const std::string note(json::parse(nb).at("id").as_string());

        const long rss_before = rss_kb(server);
        std::vector<std::atomic<std::int64_t>> sent_at(static_cast<std::size_t>(changes));
        Stats stats;
        stats.latencies_ms.reserve(static_cast<std::size_t>(subscribers) *
                                   static_cast<std::size_t>(changes));
        std::atomic<int> ready{0};
        net::io_context ioc(1);  // one thread runs every subscriber
        auto guard = net::make_work_guard(ioc);
        for (int i = 0; i < subscribers; ++i) {
            std::make_shared<Subscriber>(ioc, port, "note:" + note, sent_at, base, stats, ready)
                ->start();
        }
        std::thread io([&] { ioc.run(); });
        const auto t_connect = Clock::now();
        while (ready.load() + static_cast<int>(stats.closed.load()) < subscribers &&
               Clock::now() - t_connect < std::chrono::seconds(120)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        const double connect_s = std::chrono::duration<double>(Clock::now() - t_connect).count();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const long rss_after = rss_kb(server);
        const double cpu0 = cpu_seconds(server);
        const double client_cpu0 = cpu_seconds(getpid());

        for (int k = 0; k < changes; ++k) {
            sent_at[static_cast<std::size_t>(k)] = Clock::now().time_since_epoch().count();
            auto [s, b] = api->call(http::verb::post, "/v1/skus/" + sku + "/stock-adjustments",
                                    merchant, R"({"delta":1,"reason":"restock"})");
            if (s != 200) throw std::runtime_error("adjust: " + b);
            if (interval_ms) std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
        }
        const auto expected =
            static_cast<std::uint64_t>(ready.load()) * static_cast<std::uint64_t>(changes);
        const auto t_drain = Clock::now();
        while (Clock::now() - t_drain < std::chrono::seconds(30)) {
            std::atomic_thread_fence(std::memory_order_seq_cst);
            net::post(ioc, [] {});
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            std::promise<std::uint64_t> got;
            net::post(ioc, [&] { got.set_value(stats.frames); });
            if (got.get_future().get() >= expected) break;
        }
        const double cpu1 = cpu_seconds(server);
        const double client_cpu1 = cpu_seconds(getpid());
        guard.reset();
        ioc.stop();
        io.join();

        const double per_session_kb =
            static_cast<double>(rss_after - rss_before) / std::max(1, ready.load());
        std::cout << fmt::format("subscribers: {} ready ({} failed) in {:.2f} s\n", ready.load(),
                                 stats.closed.load(), connect_s);
        std::cout << fmt::format("changes: {} at one per {} ms; frames received {} of {}\n",
                                 changes, interval_ms, stats.frames, expected);
        std::cout << fmt::format(
            "delivery latency ms: p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f}\n",
            percentile(stats.latencies_ms, 0.50), percentile(stats.latencies_ms, 0.90),
            percentile(stats.latencies_ms, 0.99), percentile(stats.latencies_ms, 1.0));
        std::cout << fmt::format(
            "server RSS: {:.1f} MB before, {:.1f} MB with the sessions; {:.1f} KB per session = "
            "{:.0f} sessions per GB; server CPU during the changes {:.2f} s (this bench's: its "
            "subscribers and the changes' HTTP calls, {:.2f} s)\n",
            static_cast<double>(rss_before) / 1024, static_cast<double>(rss_after) / 1024,
            per_session_kb, per_session_kb > 0 ? 1024.0 * 1024.0 / per_session_kb : 0.0,
            cpu1 - cpu0, client_cpu1 - client_cpu0);
        if (ready.load() != subscribers || stats.frames < expected) {
            std::cerr << "ws bench: not every subscriber received every change\n";
            stop_server();
            return 1;
        }
    } catch (const std::exception& e) {
        std::cerr << "ws bench failed: " << e.what() << "\n";
        stop_server();
        return 1;
    }
    stop_server();
    return 0;
}
