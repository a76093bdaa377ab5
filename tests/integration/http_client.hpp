#pragma once
// A small synchronous HTTP/1.1 client for the integration tests. Boost.Beast stays inside
// http_client.cpp; tests see plain strings and Boost.JSON values.
#include <boost/json/value.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace redloop::it {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    // The header's value, or "" when absent (name in any case).
    std::string header(const std::string& name) const;
    bool has_header(const std::string& name) const;
    // The body parsed as JSON; throws (failing the test) with the body when it isn't JSON.
    boost::json::value json() const;
};

// One keep-alive connection to 127.0.0.1:port, opened on first use and reopened when the
// server has closed it. A body without a Content-Type header is sent as application/json.
class HttpClient {
  public:
    explicit HttpClient(unsigned short port);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    HttpResponse request(const std::string& method, const std::string& target,
                         const std::string& body = "", const Headers& headers = {});

    HttpResponse get(const std::string& target, const std::string& authorization = "");
    HttpResponse post(const std::string& target, const std::string& body,
                      const std::string& authorization = "", Headers headers = {});
    HttpResponse patch(const std::string& target, const std::string& body,
                       const std::string& authorization = "", Headers headers = {});

    // TCP connections opened so far.
    int connects() const;
    // Closes the connection (the next request opens a new one).
    void close();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A raw TCP connection for requests a well-behaved client would not send (malformed requests,
// oversized bodies, Expect: 100-continue, a request sent in pieces).
class RawConnection {
  public:
    explicit RawConnection(unsigned short port);
    ~RawConnection();
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    // Sends all bytes; false if the connection failed (e.g. the server closed it).
    bool send(const std::string& bytes);
    // Reads until `delimiter` has arrived (returns everything read so far, delimiter included),
    // or until EOF / timeout (returns what arrived, possibly without the delimiter).
    std::string read_until(const std::string& delimiter,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads one complete response (Content-Length or chunked body).
    HttpResponse read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Reads until the server closes the connection (or timeout); true if it closed.
    bool read_until_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Half-closes the sending side.
    void shutdown_send();
    void close();

  private:
    bool fill(std::chrono::steady_clock::time_point deadline);
    int fd_ = -1;
    std::string buffer_;
    bool eof_ = false;
};

// Parses the response at the start of `raw` ("HTTP/1.1 ..." with a Content-Length or chunked
// body, or a body up to the end). Returns status 0 when `raw` holds no complete response.
// `consumed`, if given, receives the number of bytes the response took.
HttpResponse parse_response(const std::string& raw, std::size_t* consumed = nullptr);

// Sends `bytes` on a fresh connection and reads one response.
HttpResponse raw_exchange(unsigned short port, const std::string& bytes,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace redloop::it
