// The HTTP load benchmark: an async, closed-loop Beast client (N keep-alive connections, each
// a coroutine that sends its next request when the previous one answered) against a fresh
// `redloop serve` on a scratch database (or --db), one scenario at a time:
//   hello     an in-process Beast "hello" server: the ceiling of this client and machine;
//   notes     anonymous GET /v1/notes/{id}, 10% of the notes get 90% of the reads;
//   checkout  cart -> checkout -> confirm -> poll the payment until the webhook paid it;
//   orders    a merchant pages through its orders with next_cursor;
//   hot       a flash sale: every connection races to buy one SKU of little stock (restocked
//             a little every 100 ms): cart line, checkout; 201 or 409 out_of_stock (not in all).
// The server runs with --checkout-rate-per-minute 0: the per-user rate limit of checkouts is
// off, so the figures are the engine's, not the limiter's.
// It prints requests, throughput, latency percentiles, errors, server CPU and RSS per
// scenario (and appends a markdown table with --markdown). Figures, not assertions: the exit
// code is non-zero only when a request failed, a flow did not finish or nothing was measured.
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth.hpp"
#include "proc_stats.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace redloop;

namespace {

constexpr const char* kJwtSecret = "load-bench-jwt-secret-0123456789abcdefgh";
constexpr const char* kWebhookSecret = "load-bench-webhook-secret-0123456789abcd";
constexpr std::int64_t kTokenTtlS = 24 * 3600;
constexpr std::size_t kErrorSamplesMax = 5;
constexpr auto kSocketErrorBackoff = std::chrono::milliseconds(10);

struct Options {
    std::string scenario = "all";
    int connections = 64;
    double duration_s = 10;
    double warmup_s = 1;
    int server_threads = 2;
    int client_threads = 1;
    std::string db;
    unsigned short port = 18783;
    std::string markdown;
    std::uint64_t seed = 1;
    std::string bin;
    double timeout_s = 10;
    int merchants = 20;
    int skus = 100;
    int hot_skus = 4;
    int notes = 1000;
    int users = 2000;
    int pages = 4;
    int orders_setup = 1000;
    std::string orders_merchant;
    std::string statement_profile;  // passed to serve --statement-profile
    std::int64_t hot_stock = 200;   // the hot scenario's SKU at the start
    std::int64_t hot_restock = 20;  // units added every 100 ms (0: none)

    std::chrono::milliseconds timeout() const {
        return std::chrono::milliseconds(static_cast<std::int64_t>(timeout_s * 1000));
    }
};

// ---------------------------------------------------------------- /proc

using bench::cpu_seconds;
using bench::raise_fd_limit;
using bench::rss_kb;

pid_t this_thread_id() {
    return static_cast<pid_t>(syscall(SYS_gettid));
}

// ---------------------------------------------------------------- tokens and ids

std::string bearer(api::Role role, const std::string& sub) {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto actor = engine::ActorId::parse(sub);
    if (!actor) throw std::runtime_error("bad actor id " + sub);
    auto t = api::mint_token(api::Principal{*actor, role}, kJwtSecret, engine::Timestamp{now},
                             kTokenTtlS);
    if (!t) throw std::runtime_error("cannot mint a token for " + sub);
    return "Bearer " + *t;
}

// Letters and digits only, unique per run, so that a reused --db gets fresh actors.
std::string run_tag(std::uint64_t seed) {
    const auto now =
        static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    const auto mixed = (now / 1000) ^ (static_cast<std::uint64_t>(getpid()) << 20) ^ (seed * 7919);
    return fmt::format("lb{:x}", mixed & 0xffffffffffULL);
}

std::string percent_encode(std::string_view s) {
    std::string out;
    for (const char c : s) {
        const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
        if (plain) {
            out += c;
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        }
    }
    return out;
}

std::optional<json::value> parse_json(const std::string& body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec) return std::nullopt;
    return v;
}

// A string member of an object (path of keys), or empty.
std::string json_string(const json::value& v, std::initializer_list<std::string_view> path) {
    const json::value* cur = &v;
    for (const auto key : path) {
        const auto* obj = cur->if_object();
        if (!obj) return {};
        cur = obj->if_contains(key);
        if (!cur) return {};
    }
    const auto* s = cur->if_string();
    return s ? std::string(*s) : std::string();
}

// ---------------------------------------------------------------- one keep-alive connection

struct Reply {
    int status = 0;
    std::string body;
    beast::error_code ec;
    bool ok() const { return !ec && status >= 200 && status < 300; }
};

// Every operation is bounded by the timeout; any error closes the socket and the next call
// reconnects. Used from one coroutine at a time, on one strand.
class Conn {
  public:
    Conn(net::any_io_executor ex, tcp::endpoint ep, std::chrono::milliseconds timeout)
        : stream_(std::move(ex)), ep_(ep), timeout_(timeout) {}

    net::awaitable<Reply> call(http::verb verb, std::string_view target, std::string_view auth,
                               std::string body, std::string_view idempotency_key = {}) {
        Reply r;
        if (!open_) {
            stream_.expires_after(timeout_);
            co_await stream_.async_connect(ep_, net::redirect_error(net::use_awaitable, r.ec));
            if (r.ec) {
                close();
                co_return r;
            }
            beast::error_code ignored;
            stream_.socket().set_option(tcp::no_delay(true), ignored);
            open_ = true;
        }
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!auth.empty()) req.set(http::field::authorization, auth);
        if (!idempotency_key.empty()) req.set("Idempotency-Key", idempotency_key);
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        req.body() = std::move(body);
        req.prepare_payload();
        stream_.expires_after(timeout_);
        co_await http::async_write(stream_, req, net::redirect_error(net::use_awaitable, r.ec));
        if (!r.ec) {
            http::response_parser<http::string_body> parser;
            parser.body_limit(64 * 1024 * 1024);
            co_await http::async_read(stream_, buffer_, parser,
                                      net::redirect_error(net::use_awaitable, r.ec));
            if (!r.ec) {
                auto res = parser.release();
                r.status = static_cast<int>(res.result_int());
                r.body = std::move(res.body());
                if (!res.keep_alive()) close();
            }
        }
        if (r.ec) close();
        co_return r;
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
        buffer_.clear();
        open_ = false;
    }

  private:
    beast::tcp_stream stream_;
    tcp::endpoint ep_;
    std::chrono::milliseconds timeout_;
    beast::flat_buffer buffer_;
    bool open_ = false;
};

net::awaitable<void> sleep_for(std::chrono::microseconds d) {
    net::steady_timer t(co_await net::this_coro::executor);
    t.expires_after(d);
    beast::error_code ignored;
    co_await t.async_wait(net::redirect_error(net::use_awaitable, ignored));
}

std::string describe(http::verb verb, std::string_view target, const Reply& r) {
    if (r.ec) return fmt::format("{} {}: {}", http::to_string(verb), target, r.ec.message());
    return fmt::format("{} {}: {} {}", http::to_string(verb), target, r.status,
                       r.body.substr(0, 300));
}

// ---------------------------------------------------------------- the measured run

struct ErrorLog {
    std::mutex mutex;
    std::vector<std::string> samples;
    void add(std::string what) {
        std::lock_guard lock(mutex);
        if (samples.size() < kErrorSamplesMax) samples.push_back(std::move(what));
    }
};

// When to measure and when to stop starting new flows.
struct Control {
    Clock::time_point window_start, window_end, stop_at;
    bool limited = false;                 // a flow budget instead of a duration
    std::atomic<std::int64_t> budget{0};  // flows left to start when limited
    std::atomic<bool> abort{false};

    bool next_flow() {
        if (abort.load(std::memory_order_relaxed) || Clock::now() >= stop_at) return false;
        return !limited || budget.fetch_sub(1, std::memory_order_relaxed) > 0;
    }
    bool in_window(Clock::time_point t) const { return t >= window_start && t < window_end; }
};

struct Worker {
    Worker(net::io_context& ioc, int i, const tcp::endpoint& ep, const Options& o, Control& c,
           ErrorLog& log, std::size_t kinds)
        : index(i),
          strand(net::make_strand(ioc)),
          conn(strand, ep, o.timeout()),
          rng(o.seed * 1'000'003ULL + static_cast<std::uint64_t>(i)),
          ctl(c),
          errors_log(log),
          latencies_ns(kinds) {}

    // Latency of a successful call, kept when it finished inside the measured window.
    void record(std::size_t kind, Clock::time_point t0, Clock::time_point t1) {
        if (ctl.in_window(t1)) latencies_ns[kind].push_back((t1 - t0).count());
    }
    // Counts and samples a failed call; true when the call succeeded.
    bool check(http::verb verb, std::string_view target, const Reply& r) {
        if (r.ok()) return true;
        ++errors;
        errors_log.add(describe(verb, target, r));
        return false;
    }
    void flow_failed(std::string what) {
        ++flow_errors;
        errors_log.add(std::move(what));
    }
    void flow_done(Clock::time_point t) {
        if (ctl.in_window(t)) ++flows;
    }
    // After a socket error the server may be gone: don't spin.
    net::awaitable<void> backoff(const Reply& r) {
        if (r.ec) co_await sleep_for(kSocketErrorBackoff);
    }

    int index;
    net::strand<net::io_context::executor_type> strand;
    Conn conn;
    std::mt19937_64 rng;
    Control& ctl;
    ErrorLog& errors_log;
    std::vector<std::vector<std::int64_t>> latencies_ns;
    std::uint64_t flows = 0, errors = 0, flow_errors = 0;
};

struct Kind {
    std::string name;
    bool request = true;  // false: a derived time (confirm -> paid), not a request
};

struct LoadResult {
    double window_s = 0;
    std::vector<std::vector<std::int64_t>> latencies_ns;  // per kind, sorted
    std::uint64_t flows = 0, errors = 0, flow_errors = 0, stuck = 0;
    double server_cpu_s = 0;
    std::vector<std::string> samples;
};

using Body = std::function<net::awaitable<void>(Worker&)>;

struct LoadSpec {
    int workers = 1;
    double warmup_s = 0;
    double duration_s = 1;
    std::optional<std::int64_t> flow_budget;  // stop after this many flows instead
    std::size_t kinds = 1;
    std::function<double()> server_cpu = [] { return 0.0; };
};

LoadResult run_load(const Options& o, const tcp::endpoint& ep, const LoadSpec& spec,
                    const Body& body) {
    LoadResult out;
    ErrorLog log;
    Control ctl;
    const auto t0 = Clock::now();
    const auto as_duration = [](double s) {
        return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
    };
    ctl.window_start = t0 + as_duration(spec.warmup_s);
    ctl.window_end = ctl.window_start + as_duration(spec.duration_s);
    ctl.stop_at = ctl.window_end;
    if (spec.flow_budget) {
        ctl.limited = true;
        ctl.budget = *spec.flow_budget;
    }
    std::atomic<int> done{0};
    net::io_context ioc(o.client_threads);
    {
        std::vector<std::unique_ptr<Worker>> workers;
        for (int i = 0; i < spec.workers; ++i) {
            workers.push_back(std::make_unique<Worker>(ioc, i, ep, o, ctl, log, spec.kinds));
        }
        for (auto& w : workers) {
            net::co_spawn(w->strand, body(*w), [&done, &log, wp = w.get()](std::exception_ptr e) {
                if (e) {
                    ++wp->errors;
                    try {
                        std::rethrow_exception(e);
                    } catch (const std::exception& ex) {
                        log.add(std::string("client: ") + ex.what());
                    }
                }
                ++done;
            });
        }
        std::vector<std::thread> threads;
        for (int i = 0; i < o.client_threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
        const auto all_done = [&] { return done.load() >= spec.workers; };

        std::this_thread::sleep_until(ctl.window_start);
        const double cpu0 = spec.server_cpu();
        while (Clock::now() < ctl.window_end && !all_done()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        const auto measured_end = std::min(Clock::now(), ctl.window_end);
        const double cpu1 = spec.server_cpu();
        out.window_s = std::chrono::duration<double>(measured_end - ctl.window_start).count();
        out.server_cpu_s = cpu1 - cpu0;

        // Flows in progress finish (each call is bounded by the timeout); then cancel.
        const auto drain_until = Clock::now() + o.timeout() * 2 + std::chrono::seconds(2);
        while (!all_done() && Clock::now() < drain_until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (!all_done()) {
            ctl.abort = true;
            for (auto& w : workers) net::post(w->strand, [wp = w.get()] { wp->conn.close(); });
            const auto cancel_until = Clock::now() + std::chrono::seconds(2);
            while (!all_done() && Clock::now() < cancel_until) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            out.stuck = static_cast<std::uint64_t>(spec.workers - done.load());
            if (out.stuck) log.add(fmt::format("{} clients did not finish in time", out.stuck));
            ioc.stop();
        }
        for (auto& t : threads) t.join();

        out.latencies_ns.resize(spec.kinds);
        for (auto& w : workers) {
            for (std::size_t k = 0; k < spec.kinds; ++k) {
                auto& dst = out.latencies_ns[k];
                dst.insert(dst.end(), w->latencies_ns[k].begin(), w->latencies_ns[k].end());
            }
            out.flows += w->flows;
            out.errors += w->errors;
            out.flow_errors += w->flow_errors;
        }
        for (auto& v : out.latencies_ns) std::sort(v.begin(), v.end());
    }
    out.samples = log.samples;
    return out;
}

// Runs `count` setup tasks over `concurrency` connections; the first failure stops them.
// Returns the first error, or nothing.
std::optional<std::string> run_tasks(
    const tcp::endpoint& ep, const Options& o, int count, int concurrency,
    const std::function<net::awaitable<std::optional<std::string>>(Conn&, int)>& task) {
    net::io_context ioc(1);
    int next = 0;
    std::optional<std::string> failure;
    std::vector<std::unique_ptr<Conn>> conns;
    for (int i = 0; i < std::min(concurrency, std::max(count, 1)); ++i) {
        conns.push_back(std::make_unique<Conn>(ioc.get_executor(), ep, o.timeout()));
        net::co_spawn(
            ioc,
            [&, c = conns.back().get()]() -> net::awaitable<void> {
                while (!failure && next < count) {
                    const int task_index = next++;
                    if (auto err = co_await task(*c, task_index)) {
                        if (!failure) failure = std::move(err);
                    }
                }
            },
            [&](std::exception_ptr e) {
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& ex) {
                    if (!failure) failure = std::string("setup: ") + ex.what();
                }
            });
    }
    const auto bound = o.timeout() * 2 + std::chrono::milliseconds(count) * 200;
    ioc.run_for(bound);
    if (!ioc.stopped()) {
        ioc.stop();
        if (!failure) failure = "setup did not finish in time";
    }
    return failure;
}

// One call during setup: the error text, or nothing when the status was `expected`.
net::awaitable<std::optional<std::string>> setup_call(Conn& c, http::verb verb,
                                                      std::string_view target,
                                                      std::string_view auth, std::string body,
                                                      int expected, Reply& out) {
    out = co_await c.call(verb, target, auth, std::move(body));
    if (out.status == expected && !out.ec) co_return std::nullopt;
    co_return "setup " + describe(verb, target, out);
}

// ---------------------------------------------------------------- servers

// `redloop serve` as a child process; SIGTERM (then SIGKILL) when destroyed.
class ServerProcess {
  public:
    ServerProcess(const Options& o, std::string name) : o_(o) {
        scratch_ = o.db.empty();
        work_ = fs::temp_directory_path() /
                fmt::format("redloop-load-bench-{}-{}", getpid(), std::move(name));
        fs::create_directories(work_);
        db_ = scratch_ ? (work_ / "bench.db").string() : o.db;
        log_ = (work_ / "server.log").string();
    }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    ~ServerProcess() { stop(); }

    // Starts the server and waits (bounded) until /readyz answers 200; false with a message.
    // Records how long that took (start-to-ready, polled every 2 ms) and the RSS then.
    bool start() {
        const auto started = Clock::now();
        pid_ = fork();
        if (pid_ < 0) return false;
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            setenv("REDLOOP_JWT_SECRET", kJwtSecret, 1);
            setenv("REDLOOP_WEBHOOK_SECRET", kWebhookSecret, 1);
            // Personal data is sealed at rest: a fixed bench key unless the caller sets one.
            setenv("REDLOOP_DATA_KEYS", "bench:cmVkbG9vcC1iZW5jaC1kYXRhLWtleS0zMi1ieXRlcyE=", 0);
            if (!freopen(log_.c_str(), "w", stderr)) _exit(126);
            if (!freopen("/dev/null", "w", stdout)) _exit(126);
            const std::string port = std::to_string(o_.port);
            const std::string threads = std::to_string(o_.server_threads);
            std::vector<const char*> args{o_.bin.c_str(),
                                          "--log-level",
                                          "warn",
                                          "serve",
                                          "--db",
                                          db_.c_str(),
                                          "--port",
                                          port.c_str(),
                                          "--threads",
                                          threads.c_str(),
                                          "--sandbox-webhook-delay",
                                          "0",
                                          "--checkout-rate-per-minute",
                                          "0"};
            if (!o_.statement_profile.empty()) {
                args.push_back("--statement-profile");
                args.push_back(o_.statement_profile.c_str());
            }
            args.push_back(nullptr);
            execv(o_.bin.c_str(), const_cast<char* const*>(args.data()));
            _exit(127);
        }
        const auto until = Clock::now() + std::chrono::seconds(30);
        while (Clock::now() < until) {
            int st = 0;
            if (waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                std::cerr << "the server exited at start; its log:\n" << log_tail() << "\n";
                return false;
            }
            if (healthy()) {
                const double ready_ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - started).count();
                startup_note_ = fmt::format(
                    "server start to ready (/readyz 200): {:.0f} ms, RSS then {:.1f} MB ({})",
                    ready_ms, static_cast<double>(rss()) / 1024.0,
                    scratch_ ? "scratch database" : "database " + db_);
                std::cerr << startup_note_ << "\n";
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        std::cerr << "the server did not answer /readyz in 30 s; its log:\n" << log_tail() << "\n";
        return false;
    }

    void stop() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            const auto until = Clock::now() + std::chrono::seconds(15);
            int st = 0;
            while (waitpid(pid_, &st, WNOHANG) == 0) {
                if (Clock::now() >= until) {
                    std::cerr << "the server ignored SIGTERM for 15 s; killing it\n";
                    kill(pid_, SIGKILL);
                    waitpid(pid_, &st, 0);
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            pid_ = -1;
        }
        if (!work_.empty()) {
            std::error_code ignored;
            fs::remove_all(work_, ignored);
            work_.clear();
        }
    }

    double cpu() const { return cpu_seconds(fmt::format("/proc/{}/stat", pid_)); }
    const std::string& startup_note() const { return startup_note_; }
    long rss() const { return rss_kb(fmt::format("/proc/{}/status", pid_)); }
    tcp::endpoint endpoint() const {
        return tcp::endpoint(net::ip::make_address("127.0.0.1"), o_.port);
    }

  private:
    bool healthy() {
        net::io_context ioc(1);
        Conn c(ioc.get_executor(), endpoint(), std::chrono::milliseconds(1000));
        bool ok = false;
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                auto r = co_await c.call(http::verb::get, "/readyz", {}, {});
                ok = r.status == 200;
            },
            net::detached);
        ioc.run_for(std::chrono::seconds(2));
        return ok;
    }
    std::string log_tail() const {
        std::ifstream in(log_);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
    }

    const Options& o_;
    bool scratch_ = true;
    fs::path work_;
    std::string db_, log_;
    pid_t pid_ = -1;
    std::string startup_note_;
};

class HelloSession : public std::enable_shared_from_this<HelloSession> {
  public:
    explicit HelloSession(tcp::socket socket) : stream_(std::move(socket)) {}
    void start() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
    }

  private:
    void read() {
        req_ = {};
        stream_.expires_after(std::chrono::seconds(60));
        http::async_read(
            stream_, buffer_, req_,
            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }
    void on_read(beast::error_code ec) {
        if (ec) return close();
        res_ = {};
        res_.result(http::status::ok);
        res_.version(11);
        res_.set(http::field::content_type, "text/plain");
        res_.body() = "hello";
        res_.keep_alive(req_.keep_alive());
        res_.prepare_payload();
        http::async_write(stream_, res_,
                          [self = shared_from_this()](beast::error_code e, std::size_t) {
                              if (e || !self->res_.keep_alive()) return self->close();
                              self->read();
                          });
    }
    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
};

// The reference point: the least an async Beast server can do per request.
class HelloServer {
  public:
    HelloServer(unsigned short port, int threads)
        : ioc_(threads), acceptor_(net::make_strand(ioc_)) {
        const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(net::socket_base::max_listen_connections);
        accept();
        for (int i = 0; i < threads; ++i) {
            threads_.emplace_back([this] {
                {
                    std::lock_guard lock(mutex_);
                    tids_.push_back(this_thread_id());
                }
                ioc_.run();
            });
        }
    }
    HelloServer(const HelloServer&) = delete;
    HelloServer& operator=(const HelloServer&) = delete;
    ~HelloServer() {
        ioc_.stop();
        for (auto& t : threads_) t.join();
    }
    double cpu() {
        std::lock_guard lock(mutex_);
        double s = 0;
        for (const auto tid : tids_) s += cpu_seconds(fmt::format("/proc/self/task/{}/stat", tid));
        return s;
    }

  private:
    void accept() {
        acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
            if (ec == net::error::operation_aborted) return;
            if (!ec) {
                beast::error_code ignored;
                s.set_option(tcp::no_delay(true), ignored);
                std::make_shared<HelloSession>(std::move(s))->start();
            }
            accept();
        });
    }

    net::io_context ioc_;
    tcp::acceptor acceptor_;
    std::vector<std::thread> threads_;
    std::mutex mutex_;
    std::vector<pid_t> tids_;
};

// ---------------------------------------------------------------- results

struct Percentiles {
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

Percentiles percentiles(const std::vector<std::int64_t>& sorted) {
    Percentiles p;
    if (sorted.empty()) return p;
    const auto at = [&](double q) {
        // nearest rank: the smallest value with at least q of the samples at or below it
        const auto n = sorted.size();
        auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
        rank = std::clamp<std::size_t>(rank, 1, n);
        return static_cast<double>(sorted[rank - 1]) / 1e6;
    };
    p.p50 = at(0.50);
    p.p90 = at(0.90);
    p.p99 = at(0.99);
    p.max = static_cast<double>(sorted.back()) / 1e6;
    return p;
}

struct Row {
    std::string scenario, call;
    std::uint64_t requests = 0;
    double rps = 0;
    std::optional<double> flows_per_s;
    Percentiles lat;
    std::optional<std::uint64_t> errors;
    std::optional<double> cpu_pct;
    std::optional<double> rss_mb;
    bool failed = false;  // the scenario could not run: no figures
};

struct ScenarioResult {
    std::string name;
    bool ok = true;
    std::vector<Row> rows;
    std::vector<std::string> notes;  // extra lines (ratio, merchant)
    double rps = 0;
};

// The rows of one measured run: a total row and, with several kinds, one per kind.
ScenarioResult summarize(const std::string& scenario, const std::vector<Kind>& kinds,
                         const LoadResult& r, bool has_flows, long rss_kb_end) {
    ScenarioResult s;
    s.name = scenario;
    const double w = r.window_s > 0 ? r.window_s : 1;
    std::vector<std::int64_t> all;
    std::uint64_t requests = 0;
    for (std::size_t k = 0; k < kinds.size(); ++k) {
        if (!kinds[k].request) continue;
        requests += r.latencies_ns[k].size();
        all.insert(all.end(), r.latencies_ns[k].begin(), r.latencies_ns[k].end());
    }
    std::sort(all.begin(), all.end());
    Row total;
    total.scenario = scenario;
    total.call = kinds.size() == 1 ? kinds[0].name : "all calls";
    total.requests = requests;
    total.rps = static_cast<double>(requests) / w;
    if (has_flows) total.flows_per_s = static_cast<double>(r.flows) / w;
    total.lat = percentiles(all);
    total.errors = r.errors + r.flow_errors + r.stuck;
    total.cpu_pct = 100.0 * r.server_cpu_s / w;
    if (rss_kb_end > 0) total.rss_mb = static_cast<double>(rss_kb_end) / 1024.0;
    s.rps = total.rps;
    s.rows.push_back(total);
    if (kinds.size() > 1) {
        for (std::size_t k = 0; k < kinds.size(); ++k) {
            Row row;
            row.scenario = scenario;
            row.call = kinds[k].name;
            row.requests = kinds[k].request ? r.latencies_ns[k].size() : 0;
            row.rps = static_cast<double>(row.requests) / w;
            if (!kinds[k].request)
                row.flows_per_s = static_cast<double>(r.latencies_ns[k].size()) / w;
            row.lat = percentiles(r.latencies_ns[k]);
            s.rows.push_back(row);
        }
    }
    s.ok = total.errors == 0 && requests > 0 && (!has_flows || r.flows > 0);
    if (requests == 0) s.notes.push_back("nothing was measured: no request finished in the window");
    if (has_flows && r.flows == 0) s.notes.push_back("no flow finished in the window");
    if (r.errors + r.flow_errors + r.stuck > 0) {
        s.notes.push_back(fmt::format("errors: {} failed calls, {} failed flows, {} stuck clients",
                                      r.errors, r.flow_errors, r.stuck));
    }
    for (const auto& e : r.samples) s.notes.push_back("  " + e);
    return s;
}

ScenarioResult failed(const std::string& scenario, std::string why) {
    ScenarioResult s;
    s.name = scenario;
    s.ok = false;
    Row row;
    row.scenario = scenario;
    row.call = "FAILED (see below)";
    row.errors = 1;
    row.failed = true;
    s.rows.push_back(row);
    s.notes.push_back(std::move(why));
    return s;
}

std::string opt(const std::optional<double>& v, const char* spec = "{:.1f}") {
    return v ? fmt::format(fmt::runtime(spec), *v) : std::string("-");
}

std::vector<std::vector<std::string>> table_cells(const std::vector<ScenarioResult>& results) {
    std::vector<std::vector<std::string>> cells;
    cells.push_back({"scenario", "call", "requests", "req/s", "flows/s", "p50 ms", "p90 ms",
                     "p99 ms", "max ms", "errors", "server CPU %", "server RSS MB"});
    for (const auto& s : results) {
        for (const auto& r : s.rows) {
            if (r.failed) {
                std::vector<std::string> row(cells[0].size(), "-");
                row[0] = r.scenario;
                row[1] = r.call;
                row[9] = "1";
                cells.push_back(std::move(row));
                continue;
            }
            cells.push_back({r.scenario, r.call, r.requests ? std::to_string(r.requests) : "-",
                             r.requests ? fmt::format("{:.0f}", r.rps) : "-", opt(r.flows_per_s),
                             fmt::format("{:.2f}", r.lat.p50), fmt::format("{:.2f}", r.lat.p90),
                             fmt::format("{:.2f}", r.lat.p99), fmt::format("{:.2f}", r.lat.max),
                             r.errors ? std::to_string(*r.errors) : "", opt(r.cpu_pct, "{:.0f}"),
                             opt(r.rss_mb)});
        }
    }
    return cells;
}

void print_table(std::ostream& out, const std::vector<ScenarioResult>& results) {
    const auto cells = table_cells(results);
    std::vector<std::size_t> width(cells[0].size(), 0);
    for (const auto& row : cells) {
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    for (const auto& row : cells) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += i < 2 ? fmt::format("{:<{}}  ", row[i], width[i])
                          : fmt::format("{:>{}}  ", row[i], width[i]);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out << line << "\n";
    }
}

void append_markdown(const Options& o, const std::string& path,
                     const std::vector<ScenarioResult>& results) {
    std::ofstream out(path, std::ios::app);
    const auto now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", &tm);
    out << fmt::format(
        "\n### redloop-load-bench, {}\n\n`--scenario {} --connections {} --duration {} --warmup {} "
        "--server-threads {} --client-threads {}`{} on {} cores\n\n",
        date, o.scenario, o.connections, o.duration_s, o.warmup_s, o.server_threads,
        o.client_threads, o.db.empty() ? "" : " with `--db`", std::thread::hardware_concurrency());
    const auto cells = table_cells(results);
    for (std::size_t r = 0; r < cells.size(); ++r) {
        out << "|";
        for (const auto& c : cells[r]) out << " " << c << " |";
        out << "\n";
        if (r == 0) {
            out << "|";
            for (std::size_t i = 0; i < cells[r].size(); ++i) out << (i < 2 ? "---|" : "---:|");
            out << "\n";
        }
    }
    for (const auto& s : results) {
        for (const auto& n : s.notes) {
            if (n.rfind("  ", 0) != 0) out << "\n" << s.name << ": " << n << "\n";
        }
    }
}

// ---------------------------------------------------------------- scenarios

struct Sku {
    std::string id;
    std::size_t merchant = 0;
};

struct Catalog {
    std::vector<std::string> merchants;        // ids
    std::vector<std::string> merchant_tokens;  // "Bearer ..."
    std::vector<Sku> skus;
};

// Merchants and their products: `per_merchant[m]` SKUs for merchant m, 10 SKUs a product.
std::optional<std::string> create_catalog(const Options& o, const tcp::endpoint& ep,
                                          const std::string& tag, const std::string& prefix,
                                          const std::vector<int>& per_merchant, std::int64_t stock,
                                          Catalog& out) {
    constexpr int kSkusPerProduct = 10;
    struct ProductJob {
        std::size_t merchant;
        int skus;
    };
    std::vector<ProductJob> jobs;
    for (std::size_t m = 0; m < per_merchant.size(); ++m) {
        const auto id = fmt::format("mer_{}{}{}", tag, prefix, m);
        out.merchants.push_back(id);
        out.merchant_tokens.push_back(bearer(api::Role::merchant, id));
        for (int left = per_merchant[m]; left > 0; left -= kSkusPerProduct) {
            jobs.push_back({m, std::min(left, kSkusPerProduct)});
        }
    }
    std::mutex mutex;
    return run_tasks(
        ep, o, static_cast<int>(jobs.size()), 8,
        [&](Conn& c, int i) -> net::awaitable<std::optional<std::string>> {
            const auto& job = jobs[static_cast<std::size_t>(i)];
            std::string skus;
            for (int k = 0; k < job.skus; ++k) {
                skus += fmt::format(
                    R"({}{{"title":"size {}","price":{{"amount":{},"currency":"CNY"}},"stock":{}}})",
                    k ? "," : "", k, 1990 + 100 * ((i + k) % 50), stock);
            }
            Reply r;
            auto err = co_await setup_call(
                c, http::verb::post, "/v1/products", out.merchant_tokens[job.merchant],
                fmt::format(
                    R"({{"title":"Load bench product {}","description":"made by redloop-load-bench","media":[],"skus":[{}]}})",
                    i, skus),
                201, r);
            if (err) co_return err;
            const auto v = parse_json(r.body);
            const auto* arr = v ? v->as_object().if_contains("skus") : nullptr;
            if (!arr || !arr->is_array()) co_return "product without skus: " + r.body;
            std::lock_guard lock(mutex);
            for (const auto& s : arr->as_array()) {
                out.skus.push_back({json_string(s, {"id"}), job.merchant});
            }
            co_return std::nullopt;
        });
}

// Notes by users: note i tags the SKUs `tags(i)`. Returns ids in the order of i.
std::optional<std::string> create_notes(const Options& o, const tcp::endpoint& ep,
                                        const std::vector<std::string>& author_tokens, int count,
                                        const std::function<std::vector<std::string>(int)>& tags,
                                        std::vector<std::string>& ids) {
    ids.assign(static_cast<std::size_t>(count), {});
    return run_tasks(
        ep, o, count, 8, [&](Conn& c, int i) -> net::awaitable<std::optional<std::string>> {
            std::string products;
            for (const auto& sku : tags(i)) {
                products += fmt::format(R"({}{{"sku_id":"{}"}})", products.empty() ? "" : ",", sku);
            }
            Reply r;
            auto err = co_await setup_call(
                c, http::verb::post, "/v1/notes",
                author_tokens[static_cast<std::size_t>(i) % author_tokens.size()],
                fmt::format(
                    R"({{"title":"Note {}","body":"What I bought and why, number {}.","media":[],"products":[{}]}})",
                    i, i, products),
                201, r);
            if (err) co_return err;
            const auto v = parse_json(r.body);
            auto id = v ? json_string(*v, {"id"}) : std::string();
            if (id.empty()) co_return "note without id: " + r.body;
            ids[static_cast<std::size_t>(i)] = std::move(id);
            co_return std::nullopt;
        });
}

std::vector<int> spread(int total, int merchants) {
    std::vector<int> per(static_cast<std::size_t>(merchants), total / merchants);
    for (int i = 0; i < total % merchants; ++i) ++per[static_cast<std::size_t>(i)];
    return per;
}

ScenarioResult scenario_hello(const Options& o) {
    const auto port = static_cast<unsigned short>(o.port + 1);
    std::unique_ptr<HelloServer> server;
    try {
        server = std::make_unique<HelloServer>(port, o.server_threads);
    } catch (const boost::system::system_error& e) {
        return failed("hello",
                      fmt::format("hello server on port {}: {}", port, e.code().message()));
    } catch (const std::exception& e) {
        return failed("hello", fmt::format("hello server on port {}: {}", port, e.what()));
    }
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
    std::cerr << "hello: load\n";
    LoadSpec spec;
    spec.workers = o.connections;
    spec.warmup_s = o.warmup_s;
    spec.duration_s = o.duration_s;
    spec.server_cpu = [&] { return server->cpu(); };
    const auto r = run_load(o, ep, spec, [](Worker& w) -> net::awaitable<void> {
        while (w.ctl.next_flow()) {
            const auto t0 = Clock::now();
            auto reply = co_await w.conn.call(http::verb::get, "/", {}, {});
            if (w.check(http::verb::get, "/", reply)) {
                w.record(0, t0, Clock::now());
            } else {
                co_await w.backoff(reply);
            }
        }
    });
    auto s = summarize("hello", {{"GET /"}}, r, false, rss_kb("/proc/self/status"));
    s.notes.push_back("hello server: in this process on port " + std::to_string(port) +
                      "; its RSS is the whole bench process");
    return s;
}

ScenarioResult scenario_notes(const Options& o) {
    ServerProcess server(o, "notes");
    if (!server.start()) return failed("notes", "the server did not start");
    const auto ep = server.endpoint();
    const auto tag = run_tag(o.seed);
    std::cerr << fmt::format("notes: setup {} merchants, {} skus, {} notes\n", o.merchants, o.skus,
                             o.notes);
    Catalog catalog;
    if (auto err =
            create_catalog(o, ep, tag, "m", spread(o.skus, o.merchants), 1'000'000, catalog)) {
        return failed("notes", *err);
    }
    std::vector<std::string> authors;
    for (int i = 0; i < std::max(1, o.notes / 10); ++i) {
        authors.push_back(bearer(api::Role::user, fmt::format("usr_{}a{}", tag, i)));
    }
    std::mt19937_64 rng(o.seed);
    std::vector<std::vector<std::string>> tags(static_cast<std::size_t>(o.notes));
    for (auto& t : tags) {
        const auto n = 1 + rng() % 3;
        for (std::size_t k = 0; k < n; ++k)
            t.push_back(catalog.skus[rng() % catalog.skus.size()].id);
        std::sort(t.begin(), t.end());
        t.erase(std::unique(t.begin(), t.end()), t.end());
    }
    std::vector<std::string> notes;
    if (auto err = create_notes(
            o, ep, authors, o.notes, [&](int i) { return tags[static_cast<std::size_t>(i)]; },
            notes)) {
        return failed("notes", *err);
    }
    std::vector<std::string> targets;
    for (const auto& id : notes) targets.push_back("/v1/notes/" + id);
    const std::size_t hot = std::max<std::size_t>(1, targets.size() / 10);

    std::cerr << "notes: load\n";
    LoadSpec spec;
    spec.workers = o.connections;
    spec.warmup_s = o.warmup_s;
    spec.duration_s = o.duration_s;
    spec.server_cpu = [&] { return server.cpu(); };
    const auto r = run_load(o, ep, spec, [&](Worker& w) -> net::awaitable<void> {
        std::uniform_real_distribution<double> coin(0, 1);
        std::uniform_int_distribution<std::size_t> in_hot(0, hot - 1);
        std::uniform_int_distribution<std::size_t> in_cold(hot, std::max(hot, targets.size() - 1));
        while (w.ctl.next_flow()) {
            const auto i =
                (coin(w.rng) < 0.9 || hot >= targets.size()) ? in_hot(w.rng) : in_cold(w.rng);
            const auto& target = targets[i];
            const auto t0 = Clock::now();
            auto reply = co_await w.conn.call(http::verb::get, target, {}, {});
            if (w.check(http::verb::get, target, reply)) {
                w.record(0, t0, Clock::now());
            } else {
                co_await w.backoff(reply);
            }
        }
    });
    auto s = summarize("notes", {{"GET /v1/notes/{id}"}}, r, false, server.rss());
    s.notes.push_back(server.startup_note());
    return s;
}

// A merchant with orders and the server that has them, handed from checkout to orders.
struct OrdersSource {
    std::unique_ptr<ServerProcess> server;
    std::string merchant;
};

struct CheckoutSetup {
    std::string tag;
    Catalog catalog;
    std::size_t hot = 0;                 // catalog.skus[0..hot) are the hot ones
    std::vector<std::string> sku_notes;  // the note tagging catalog.skus[i]
    std::vector<std::string> buyer_tokens;
};

std::optional<std::string> setup_checkout(const Options& o, const tcp::endpoint& ep,
                                          CheckoutSetup& s, int buyers) {
    s.tag = run_tag(o.seed + 1);
    // Merchant 0 sells the hot SKUs (big stock) and so gets most orders; the cold ones are
    // spread over all merchants.
    Catalog hot, cold;
    if (auto err = create_catalog(o, ep, s.tag, "h", {o.hot_skus}, 10'000'000, hot)) return err;
    if (auto err =
            create_catalog(o, ep, s.tag, "c", spread(o.skus, o.merchants), 1'000'000, cold)) {
        return err;
    }
    s.catalog = hot;
    s.hot = hot.skus.size();
    for (auto sku : cold.skus) {
        sku.merchant += hot.merchants.size();
        s.catalog.skus.push_back(std::move(sku));
    }
    s.catalog.merchants.insert(s.catalog.merchants.end(), cold.merchants.begin(),
                               cold.merchants.end());
    s.catalog.merchant_tokens.insert(s.catalog.merchant_tokens.end(), cold.merchant_tokens.begin(),
                                     cold.merchant_tokens.end());
    std::vector<std::string> creators;
    for (int i = 0; i < 10; ++i) {
        creators.push_back(bearer(api::Role::user, fmt::format("usr_{}k{}", s.tag, i)));
    }
    if (auto err = create_notes(
            o, ep, creators, static_cast<int>(s.catalog.skus.size()),
            [&](int i) {
                return std::vector<std::string>{s.catalog.skus[static_cast<std::size_t>(i)].id};
            },
            s.sku_notes)) {
        return err;
    }
    for (int i = 0; i < buyers; ++i) {
        s.buyer_tokens.push_back(bearer(api::Role::user, fmt::format("usr_{}b{}", s.tag, i)));
    }
    return std::nullopt;
}

enum CheckoutKind : std::size_t { kCart, kCheckout, kConfirm, kPoll, kPaid, kCheckoutKinds };

// The complete purchase, one flow per loop: cart line, checkout, confirm, poll until paid.
Body checkout_body(const Options& o, const CheckoutSetup& s) {
    return [&o, &s](Worker& w) -> net::awaitable<void> {
        const std::string address =
            R"({"shipping_address":{"name":"Load Bench","phone":"+86 138 0000 0000","line1":"1 Test Road","city":"Shanghai","postal_code":"200000","country":"CN"}})";
        const std::string card = R"({"card_number":"4242424242424242"})";
        const std::size_t workers = static_cast<std::size_t>(o.connections);
        std::size_t user = static_cast<std::size_t>(w.index);
        std::uniform_real_distribution<double> coin(0, 1);
        std::uniform_int_distribution<std::size_t> in_hot(0, s.hot - 1);
        std::uniform_int_distribution<std::size_t> in_cold(
            s.hot, std::max(s.hot, s.catalog.skus.size() - 1));
        std::uint64_t n = 0;
        while (w.ctl.next_flow()) {
            const auto& auth = s.buyer_tokens[user];
            user += workers;
            if (user >= s.buyer_tokens.size()) user = static_cast<std::size_t>(w.index);
            const auto k = (coin(w.rng) < 0.7 || s.hot >= s.catalog.skus.size()) ? in_hot(w.rng)
                                                                                 : in_cold(w.rng);

            const auto cart_target = "/v1/cart/items/" + s.catalog.skus[k].id;
            auto t0 = Clock::now();
            auto r = co_await w.conn.call(
                http::verb::put, cart_target, auth,
                fmt::format(R"({{"quantity":1,"note_id":"{}"}})", s.sku_notes[k]));
            if (!w.check(http::verb::put, cart_target, r)) {
                co_await w.backoff(r);
                continue;
            }
            w.record(kCart, t0, Clock::now());

            const auto key = fmt::format("{}-{}-{}", s.tag, w.index, n++);
            t0 = Clock::now();
            r = co_await w.conn.call(http::verb::post, "/v1/checkouts", auth, address, key);
            if (!w.check(http::verb::post, "/v1/checkouts", r)) {
                co_await w.backoff(r);
                continue;
            }
            w.record(kCheckout, t0, Clock::now());
            const auto checkout = parse_json(r.body);
            const auto payment = checkout ? json_string(*checkout, {"payment", "id"}) : "";
            if (payment.empty()) {
                w.flow_failed("checkout without a payment id: " + r.body.substr(0, 300));
                continue;
            }

            const auto confirm_target = "/v1/payments/" + payment + "/confirm";
            const auto t_confirm = Clock::now();
            r = co_await w.conn.call(http::verb::post, confirm_target, auth, card);
            if (!w.check(http::verb::post, confirm_target, r)) {
                co_await w.backoff(r);
                continue;
            }
            w.record(kConfirm, t_confirm, Clock::now());
            auto confirmed = parse_json(r.body);
            std::string status = confirmed ? json_string(*confirmed, {"status"}) : "";

            // The sandbox provider sends the signed webhook to the server; poll until it landed.
            const auto poll_target = "/v1/payments/" + payment;
            const auto give_up = t_confirm + o.timeout();
            auto pause = std::chrono::microseconds(2000);
            while (status != "succeeded" && status != "failed" && Clock::now() < give_up &&
                   !w.ctl.abort) {
                co_await sleep_for(pause);
                pause = std::chrono::microseconds(5000);
                t0 = Clock::now();
                r = co_await w.conn.call(http::verb::get, poll_target, auth, {});
                if (!w.check(http::verb::get, poll_target, r)) break;
                w.record(kPoll, t0, Clock::now());
                const auto v = parse_json(r.body);
                status = v ? json_string(*v, {"status"}) : "";
            }
            if (status == "succeeded") {
                const auto paid = Clock::now();
                w.record(kPaid, t_confirm, paid);
                w.flow_done(paid);
            } else if (r.ok()) {
                w.flow_failed(
                    fmt::format("payment {} is '{}' {:.1f} s after confirm", payment, status,
                                std::chrono::duration<double>(Clock::now() - t_confirm).count()));
            } else {
                co_await w.backoff(r);
            }
        }
    };
}

const std::vector<Kind>& checkout_kinds() {
    static const std::vector<Kind> kinds{{"PUT cart item"},
                                         {"POST checkout"},
                                         {"POST confirm"},
                                         {"GET payment (poll)"},
                                         {"confirm -> paid", false}};
    return kinds;
}

ScenarioResult scenario_checkout(const Options& o, OrdersSource* keep) {
    auto server = std::make_unique<ServerProcess>(o, "checkout");
    if (!server->start()) return failed("checkout", "the server did not start");
    const auto ep = server->endpoint();
    const int buyers = std::max(o.users, o.connections);
    std::cerr << fmt::format("checkout: setup {} hot + {} cold skus, {} buyers\n", o.hot_skus,
                             o.skus, buyers);
    CheckoutSetup setup;
    if (auto err = setup_checkout(o, ep, setup, buyers)) return failed("checkout", *err);

    std::cerr << "checkout: load\n";
    LoadSpec spec;
    spec.workers = o.connections;
    spec.warmup_s = o.warmup_s;
    spec.duration_s = o.duration_s;
    spec.kinds = kCheckoutKinds;
    spec.server_cpu = [&] { return server->cpu(); };
    const auto r = run_load(o, ep, spec, checkout_body(o, setup));
    auto s = summarize("checkout", checkout_kinds(), r, true, server->rss());
    s.notes.push_back(server->startup_note());
    std::uint64_t polls = r.latencies_ns[kPoll].size();
    std::uint64_t paid = r.latencies_ns[kPaid].size();
    s.notes.push_back(fmt::format(
        "{:.2f} polls per paid checkout; {} hot skus get 70% of buys",
        paid ? static_cast<double>(polls) / static_cast<double>(paid) : 0.0, setup.hot));
    if (keep && s.ok) {
        keep->server = std::move(server);
        keep->merchant = setup.catalog.merchants[0];
    }
    return s;
}

// With --db: the merchant with the most orders among the newest ones (admin listing).
std::optional<std::string> busiest_merchant(const Options& o, const tcp::endpoint& ep,
                                            const std::string& tag, std::string& merchant) {
    const auto admin = bearer(api::Role::admin, fmt::format("usr_{}admin", tag));
    std::map<std::string, int> counts;
    auto err =
        run_tasks(ep, o, 1, 1, [&](Conn& c, int) -> net::awaitable<std::optional<std::string>> {
            std::string cursor;
            for (int page = 0; page < 20; ++page) {
                const auto target = "/v1/orders?limit=100" +
                                    (cursor.empty() ? "" : "&cursor=" + percent_encode(cursor));
                Reply r;
                if (auto e = co_await setup_call(c, http::verb::get, target, admin, {}, 200, r))
                    co_return e;
                const auto v = parse_json(r.body);
                if (!v || !v->is_object()) co_return "orders listing is not JSON";
                const auto* data = v->as_object().if_contains("data");
                if (!data || !data->is_array()) co_return "orders listing without data";
                for (const auto& order : data->as_array())
                    ++counts[json_string(order, {"merchant_id"})];
                cursor = json_string(*v, {"next_cursor"});
                if (cursor.empty()) break;
            }
            co_return std::nullopt;
        });
    if (err) return err;
    int best = 0;
    for (const auto& [id, n] : counts) {
        if (n > best && !id.empty()) {
            best = n;
            merchant = id;
        }
    }
    if (merchant.empty()) return "the database has no orders";
    return std::nullopt;
}

std::string next_cursor(const std::string& body) {
    const auto p = body.rfind("\"next_cursor\":");
    if (p == std::string::npos) return {};
    auto q = p + 14;
    if (q >= body.size() || body[q] != '"') return {};  // null
    const auto end = body.find('"', q + 1);
    if (end == std::string::npos) return {};
    return body.substr(q + 1, end - q - 1);
}

ScenarioResult scenario_orders(const Options& o, OrdersSource* given) {
    OrdersSource source;
    if (given && given->server) source = std::move(*given);
    if (!source.server) {
        source.server = std::make_unique<ServerProcess>(o, "orders");
        if (!source.server->start()) return failed("orders", "the server did not start");
    }
    auto& server = *source.server;
    const auto ep = server.endpoint();
    if (!o.orders_merchant.empty()) {
        source.merchant = o.orders_merchant;
    } else if (source.merchant.empty() && !o.db.empty()) {
        if (auto err = busiest_merchant(o, ep, run_tag(o.seed + 2), source.merchant)) {
            std::cerr << "orders: " << *err << "; making orders first\n";
            source.merchant.clear();
        }
    }
    if (source.merchant.empty()) {
        // Nobody has orders yet: buy some (unmeasured) with the checkout flow.
        const int buyers = std::max(o.users, o.connections);
        std::cerr << fmt::format("orders: setup {} checkouts\n", o.orders_setup);
        CheckoutSetup setup;
        if (auto err = setup_checkout(o, ep, setup, buyers)) return failed("orders", *err);
        LoadSpec spec;
        spec.workers = o.connections;
        spec.duration_s = 600;
        spec.flow_budget = o.orders_setup;
        spec.kinds = kCheckoutKinds;
        const auto r = run_load(o, ep, spec, checkout_body(o, setup));
        if (r.errors + r.flow_errors + r.stuck > 0) {
            auto s = summarize("orders", checkout_kinds(), r, true, -1);
            auto f = failed("orders", "the checkouts that make the orders failed");
            f.notes.insert(f.notes.end(), s.notes.begin(), s.notes.end());
            return f;
        }
        source.merchant = setup.catalog.merchants[0];
    }
    const auto token = bearer(api::Role::merchant, source.merchant);
    const std::string first = "/v1/orders?limit=50";

    std::cerr << fmt::format("orders: load, merchant {}\n", source.merchant);
    LoadSpec spec;
    spec.workers = o.connections;
    spec.warmup_s = o.warmup_s;
    spec.duration_s = o.duration_s;
    spec.server_cpu = [&] { return server.cpu(); };
    std::atomic<std::uint64_t> empty_first_pages{0};
    const auto r = run_load(o, ep, spec, [&](Worker& w) -> net::awaitable<void> {
        while (w.ctl.next_flow()) {
            std::string target = first;
            bool ok = true;
            for (int page = 0; page < o.pages; ++page) {
                const auto t0 = Clock::now();
                auto reply = co_await w.conn.call(http::verb::get, target, token, {});
                if (!w.check(http::verb::get, target, reply)) {
                    co_await w.backoff(reply);
                    ok = false;
                    break;
                }
                w.record(0, t0, Clock::now());
                if (page == 0 && reply.body.find("\"id\"") == std::string::npos)
                    ++empty_first_pages;
                const auto cursor = next_cursor(reply.body);
                if (cursor.empty()) break;
                target = first + "&cursor=" + percent_encode(cursor);
            }
            if (ok) w.flow_done(Clock::now());
        }
    });
    auto s = summarize("orders", {{"GET /v1/orders page"}}, r, true, server.rss());
    s.notes.push_back(fmt::format("merchant {}; a flow is one walk of up to {} pages of 50",
                                  source.merchant, o.pages));
    if (!server.startup_note().empty()) s.notes.push_back(server.startup_note());
    if (empty_first_pages > 0) {
        s.ok = false;
        s.notes.push_back("the merchant has no orders: the first page was empty");
    }
    return s;
}

// ---------------------------------------------------------------- hot: a flash sale

enum HotKind : std::size_t { kHotCart, kHotCreated, kHotSoldOut, kHotKinds };

// Every connection races for one SKU: cart line of 1, then checkout (never paid: the units
// stay reserved). A merchant adds --hot-restock units every 100 ms, so the race goes on: some
// checkouts get a unit (201), the rest 409 out_of_stock; when nothing is available the cart
// line is refused out_of_stock already.
ScenarioResult scenario_hot(const Options& o) {
    ServerProcess server(o, "hot");
    if (!server.start()) return failed("hot", "the server did not start");
    const auto ep = server.endpoint();
    const auto tag = run_tag(o.seed + 3);
    const int buyers = std::max(o.users, o.connections);
    std::cerr << fmt::format("hot: setup 1 sku of {} units (+{} every 100 ms), {} buyers\n",
                             o.hot_stock, o.hot_restock, buyers);
    Catalog catalog;
    if (auto err = create_catalog(o, ep, tag, "f", {1}, o.hot_stock, catalog)) {
        return failed("hot", *err);
    }
    const auto sku = catalog.skus.at(0).id;
    const auto merchant = catalog.merchant_tokens.at(0);
    std::vector<std::string> tokens;
    for (int i = 0; i < buyers; ++i) {
        tokens.push_back(bearer(api::Role::user, fmt::format("usr_{}f{}", tag, i)));
    }

    // The restocker: its own connection and thread, until the measurement ends.
    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> restocked{0};
    std::thread restocker([&] {
        if (o.hot_restock <= 0) return;
        net::io_context ioc(1);
        Conn c(ioc.get_executor(), ep, o.timeout());
        const auto target = "/v1/skus/" + sku + "/stock-adjustments";
        const auto body =
            fmt::format(R"({{"delta":{},"reason":"flash sale restock"}})", o.hot_restock);
        net::co_spawn(
            ioc,
            [&]() -> net::awaitable<void> {
                while (!stop.load()) {
                    co_await sleep_for(std::chrono::milliseconds(100));
                    const auto r = co_await c.call(http::verb::post, target, merchant, body);
                    if (r.ok()) restocked += o.hot_restock;
                }
            },
            net::detached);
        ioc.run();
    });

    std::atomic<std::uint64_t> cart_sold_out{0}, checkout_sold_out{0}, created{0};
    std::cerr << "hot: load\n";
    LoadSpec spec;
    spec.workers = o.connections;
    spec.warmup_s = o.warmup_s;
    spec.duration_s = o.duration_s;
    spec.kinds = kHotKinds;
    spec.server_cpu = [&] { return server.cpu(); };
    const auto r = run_load(o, ep, spec, [&](Worker& w) -> net::awaitable<void> {
        const std::string address =
            R"({"shipping_address":{"name":"Load Bench","phone":"+86 138 0000 0000","line1":"1 Test Road","city":"Shanghai","postal_code":"200000","country":"CN"}})";
        const std::string cart_target = "/v1/cart/items/" + sku;
        const std::size_t workers = static_cast<std::size_t>(o.connections);
        std::size_t user = static_cast<std::size_t>(w.index);
        std::uint64_t n = 0;
        while (w.ctl.next_flow()) {
            const auto& auth = tokens[user];
            user += workers;
            if (user >= tokens.size()) user = static_cast<std::size_t>(w.index);
            auto t0 = Clock::now();
            auto reply =
                co_await w.conn.call(http::verb::put, cart_target, auth, R"({"quantity":1})");
            auto t1 = Clock::now();
            if (reply.status == 409 && reply.body.find("out_of_stock") != std::string::npos) {
                w.record(kHotCart, t0, t1);
                if (w.ctl.in_window(t1)) ++cart_sold_out;
                w.flow_done(t1);
                continue;
            }
            if (!w.check(http::verb::put, cart_target, reply)) {
                co_await w.backoff(reply);
                continue;
            }
            w.record(kHotCart, t0, t1);
            const auto key = fmt::format("{}-{}-{}", tag, w.index, n++);
            t0 = Clock::now();
            reply = co_await w.conn.call(http::verb::post, "/v1/checkouts", auth, address, key);
            t1 = Clock::now();
            if (reply.status == 201) {
                w.record(kHotCreated, t0, t1);
                if (w.ctl.in_window(t1)) ++created;
            } else if (reply.status == 409 &&
                       reply.body.find("out_of_stock") != std::string::npos) {
                w.record(kHotSoldOut, t0, t1);
                if (w.ctl.in_window(t1)) ++checkout_sold_out;
            } else {
                w.check(http::verb::post, "/v1/checkouts", reply);
                co_await w.backoff(reply);
                continue;
            }
            w.flow_done(t1);
        }
    });
    stop = true;
    restocker.join();
    static const std::vector<Kind> kinds{
        {"PUT cart item"}, {"POST checkout -> 201"}, {"POST checkout -> 409 out_of_stock"}};
    auto s = summarize("hot", kinds, r, true, server.rss());
    std::vector<std::int64_t> checkouts = r.latencies_ns[kHotCreated];
    checkouts.insert(checkouts.end(), r.latencies_ns[kHotSoldOut].begin(),
                     r.latencies_ns[kHotSoldOut].end());
    std::sort(checkouts.begin(), checkouts.end());
    const auto p = percentiles(checkouts);
    const double w = r.window_s > 0 ? r.window_s : 1;
    s.notes.push_back(server.startup_note());
    s.notes.push_back(fmt::format(
        "POST checkout, every answer: {} calls, {:.0f}/s, p50 {:.2f} ms, p90 {:.2f} ms, p99 "
        "{:.2f} ms, max {:.2f} ms",
        checkouts.size(), static_cast<double>(checkouts.size()) / w, p.p50, p.p90, p.p99, p.max));
    s.notes.push_back(fmt::format(
        "in the window: {} checkouts created, {} checkouts 409 out_of_stock, {} cart lines 409 "
        "out_of_stock; {} units restocked in all",
        created.load(), checkout_sold_out.load(), cart_sold_out.load(), restocked.load()));
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"HTTP load benchmark: hello, notes, checkout, orders and hot scenarios"};
    Options o;
    o.bin = REDLOOP_BINARY_DIR "/api/redloop";
    cli.add_option("--scenario", o.scenario, "which scenario (all: each in turn)")
        ->check(CLI::IsMember({"hello", "notes", "checkout", "orders", "hot", "all"}));
    cli.add_option("--connections", o.connections,
                   "concurrent virtual clients, one connection each")
        ->check(CLI::Range(1, 10'000));
    cli.add_option("--duration", o.duration_s, "measured seconds per scenario")
        ->check(CLI::Range(0.1, 3600.0));
    cli.add_option("--warmup", o.warmup_s, "unmeasured seconds before each measurement")
        ->check(CLI::Range(0.0, 600.0));
    cli.add_option("--server-threads", o.server_threads,
                   "I/O threads of the server (redloop serve --threads) and the hello server")
        ->check(CLI::Range(1, 256));
    cli.add_option("--client-threads", o.client_threads, "threads running the client")
        ->check(CLI::Range(1, 64));
    cli.add_option("--db", o.db, "use this database instead of a scratch one (it is kept)");
    cli.add_option("--port", o.port, "port for the server; the hello server uses port + 1");
    cli.add_option("--markdown", o.markdown, "append the results as a markdown table to FILE");
    cli.add_option("--seed", o.seed, "seed of the random choices");
    cli.add_option("--bin", o.bin, "the redloop binary")->check(CLI::ExistingFile);
    cli.add_option("--timeout", o.timeout_s, "seconds a call (and a payment) may take")
        ->check(CLI::Range(0.1, 600.0));
    cli.add_option("--merchants", o.merchants, "merchants")->check(CLI::Range(1, 10'000));
    cli.add_option("--skus", o.skus, "SKUs (notes) or cold SKUs (checkout)")
        ->check(CLI::Range(1, 1'000'000));
    cli.add_option("--hot-skus", o.hot_skus, "hot SKUs of the checkout scenario")
        ->check(CLI::Range(1, 100));
    cli.add_option("--notes", o.notes, "notes of the notes scenario")
        ->check(CLI::Range(1, 1'000'000));
    cli.add_option("--users", o.users, "distinct buyers of the checkout scenario")
        ->check(CLI::Range(1, 1'000'000));
    cli.add_option("--pages", o.pages, "pages per order listing walk")->check(CLI::Range(1, 1000));
    cli.add_option("--orders-setup", o.orders_setup,
                   "checkouts made first when orders runs alone on a fresh database")
        ->check(CLI::Range(1, 10'000'000));
    cli.add_option("--orders-merchant", o.orders_merchant, "list this merchant's orders");
    cli.add_option("--statement-profile", o.statement_profile,
                   "have the server time its writer's statements and write them to FILE when it "
                   "stops (the last scenario's server wins)");
    cli.add_option("--hot-stock", o.hot_stock, "units of the hot scenario's SKU at the start")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{10'000'000}));
    cli.add_option("--hot-restock", o.hot_restock,
                   "units the hot scenario's merchant adds every 100 ms (0: none)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}));
    CLI11_PARSE(cli, argc, argv);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    if (o.skus < o.merchants) o.merchants = o.skus;

    std::vector<std::string> plan;
    if (o.scenario == "all") {
        plan = {"hello", "notes", "checkout", "orders"};
    } else if (o.scenario == "notes") {
        plan = {"hello", "notes"};  // the ratio needs the reference from the same run
    } else {
        plan = {o.scenario};
    }

    if (!o.statement_profile.empty()) {
        std::error_code ignored;
        fs::remove(o.statement_profile, ignored);  // so a stale one is not taken for this run's
    }
    std::vector<ScenarioResult> results;
    OrdersSource handoff;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const auto& name = plan[i];
        const bool orders_next = i + 1 < plan.size() && plan[i + 1] == "orders";
        try {
            if (name == "hello") {
                results.push_back(scenario_hello(o));
            } else if (name == "notes") {
                results.push_back(scenario_notes(o));
            } else if (name == "checkout") {
                results.push_back(scenario_checkout(o, orders_next ? &handoff : nullptr));
            } else if (name == "hot") {
                results.push_back(scenario_hot(o));
            } else {
                results.push_back(scenario_orders(o, &handoff));
            }
        } catch (const std::exception& e) {
            results.push_back(failed(name, std::string("failed: ") + e.what()));
        }
        if (!orders_next) handoff.server.reset();  // checkout hands its server to orders
        const auto& s = results.back();
        std::cerr << fmt::format("{}: {}\n", name, s.ok ? "ok" : "FAILED");
    }
    handoff.server.reset();

    const ScenarioResult* hello = nullptr;
    ScenarioResult* notes = nullptr;
    for (auto& s : results) {
        if (s.name == "hello") hello = &s;
        if (s.name == "notes") notes = &s;
    }
    if (hello && notes && hello->rps > 0 && notes->rps > 0) {
        notes->notes.insert(
            notes->notes.begin(),
            fmt::format("notes/hello throughput ratio: {:.3f} ({:.0f} vs {:.0f} req/s)",
                        notes->rps / hello->rps, notes->rps, hello->rps));
    }

    std::cout << fmt::format(
        "\nredloop-load-bench: {} connections, {} s (+{} s warmup), server threads {}, client "
        "threads {}\n\n",
        o.connections, o.duration_s, o.warmup_s, o.server_threads, o.client_threads);
    print_table(std::cout, results);
    bool ok = true;
    for (const auto& s : results) {
        ok = ok && s.ok;
        for (const auto& n : s.notes) std::cout << s.name << ": " << n << "\n";
    }
    if (!o.markdown.empty()) append_markdown(o, o.markdown, results);
    if (!ok) std::cerr << "load bench: a scenario failed\n";
    if (!o.statement_profile.empty()) {
        // Written by the last server as it stopped; it was removed before the first started.
        std::ifstream in(o.statement_profile);
        std::string line;
        int rows = 0;
        while (std::getline(in, line)) rows += line.starts_with("| ") ? 1 : 0;
        if (rows > 1) {
            std::cout << fmt::format("statement profile: {} statements in {}\n", rows - 1,
                                     o.statement_profile);
        } else {
            std::cerr << "load bench: the server wrote no statement profile to "
                      << o.statement_profile << "\n";
            ok = false;
        }
    }
    return ok ? 0 : 1;
}
