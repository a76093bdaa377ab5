#pragma once
// The WebSocket side of GET /v1/stream (Beast). Only http_server.cpp and ws_session.cpp include
// this header.
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

#include "auth.hpp"
#include "stream_hub.hpp"

namespace redloop::api {

// A connection's strand, named by its type: sockets and streams on it use it directly rather
// than through any_io_executor, whose type erasure (copying, `prefer`, destroying the executor
// in every operation) was a visible share of the server's CPU (docs/performance.md).
using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
using StrandSocket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Strand>;
using HttpStream =
    boost::beast::basic_stream<boost::asio::ip::tcp, Strand, boost::beast::unlimited_rate_policy>;

// Whether the request asks to become a WebSocket (Connection: Upgrade, Upgrade: websocket).
bool is_websocket_upgrade(const boost::beast::http::request<boost::beast::http::string_body>& req);

// Stream sessions whose objects are alive (the server waits for them at shutdown).
std::size_t live_stream_sessions();

// Completes the handshake on `stream` (taken over) and runs the session until it closes.
void start_stream_session(HttpStream stream,
                          boost::beast::http::request<boost::beast::http::string_body> req,
                          StreamHub& hub, std::optional<Principal> who);

}  // namespace redloop::api
