#include "support.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "test_database.hpp"

namespace redloop::it {

// ------------------------------------------------------------------------------ JSON

namespace {
const json::value& at(const json::value& v, std::string_view pointer) {
    boost::system::error_code ec;
    const json::value* found = v.find_pointer(pointer, ec);
    if (!found) {
        throw std::runtime_error("JSON has no " + std::string(pointer) + ": " +
                                 json::serialize(v).substr(0, 500));
    }
    return *found;
}
}  // namespace

std::string jstr(const json::value& v, std::string_view pointer) {
    const auto& x = at(v, pointer);
    if (!x.is_string())
        throw std::runtime_error(std::string(pointer) + " is not a string: " + json::serialize(x));
    return std::string(x.get_string());
}

std::int64_t jint(const json::value& v, std::string_view pointer) {
    const auto& x = at(v, pointer);
    if (!x.is_int64()) {
        throw std::runtime_error(std::string(pointer) +
                                 " is not an integer: " + json::serialize(x));
    }
    return x.get_int64();
}

bool jbool(const json::value& v, std::string_view pointer) {
    const auto& x = at(v, pointer);
    if (!x.is_bool())
        throw std::runtime_error(std::string(pointer) + " is not a boolean: " + json::serialize(x));
    return x.get_bool();
}

bool jnull(const json::value& v, std::string_view pointer) {
    return at(v, pointer).is_null();
}

bool jhas(const json::value& v, std::string_view pointer) {
    boost::system::error_code ec;
    return v.find_pointer(pointer, ec) != nullptr;
}

std::string to_json(const json::value& v) {
    return json::serialize(v);
}

// ------------------------------------------------------------------------------ problems

bool is_problem_json(const HttpResponse& r) {
    const auto ct = r.header("content-type");
    return ct.rfind("application/problem+json", 0) == 0;
}

std::string problem_code(const HttpResponse& r) {
    boost::system::error_code ec;
    const auto v = json::parse(r.body, ec);
    if (ec || !v.is_object()) return "<not a problem body>";
    const auto* code = v.get_object().if_contains("code");
    if (!code || !code->is_string()) return "<no code>";
    return std::string(code->get_string());
}

bool problem_is_complete(const HttpResponse& r) {
    boost::system::error_code ec;
    const auto v = json::parse(r.body, ec);
    if (ec || !v.is_object()) return false;
    const auto& o = v.get_object();
    for (const char* key : {"type", "title", "detail", "code"}) {
        const auto* f = o.if_contains(key);
        if (!f || !f->is_string() || f->get_string().empty()) return false;
    }
    const auto* status = o.if_contains("status");
    return status && status->is_int64() && status->get_int64() == r.status;
}

// ------------------------------------------------------------------------------ ids

std::string unique_id(const std::string& prefix) {
    static std::atomic<int> counter{0};
    return prefix + "t" + std::to_string(::getpid()) + "n" + std::to_string(counter++);
}

// ------------------------------------------------------------------------------ JWT

std::string hand_jwt(const std::string& header_json, const std::string& payload_json,
                     const std::string& alg, const std::string& secret) {
    const std::string signing_input = base64url(header_json) + "." + base64url(payload_json);
    if (alg == "none") return signing_input + ".";
    const EVP_MD* md = alg == "HS256"   ? EVP_sha256()
                       : alg == "HS384" ? EVP_sha384()
                       : alg == "HS512" ? EVP_sha512()
                                        : nullptr;
    if (!md) throw std::runtime_error("hand_jwt: unknown alg " + alg);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(md, secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
              mac, &len)) {
        throw std::runtime_error("HMAC failed");
    }
    return signing_input + "." +
           base64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// ------------------------------------------------------------------------------ the database

std::int64_t db_int(const std::string& db_path, const std::string& sql,
                    const std::vector<std::string>& params) {
    if (db_path.rfind("postgresql://", 0) == 0) return test::pg_int(db_path, sql, params);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        const std::string err = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw std::runtime_error("cannot open " + db_path + ": " + err);
    }
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    std::string error;
    std::int64_t value = 0;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
        error = sqlite3_errmsg(db);
    } else {
        for (std::size_t i = 0; i < params.size(); ++i) {
            sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1,
                              SQLITE_TRANSIENT);
        }
        const int rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW) {
            value = sqlite3_column_int64(stmt, 0);
        } else if (rc == SQLITE_DONE) {
            value = 0;  // no row: e.g. no note_stats row yet
        } else {
            error = sqlite3_errmsg(db);
        }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    if (!error.empty()) throw std::runtime_error("sqlite: " + error + " in: " + sql);
    return value;
}

// ------------------------------------------------------------------------------ time

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        if (pred()) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

void race(const ServerProcess& s, int n, const std::function<void(int, HttpClient&)>& fn) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            HttpClient c(s.port());
            c.get("/healthz");
            ++ready;
            while (!go.load()) std::this_thread::yield();
            fn(i, c);
        });
    }
    while (ready.load() < n) std::this_thread::yield();
    go = true;
    for (auto& t : threads) t.join();
}

// ------------------------------------------------------------------------------ cart, checkout

HttpResponse put_cart_line(HttpClient& c, const Actor& u, const std::string& sku,
                           std::int64_t quantity) {
    return c.request("PUT", "/v1/cart/items/" + sku,
                     R"({"quantity":)" + std::to_string(quantity) + "}",
                     {{"Authorization", u.auth}, {"Content-Type", "application/json"}});
}

HttpResponse post_checkout(HttpClient& c, const Actor& u, const std::string& key) {
    return c.post("/v1/checkouts", kAddressBody, u.auth, {{"Idempotency-Key", key}});
}

void pay_checkout(HttpClient& c, const Actor& buyer, const json::value& chk) {
    const auto payment = jstr(chk, "/payment/id");
    REQUIRE_STATUS(c.post("/v1/payments/" + payment + "/confirm", kGoodCard, buyer.auth), 200);
    REQUIRE(eventually(
        [&] {
            return jstr(c.get("/v1/payments/" + payment, buyer.auth).json(), "/status") ==
                   "succeeded";
        },
        std::chrono::seconds(8)));
}

void check_stock_invariants(const ServerProcess& s, const std::string& sku) {
    INFO("sku ", sku);
    const auto on_hand = db_int(s, "SELECT on_hand FROM skus WHERE id = ?1", {sku});
    const auto reserved = db_int(s, "SELECT reserved FROM skus WHERE id = ?1", {sku});
    CHECK(reserved >= 0);
    CHECK(on_hand - reserved >= 0);
    CHECK(reserved == db_int(s,
                             "SELECT COALESCE(SUM(quantity), 0) FROM reservations "
                             "WHERE sku_id = ?1 AND state = 'held'",
                             {sku}));
    CHECK(reserved == db_int(s,
                             "SELECT COALESCE(SUM(reserved_delta), 0) FROM inventory_ledger "
                             "WHERE sku_id = ?1",
                             {sku}));
    CHECK(on_hand == db_int(s,
                            "SELECT COALESCE(SUM(on_hand_delta), 0) FROM inventory_ledger "
                            "WHERE sku_id = ?1",
                            {sku}));
}

// ------------------------------------------------------------------------------ bodies

json::object product_json(const std::string& title, const std::vector<SkuSpec>& skus,
                          int commission_rate_bps) {
    json::array sku_array;
    for (const auto& s : skus) {
        sku_array.push_back(
            json::object{{"title", s.title},
                         {"price", json::object{{"amount", s.amount}, {"currency", s.currency}}},
                         {"stock", s.stock}});
    }
    return json::object{
        {"title", title},
        {"description", "A product made by the integration tests."},
        {"media",
         json::array{json::object{{"type", "image"}, {"url", "https://media.example.com/p.jpg"}}}},
        {"commission_rate_bps", commission_rate_bps},
        {"skus", std::move(sku_array)}};
}

json::value create_product(HttpClient& c, const std::string& merchant, const std::string& title,
                           const std::vector<SkuSpec>& skus, int commission_rate_bps) {
    const auto r =
        c.post("/v1/products", to_json(product_json(title, skus, commission_rate_bps)), merchant);
    REQUIRE_STATUS(r, 201);
    return r.json();
}

HttpResponse post_note(HttpClient& c, const std::string& author, const std::string& title,
                       const std::vector<std::string>& sku_ids) {
    json::array products;
    for (const auto& id : sku_ids) products.push_back(json::object{{"sku_id", id}});
    const json::object body{{"title", title},
                            {"body", "Written by the integration tests.\nSecond line."},
                            {"media", json::array{}},
                            {"products", std::move(products)}};
    return c.post("/v1/notes", to_json(body), author);
}

std::optional<double> metric_value(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return std::nullopt;
}

std::string hash_line(const std::string& out) {
    const auto at = out.rfind("state-hash: ");
    if (at == std::string::npos) return "";
    return out.substr(at + 12, 64);
}

bool journal_is(const std::string& db, const std::string& expected) {
    const auto exported = run_cli({"journal", "export", "--db", db});
    if (exported.exit_code != 0) {
        MESSAGE("journal export failed: " << exported.err);
        return false;
    }
    if (exported.out == expected) return true;
    std::istringstream got(exported.out), want(expected);
    std::string g, w;
    for (int line = 1;; ++line) {
        const bool more_got = static_cast<bool>(std::getline(got, g));
        const bool more_want = static_cast<bool>(std::getline(want, w));
        if (!more_got && !more_want) break;
        if (g != w || more_got != more_want) {
            MESSAGE("journal line " << line << " is\n  " << (more_got ? g : "(none)")
                                    << "\nexpected\n  " << (more_want ? w : "(none)"));
            break;
        }
    }
    return false;
}

Actor new_merchant(const ServerProcess& s) {
    const auto id = unique_id("mer_");
    return {id, s.bearer(api::Role::merchant, id)};
}

Actor new_user(const ServerProcess& s) {
    const auto id = unique_id("usr_");
    return {id, s.bearer(api::Role::user, id)};
}

}  // namespace redloop::it
