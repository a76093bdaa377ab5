#pragma once
// The WebSocket side of GET /v1/stream (Beast). Only http_server.cpp and ws_session.cpp include
// this header.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <optional>

#include "auth.hpp"
#include "stream_hub.hpp"

namespace redloop::api {

// Whether the request asks to become a WebSocket (Connection: Upgrade, Upgrade: websocket).
bool is_websocket_upgrade(const boost::beast::http::request<boost::beast::http::string_body>& req);

// Stream sessions whose objects are alive (the server waits for them at shutdown).
std::size_t live_stream_sessions();

// Completes the handshake on `stream` (taken over) and runs the session until it closes.
void start_stream_session(boost::beast::tcp_stream stream,
                          boost::beast::http::request<boost::beast::http::string_body> req,
                          StreamHub& hub, std::optional<Principal> who);

}  // namespace redloop::api
