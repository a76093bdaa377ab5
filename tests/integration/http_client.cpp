// The only integration-test file that includes Boost.Beast.
#include "http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace redloop::it {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

HttpResponse convert(const http::response<http::string_body>& res) {
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res.base()) {
        const auto name = lower(std::string(field.name_string()));
        auto [it, inserted] = out.headers.emplace(name, std::string(field.value()));
        if (!inserted) it->second += ", " + std::string(field.value());
    }
    out.body = res.body();
    return out;
}

}  // namespace

// ------------------------------------------------------------------------------ HttpResponse

std::string HttpResponse::header(const std::string& name) const {
    const auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::has_header(const std::string& name) const {
    return headers.contains(lower(name));
}

boost::json::value HttpResponse::json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec) {
        throw std::runtime_error("response (status " + std::to_string(status) + ") is not JSON: " +
                                 ec.message() + "; body: " + body.substr(0, 500));
    }
    return v;
}

// ------------------------------------------------------------------------------ HttpClient

struct HttpClient::Impl {
    net::io_context ioc;
    unsigned short port;
    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    int connects = 0;

    explicit Impl(unsigned short p) : port(p) {}

    void connect() {
        stream.emplace(ioc);
        buffer.clear();
        stream->expires_after(std::chrono::seconds(10));
        stream->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
        ++connects;
    }

    void reset() {
        if (stream) {
            beast::error_code ec;
            stream->socket().shutdown(tcp::socket::shutdown_both, ec);
            stream->socket().close(ec);
        }
        stream.reset();
        buffer.clear();
    }
};

HttpClient::HttpClient(unsigned short port) : impl_(std::make_unique<Impl>(port)) {}
HttpClient::~HttpClient() {
    impl_->reset();
}

int HttpClient::connects() const {
    return impl_->connects;
}

void HttpClient::close() {
    impl_->reset();
}

HttpResponse HttpClient::request(const std::string& method, const std::string& target,
                                 const std::string& body, const Headers& headers) {
    http::request<http::string_body> req;
    req.version(11);
    req.method_string(method);
    req.target(target);
    req.set(http::field::host, "127.0.0.1:" + std::to_string(impl_->port));
    req.set(http::field::user_agent, "redloop-integration-tests");
    bool has_content_type = false;
    for (const auto& [name, value] : headers) {
        if (beast::iequals(name, "content-type")) has_content_type = true;
        req.insert(name, value);
    }
    if (!body.empty() && !has_content_type) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();

    for (int attempt = 0;; ++attempt) {
        const bool reused = impl_->stream.has_value();
        if (!reused) impl_->connect();
        auto& stream = *impl_->stream;
        beast::error_code ec;
        stream.expires_after(std::chrono::seconds(30));
        http::write(stream, req, ec);
        if (!ec) {
            http::response_parser<http::string_body> parser;
            parser.body_limit(boost::none);
            http::read(stream, impl_->buffer, parser, ec);
            if (!ec) {
                auto res = parser.release();
                HttpResponse out = convert(res);
                if (!res.keep_alive()) impl_->reset();
                return out;
            }
        }
        impl_->reset();
        // A kept-alive connection the server closed while idle: retry once on a new one.
        const bool closed = ec == http::error::end_of_stream || ec == net::error::eof ||
                            ec == net::error::connection_reset || ec == net::error::broken_pipe;
        if (reused && attempt == 0 && closed) continue;
        throw std::runtime_error("HTTP " + method + " " + target + " failed: " + ec.message());
    }
}

HttpResponse HttpClient::get(const std::string& target, const std::string& authorization) {
    Headers h;
    if (!authorization.empty()) h.emplace_back("Authorization", authorization);
    return request("GET", target, "", h);
}

HttpResponse HttpClient::post(const std::string& target, const std::string& body,
                              const std::string& authorization, Headers headers) {
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    return request("POST", target, body, headers);
}

HttpResponse HttpClient::patch(const std::string& target, const std::string& body,
                               const std::string& authorization, Headers headers) {
    if (!authorization.empty()) headers.emplace_back("Authorization", authorization);
    return request("PATCH", target, body, headers);
}

// ------------------------------------------------------------------------------ raw

HttpResponse parse_response(const std::string& raw, std::size_t* consumed) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.eager(true);
    std::size_t used = 0;
    while (!parser.is_done()) {
        beast::error_code ec;
        const std::size_t n = parser.put(net::buffer(raw.data() + used, raw.size() - used), ec);
        used += n;
        if (ec || (n == 0 && !parser.is_done())) return HttpResponse{};  // incomplete or bad
    }
    if (consumed) *consumed = used;
    return convert(parser.get());
}

RawConnection::RawConnection(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string err = std::strerror(errno);
        ::close(fd_);
        fd_ = -1;
        throw std::runtime_error("connect to port " + std::to_string(port) + ": " + err);
    }
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
    close();
}

void RawConnection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void RawConnection::shutdown_send() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool RawConnection::send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

bool RawConnection::fill(std::chrono::steady_clock::time_point deadline) {
    if (eof_ || fd_ < 0) return false;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) return false;
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        char buf[16384];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
            buffer_.append(buf, static_cast<std::size_t>(n));
            return true;
        }
        if (n < 0 && errno == EINTR) continue;
        eof_ = true;  // orderly close or reset
        return false;
    }
}

std::string RawConnection::read_until(const std::string& delimiter,
                                      std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (buffer_.find(delimiter) == std::string::npos) {
        if (!fill(deadline)) break;
    }
    const auto pos = buffer_.find(delimiter);
    const std::size_t take = pos == std::string::npos ? buffer_.size() : pos + delimiter.size();
    std::string out = buffer_.substr(0, take);
    buffer_.erase(0, take);
    return out;
}

HttpResponse RawConnection::read_response(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        std::size_t consumed = 0;
        HttpResponse r = parse_response(buffer_, &consumed);
        if (r.status != 0) {
            buffer_.erase(0, consumed);
            return r;
        }
        if (!fill(deadline)) {
            HttpResponse incomplete;
            incomplete.body = buffer_;  // for the failure message
            return incomplete;
        }
    }
}

bool RawConnection::read_until_closed(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {
    }
    return eof_;
}

HttpResponse raw_exchange(unsigned short port, const std::string& bytes,
                          std::chrono::milliseconds timeout) {
    RawConnection c(port);
    c.send(bytes);
    return c.read_response(timeout);
}

}  // namespace redloop::it
