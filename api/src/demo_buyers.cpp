#include "demo_buyers.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <thread>

#include "app.hpp"
#include "auth.hpp"
#include "id_generator.hpp"

namespace redloop::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

struct Reply {
    int status = 0;  // 0: no connection
    boost::json::value body;
};

class Client {
  public:
    Client(std::string host, unsigned short port) : host_(std::move(host)), port_(port) {}

    Reply call(http::verb verb, const std::string& target, const std::string& token,
               const std::string& body = "", const std::string& idempotency_key = "") {
        try {
            net::io_context ioc;
            tcp::resolver resolver(ioc);
            beast::tcp_stream stream(ioc);
            stream.expires_after(std::chrono::seconds(10));
            stream.connect(resolver.resolve(host_, std::to_string(port_)));
            http::request<http::string_body> req{verb, target, 11};
            req.set(http::field::host, host_);
            req.set(http::field::user_agent, "redloop-demo-buyers");
            if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
            if (!idempotency_key.empty()) req.set("Idempotency-Key", idempotency_key);
            if (verb != http::verb::get) {
                req.set(http::field::content_type, "application/json");
                req.body() = body;
            }
            req.prepare_payload();
            http::write(stream, req);
            beast::flat_buffer buffer;
            http::response<http::string_body> res;
            http::read(stream, buffer, res);
            beast::error_code ec;
            stream.socket().shutdown(tcp::socket::shutdown_both, ec);
            Reply r;
            r.status = static_cast<int>(res.result_int());
            boost::system::error_code jec;
            r.body = boost::json::parse(res.body(), jec);
            return r;
        } catch (const std::exception&) {
            return Reply{};
        }
    }

  private:
    std::string host_;
    unsigned short port_;
};

std::string detail_of(const Reply& r) {
    if (r.status == 0) return "no connection";
    if (const auto* o = r.body.if_object()) {
        if (const auto* d = o->if_contains("detail"); d && d->is_string())
            return fmt::format("{} {}", r.status, std::string(d->as_string()));
    }
    return std::to_string(r.status);
}

// Chinese names and Hangzhou / Shanghai / Chengdu addresses: what the demo's buyers ship to.
struct Address {
    const char* name;
    const char* phone;
    const char* line1;
    const char* city;
    const char* postal_code;
};
constexpr Address kAddresses[] = {
    {"林晓 Lin Xiao", "13800000001", "西湖区北山街 12 号", "杭州 Hangzhou", "310007"},
    {"梅子 Mei", "13900000002", "静安区南京西路 1601 号", "上海 Shanghai", "200040"},
    {"陈晨 Chen Chen", "13700000003", "武侯区人民南路 4 段 9 号", "成都 Chengdu", "610041"},
};

class Visit {
  public:
    Visit(Client& client, std::mt19937& rng, const std::string& user, const std::string& token,
          const std::string& note)
        : client_(client), rng_(rng), user_(user), token_(token), note_(note) {}

    // One reader: reads the note; sometimes stops there, else buys one of its purchasable
    // products and pays (now and then with the card that is declined).
    bool run() {
        const auto read = client_.call(http::verb::get, "/v1/notes/" + note_, "");
        if (read.status != 200) {
            spdlog::warn("{} could not read {}: {}", user_, note_, detail_of(read));
            return read.status != 0;
        }
        if (chance(35)) {
            spdlog::info("{} read {} and moved on", user_, note_);
            return true;
        }
        std::vector<std::string> skus;
        for (const auto& p : read.body.at("products").as_array()) {
            if (p.at("purchasable").as_bool()) skus.emplace_back(p.at("sku_id").as_string());
        }
        if (skus.empty()) {
            spdlog::info("{} read {}: nothing left to buy", user_, note_);
            return true;
        }
        const auto& sku = skus[pick(skus.size())];
        const auto quantity = 1 + static_cast<int>(pick(2));
        const auto put =
            client_.call(http::verb::put, "/v1/cart/items/" + sku, token_,
                         fmt::format(R"({{"quantity":{},"note_id":"{}"}})", quantity, note_));
        if (put.status != 200) {
            spdlog::warn("{} could not add {} to the cart: {}", user_, sku, detail_of(put));
            return put.status != 0;
        }
        const auto& a = kAddresses[pick(std::size(kAddresses))];
        const boost::json::object address{{"name", a.name},
                                          {"phone", a.phone},
                                          {"line1", a.line1},
                                          {"city", a.city},
                                          {"postal_code", a.postal_code},
                                          {"country", "CN"}};
        const auto checkout =
            client_.call(http::verb::post, "/v1/checkouts", token_,
                         boost::json::serialize(boost::json::object{{"shipping_address", address}}),
                         "demo-" + random_hex(8));
        if (checkout.status != 201) {
            spdlog::warn("{} could not check out: {}", user_, detail_of(checkout));
            client_.call(http::verb::delete_, "/v1/cart/items/" + sku, token_);
            return checkout.status != 0;
        }
        const std::string payment(checkout.body.at("payment").at("id").as_string());
        const bool decline = chance(10);
        const auto confirm =
            client_.call(http::verb::post, "/v1/payments/" + payment + "/confirm", token_,
                         fmt::format(R"({{"card_number":"{}"}})",
                                     decline ? "4000000000000002" : "4242424242424242"));
        if (confirm.status != 200) {
            spdlog::warn("{} could not pay {}: {}", user_, payment, detail_of(confirm));
            return confirm.status != 0;
        }
        spdlog::info("{} bought {} x {} from {} ({})", user_, quantity, sku, note_,
                     decline ? "card declined" : "paid");
        return true;
    }

  private:
    bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }
    std::size_t pick(std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
    }

    Client& client_;
    std::mt19937& rng_;
    const std::string& user_;
    const std::string& token_;
    const std::string& note_;
};

}  // namespace

int run_demo_buyers(const DemoBuyersOptions& o, const std::string& jwt_secret) {
    if (o.users.empty() || o.notes.empty()) {
        spdlog::critical("demo-buyers needs at least one user and one note");
        return 2;
    }
    std::vector<std::string> tokens;
    for (const auto& u : o.users) {
        auto id = engine::ActorId::parse(u);
        if (!id || !check_sub_for_role(*id, Role::user)) {
            spdlog::critical("{} is not a user id", u);
            return 2;
        }
        auto t = mint_token(Principal{*id, Role::user}, jwt_secret, system_now(), 24 * 3600);
        if (!t) {
            spdlog::critical("cannot mint a token: {}", t.error().detail);
            return 2;
        }
        tokens.push_back(*t);
    }
    Client client(o.host, o.port);
    // Wait for the server.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (client.call(http::verb::get, "/readyz", "").status != 200) {
        if (std::chrono::steady_clock::now() > give_up) {
            spdlog::critical("no server ready on {}:{}", o.host, o.port);
            return 2;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    spdlog::info("demo buyers visiting {}:{} every {} s", o.host, o.port, o.every_s);
    std::mt19937 rng(o.seed != 0
                         ? o.seed
                         : static_cast<std::uint32_t>(
                               std::chrono::steady_clock::now().time_since_epoch().count()));
    // Since when the server has not answered (GCC 12 misreads an optional time_point here).
    bool unreachable = false;
    std::chrono::steady_clock::time_point unreachable_since{};
    const auto period = std::chrono::milliseconds(static_cast<std::int64_t>(o.every_s * 1000));
    for (std::int64_t visits = 0; o.count == 0 || visits < o.count; ++visits) {
        const auto u = std::uniform_int_distribution<std::size_t>(0, o.users.size() - 1)(rng);
        const auto n = std::uniform_int_distribution<std::size_t>(0, o.notes.size() - 1)(rng);
        if (Visit(client, rng, o.users[u], tokens[u], o.notes[n]).run()) {
            unreachable = false;
        } else {
            const auto now = std::chrono::steady_clock::now();
            if (!unreachable) {
                unreachable = true;
                unreachable_since = now;
            }
            if (now - unreachable_since > std::chrono::seconds(30)) {
                spdlog::info("the server is gone; demo buyers stop");
                return 1;
            }
        }
        if (o.count == 0 || visits + 1 < o.count) std::this_thread::sleep_for(period);
    }
    return 0;
}

}  // namespace redloop::api
