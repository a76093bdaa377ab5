#include "stream_client.hpp"

#include <fmt/format.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <iostream>

namespace redloop::api {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

int run_stream_client(const StreamClientOptions& o, std::ostream& out) {
    net::io_context ioc;
    websocket::stream<beast::tcp_stream> ws(ioc);
    try {
        tcp::resolver resolver(ioc);
        beast::get_lowest_layer(ws).connect(resolver.resolve(o.host, std::to_string(o.port)));
        if (!o.token.empty()) {
            ws.set_option(websocket::stream_base::decorator([&](websocket::request_type& req) {
                req.set(beast::http::field::authorization, "Bearer " + o.token);
            }));
        }
        websocket::response_type res;
        beast::error_code ec;
        ws.handshake(res, o.host, "/v1/stream", ec);
        if (ec) {
            std::cerr << fmt::format("the server refused the stream: {} {}\n", res.result_int(),
                                     res.body());
            return 1;
        }
        for (const auto& topic : o.topics) {
            boost::json::object m{{"op", "subscribe"}, {"topic", topic}};
            if (o.after_seq) m["after_seq"] = *o.after_seq;
            ws.write(net::buffer(boost::json::serialize(m)));
        }
        std::int64_t events = 0;
        beast::flat_buffer buffer;
        while (o.count == 0 || events < o.count) {
            bool done = false;
            beast::error_code read_ec;
            ws.async_read(buffer, [&](beast::error_code e, std::size_t) {
                read_ec = e;
                done = true;
            });
            ioc.restart();
            if (o.timeout_s > 0) {
                ioc.run_for(std::chrono::seconds(o.timeout_s));
            } else {
                ioc.run();
            }
            if (!done) {
                std::cerr << "no frame for " << o.timeout_s << " s\n";
                return 0;
            }
            if (read_ec) {
                std::cerr << fmt::format("stream closed: {} {}\n", ws.reason().code,
                                         std::string(ws.reason().reason.c_str()));
                return 1;
            }
            const auto text = beast::buffers_to_string(buffer.data());
            buffer.consume(buffer.size());
            out << text << std::endl;
            if (text.rfind("{\"seq\"", 0) == 0) ++events;
        }
        ws.close(websocket::close_code::normal);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "stream: " << e.what() << "\n";
        return 2;
    }
}

}  // namespace redloop::api
