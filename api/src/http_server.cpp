#include "http_server.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "app.hpp"
#include "id_generator.hpp"
#include "problem.hpp"
#include "router.hpp"
#include "ws_session.hpp"

namespace redloop::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

class Server;

class Session : public std::enable_shared_from_this<Session> {
  public:
    Session(StrandSocket socket, Server& server);
    ~Session();
    void start();
    // Called on the session's strand at shutdown: a connection waiting for its next request is
    // closed now; one in the middle of a request closes after its response.
    void stop_if_idle();

  private:
    void read_header();
    void on_header(beast::error_code ec);
    void read_body();
    void on_body(beast::error_code ec);
    void handle();
    void upgrade(const Request& req);
    void reject(engine::ErrorCode code, std::string detail);
    void send(Response r, bool keep_alive, bool head = false);
    void on_write(beast::error_code ec, bool keep_alive);
    void drain_and_close();
    void drain();
    void close();

    HttpStream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    Server& server_;
    bool idle_ = false;
    std::array<char, 8192> discard_{};
    std::size_t drained_ = 0;
};

class Server {
  public:
    Server(App& app, const ServerOptions& options)
        : app_(app),
          options_(options),
          ioc_(options.threads),
          workers_(static_cast<std::size_t>(std::max(1, options.workers))),
          acceptor_(ioc_),
          signals_(ioc_, SIGINT, SIGTERM),
          maintenance_(ioc_),
          grace_(ioc_) {}

    App& app() { return app_; }
    net::thread_pool& workers() { return workers_; }
    const ServerOptions& options() const { return options_; }
    bool stopping() const { return stopping_.load(); }

    void add(Session* s, std::weak_ptr<Session> w) {
        std::lock_guard lock(mutex_);
        sessions_.emplace(s, std::move(w));
    }
    void remove(Session* s) {
        std::lock_guard lock(mutex_);
        sessions_.erase(s);
    }

    int run(const std::function<void(const std::string&, unsigned short)>& on_listening) {
        beast::error_code ec;
        const auto address = net::ip::make_address(options_.address, ec);
        if (ec) {
            spdlog::critical("invalid listen address '{}': {}", options_.address, ec.message());
            return 2;
        }
        const tcp::endpoint endpoint{address, options_.port};
        acceptor_.open(endpoint.protocol(), ec);
        if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
        if (!ec) acceptor_.bind(endpoint, ec);
        if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
        if (ec) {
            spdlog::critical("cannot listen on {}:{}: {}", options_.address, options_.port,
                             ec.message());
            return 2;
        }
        const auto port = acceptor_.local_endpoint().port();
        on_listening(options_.address, port);
        accept();
        schedule_maintenance();
        signals_.async_wait([this](beast::error_code e, int signo) {
            if (!e) begin_shutdown(signo);
        });
        std::vector<std::thread> threads;
        for (int i = 1; i < options_.threads; ++i) threads.emplace_back([this] { ioc_.run(); });
        ioc_.run();
        for (auto& t : threads) t.join();
        workers_.join();
        app_.flush_views();
        spdlog::info("server stopped");
        return 0;
    }

  private:
    void accept() {
        // Each connection on a strand of its own, typed (ws_session.hpp).
        acceptor_.async_accept(
            Strand(ioc_.get_executor()), [this](beast::error_code ec, StrandSocket s) {
                if (stopping()) return;
                if (!ec) {
                    auto session = std::make_shared<Session>(std::move(s), *this);
                    add(session.get(), session);
                    session->start();
                } else {
                    spdlog::warn("accept failed: {}", ec.message());
                }
                accept();
            });
    }

    void schedule_maintenance() {
        maintenance_.expires_after(options_.maintenance_interval);
        maintenance_.async_wait([this](beast::error_code ec) {
            if (ec || stopping()) return;
            try {
                app_.run_maintenance();
            } catch (const std::exception& e) {
                spdlog::error("maintenance failed: {}", e.what());
            }
            schedule_maintenance();
        });
    }

    void begin_shutdown(int signo) {
        spdlog::info("signal {}: no new connections; finishing requests in flight", signo);
        stopping_ = true;
        beast::error_code ec;
        acceptor_.close(ec);
        maintenance_.cancel();
        if (auto* hub = app_.stream_hub()) hub->stop();  // sessions are closed with 1001
        std::vector<std::shared_ptr<Session>> live;
        {
            std::lock_guard lock(mutex_);
            for (auto& [p, w] : sessions_) {
                if (auto s = w.lock()) live.push_back(std::move(s));
            }
        }
        for (auto& s : live) s->stop_if_idle();
        grace_deadline_ = std::chrono::steady_clock::now() + options_.shutdown_grace;
        wait_for_sessions();
    }

    void wait_for_sessions() {
        {
            std::lock_guard lock(mutex_);
            // nothing holds the io_context any more: run() returns
            if (sessions_.empty() && live_stream_sessions() == 0) return;
        }
        if (std::chrono::steady_clock::now() > grace_deadline_) {
            spdlog::warn("shutdown grace period over; closing the remaining connections");
            ioc_.stop();
            return;
        }
        grace_.expires_after(std::chrono::milliseconds(50));
        grace_.async_wait([this](beast::error_code) { wait_for_sessions(); });
    }

    App& app_;
    ServerOptions options_;
    net::io_context ioc_;
    // Writes run here: a write waits for its group commit, and that must not hold up the
    // sockets. Reads run on the I/O threads.
    net::thread_pool workers_;
    tcp::acceptor acceptor_;
    net::signal_set signals_;
    net::steady_timer maintenance_;
    net::steady_timer grace_;
    std::chrono::steady_clock::time_point grace_deadline_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

Session::Session(StrandSocket socket, Server& server)
    : stream_(std::move(socket)), server_(server) {
    server_.app().metrics().connection_opened();
}

Session::~Session() {
    server_.app().metrics().connection_closed();
    server_.remove(this);
}

void Session::start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void Session::stop_if_idle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
        if (self->idle_) self->stream_.cancel();
    });
}

void Session::read_header() {
    if (server_.stopping()) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options().header_limit));
    parser_->body_limit(server_.options().body_limit);
    idle_ = buffer_.size() == 0;
    stream_.expires_after(server_.options().idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(beast::error_code ec) {
    idle_ = false;
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == beast::error::timeout || ec == net::error::connection_reset ||
        ec == net::error::eof) {
        return close();
    }
    if (ec == http::error::header_limit) {
        return reject(engine::ErrorCode::invalid_request, "request headers are too large");
    }
    if (ec == http::error::body_limit) {  // a declared Content-Length over the limit
        return reject(engine::ErrorCode::payload_too_large,
                      fmt::format("request body is over the limit of {} bytes",
                                  server_.options().body_limit));
    }
    if (ec)
        return reject(engine::ErrorCode::invalid_request,
                      "malformed HTTP request: " + ec.message());
    if (const auto len = parser_->content_length(); len && *len > server_.options().body_limit) {
        return reject(engine::ErrorCode::payload_too_large,
                      fmt::format("request body of {} bytes is over the limit of {} bytes", *len,
                                  server_.options().body_limit));
    }
    const auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
        auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
        http::async_write(stream_, *cont,
                          [self = shared_from_this(), cont](beast::error_code e, std::size_t) {
                              if (e) return self->close();
                              self->read_body();
                          });
        return;
    }
    read_body();
}

void Session::read_body() {
    stream_.expires_after(server_.options().read_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void Session::on_body(beast::error_code ec) {
    if (ec == http::error::body_limit) {
        return reject(engine::ErrorCode::payload_too_large,
                      fmt::format("request body is over the limit of {} bytes",
                                  server_.options().body_limit));
    }
    if (ec == beast::error::timeout || ec == net::error::operation_aborted) return close();
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return close();
    if (ec)
        return reject(engine::ErrorCode::invalid_request,
                      "malformed HTTP request: " + ec.message());
    handle();
}

namespace {
bool valid_request_id(std::string_view id) {
    if (id.empty() || id.size() > 64) return false;
    for (char c : id) {
        const bool ok =
            std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}
}  // namespace

void Session::handle() {
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const auto incoming_id = msg["X-Request-Id"];
    req.request_id = valid_request_id(incoming_id) ? std::string(incoming_id) : request_id();
    const bool keep_alive = msg.keep_alive() && !server_.stopping();

    auto target = parse_target(msg.target());
    if (!target) {
        Response r = problem_response(engine::Error{engine::ErrorCode::invalid_request,
                                                    "the request target is not a valid path"},
                                      req.request_id);
        r.headers.emplace_back("X-Request-Id", req.request_id);
        return send(std::move(r), false, msg.method() == http::verb::head);
    }
    req.path = std::move(target->path);
    req.segments = std::move(target->segments);
    req.query = std::move(target->query);
    req.body = std::move(msg.body());
    req.has_body = msg.has_content_length() || msg.chunked();
    req.content_type = std::string(msg[http::field::content_type]);
    for (const auto& field : msg) {
        std::string name(field.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    req.authorization = std::string(msg[http::field::authorization]);
    if (auto it = msg.find("Idempotency-Key"); it != msg.end()) {
        req.has_idempotency_key = true;
        req.idempotency_key = std::string(it->value());
    }
    if (req.path == "/v1/stream" && msg.method() == http::verb::get && is_websocket_upgrade(msg))
        return upgrade(req);
    const bool head = msg.method() == http::verb::head;
    if (head || msg.method() == http::verb::get) {
        Response r = server_.app().handle(req);
        r.headers.emplace_back("X-Request-Id", req.request_id);
        return send(std::move(r), keep_alive, head);
    }
    // The work guard keeps the I/O threads running until the answer is back on the strand.
    net::post(server_.workers(), [self = shared_from_this(), req = std::move(req), keep_alive,
                                  guard = net::make_work_guard(stream_.get_executor())] {
        Response r = self->server_.app().handle(req);
        r.headers.emplace_back("X-Request-Id", req.request_id);
        net::post(self->stream_.get_executor(), [self, r = std::move(r), keep_alive]() mutable {
            self->send(std::move(r), keep_alive);
        });
    });
}

// GET /v1/stream with an upgrade: the token (header or ?access_token=) is checked here, over
// HTTP, so a bad one is a 401 problem; then the connection becomes a stream session.
void Session::upgrade(const Request& req) {
    App& app = server_.app();
    StreamHub* hub = app.stream_hub();
    auto refuse = [&](engine::ErrorCode code, std::string detail, int status) {
        Response r = problem_response(engine::Error{code, std::move(detail)}, req.request_id);
        if (status) r.status = status;
        if (r.status == 503) r.headers.emplace_back("Retry-After", "5");
        r.headers.emplace_back("X-Request-Id", req.request_id);
        app.metrics().record_request("/v1/stream", "GET", r.status, 0);
        send(std::move(r), false);
    };
    if (!hub || server_.stopping())
        return refuse(engine::ErrorCode::internal, "the live stream is not running", 503);
    if (auto twice = repeated_header(req)) return refuse(twice->code, twice->detail, 0);
    std::string authorization = req.authorization;
    if (authorization.empty()) {
        if (auto token = req.query_param("access_token")) authorization = "Bearer " + *token;
    }
    std::optional<Principal> who;
    if (!authorization.empty()) {
        auto p = verify_bearer(authorization, app.config().jwt_secret, system_now());
        if (!p) return refuse(p.error().code, p.error().detail, 0);
        who = *p;
        if (auto s = app.ensure_actor(*p, system_now()); !s)
            return refuse(s.error().code, s.error().detail, 0);
    }
    if (static_cast<std::size_t>(hub->counters().sessions.load()) >= hub->options().max_sessions) {
        ++hub->counters().refused_sessions;
        return refuse(engine::ErrorCode::rate_limited, "too many stream sessions; try again later",
                      503);
    }
    app.metrics().record_request("/v1/stream", "GET", 101, 0);
    spdlog::info("{} stream session for {}", req.request_id,
                 who ? who->sub.str() : std::string("anonymous"));
    start_stream_session(std::move(stream_), parser_->release(), *hub, std::move(who));
}

void Session::reject(engine::ErrorCode code, std::string detail) {
    const std::string id = request_id();
    spdlog::info("{} rejected before routing: {}", id, detail);
    Response r = problem_response(engine::Error{code, std::move(detail)}, id);
    r.headers.emplace_back("X-Request-Id", id);
    send(std::move(r), false);
}

void Session::send(Response r, bool keep_alive, bool head) {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(r.status));
    res_.set(http::field::server, "redloop");
    res_.set(http::field::content_type, r.content_type);
    res_.set(http::field::cache_control, "no-store");
    res_.set("X-Content-Type-Options", "nosniff");
    for (const auto& [k, v] : r.headers) res_.set(k, v);
    res_.body() = std::move(r.body);
    res_.keep_alive(keep_alive);
    res_.prepare_payload();
    if (head)
        res_.body().clear();  // HEAD: the headers of a GET, Content-Length included, no content
    stream_.expires_after(server_.options().read_timeout);
    http::async_write(stream_, res_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, std::size_t) {
                          self->on_write(ec, keep_alive);
                      });
}

void Session::on_write(beast::error_code ec, bool keep_alive) {
    if (ec) return close();
    if (!keep_alive || server_.stopping()) return drain_and_close();
    read_header();
}

// After a response that ends the connection, stop sending and read what the client still
// sends (up to 4 MiB or the read timeout) so that closing doesn't reset the connection before
// the client has read the response.
void Session::drain_and_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    stream_.expires_after(std::chrono::seconds(5));
    drain();
}

void Session::drain() {
    stream_.async_read_some(net::buffer(discard_),
                            [self = shared_from_this()](beast::error_code e, std::size_t n) {
                                self->drained_ += n;
                                if (e || self->drained_ > 4 * 1024 * 1024) return self->close();
                                self->drain();
                            });
}

void Session::close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
}

}  // namespace

int run_server(App& app, const ServerOptions& options,
               const std::function<void(const std::string&, unsigned short)>& on_listening) {
    Server server(app, options);
    return server.run(on_listening);
}

}  // namespace redloop::api
