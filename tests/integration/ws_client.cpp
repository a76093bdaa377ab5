#include "ws_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <future>
#include <stdexcept>
#include <thread>

namespace redloop::it {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

boost::json::value WsFrame::json() const {
    return boost::json::parse(text);
}

struct WsClient::Impl {
    net::io_context ioc;
    websocket::stream<beast::tcp_stream> ws{ioc};
    beast::flat_buffer buffer;
};

WsClient::WsClient(unsigned short port, const std::string& target, const std::string& token,
                   int receive_buffer)
    : impl_(std::make_unique<Impl>()) {
    auto& sock = beast::get_lowest_layer(impl_->ws).socket();
    sock.open(tcp::v4());
    if (receive_buffer > 0) sock.set_option(net::socket_base::receive_buffer_size(receive_buffer));
    sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    impl_->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }));
    websocket::response_type res;
    beast::error_code ec;
    impl_->ws.handshake(res, "127.0.0.1:" + std::to_string(port), target, ec);
    if (ec) {
        throw std::runtime_error("upgrade refused: " + std::to_string(res.result_int()) + " " +
                                 res.body());
    }
}

WsClient::~WsClient() {
    beast::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().close(ec);
}

void WsClient::send_text(const std::string& text) {
    impl_->ws.text(true);
    impl_->ws.write(net::buffer(text));
}

void WsClient::send_binary(const std::string& bytes) {
    impl_->ws.binary(true);
    impl_->ws.write(net::buffer(bytes));
}

void WsClient::subscribe(const std::string& topic, std::optional<std::int64_t> after_seq) {
    boost::json::object o{{"op", "subscribe"}, {"topic", topic}};
    if (after_seq) o["after_seq"] = *after_seq;
    send_text(boost::json::serialize(o));
}

WsFrame WsClient::next(std::chrono::milliseconds timeout) {
    WsFrame out;
    bool done = false;
    beast::error_code result;
    impl_->ws.async_read(impl_->buffer, [&](beast::error_code ec, std::size_t) {
        result = ec;
        done = true;
    });
    impl_->ioc.restart();
    impl_->ioc.run_for(timeout);
    if (!done) {
        // Cancel the read; the stream is not usable for reading afterwards.
        beast::get_lowest_layer(impl_->ws).cancel();
        impl_->ioc.restart();
        impl_->ioc.run();
        out.timed_out = true;
        return out;
    }
    if (result) {
        out.closed = true;
        out.close_code = impl_->ws.reason().code;
        out.close_reason = std::string(impl_->ws.reason().reason.c_str());
        return out;
    }
    out.text = beast::buffers_to_string(impl_->buffer.data());
    impl_->buffer.consume(impl_->buffer.size());
    return out;
}

boost::json::value WsClient::expect_type(const std::string& type,
                                         std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) throw std::runtime_error("no frame of type " + type + " in time");
        auto f = next(left);
        if (f.timed_out) throw std::runtime_error("no frame of type " + type + " in time");
        if (f.closed)
            throw std::runtime_error("stream closed (" + std::to_string(f.close_code) +
                                     ") waiting for " + type);
        auto v = f.json();
        if (v.as_object().at("type").as_string() == type) return v;
    }
}

void WsClient::close() {
    beast::error_code ec;
    impl_->ws.close(websocket::close_code::normal, ec);
}

int upgrade_status(unsigned short port, const std::string& target, const std::string& token) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    stream.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(http::field::sec_websocket_version, "13");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    return res.result_int();
}

}  // namespace redloop::it
