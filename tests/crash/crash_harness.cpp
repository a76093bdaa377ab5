// redloop-crash-harness: runs the real `redloop serve` under checkout, payment and refund load,
// kills it with SIGKILL at a random (seeded) moment, restarts it on the same SQLite file and
// checks, after every kill, that nothing acknowledged was lost or doubled and that the state
// still adds up. See docs/reliability.md ("Crash safety").
//
// One round:
//   1. start `redloop serve` on the database, wait for /readyz;
//   2. act as the payment provider for what the killed process could not finish (a payment
//      still `processing`, a refund still `pending`: the sandbox's deliveries died with it);
//   3. replay acknowledged writes with their Idempotency-Key: same status, same bytes;
//   4. run the buyers (and a merchant) for a random time, each client first resending the
//      request whose answer the previous kill swallowed, with the same key and body;
//   5. SIGKILL, then check the file with the server down: integrity, every acknowledged create
//      present exactly once, every acknowledged move still there, the invariants of inventory,
//      orders, payments and refunds; every K rounds, the journal replays to the state hash.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "auth.hpp"
#include "http_client.hpp"
#include "webhook_signature.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using redloop::it::Headers;
using redloop::it::HttpClient;
using redloop::it::HttpResponse;
using Clock = std::chrono::steady_clock;

constexpr const char* kJwtSecret = "crash-harness-jwt-secret-0123456789abcdef0123";
constexpr const char* kWebhookSecret = "crash-harness-webhook-secret-0123456789abcdef";
constexpr const char* kGoodCard = "4242424242424242";
constexpr const char* kDeclinedCard = "4000000000000002";
const std::string kAddress =
    R"({"shipping_address":{"name":"Lin","phone":"13800000000","line1":"1 West Lake Rd",)"
    R"("city":"Hangzhou","postal_code":"310000","country":"CN"}})";

// A check that failed: the harness prints it with the seed and the round and exits 1.
struct CheckFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) {
    throw CheckFailure(what);
}

std::int64_t unix_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string bearer(redloop::api::Role role, const std::string& sub) {
    auto actor = redloop::engine::ActorId::parse(sub);
    if (!actor) throw std::runtime_error("bad actor id " + sub);
    auto t = redloop::api::mint_token(redloop::api::Principal{*actor, role}, kJwtSecret,
                                      redloop::engine::Timestamp{unix_ms()}, 7 * 24 * 3600);
    if (!t) throw std::runtime_error("cannot mint a token for " + sub);
    return "Bearer " + *t;
}

std::string money(std::int64_t minor) {
    return fmt::format(R"({{"amount":{},"currency":"CNY"}})", minor);
}

// ------------------------------------------------------------------------- processes

// Runs `bin args...` to completion with stdout to `out_path` (or /dev/null) and stderr to
// `err_path`; returns the exit code (128 + signal when killed).
int run_command(const std::vector<std::string>& args, const std::string& out_path,
                const std::string& err_path) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.empty() ? "/dev/null" : out_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> storage = args;
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string tail(const std::string& s, std::size_t n = 4000) {
    return s.size() > n ? "..." + s.substr(s.size() - n) : s;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

// `redloop serve` on the database; stdout is a pipe (for the "listening on" line), stderr is
// appended to the server log.
class Server {
  public:
    Server(const std::string& bin, const std::string& db, const std::string& log_path) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                         0644);
        std::vector<std::string> storage = {bin, "--log-level", "warn", "serve", "--db", db,
                                            "--port", "0", "--threads", "2",
                                            "--checkout-rate-per-minute", "0",
                                            // small effects epochs: kills land in open ones
                                            "--journal-effects-epoch", "16"};
        std::vector<char*> argv;
        for (auto& a : storage) argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        ::close(fds[1]);
        if (rc != 0) {
            ::close(fds[0]);
            throw std::runtime_error("cannot start " + bin + ": " + std::strerror(rc));
        }
        // "redloop listening on http://127.0.0.1:PORT"
        std::string out;
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        char buf[512];
        while (Clock::now() < deadline) {
            const auto n = ::read(fds[0], buf, sizeof buf);
            if (n <= 0) break;
            out.append(buf, static_cast<std::size_t>(n));
            const auto at = out.find("listening on http://");
            if (at != std::string::npos) {
                const auto eol = out.find('\n', at);
                if (eol == std::string::npos) continue;
                const auto colon = out.rfind(':', eol);
                port_ = static_cast<unsigned short>(std::stoi(out.substr(colon + 1, eol - colon)));
                break;
            }
        }
        ::close(fds[0]);  // later stdout writes get EPIPE; the server prints nothing more there
        if (port_ == 0) {
            kill();
            fail("the server did not start; see " + log_path + "\n" + out);
        }
    }
    ~Server() {
        if (pid_ > 0) kill();
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    unsigned short port() const { return port_; }

    void kill() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }
    // SIGTERM and wait: the graceful stop; returns the exit code.
    int terminate() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

  private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
};

// ------------------------------------------------------------------------- SQLite, read-only

class Db {
  public:
    explicit Db(const std::string& path) {
        const std::string uri = "file:" + path + "?mode=ro";
        if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) !=
            SQLITE_OK) {
            const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
            sqlite3_close(db_);
            db_ = nullptr;
            fail("cannot open " + path + " read-only: " + msg);
        }
        sqlite3_busy_timeout(db_, 5000);
    }
    ~Db() { sqlite3_close(db_); }
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    // Every row as text columns (NULL as "NULL").
    std::vector<std::vector<std::string>> rows(const std::string& sql,
                                               const std::vector<std::string>& params = {}) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
            fail("SQL error: " + std::string(sqlite3_errmsg(db_)) + " in " + sql);
        for (std::size_t i = 0; i < params.size(); ++i)
            sqlite3_bind_text(st, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT);
        std::vector<std::vector<std::string>> out;
        int rc = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            std::vector<std::string> row;
            const int n = sqlite3_column_count(st);
            for (int c = 0; c < n; ++c) {
                const auto* t = sqlite3_column_text(st, c);
                row.emplace_back(t ? reinterpret_cast<const char*>(t) : "NULL");
            }
            out.push_back(std::move(row));
        }
        const std::string err = rc == SQLITE_DONE ? "" : sqlite3_errmsg(db_);
        sqlite3_finalize(st);
        if (!err.empty()) fail("SQL error: " + err + " in " + sql);
        return out;
    }
    std::int64_t scalar(const std::string& sql, const std::vector<std::string>& params = {}) {
        auto r = rows(sql, params);
        if (r.empty() || r[0].empty() || r[0][0] == "NULL") return 0;
        return std::stoll(r[0][0]);
    }

  private:
    sqlite3* db_ = nullptr;
};

// ------------------------------------------------------------------------- what the harness knows

// A keyed write the harness sent, and what came back (status 0: no answer yet).
struct Exchange {
    std::string kind;  // checkout, confirm, refund, cancel, adjust
    std::string auth;
    std::string method;
    std::string target;
    std::string key;
    std::string body;
    int status = 0;
    std::string response;
    int round = 0;
};

Exchange make_exchange(std::string kind, std::string auth, std::string method, std::string target,
                       std::string key, std::string body) {
    Exchange ex;
    ex.kind = std::move(kind);
    ex.auth = std::move(auth);
    ex.method = std::move(method);
    ex.target = std::move(target);
    ex.key = std::move(key);
    ex.body = std::move(body);
    return ex;
}

struct OrderRec {
    std::string checkout_id;
    std::string user;
    std::string merchant;
    std::int64_t total = 0;
    int refunds_acked = 0;           // refunds created by an acknowledged POST .../refunds
    bool cancel_acked = false;       // an acknowledged cancel
    bool cancelled_paid = false;     // ... of a paid order: a refund of its own follows
    bool paid_seen = false;          // a read showed its payment succeeded
    std::int64_t refunded_seen = 0;  // the largest refunded_amount a read showed
    int unknown_moves = 0;           // a refund or cancel sent, answer not yet known
};

struct PaymentRec {
    std::string user;
    std::string checkout_id;
    std::int64_t amount = 0;
    bool card_good = true;
    bool confirm_sent = false;
    bool confirm_acked = false;
};

struct Stats {
    std::int64_t kills = 0;
    std::int64_t acked_writes = 0;    // keyed writes answered 2xx
    std::int64_t acked_requests = 0;  // every 2xx, reads and cart lines included
    std::int64_t refused = 0;         // keyed writes answered 4xx as designed (out_of_stock, ...)
    std::int64_t unknown = 0;         // keyed writes the kill left without an answer
    std::int64_t unknown_had_happened = 0;  // ... whose retry was a replay (it had committed)
    std::int64_t unknown_ran_on_retry = 0;  // ... whose retry did it for the first time
    std::int64_t checkouts = 0;
    std::int64_t orders = 0;
    std::int64_t refunds = 0;
    std::int64_t cancels = 0;
    std::int64_t adjustments = 0;
    std::int64_t provider_deliveries = 0;  // webhooks the harness delivered after a restart
    std::int64_t idempotent_replays = 0;   // acknowledged writes sent again and compared
    std::int64_t journal_replays = 0;
    std::int64_t journal_entries = 0;  // in the last replayed journal
};

struct Shared {
    std::mutex mutex;
    std::vector<Exchange> acked;  // every acknowledged keyed write
    std::map<std::string, std::vector<std::string>> checkouts_by_user;  // known checkout ids
    std::map<std::string, OrderRec> orders;
    std::map<std::string, PaymentRec> payments;
    std::map<std::string, std::string> refunds;  // refund id -> order id (acknowledged)
    std::set<std::string> users_with_unknown_checkout;
    Stats stats;
    std::string failure;  // the first failure seen on a client thread

    void record_failure(const std::string& what) {
        std::lock_guard lock(mutex);
        if (failure.empty()) failure = what;
    }
};

// ------------------------------------------------------------------------- clients

struct Line {
    std::string sku;
    std::string note;
};
// Buyers add from the demo notes: two SKUs with deep stock, two that sell out and come back.
const std::vector<Line> kLines = {{"sku_longjing50g", "nte_springtea"},
                                  {"sku_celadoncup1", "nte_springtea"},
                                  {"sku_sunscreen50ml", "nte_sunscreen"},
                                  {"sku_lipbalm", "nte_hike"}};
const std::map<std::string, std::string> kMerchantOfSku = {{"sku_longjing50g", "mer_westlaketea"},
                                                           {"sku_celadoncup1", "mer_westlaketea"},
                                                           {"sku_sunscreen50ml", "mer_glowlab"},
                                                           {"sku_lipbalm", "mer_glowlab"}};

// The connection died under the request: the server is gone.
struct NoAnswer : std::runtime_error {
    using std::runtime_error::runtime_error;
};

enum class Stage { cart, checkout, confirm, wait_paid, after_paid, wait_refund };
enum class Ending { none, partial_refund, full_refund, cancel, two_refunds };

class Client {
  public:
    Client(Shared& shared, std::uint64_t seed, int index)
        : shared_(shared), rng_(seed * 1000003ULL + static_cast<std::uint64_t>(index)) {
        user_ = fmt::format("usr_crash{}", index);
        auth_ = bearer(redloop::api::Role::user, user_);
    }

    // One round: resend what the last kill swallowed, then trade until told to stop or the
    // server goes away.
    void run(unsigned short port, int round, const std::atomic<bool>& stop) {
        round_ = round;
        HttpClient http(port);
        try {
            if (pending_) {
                Exchange ex = *pending_;
                const auto r = send(http, ex.method, ex.target, ex.body, ex.auth, ex.key);
                ex.round = round;
                resolve_unknown(ex, r);
            }
            while (!stop.load()) step(http);
        } catch (const NoAnswer&) {
            // The kill: whatever was in flight is pending_ (keyed) or simply redone.
        } catch (const std::exception& e) {
            shared_.record_failure(user_ + ": " + e.what());
        }
    }

    bool has_pending() const { return pending_.has_value(); }

  private:
    HttpResponse send(HttpClient& http, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& auth,
                      const std::string& key = "") {
        Headers h{{"Authorization", auth}};
        if (!key.empty()) h.emplace_back("Idempotency-Key", key);
        HttpResponse r;
        try {
            r = http.request(method, target, body, h);
        } catch (const std::exception& e) {
            throw NoAnswer(e.what());
        }
        if (r.status >= 500)
            fail(fmt::format("{} {} answered {}: {}", method, target, r.status, r.body));
        if (r.status >= 200 && r.status < 300) {
            std::lock_guard lock(shared_.mutex);
            ++shared_.stats.acked_requests;
        }
        return r;
    }

    // A keyed write: sent, and either answered (handled) or left pending for the next round.
    void keyed(HttpClient& http, Exchange ex) {
        ex.round = round_;
        {
            std::lock_guard lock(shared_.mutex);
            note_sent(ex);
        }
        HttpResponse r;
        try {
            r = send(http, ex.method, ex.target, ex.body, ex.auth, ex.key);
        } catch (const NoAnswer&) {
            std::lock_guard lock(shared_.mutex);
            ++shared_.stats.unknown;
            pending_ = ex;
            throw;
        }
        handle(ex, r);
    }

    void resolve_unknown(Exchange& ex, const HttpResponse& r) {
        {
            std::lock_guard lock(shared_.mutex);
            if (r.header("Idempotent-Replayed") == "true")
                ++shared_.stats.unknown_had_happened;
            else
                ++shared_.stats.unknown_ran_on_retry;
        }
        pending_.reset();
        handle(ex, r);
    }

    // Bookkeeping before a keyed write goes out (what it may have done if no answer comes).
    void note_sent(const Exchange& ex) {
        if (ex.kind == "checkout") shared_.users_with_unknown_checkout.insert(user_);
        if (ex.kind == "confirm") {
            auto& p = shared_.payments[payment_id_];
            p.confirm_sent = true;
            p.card_good = card_good_;
        }
        if (ex.kind == "refund" || ex.kind == "cancel") ++shared_.orders[order_id_].unknown_moves;
    }

    void record_ack(const Exchange& ex, const HttpResponse& r) {
        Exchange done = ex;
        done.status = r.status;
        done.response = r.body;
        shared_.acked.push_back(std::move(done));
        ++shared_.stats.acked_writes;
    }

    void unexpected(const Exchange& ex, const HttpResponse& r) {
        fail(fmt::format("{} {} (key {}) answered {}: {}", ex.method, ex.target, ex.key, r.status,
                         r.body));
    }

    void handle(const Exchange& ex, const HttpResponse& r) {
        std::unique_lock lock(shared_.mutex);
        if (ex.kind == "refund" || ex.kind == "cancel") --shared_.orders[order_id_].unknown_moves;
        if (ex.kind == "checkout") {
            shared_.users_with_unknown_checkout.erase(user_);
            if (r.status == 201) {
                record_ack(ex, r);
                cart_.clear();  // the checkout emptied the cart
                const auto v = r.json();
                const std::string id(v.at("id").as_string());
                shared_.checkouts_by_user[user_].push_back(id);
                ++shared_.stats.checkouts;
                payment_id_ = std::string(v.at("payment").at("id").as_string());
                auto& p = shared_.payments[payment_id_];
                p.user = user_;
                p.checkout_id = id;
                p.amount = v.at("payment").at("amount").at("amount").as_int64();
                orders_.clear();
                for (const auto& o : v.at("orders").as_array()) {
                    const std::string oid(o.at("id").as_string());
                    auto& rec = shared_.orders[oid];
                    rec.checkout_id = id;
                    rec.user = user_;
                    rec.merchant = std::string(o.at("merchant_id").as_string());
                    rec.total = o.at("total").at("amount").as_int64();
                    orders_.push_back(oid);
                    ++shared_.stats.orders;
                }
                stage_ = Stage::confirm;
            } else if (r.status == 409) {
                ++shared_.stats.refused;  // out of stock: try another cart
                stage_ = Stage::cart;
            } else {
                unexpected(ex, r);
            }
        } else if (ex.kind == "confirm") {
            if (r.status != 200) unexpected(ex, r);
            record_ack(ex, r);
            shared_.payments[payment_id_].confirm_acked = true;
            stage_ = Stage::wait_paid;
        } else if (ex.kind == "refund") {
            if (r.status != 201) unexpected(ex, r);
            record_ack(ex, r);
            const auto v = r.json();
            shared_.refunds[std::string(v.at("id").as_string())] = order_id_;
            ++shared_.orders[order_id_].refunds_acked;
            ++shared_.stats.refunds;
            refund_target_ =
                shared_.orders[order_id_].refunded_seen + v.at("amount").at("amount").as_int64();
            stage_ = Stage::wait_refund;
        } else if (ex.kind == "cancel") {
            if (r.status != 200) unexpected(ex, r);
            record_ack(ex, r);
            auto& o = shared_.orders[order_id_];
            o.cancel_acked = true;
            ++shared_.stats.cancels;
            ending_ = Ending::none;
            if (o.paid_seen) {
                o.cancelled_paid = true;
                refund_target_ = o.total;
                stage_ = Stage::wait_refund;
            } else {
                finish_flow();
            }
        }
    }

    void finish_flow() {
        stage_ = Stage::cart;
        ending_ = Ending::none;
    }

    template <typename T>
    T pick(T lo, T hi) {
        return std::uniform_int_distribution<T>(lo, hi)(rng_);
    }

    void step(HttpClient& http) {
        switch (stage_) {
            case Stage::cart: {
                for (const auto& sku : cart_)
                    send(http, "DELETE", "/v1/cart/items/" + sku, "", auth_);
                cart_.clear();
                const int lines = pick(1, 2);
                for (int i = 0; i < lines; ++i) {
                    const auto& l = kLines[pick<std::size_t>(0, kLines.size() - 1)];
                    const auto r =
                        send(http, "PUT", "/v1/cart/items/" + l.sku,
                             fmt::format(R"({{"quantity":{},"note_id":"{}"}})", pick(1, 2), l.note),
                             auth_);
                    if (r.status == 200)
                        cart_.insert(l.sku);
                    else if (r.status != 409)
                        fail("PUT /v1/cart/items/" + l.sku + " answered " +
                             std::to_string(r.status) + ": " + r.body);
                }
                if (cart_.empty()) return;
                const int e = pick(0, 9);
                ending_ = e < 3   ? Ending::none
                          : e < 5 ? Ending::partial_refund
                          : e < 7 ? Ending::full_refund
                          : e < 8 ? Ending::two_refunds
                                  : Ending::cancel;
                card_good_ = pick(0, 9) != 0;
                stage_ = Stage::checkout;
                return;
            }
            case Stage::checkout:
                keyed(http, make_exchange("checkout", auth_, "POST", "/v1/checkouts",
                                          fmt::format("c-{}-{}", user_, ++counter_), kAddress));
                return;
            case Stage::confirm:
                keyed(http, make_exchange("confirm", auth_, "POST",
                                          "/v1/payments/" + payment_id_ + "/confirm",
                                          fmt::format("p-{}-{}", user_, ++counter_),
                                          fmt::format(R"({{"card_number":"{}"}})",
                                                      card_good_ ? kGoodCard : kDeclinedCard)));
                return;
            case Stage::wait_paid: {
                const auto r = send(http, "GET", "/v1/payments/" + payment_id_, "", auth_);
                if (r.status != 200) fail("GET payment " + payment_id_ + ": " + r.body);
                const std::string status(r.json().at("status").as_string());
                if (status == "succeeded") {
                    if (!card_good_)
                        fail("payment " + payment_id_ + " with the declined card succeeded");
                    std::lock_guard lock(shared_.mutex);
                    for (const auto& o : orders_) shared_.orders[o].paid_seen = true;
                    stage_ = Stage::after_paid;
                } else if (status == "failed") {
                    if (card_good_) fail("payment " + payment_id_ + " with the good card failed");
                    finish_flow();
                } else if (status != "processing") {
                    fail("payment " + payment_id_ + " is " + status +
                         " while its webhook is awaited");
                } else {
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
                return;
            }
            case Stage::after_paid: {
                if (ending_ == Ending::none) {
                    finish_flow();
                    return;
                }
                order_id_ = orders_[pick<std::size_t>(0, orders_.size() - 1)];
                std::int64_t total = 0;
                std::int64_t refunded = 0;
                std::string merchant;
                {
                    std::lock_guard lock(shared_.mutex);
                    const auto& o = shared_.orders[order_id_];
                    total = o.total;
                    refunded = o.refunded_seen;
                    merchant = o.merchant;
                }
                if (ending_ == Ending::cancel) {
                    keyed(http, make_exchange("cancel", auth_, "POST",
                                              "/v1/orders/" + order_id_ + "/cancel",
                                              fmt::format("x-{}-{}", user_, ++counter_), "{}"));
                    return;
                }
                const std::int64_t left = total - refunded;
                const bool full = ending_ == Ending::full_refund || left < 2;
                const std::int64_t amount = full ? left : pick<std::int64_t>(1, left - 1);
                if (ending_ == Ending::two_refunds && !full) {
                    ending_ = Ending::full_refund;  // the rest next time
                } else {
                    ending_ = Ending::none;
                }
                keyed(http, make_exchange(
                                "refund", bearer(redloop::api::Role::merchant, merchant), "POST",
                                "/v1/orders/" + order_id_ + "/refunds",
                                fmt::format("r-{}-{}", user_, ++counter_),
                                fmt::format(R"({{"amount":{},"reason":"crash test","restock":{}}})",
                                            money(amount), full ? "true" : "false")));
                return;
            }
            case Stage::wait_refund: {
                const auto r = send(http, "GET", "/v1/orders/" + order_id_, "", auth_);
                if (r.status != 200) fail("GET order " + order_id_ + ": " + r.body);
                const auto refunded = r.json().at("refunded_amount").at("amount").as_int64();
                {
                    std::lock_guard lock(shared_.mutex);
                    auto& o = shared_.orders[order_id_];
                    o.refunded_seen = std::max(o.refunded_seen, refunded);
                }
                if (refunded >= refund_target_) {
                    if (ending_ == Ending::none)
                        finish_flow();
                    else
                        stage_ = Stage::after_paid;
                } else {
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
                return;
            }
        }
    }

    Shared& shared_;
    std::mt19937_64 rng_;
    std::string user_;
    std::string auth_;
    int round_ = 0;
    int counter_ = 0;
    Stage stage_ = Stage::cart;
    Ending ending_ = Ending::none;
    bool card_good_ = true;
    std::set<std::string> cart_;
    std::string payment_id_;
    std::vector<std::string> orders_;
    std::string order_id_;
    std::int64_t refund_target_ = 0;
    std::optional<Exchange> pending_;
};

// The shops restock the SKUs that sell out, a few units at a time (keyed stock adjustments;
// the ledger row's reason is the key, so each can be counted).
class Merchant {
  public:
    explicit Merchant(Shared& shared) : shared_(shared) {}

    void run(unsigned short port, int round, const std::atomic<bool>& stop) {
        HttpClient http(port);
        try {
            if (pending_) {
                if (exchange(http, *pending_, round)) pending_.reset();
            }
            while (!stop.load()) {
                const std::string sku = (++counter_ % 2) ? "sku_lipbalm" : "sku_celadoncup1";
                Exchange ex = make_exchange(
                    "adjust", bearer(redloop::api::Role::merchant, kMerchantOfSku.at(sku)), "POST",
                    "/v1/skus/" + sku + "/stock-adjustments", fmt::format("crashadj{}", counter_),
                    fmt::format(R"({{"delta":2,"reason":"crashadj{}"}})", counter_));
                if (!exchange(http, ex, round)) {
                    pending_ = ex;
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(40));
            }
        } catch (const std::exception& e) {
            shared_.record_failure(std::string("merchant: ") + e.what());
        }
    }

  private:
    // false: no answer.
    bool exchange(HttpClient& http, Exchange ex, int round) {
        ex.round = round;
        HttpResponse r;
        try {
            r = http.request(ex.method, ex.target, ex.body,
                             {{"Authorization", ex.auth}, {"Idempotency-Key", ex.key}});
        } catch (const std::exception&) {
            if (!pending_) {
                std::lock_guard lock(shared_.mutex);
                ++shared_.stats.unknown;
            }
            return false;
        }
        std::lock_guard lock(shared_.mutex);
        if (pending_) {
            if (r.header("Idempotent-Replayed") == "true")
                ++shared_.stats.unknown_had_happened;
            else
                ++shared_.stats.unknown_ran_on_retry;
        }
        if (r.status != 200)
            fail(fmt::format("{} {} answered {}: {}", ex.method, ex.target, r.status, r.body));
        ex.status = r.status;
        ex.response = r.body;
        shared_.acked.push_back(ex);
        ++shared_.stats.acked_writes;
        ++shared_.stats.acked_requests;
        ++shared_.stats.adjustments;
        return true;
    }

    Shared& shared_;
    int counter_ = 0;
    std::optional<Exchange> pending_;
};

// ------------------------------------------------------------------------- the checks

struct Options {
    std::uint64_t seed = 1;
    int kills = 200;
    std::string bin;
    std::string dir = "crash-work";
    std::string fixtures;
    int clients = 16;
    int min_run_ms = 20;
    int max_run_ms = 300;
    int replay_every = 10;
    int replay_sample = 40;
    // The harness's own test: damage the file after this kill, as a bug would, and let the
    // checks find it (the ctest crash_detects_* cases).
    std::string inject;
    int inject_round = 0;
};

// Queries that must return no row; each names what it checks.
const std::vector<std::pair<std::string, std::string>> kInvariants = {
    {"no negative stock, never more reserved than on hand",
     "SELECT id, on_hand, reserved FROM skus WHERE on_hand < 0 OR reserved < 0 OR on_hand < "
     "reserved"},
    {"on_hand and reserved are the sums of the SKU's inventory ledger",
     "SELECT s.id, s.on_hand, s.reserved, SUM(l.on_hand_delta), SUM(l.reserved_delta) FROM skus s "
     "LEFT JOIN inventory_ledger l ON l.sku_id = s.id GROUP BY s.id "
     "HAVING s.on_hand != COALESCE(SUM(l.on_hand_delta), 0) OR s.reserved != "
     "COALESCE(SUM(l.reserved_delta), 0)"},
    {"reserved is the sum of the SKU's held reservations",
     "SELECT s.id, s.reserved, (SELECT COALESCE(SUM(quantity), 0) FROM reservations r "
     "WHERE r.sku_id = s.id AND r.state = 'held') AS held FROM skus s WHERE s.reserved != held"},
    {"no SKU sold more than it ever had (adjustments and restocks)",
     "SELECT sku_id, SUM(CASE WHEN kind = 'sale' THEN -on_hand_delta ELSE 0 END) AS sold, "
     "SUM(CASE WHEN kind IN ('adjustment', 'restock') THEN on_hand_delta ELSE 0 END) AS came "
     "FROM inventory_ledger GROUP BY sku_id HAVING sold > came"},
    {"a line's total is its quantity times its unit price",
     "SELECT order_id, position FROM order_lines WHERE line_total_minor != quantity * "
     "unit_price_minor"},
    {"an order's subtotal is the sum of its lines, its total subtotal + shipping - discount",
     "SELECT o.id FROM orders o WHERE o.subtotal_minor != (SELECT SUM(line_total_minor) FROM "
     "order_lines l WHERE l.order_id = o.id) OR o.total_minor != o.subtotal_minor + "
     "o.shipping_fee_minor - o.discount_minor"},
    {"a payment is the sum of its checkout's order totals",
     "SELECT p.id, p.amount_minor, (SELECT SUM(total_minor) FROM orders o WHERE o.checkout_id = "
     "p.checkout_id) AS t FROM payments p WHERE p.amount_minor != t AND p.status NOT IN "
     "('requires_confirmation', 'cancelled')"},
    {"refunded_amount is the sum of the order's succeeded refunds, never past the total",
     "SELECT o.id, o.refunded_minor, o.total_minor FROM orders o WHERE o.refunded_minor != "
     "(SELECT COALESCE(SUM(amount_minor), 0) FROM refunds r WHERE r.order_id = o.id AND "
     "r.status = 'succeeded') OR o.refunded_minor > o.total_minor"},
    {"refunds (pending included) never exceed the order's total",
     "SELECT o.id FROM orders o WHERE (SELECT COALESCE(SUM(amount_minor), 0) FROM refunds r "
     "WHERE r.order_id = o.id) > o.total_minor"},
    {"a refunded order has been refunded its total",
     "SELECT id FROM orders WHERE status = 'refunded' AND refunded_minor != total_minor"},
    {"a paid order's payment succeeded",
     "SELECT o.id, o.status, p.status FROM orders o JOIN checkouts c ON c.id = o.checkout_id "
     "JOIN payments p ON p.id = c.payment_id WHERE o.status IN ('paid', 'shipped', 'delivered', "
     "'completed', 'refunded') AND p.status NOT IN ('succeeded', 'partially_refunded', "
     "'refunded')"},
    {"an unpaid order's payment has not succeeded",
     "SELECT o.id, p.status FROM orders o JOIN checkouts c ON c.id = o.checkout_id JOIN payments "
     "p ON p.id = c.payment_id WHERE o.status = 'awaiting_payment' AND p.status NOT IN "
     "('requires_confirmation', 'processing')"},
    {"a payment's refunds add up to its state",
     "SELECT p.id, p.status, p.amount_minor, (SELECT COALESCE(SUM(amount_minor), 0) FROM refunds r "
     "WHERE r.payment_id = p.id AND r.status = 'succeeded') AS back FROM payments p WHERE "
     "(p.status = 'refunded' AND back != p.amount_minor) OR (p.status = 'partially_refunded' AND "
     "(back <= 0 OR back >= p.amount_minor)) OR (p.status IN ('succeeded', "
     "'requires_confirmation', 'processing', 'failed') AND back != 0)"},
    {"an unpaid order holds its stock, a paid one sold it, a cancelled one holds none",
     "SELECT o.id, o.status, r.sku_id, r.state FROM orders o JOIN reservations r ON r.order_id = "
     "o.id WHERE (o.status = 'awaiting_payment' AND r.state != 'held') OR (o.status IN ('paid', "
     "'shipped', 'delivered', 'completed', 'refunded') AND r.state != 'sold') OR (o.status IN "
     "('cancelled', 'expired') AND r.state = 'held')"},
    {"every order line has its reservation of the same quantity",
     "SELECT l.order_id, l.sku_id FROM order_lines l LEFT JOIN reservations r ON r.order_id = "
     "l.order_id AND r.sku_id = l.sku_id GROUP BY l.order_id, l.sku_id HAVING SUM(l.quantity) != "
     "MAX(COALESCE(r.quantity, 0))"},
    // The ledger has no index on ref: each side is aggregated once, then joined.
    {"the ledger's reservation, release and sale rows of an order match its reservations",
     "WITH led AS (SELECT ref, sku_id, SUM(reserved_delta) AS held, SUM(CASE WHEN kind = 'sale' "
     "THEN -on_hand_delta ELSE 0 END) AS sold FROM inventory_ledger GROUP BY ref, sku_id) "
     "SELECT r.order_id, r.sku_id, r.state, r.quantity, led.held, led.sold FROM reservations r "
     "LEFT JOIN led ON led.ref = r.order_id AND led.sku_id = r.sku_id WHERE "
     "COALESCE(led.held, 0) != CASE WHEN r.state = 'held' THEN r.quantity ELSE 0 END OR "
     "COALESCE(led.sold, 0) != CASE WHEN r.state = 'sold' THEN r.quantity ELSE 0 END"},
    {"a restocked order put every unit back once, and only a restocked order",
     "WITH back AS (SELECT ref, SUM(on_hand_delta) AS units FROM inventory_ledger WHERE kind = "
     "'restock' GROUP BY ref), bought AS (SELECT order_id, SUM(quantity) AS units FROM "
     "order_lines GROUP BY order_id) SELECT o.id, o.restocked, back.units, bought.units FROM "
     "orders o JOIN bought ON bought.order_id = o.id LEFT JOIN back ON back.ref = o.id WHERE "
     "COALESCE(back.units, 0) != CASE WHEN o.restocked = 1 THEN bought.units ELSE 0 END"},
    {"a checkout's status agrees with its payment",
     "SELECT c.id, c.status, p.status FROM checkouts c JOIN payments p ON p.id = c.payment_id "
     "WHERE (c.status = 'paid') != (p.status IN ('succeeded', 'partially_refunded', 'refunded'))"},
    {"every idempotency key stored a complete answer",
     "SELECT caller, idem_key FROM idempotency_keys WHERE status < 200 OR status > 599"},
};

class Harness {
  public:
    explicit Harness(Options o) : opt_(std::move(o)), rng_(opt_.seed) {}

    int run() {
        const auto started = Clock::now();
        fs::remove_all(opt_.dir);
        fs::create_directories(opt_.dir);
        db_ = fs::absolute(fs::path(opt_.dir) / "redloop.db").string();
        log_ = fs::absolute(fs::path(opt_.dir) / "server.log").string();
        ::setenv("REDLOOP_JWT_SECRET", kJwtSecret, 1);
        ::setenv("REDLOOP_WEBHOOK_SECRET", kWebhookSecret, 1);
        // The key ring that seals personal data at rest (docs/reliability.md).
        ::setenv("REDLOOP_DATA_KEYS", "crash1:Y3Jhc2gtaGFybmVzcy1kYXRhLWtleS0zMi1ieXRlcyE=", 1);
        for (const char* v : {"REDLOOP_DB", "REDLOOP_PORT", "REDLOOP_LISTEN", "REDLOOP_FIXTURES",
                              "REDLOOP_CHECKOUT_TTL", "REDLOOP_DEV"})
            ::unsetenv(v);

        // The demo fixtures, then deep stock on two SKUs (the small ones sell out and come back).
        if (run_command({opt_.bin, "seed", "--db", db_, "--fixtures", opt_.fixtures}, "", log_) !=
            0)
            fail("redloop seed failed; see " + log_);
        for (int i = 0; i < opt_.clients; ++i)
            clients_.push_back(std::make_unique<Client>(shared_, opt_.seed, i));
        merchant_ = std::make_unique<Merchant>(shared_);

        for (round_ = 1; round_ <= opt_.kills; ++round_) {
            {
                auto t = Clock::now();
                Server server(opt_.bin, db_, log_);
                wait_ready(server.port());
                lap(phase_start_, t);
                if (round_ == 1) stock_up(server.port());
                deliver_for_the_provider(server.port());
                replay_acknowledged(server.port());
                lap(phase_recover_, t);
                trade(server);  // ends with the SIGKILL
                lap(phase_trade_, t);
            }
            ++shared_.stats.kills;
            if (round_ == opt_.inject_round) inject_fault();
            auto t = Clock::now();
            check_file(false);
            lap(phase_check_, t);
            if (round_ % opt_.replay_every == 0) check_replay();
            lap(phase_replay_, t);
            if (round_ % 25 == 0 || round_ == opt_.kills) progress(started);
        }

        // The last restart: every unknown is resolved, the provider's part delivered, then a
        // graceful stop and the full set of checks with nothing left in doubt.
        {
            Server server(opt_.bin, db_, log_);
            wait_ready(server.port());
            deliver_for_the_provider(server.port());
            std::atomic<bool> stop{true};
            for (auto& c : clients_) c->run(server.port(), round_, stop);
            merchant_->run(server.port(), round_, stop);
            throw_client_failure();
            for (auto& c : clients_)
                if (c->has_pending())
                    fail("an unknown request is still unresolved after the last restart");
            replay_acknowledged(server.port(), true);
            if (const int rc = server.terminate(); rc != 0)
                fail("the last server did not stop cleanly (exit " + std::to_string(rc) + ")");
        }
        check_file(true);
        check_replay();

        const auto secs = std::chrono::duration<double>(Clock::now() - started).count();
        const auto& s = shared_.stats;
        std::cout << fmt::format(
            "crash harness: PASS  seed {}  kills {}  clients {}  run {}-{} ms  time {:.1f} s\n"
            "  acknowledged: {} keyed writes ({} checkouts with {} orders, {} refunds, {} cancels, "
            "{} stock adjustments), {} 2xx answers in all; {} refused as designed (409)\n"
            "  unknown (no answer, the kill): {} -> resolved by retry with the same key: {} had "
            "happened (replayed), {} ran on the retry\n"
            "  provider webhooks delivered by the harness after restarts: {}\n"
            "  idempotent replays compared: {}; journal replays to the live state hash: {} "
            "(last {} entries)\n"
            "  time: start + ready {:.1f} s, provider + idempotent replays {:.1f} s, load {:.1f} "
            "s, "
            "file checks {:.1f} s, journal replays {:.1f} s\n",
            opt_.seed, s.kills, opt_.clients, opt_.min_run_ms, opt_.max_run_ms, secs,
            s.acked_writes, s.checkouts, s.orders, s.refunds, s.cancels, s.adjustments,
            s.acked_requests, s.refused, s.unknown, s.unknown_had_happened, s.unknown_ran_on_retry,
            s.provider_deliveries, s.idempotent_replays, s.journal_replays, s.journal_entries,
            phase_start_, phase_recover_, phase_trade_, phase_check_, phase_replay_);
        return 0;
    }

    int round() const { return round_; }

  private:
    void progress(Clock::time_point started) {
        const auto secs = std::chrono::duration<double>(Clock::now() - started).count();
        std::lock_guard lock(shared_.mutex);
        std::cout << fmt::format(
                         "  round {:>4}: {} acked writes, {} unknown, {} orders, {} refunds, "
                         "{} journal replays, {:.1f} s\n",
                         round_, shared_.stats.acked_writes, shared_.stats.unknown,
                         shared_.stats.orders, shared_.stats.refunds, shared_.stats.journal_replays,
                         secs)
                  << std::flush;
    }

    void wait_ready(unsigned short port) {
        HttpClient http(port);
        const auto deadline = Clock::now() + std::chrono::seconds(30);
        while (Clock::now() < deadline) {
            try {
                if (http.get("/readyz").status == 200) return;
            } catch (const std::exception&) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        fail("/readyz never answered 200");
    }

    void stock_up(unsigned short port) {
        HttpClient http(port);
        for (const char* sku : {"sku_longjing50g", "sku_sunscreen50ml"}) {
            const auto r = http.post(fmt::format("/v1/skus/{}/stock-adjustments", sku),
                                     R"({"delta":1000000,"reason":"crash stock"})",
                                     bearer(redloop::api::Role::merchant, kMerchantOfSku.at(sku)),
                                     {{"Idempotency-Key", std::string("stock-") + sku}});
            if (r.status != 200) fail("stock adjustment: " + r.body);
        }
    }

    // The sandbox provider's deliveries live in the server's memory: a kill between a commit
    // and the webhook leaves a payment `processing` or a refund `pending` that nobody will
    // answer. A real provider retries its webhooks; here the harness delivers them (signed, as
    // the provider would), for the card the buyer used.
    void deliver_for_the_provider(unsigned short port) {
        std::vector<std::vector<std::string>> payments;
        std::vector<std::vector<std::string>> refunds;
        {
            Db db(db_);
            payments = db.rows("SELECT id, amount_minor FROM payments WHERE status = 'processing'");
            refunds = db.rows(
                "SELECT id, payment_id, amount_minor FROM refunds WHERE status = 'pending'");
        }
        HttpClient http(port);
        auto deliver = [&](const std::string& body) {
            const auto t = unix_ms() / 1000;
            const auto r = http.post(
                "/v1/webhooks/payments", body, "",
                {{"Payment-Signature", redloop::api::sign_webhook(kWebhookSecret, t, body)}});
            if (r.status != 200)
                fail("provider webhook answered " + std::to_string(r.status) + ": " + r.body);
            ++shared_.stats.provider_deliveries;
        };
        for (const auto& p : payments) {
            bool good = true;
            {
                std::lock_guard lock(shared_.mutex);
                const auto it = shared_.payments.find(p[0]);
                if (it == shared_.payments.end() || !it->second.confirm_sent)
                    fail("payment " + p[0] +
                         " is processing but was never confirmed by the harness");
                good = it->second.card_good;
            }
            deliver(fmt::format(
                R"({{"id":"evt_crash{}x{}","type":"{}","data":{{"payment_id":"{}","amount":{}}}}})",
                round_, ++event_counter_, good ? "payment.succeeded" : "payment.failed", p[0],
                money(std::stoll(p[1]))));
        }
        for (const auto& r : refunds) {
            deliver(fmt::format(
                R"({{"id":"evt_crash{}x{}","type":"refund.succeeded","data":{{"payment_id":"{}","amount":{},"refund_id":"{}"}}}})",
                round_, ++event_counter_, r[1], money(std::stoll(r[2])), r[0]));
        }
    }

    // Acknowledged writes sent again with their key and body: the first answer, byte for byte,
    // marked as a replay. Those of the last round all, a seeded sample of the older ones.
    void replay_acknowledged(unsigned short port, bool all = false) {
        std::vector<Exchange> sample;
        {
            std::lock_guard lock(shared_.mutex);
            std::vector<std::size_t> older;
            for (std::size_t i = 0; i < shared_.acked.size(); ++i) {
                if (all || shared_.acked[i].round >= round_ - 1)
                    sample.push_back(shared_.acked[i]);
                else
                    older.push_back(i);
            }
            std::shuffle(older.begin(), older.end(), rng_);
            for (std::size_t i = 0;
                 i < older.size() && i < static_cast<std::size_t>(opt_.replay_sample); ++i)
                sample.push_back(shared_.acked[older[i]]);
        }
        HttpClient http(port);
        for (const auto& ex : sample) {
            const auto r = http.request(ex.method, ex.target, ex.body,
                                        {{"Authorization", ex.auth}, {"Idempotency-Key", ex.key}});
            if (r.status != ex.status || r.body != ex.response ||
                r.header("Idempotent-Replayed") != "true") {
                fail(fmt::format(
                    "idempotent replay differs: {} {} key {} (acknowledged in round {})\n"
                    "  first:  {} {}\n  replay: {} {} (Idempotent-Replayed: '{}')",
                    ex.method, ex.target, ex.key, ex.round, ex.status, ex.response, r.status,
                    r.body, r.header("Idempotent-Replayed")));
            }
            ++shared_.stats.idempotent_replays;
        }
    }

    void trade(Server& server) {
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        const auto port = server.port();
        const int r = round_;
        for (auto& c : clients_)
            threads.emplace_back([&c, port, r, &stop] { c->run(port, r, stop); });
        threads.emplace_back([this, port, r, &stop] { merchant_->run(port, r, stop); });
        const int ms = std::uniform_int_distribution<int>(opt_.min_run_ms, opt_.max_run_ms)(rng_);
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        stop = true;
        server.kill();
        for (auto& t : threads) t.join();
        throw_client_failure();
    }

    void throw_client_failure() {
        std::lock_guard lock(shared_.mutex);
        if (!shared_.failure.empty()) fail(shared_.failure);
    }

    // With the server down: the file itself.
    void check_file(bool final_check) {
        Db db(db_);
        const auto ic = db.rows("PRAGMA integrity_check");
        if (ic.size() != 1 || ic[0][0] != "ok") {
            std::string all;
            for (const auto& row : ic) all += row[0] + "\n";
            fail("PRAGMA integrity_check:\n" + all);
        }
        for (const auto& [what, sql] : kInvariants) {
            const auto bad = db.rows(sql);
            if (!bad.empty()) {
                std::string rows;
                for (std::size_t i = 0; i < bad.size() && i < 10; ++i) {
                    for (const auto& c : bad[i]) rows += c + " ";
                    rows += "\n";
                }
                fail(fmt::format("invariant broken: {} ({} rows)\n{}", what, bad.size(), rows));
            }
        }

        std::lock_guard lock(shared_.mutex);
        // Every acknowledged create exactly once; nothing created that the harness was not told
        // of, except what an unanswered request may have done.
        std::set<std::string> checkout_ids;
        for (const auto& row : db.rows("SELECT id FROM checkouts")) checkout_ids.insert(row[0]);
        std::map<std::string, std::int64_t> by_user;
        for (const auto& row : db.rows("SELECT user_id, COUNT(*) FROM checkouts GROUP BY user_id"))
            by_user[row[0]] = std::stoll(row[1]);
        for (const auto& [user, ids] : shared_.checkouts_by_user) {
            const auto have = by_user[user];
            const auto known = static_cast<std::int64_t>(ids.size());
            const bool maybe_one_more =
                !final_check && shared_.users_with_unknown_checkout.count(user);
            if (have != known && !(maybe_one_more && have == known + 1))
                fail(fmt::format("{} has {} checkouts in the database, the harness was given {}{}",
                                 user, have, known, maybe_one_more ? " (+1 unknown)" : ""));
            for (const auto& id : ids)
                if (!checkout_ids.count(id)) fail("acknowledged checkout " + id + " is missing");
        }
        std::map<std::string, std::vector<std::string>> order_rows;
        for (const auto& row : db.rows("SELECT id, status, total_minor, refunded_minor, "
                                       "merchant_id, checkout_id FROM orders"))
            order_rows[row[0]] = row;
        std::map<std::string, std::int64_t> refunds_of;
        for (const auto& row : db.rows("SELECT order_id, COUNT(*) FROM refunds WHERE order_id IS "
                                       "NOT NULL GROUP BY order_id"))
            refunds_of[row[0]] = std::stoll(row[1]);
        std::map<std::string, std::string> payment_status;
        for (const auto& row : db.rows("SELECT id, status, amount_minor FROM payments"))
            payment_status[row[0]] = row[1];
        for (const auto& [id, o] : shared_.orders) {
            const auto it = order_rows.find(id);
            if (it == order_rows.end()) fail("acknowledged order " + id + " is missing");
            const auto& row = it->second;
            if (std::stoll(row[2]) != o.total || row[4] != o.merchant || row[5] != o.checkout_id)
                fail("order " + id + " differs from its acknowledged checkout: " + row[2] + " " +
                     row[4]);
            const std::int64_t expected = o.refunds_acked + (o.cancelled_paid ? 1 : 0);
            const std::int64_t slack = final_check ? 0 : o.unknown_moves;
            const auto have = refunds_of[id];
            if (have < expected || have > expected + slack)
                fail(fmt::format("order {} has {} refunds, acknowledged {} (+{} unknown)", id, have,
                                 expected, slack));
            if (std::stoll(row[3]) < o.refunded_seen)
                fail(fmt::format("order {} shows refunded {} after a read showed {}", id, row[3],
                                 o.refunded_seen));
            if (o.cancel_acked && row[1] != "cancelled" && row[1] != "refunded")
                fail("order " + id + " was cancelled (acknowledged) but is " + row[1]);
            if (o.paid_seen && (row[1] == "awaiting_payment" || row[1] == "expired"))
                fail("order " + id + " was seen paid but is " + row[1]);
        }
        for (const auto& [id, p] : shared_.payments) {
            if (p.checkout_id.empty()) continue;
            const auto it = payment_status.find(id);
            if (it == payment_status.end()) fail("acknowledged payment " + id + " is missing");
            if (p.confirm_acked && it->second == "requires_confirmation")
                fail("payment " + id +
                     " was confirmed (acknowledged) but requires confirmation again");
        }
        std::map<std::string, std::string> refund_rows;
        for (const auto& row : db.rows("SELECT id, order_id FROM refunds"))
            refund_rows[row[0]] = row[1];
        for (const auto& [id, order] : shared_.refunds) {
            const auto it = refund_rows.find(id);
            if (it == refund_rows.end() || it->second != order)
                fail("acknowledged refund " + id + " of order " + order + " is missing");
        }
        // Stock adjustments: each acknowledged key is one ledger row, never two.
        std::map<std::string, std::int64_t> adjustments;
        for (const auto& row : db.rows("SELECT reason, COUNT(*) FROM inventory_ledger WHERE kind = "
                                       "'adjustment' GROUP BY reason"))
            adjustments[row[0]] = std::stoll(row[1]);
        for (const auto& ex : shared_.acked) {
            if (ex.kind != "adjust") continue;
            if (adjustments[ex.key] != 1)
                fail(fmt::format("stock adjustment {} appears {} times in the ledger", ex.key,
                                 adjustments[ex.key]));
        }
        for (const auto& [reason, n] : adjustments)
            if (n != 1 && reason.rfind("crashadj", 0) == 0)
                fail(fmt::format("stock adjustment {} appears {} times", reason, n));
    }

    // Damage done to the file on purpose, each the mark of a bug the checks must catch.
    void inject_fault() {
        std::string sql;
        std::vector<std::string> params;
        {
            std::lock_guard lock(shared_.mutex);
            if (opt_.inject == "refund") {  // an acknowledged refund lost
                if (shared_.refunds.empty()) fail("inject refund: no refund acknowledged yet");
                sql = "DELETE FROM refunds WHERE id = ?1";
                params = {shared_.refunds.rbegin()->first};
            } else if (opt_.inject == "stock") {  // a unit appears outside the ledger
                sql = "UPDATE skus SET on_hand = on_hand + 1 WHERE id = 'sku_lipbalm'";
            } else if (opt_.inject == "idempotency") {  // a stored answer lost
                const auto it =
                    std::find_if(shared_.acked.rbegin(), shared_.acked.rend(),
                                 [](const Exchange& e) { return e.kind == "checkout"; });
                if (it == shared_.acked.rend()) fail("inject idempotency: no checkout yet");
                sql = "DELETE FROM idempotency_keys WHERE idem_key = ?1";
                params = {it->key};
            } else if (opt_.inject == "journal") {  // a change without its journal entry
                sql =
                    "DELETE FROM journal WHERE seq = (SELECT MAX(seq) FROM journal WHERE kind = "
                    "'http')";
            } else {
                fail("--inject: one of refund, stock, idempotency, journal");
            }
        }
        sqlite3* db = nullptr;
        sqlite3_stmt* st = nullptr;
        bool ok = sqlite3_open(db_.c_str(), &db) == SQLITE_OK &&
                  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK;
        for (std::size_t i = 0; ok && i < params.size(); ++i)
            ok = sqlite3_bind_text(st, static_cast<int>(i + 1), params[i].c_str(), -1,
                                   SQLITE_TRANSIENT) == SQLITE_OK;
        ok = ok && sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
        sqlite3_finalize(st);
        sqlite3_close(db);
        if (!ok) fail("could not inject the fault " + opt_.inject);
        std::cout << "  injected fault '" << opt_.inject << "' after kill " << round_ << "\n";
    }

    // The journal, exported and replayed into a scratch database, ends at the live state hash.
    void check_replay() {
        const auto dir = fs::path(opt_.dir);
        const auto journal = (dir / "journal.jsonl").string();
        const auto hash_file = (dir / "state-hash.txt").string();
        const auto replay_out = (dir / "replay-out.txt").string();
        const auto replay_db = (dir / "replay.db").string();
        const auto err = (dir / "cli.log").string();
        fs::remove(replay_db);
        fs::remove(replay_db + "-wal");
        fs::remove(replay_db + "-shm");
        if (run_command({opt_.bin, "journal", "export", "--db", db_}, journal, err) != 0)
            fail("redloop journal export failed; see " + err);
        if (run_command({opt_.bin, "state-hash", "--db", db_}, hash_file, err) != 0)
            fail("redloop state-hash failed; see " + err);
        auto hash = trim(read_text(hash_file));  // "state-hash: <hex>"
        if (const auto sp = hash.rfind(' '); sp != std::string::npos) hash = hash.substr(sp + 1);
        const int rc =
            run_command({opt_.bin, "replay", journal, "--db", replay_db, "--expect-hash", hash},
                        replay_out, err);
        if (rc != 0)
            fail(fmt::format(
                "the journal does not replay to the live state hash {} (exit {}):\n{}\n{}", hash,
                rc, tail(read_text(replay_out)), tail(read_text(err))));
        // From the recorded effects too: epochs cut short by a kill have no carrier and run,
        // the closed ones are applied; the same state either way.
        fs::remove(replay_db);
        fs::remove(replay_db + "-wal");
        fs::remove(replay_db + "-shm");
        const int fx_rc = run_command(
            {opt_.bin, "replay", journal, "--db", replay_db, "--effects", "--expect-hash", hash},
            replay_out, err);
        if (fx_rc != 0)
            fail(
                fmt::format("the journal's recorded effects do not replay to the live state hash "
                            "{} (exit {}):\n{}\n{}",
                            hash, fx_rc, tail(read_text(replay_out)), tail(read_text(err))));
        std::int64_t lines = 0;
        for (char c : read_text(journal)) lines += c == '\n';
        ++shared_.stats.journal_replays;
        shared_.stats.journal_entries = lines;
    }

    static void lap(double& phase, Clock::time_point& t) {
        const auto now = Clock::now();
        phase += std::chrono::duration<double>(now - t).count();
        t = now;
    }

    double phase_start_ = 0;
    double phase_recover_ = 0;
    double phase_trade_ = 0;
    double phase_check_ = 0;
    double phase_replay_ = 0;
    Options opt_;
    std::mt19937_64 rng_;
    Shared shared_;
    std::vector<std::unique_ptr<Client>> clients_;
    std::unique_ptr<Merchant> merchant_;
    std::string db_;
    std::string log_;
    int round_ = 0;
    int event_counter_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    ::signal(SIGPIPE, SIG_IGN);
    Options opt;
    CLI::App app{"redloop-crash-harness: SIGKILL the server under load, restart, check"};
    app.add_option("--seed", opt.seed, "random seed (kill moments, buyers' choices)")
        ->capture_default_str();
    app.add_option("--kills", opt.kills, "kills (rounds)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--bin", opt.bin, "the redloop executable")->required();
    app.add_option("--fixtures", opt.fixtures, "fixtures/demo, seeded before the first start")
        ->required();
    app.add_option("--dir", opt.dir, "work directory (emptied first)")->capture_default_str();
    app.add_option("--clients", opt.clients, "concurrent buyers")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    app.add_option("--min-run-ms", opt.min_run_ms, "shortest time under load before a kill")
        ->capture_default_str()
        ->check(CLI::Range(0, 60000));
    app.add_option("--max-run-ms", opt.max_run_ms, "longest time under load before a kill")
        ->capture_default_str()
        ->check(CLI::Range(0, 60000));
    app.add_option("--replay-every", opt.replay_every,
                   "journal replay check every K kills (and at the end)")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--inject", opt.inject,
                   "self-test: damage the file after --inject-round (refund, stock, idempotency, "
                   "journal); the run must then fail");
    app.add_option("--inject-round", opt.inject_round, "the kill after which --inject acts");
    app.add_option("--replay-sample", opt.replay_sample,
                   "older acknowledged writes replayed with their key after each restart")
        ->capture_default_str()
        ->check(CLI::Range(0, 1000000));
    CLI11_PARSE(app, argc, argv);
    if (opt.max_run_ms < opt.min_run_ms) {
        std::cerr << "--max-run-ms must be at least --min-run-ms\n";
        return 2;
    }
    Harness h(opt);
    try {
        return h.run();
    } catch (const CheckFailure& e) {
        std::cerr << fmt::format("crash harness: FAIL  seed {}  round {}\n{}\n", opt.seed,
                                 h.round(), e.what());
        return 1;
    } catch (const std::exception& e) {
        std::cerr << fmt::format("crash harness: ERROR  seed {}  round {}\n{}\n", opt.seed,
                                 h.round(), e.what());
        return 1;
    }
}
