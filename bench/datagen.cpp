// redloop-datagen: fills a SQLite database with realistic trade at scale, for the performance
// figures (docs/performance.md): merchants, users, a catalog whose stock arrives through the
// inventory ledger, notes tagging SKUs, and --orders orders, each from its own checkout with its
// payment, lines (most attributed to a note), reservations, ledger rows and history, spread over
// the last --days days. A few shops own most of the orders (Zipf): the first one, printed at the
// end, is the one to sign in as for the listing figures.
//
// The schema comes from the built-in migrations (db::Database::migrate); the rows are then written
// directly with SQL, in large transactions with prepared statements reused across rows, not
// through the engine, with the secondary indexes dropped while loading and re-created from their
// own CREATE INDEX text afterwards. The rows are the ones the engine would leave after the same
// trade: its id formats, status strings, timestamps in ms, history rows per step, reservations sold
// or released (none held), on_hand = SUM(ledger on_hand_delta) and reserved = SUM(ledger
// reserved_delta) = the held reservations (0) for every SKU, ledger rows in time order. Every order
// is in a settled state: paid, shipped, delivered, completed, cancelled (unpaid, declined, or paid
// and refunded), expired or refunded; some carry partial refunds.
//
// For scale figures only: the journal and the event log stay empty (only the commands the engine
// runs are journaled), so `redloop replay` of its journal does not reproduce this database and the
// live stream starts from an empty log. Carts, idempotency keys and webhook events are empty too.
//
// The run ends with consistency checks (ledger sums, reservations, lines, history, payments,
// refunds, orders per merchant, foreign keys) and exits non-zero when one fails.
#include <sqlite3.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <queue>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redloop/db/database.hpp"

namespace fs = std::filesystem;
using namespace redloop;

namespace {

using i64 = long long;  // what SQLite binds

constexpr i64 kSecond = 1000;
constexpr i64 kMinute = 60 * kSecond;
constexpr i64 kHour = 60 * kMinute;
constexpr i64 kDay = 24 * kHour;
constexpr i64 kCheckoutTtlMs = 900 * kSecond;  // `redloop serve --checkout-ttl` default
constexpr const char* kCurrency = "CNY";

// ---------------------------------------------------------------- randomness and ids

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// xoshiro256**: fast, and the same sequence on every platform for a given seed.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) {
        for (auto& s : s_) {
            seed = splitmix64(seed);
            s = seed;
        }
    }
    std::uint64_t next() {
        const std::uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = std::rotl(s_[3], 45);
        return result;
    }
    // Uniform in [0, n) (the modulo bias is below 2^-40 for the ranges used here).
    i64 below(i64 n) { return static_cast<i64>(next() % static_cast<std::uint64_t>(n)); }
    i64 between(i64 lo, i64 hi) { return lo + below(hi - lo + 1); }  // inclusive
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    bool chance(double p) { return unit() < p; }
    template <typename T, std::size_t N>
    const T& pick(const std::array<T, N>& a) {
        return a[static_cast<std::size_t>(below(static_cast<i64>(N)))];
    }

  private:
    std::array<std::uint64_t, 4> s_{};
};

// Picks an index with probability proportional to its weight.
class Weighted {
  public:
    void add(double w) {
        total_ += w;
        cumulative_.push_back(total_);
    }
    std::size_t pick(Rng& rng) const {
        const auto it =
            std::upper_bound(cumulative_.begin(), cumulative_.end(), rng.unit() * total_);
        return std::min(static_cast<std::size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
    }
    std::size_t size() const { return cumulative_.size(); }

  private:
    std::vector<double> cumulative_;
    double total_ = 0;
};

// An id in the engine's format (api/src/id_generator.cpp: prefix + 20 characters of its
// alphabet), derived from (seed, kind, index) so either pass can name any row without storing it.
enum class IdKind : std::uint64_t {
    merchant = 1,
    user,
    product,
    sku,
    note,
    checkout,
    order,
    payment,
    refund
};

std::string make_id(std::string_view prefix, std::uint64_t seed, IdKind kind, std::uint64_t n) {
    static constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    std::uint64_t a =
        splitmix64((seed * 0x100000001b3ULL) ^ (static_cast<std::uint64_t>(kind) << 52) ^ n);
    std::uint64_t b = splitmix64(a ^ 0x5bd1e9955bd1e995ULL);
    std::string out(prefix);
    out.reserve(prefix.size() + 20);
    for (int i = 0; i < 12; ++i, a >>= 5) out.push_back(kAlphabet[a & 31]);
    for (int i = 0; i < 8; ++i, b >>= 5) out.push_back(kAlphabet[b & 31]);
    return out;
}

// ---------------------------------------------------------------- SQLite

void check_rc(sqlite3* db, int rc, std::string_view what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        throw std::runtime_error(fmt::format("{}: {}", what, sqlite3_errmsg(db)));
    }
}

void exec(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw std::runtime_error(fmt::format("{}: {}", sql, msg));
    }
}

// A statement prepared once and run for every row: bind by position (1-based), then run().
class Stmt {
  public:
    Stmt(sqlite3* db, std::string sql) : db_(db), sql_(std::move(sql)) {
        check_rc(db_,
                 sqlite3_prepare_v3(db_, sql_.c_str(), static_cast<int>(sql_.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr),
                 sql_);
    }
    ~Stmt() { sqlite3_finalize(stmt_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    Stmt& text(int i, std::string_view s) {
        check_rc(
            db_,
            sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT),
            sql_);
        return *this;
    }
    Stmt& num(int i, i64 v) {
        check_rc(db_, sqlite3_bind_int64(stmt_, i, v), sql_);
        return *this;
    }
    Stmt& null(int i) {
        check_rc(db_, sqlite3_bind_null(stmt_, i), sql_);
        return *this;
    }
    // Runs an INSERT; counts the row.
    void run(std::uint64_t& rows) {
        const int rc = sqlite3_step(stmt_);
        sqlite3_reset(stmt_);
        if (rc != SQLITE_DONE) check_rc(db_, rc == SQLITE_ROW ? SQLITE_ERROR : rc, sql_);
        ++rows;
    }
    sqlite3_stmt* raw() { return stmt_; }

  private:
    sqlite3* db_;
    std::string sql_;
    sqlite3_stmt* stmt_ = nullptr;
};

i64 query_count(sqlite3* db, const std::string& sql) {
    Stmt s(db, sql);
    i64 n = 0;
    const int rc = sqlite3_step(s.raw());
    check_rc(db, rc, sql);
    if (rc == SQLITE_ROW) n = sqlite3_column_int64(s.raw(), 0);
    return n;
}

// ---------------------------------------------------------------- the world

struct Category {
    std::array<const char*, 6> adjectives;
    std::array<const char*, 8> nouns;
    std::array<const char*, 4> variants;  // SKU titles, distinct within a product
    i64 price_low, price_high;            // minor units
    const char* shop_kind;
};

const std::array<Category, 6> kCategories{{
    {{"Mingqian", "Hand-fried", "High-mountain", "Aged", "Smoky", "Spring"},
     {"Longjing green tea", "Tieguanyin oolong", "Pu'er cake", "Jasmine pearls",
      "Dianhong black tea", "White peony tea", "Lapsang souchong", "Celadon tea cup"},
     {"50 g tin", "100 g pouch", "250 g gift box", "500 g bulk bag"},
     2900,
     39800,
     "Tea House"},
    {{"Featherlight", "Daily", "Soothing", "Brightening", "Barrier", "Night"},
     {"SPF50+ sunscreen", "osmanthus lip balm", "hydrating toner", "cleansing balm",
      "retinol serum", "sheet mask set", "eye cream", "body lotion"},
     {"15 ml travel size", "50 ml", "100 ml", "200 ml refill"},
     3900,
     45900,
     "Skincare"},
    {{"Linen", "Organic cotton", "Oversized", "Relaxed", "Merino", "Cropped"},
     {"shirt", "hoodie", "wide-leg trousers", "cardigan", "T-shirt", "dress", "jacket", "scarf"},
     {"Size S", "Size M", "Size L", "Size XL"},
     5900,
     89900,
     "Atelier"},
    {{"Carbon", "Ultralight", "Trail", "Alpine", "Packable", "Waterproof"},
     {"trekking poles", "rain jacket", "day pack", "headlamp", "camping mug", "down vest",
      "trail shoes", "water filter"},
     {"Black", "Olive", "Sand", "Slate blue"},
     4900,
     129900,
     "Outdoor"},
    {{"Handmade", "Stoneware", "Glazed", "Minimal", "Bamboo", "Walnut"},
     {"rice bowl", "serving plate", "chopstick set", "teapot", "vase", "cutting board",
      "coaster set", "storage jar"},
     {"Single", "Pair", "Set of 4", "Set of 6"},
     1900,
     59900,
     "Home"},
    {{"Wireless", "Compact", "Noise-cancelling", "Magnetic", "Fast-charging", "Retro"},
     {"earbuds", "power bank", "desk lamp", "phone stand", "keyboard", "speaker", "charging cable",
      "tablet sleeve"},
     {"White", "Graphite", "Mint", "Coral"},
     2900,
     99900,
     "Gadgets"},
}};

constexpr std::array<const char*, 12> kShopWords{
    "West Lake", "Jade Hill",   "Lotus Lane",   "Bamboo Grove", "Red Lantern", "North Star",
    "Silk Road", "Maple Court", "Plum Blossom", "Cloud Gate",   "Golden Pier", "Ink Stone"};
constexpr std::array<const char*, 16> kNames{"Lin Wei",  "Zhang Min", "Wang Fang", "Li Na",
                                             "Chen Jie", "Liu Yang",  "Zhao Lei",  "Huang Ying",
                                             "Zhou Tao", "Wu Xia",    "Xu Ming",   "Sun Li",
                                             "Ma Jun",   "Zhu Hong",  "Hu Qiang",  "Guo Ting"};
struct City {
    const char* name;
    const char* postal;
};
constexpr std::array<City, 10> kCities{{{"Hangzhou", "310000"},
                                        {"Shanghai", "200000"},
                                        {"Beijing", "100000"},
                                        {"Shenzhen", "518000"},
                                        {"Chengdu", "610000"},
                                        {"Guangzhou", "510000"},
                                        {"Nanjing", "210000"},
                                        {"Wuhan", "430000"},
                                        {"Xi'an", "710000"},
                                        {"Suzhou", "215000"}}};
constexpr std::array<const char*, 10> kStreets{
    "Wensan Road", "Nanjing East Road", "Jianguo Road",   "Shennan Avenue", "Chunxi Road",
    "Tianhe Road", "Zhongshan Road",    "Jiefang Avenue", "Yanta Road",     "Guanqian Street"};
struct Carrier {
    const char* name;
    const char* prefix;
    int digits;
};
constexpr std::array<Carrier, 5> kCarriers{{{"SF Express", "SF", 12},
                                            {"ZTO Express", "75", 12},
                                            {"YTO Express", "YT", 13},
                                            {"JD Logistics", "JDV", 12},
                                            {"China Post EMS", "E", 9}}};
constexpr std::array<const char*, 5> kRefundReasons{"item arrived damaged",
                                                    "customer changed their mind", "wrong size",
                                                    "not as described", "parcel lost in transit"};
constexpr std::array<const char*, 3> kPartialReasons{"partial refund: late delivery",
                                                     "partial refund: missing gift box",
                                                     "partial refund: price adjustment"};
constexpr std::array<const char*, 6> kNoteOpeners{
    "Three weeks with", "Honest review:", "Why I keep buying",
    "Unboxing",         "Worth it?",      "My daily routine with"};

struct Merchant {
    std::string id, name;
    int category = 0;
    i64 fee = 0, free_over = 0;  // free_over 0: no free shipping
    int return_days = 7;
    i64 created = 0;
    std::vector<int> skus;
    Weighted sku_pick;
    i64 orders = 0;
};

struct Product {
    std::string id, title, description;
    int merchant = 0, bps = 0, media = 1;
    i64 created = 0;
};

struct Sku {
    std::string id, title, line_title;
    int product = 0, merchant = 0, position = 0;
    i64 price = 0, leftover = 0;
    // From the first pass: what the orders will do to it.
    i64 reserved_total = 0, sold = 0, restocked = 0, last_at = 0;
    std::vector<std::pair<int, int>> notes;  // (note, position in the note), by note time
};

struct Note {
    std::string id, author, title, body;
    i64 created = 0, views = 0;
    std::vector<int> skus;
    std::array<i64, 3> attributed{};  // order lines naming the note, per tagged SKU
    int media = 1;
};

struct User {
    std::string id;
    i64 first_at = std::numeric_limits<i64>::max();
    i64 orders = 0;
};

struct Options {
    std::string db;
    i64 orders = 1'000'000;
    int merchants = 200;
    i64 users = 100'000;
    int skus = 5000;
    int notes = 20'000;
    std::uint64_t seed = 7;
    int days = 90;
    i64 batch_rows = 50'000;
    i64 now_ms = 0;
    int cache_mb = 2048;
    bool force = false;
};

struct World {
    Options opt;
    i64 now = 0, start = 0, end = 0;  // orders are created in [start, end)
    std::vector<Merchant> merchants;
    std::vector<Product> products;
    std::vector<Sku> skus;
    std::vector<Note> notes;
    std::vector<i64> note_created;
    std::vector<User> users;
    Weighted merchant_pick, user_pick;

    std::string id(IdKind kind, std::uint64_t n) const {
        switch (kind) {
            case IdKind::merchant:
                return make_id("mer_", opt.seed, kind, n);
            case IdKind::user:
                return make_id("usr_", opt.seed, kind, n);
            case IdKind::product:
                return make_id("prd_", opt.seed, kind, n);
            case IdKind::sku:
                return make_id("sku_", opt.seed, kind, n);
            case IdKind::note:
                return make_id("nte_", opt.seed, kind, n);
            case IdKind::checkout:
                return make_id("chk_", opt.seed, kind, n);
            case IdKind::order:
                return make_id("ord_", opt.seed, kind, n);
            case IdKind::payment:
                return make_id("pay_", opt.seed, kind, n);
            case IdKind::refund:
                return make_id("ref_", opt.seed, kind, n);
        }
        return {};
    }
};

i64 round_price(double minor) {
    // Shop prices end in 0 or 900: 68.00, 129.00, 298.00.
    const i64 p = static_cast<i64>(minor);
    return p < 10'000 ? std::max<i64>(100, p / 100 * 100) : p / 1000 * 1000 - 200;
}

void build_catalog(World& w) {
    Rng rng(splitmix64(w.opt.seed ^ 0xca7a1067ULL));
    const int nm = w.opt.merchants;
    w.merchants.resize(static_cast<std::size_t>(nm));
    // Orders per shop follow Zipf (s = 1): the first shop takes 1/H(n) of them (17% of 200).
    for (int m = 0; m < nm; ++m) {
        auto& mer = w.merchants[static_cast<std::size_t>(m)];
        mer.id = w.id(IdKind::merchant, static_cast<std::uint64_t>(m));
        mer.category = static_cast<int>(rng.below(static_cast<i64>(kCategories.size())));
        const auto& cat = kCategories[static_cast<std::size_t>(mer.category)];
        mer.name = fmt::format("{} {}", rng.pick(kShopWords), cat.shop_kind);
        const std::array<i64, 4> fees{0, 600, 800, 1200};
        mer.fee = rng.pick(fees);
        const std::array<i64, 4> free_over{0, 9900, 19900, 29900};
        mer.free_over = mer.fee == 0 ? 0 : rng.pick(free_over);
        const std::array<int, 3> days{7, 7, 14};
        mer.return_days = rng.pick(days);
        mer.created = w.start - 150 * kDay + rng.below(30 * kDay);
        w.merchant_pick.add(1.0 / static_cast<double>(m + 1));
    }
    // SKUs per shop: at least one, the rest by sqrt of the shop's weight (big shops have bigger
    // catalogs, but not in proportion to their sales).
    std::vector<int> quota(static_cast<std::size_t>(nm), 1);
    {
        double total = 0;
        for (int m = 0; m < nm; ++m) total += 1.0 / std::sqrt(static_cast<double>(m + 1));
        int left = w.opt.skus - nm;
        int given = 0;
        for (int m = 0; m < nm && left > 0; ++m) {
            const int q = static_cast<int>(
                std::floor(left * (1.0 / std::sqrt(static_cast<double>(m + 1))) / total));
            quota[static_cast<std::size_t>(m)] += q;
            given += q;
        }
        for (int m = 0; given < left; m = (m + 1) % nm, ++given)
            ++quota[static_cast<std::size_t>(m)];
    }
    // Products of 1-3 SKUs, created before the first order, each stocked by an initial adjustment.
    for (int m = 0; m < nm; ++m) {
        auto& mer = w.merchants[static_cast<std::size_t>(m)];
        const auto& cat = kCategories[static_cast<std::size_t>(mer.category)];
        int left = quota[static_cast<std::size_t>(m)];
        while (left > 0) {
            const int n_skus = static_cast<int>(std::min<i64>(left, rng.between(1, 3)));
            left -= n_skus;
            Product p;
            const auto pi = w.products.size();
            p.id = w.id(IdKind::product, pi);
            p.merchant = m;
            p.title = fmt::format("{} {}", rng.pick(cat.adjectives), rng.pick(cat.nouns));
            p.description = fmt::format(
                "{}. Ships from {} within 48 hours; {}-day returns.", p.title,
                kCities[static_cast<std::size_t>(rng.below(kCities.size()))].name, mer.return_days);
            const std::array<int, 6> bps{0, 500, 800, 1000, 1500, 2000};
            p.bps = rng.pick(bps);
            p.media = static_cast<int>(rng.between(1, 3));
            p.created = std::max(mer.created + kDay, w.start - 100 * kDay + rng.below(90 * kDay));
            const double base =
                std::exp(std::log(static_cast<double>(cat.price_low)) +
                         rng.unit() * (std::log(static_cast<double>(cat.price_high)) -
                                       std::log(static_cast<double>(cat.price_low))));
            const int first_variant = static_cast<int>(rng.below(4 - n_skus + 1));
            for (int k = 0; k < n_skus; ++k) {
                Sku s;
                s.id = w.id(IdKind::sku, w.skus.size());
                s.product = static_cast<int>(pi);
                s.merchant = m;
                s.position = k;
                s.title = cat.variants[static_cast<std::size_t>(first_variant + k)];
                s.line_title = p.title + " · " + s.title;  // the engine's order line title
                s.price = round_price(base * (1.0 + 0.6 * k));
                // Left on the shelf after the run; some bestsellers sell out.
                s.leftover = rng.chance(0.05) ? 0 : rng.between(5, 400);
                s.last_at = p.created;
                mer.skus.push_back(static_cast<int>(w.skus.size()));
                w.skus.push_back(std::move(s));
            }
            w.products.push_back(std::move(p));
        }
        // Within a shop a few SKUs are bestsellers (Zipf, s = 0.8), in a shuffled order.
        for (std::size_t k = mer.skus.size(); k > 1; --k) {
            std::swap(mer.skus[k - 1],
                      mer.skus[static_cast<std::size_t>(rng.below(static_cast<i64>(k)))]);
        }
        for (std::size_t k = 0; k < mer.skus.size(); ++k) {
            mer.sku_pick.add(std::pow(static_cast<double>(k + 1), -0.8));
        }
    }
    // Users: orders per user follow k^-0.5, so some buyers have thousands of orders.
    w.users.resize(static_cast<std::size_t>(w.opt.users));
    for (i64 u = 0; u < w.opt.users; ++u) {
        w.users[static_cast<std::size_t>(u)].id = w.id(IdKind::user, static_cast<std::uint64_t>(u));
        w.user_pick.add(1.0 / std::sqrt(static_cast<double>(u + 1)));
    }
    // Notes, spread over the window in time order, each tagging 1-3 SKUs of one shop; a quarter
    // are the shop's own posts, the rest are buyers'.
    w.notes.resize(static_cast<std::size_t>(w.opt.notes));
    w.note_created.resize(w.notes.size());
    for (std::size_t n = 0; n < w.notes.size(); ++n) {
        auto& note = w.notes[n];
        note.id = w.id(IdKind::note, n);
        note.created = w.start - 5 * kDay +
                       static_cast<i64>((static_cast<double>(n) + rng.unit()) *
                                        static_cast<double>(w.end - w.start + 5 * kDay) /
                                        static_cast<double>(w.notes.size()));
        w.note_created[n] = note.created;
        const auto m = w.merchant_pick.pick(rng);
        auto& mer = w.merchants[m];
        if (rng.chance(0.25)) {
            note.author = mer.id;
        } else {
            auto& u = w.users[w.user_pick.pick(rng)];
            note.author = u.id;
            u.first_at = std::min(u.first_at, note.created);
        }
        const i64 want = std::min<i64>(static_cast<i64>(mer.skus.size()), rng.between(1, 3));
        for (int tries = 0; static_cast<i64>(note.skus.size()) < want && tries < 20; ++tries) {
            const int s = mer.skus[mer.sku_pick.pick(rng)];
            if (std::find(note.skus.begin(), note.skus.end(), s) != note.skus.end()) continue;
            w.skus[static_cast<std::size_t>(s)].notes.emplace_back(
                static_cast<int>(n), static_cast<int>(note.skus.size()));
            note.skus.push_back(s);
        }
        const auto& first = w.skus[static_cast<std::size_t>(note.skus.front())];
        note.title = fmt::format("{} the {}", rng.pick(kNoteOpeners),
                                 w.products[static_cast<std::size_t>(first.product)].title);
        note.body = fmt::format(
            "Bought the {} from {} last month. Packaging was careful, delivery took {} days. "
            "Would recommend the {} to anyone on the fence.",
            first.line_title, mer.name, rng.between(1, 5), first.title);
        note.media = static_cast<int>(rng.between(1, 4));
        note.views = rng.between(20, 5000);
    }
}

// ---------------------------------------------------------------- one order's life

enum class Outcome { paid, expired, cancelled, declined };
enum class Refund { none, cancel_paid, full, partial };

struct Line {
    int sku = 0;
    i64 qty = 1;
    int note = -1, note_pos = -1;
};

struct Plan {
    i64 index = 0;
    int merchant = 0;
    std::size_t user = 0;
    int n_lines = 0;
    std::array<Line, 3> lines{};
    i64 subtotal = 0, fee = 0, total = 0;
    Outcome outcome = Outcome::paid;
    i64 t0 = 0;                                     // checkout created, stock reserved
    i64 t_confirm = 0;                              // payment confirmed by the buyer (0: never)
    i64 t_settle = 0;                               // paid, or cancelled / expired / declined
    i64 t_ship = 0, t_deliver = 0, t_complete = 0;  // 0: not (yet) reached
    Refund refund = Refund::none;
    i64 t_refund = 0, t_refund_done = 0, refund_amount = 0;
    bool restock = false, cancelled_by_merchant = false;
    // Cosmetics, drawn here so both passes draw the same sequence.
    int name = 0, city = 0, street = 0, street_no = 0, carrier = 0;
    i64 phone = 0, tracking = 0;
    int refund_reason = 0;
};

Plan plan_order(const World& w, Rng& rng, i64 index) {
    Plan p;
    p.index = index;
    const double span = static_cast<double>(w.end - w.start);
    p.t0 = w.start + static_cast<i64>((static_cast<double>(index) + rng.unit()) * span /
                                      static_cast<double>(w.opt.orders));
    p.merchant = static_cast<int>(w.merchant_pick.pick(rng));
    p.user = w.user_pick.pick(rng);
    const auto& mer = w.merchants[static_cast<std::size_t>(p.merchant)];
    const double r_lines = rng.unit();
    const int want =
        std::min(static_cast<int>(mer.skus.size()), r_lines < 0.6 ? 1 : (r_lines < 0.9 ? 2 : 3));
    for (int tries = 0; p.n_lines < want && tries < 16; ++tries) {
        const int s = mer.skus[mer.sku_pick.pick(rng)];
        bool dup = false;
        for (int k = 0; k < p.n_lines; ++k)
            dup = dup || p.lines[static_cast<std::size_t>(k)].sku == s;
        if (dup) continue;
        Line& l = p.lines[static_cast<std::size_t>(p.n_lines++)];
        l.sku = s;
        const double r_qty = rng.unit();
        l.qty = r_qty < 0.8 ? 1 : (r_qty < 0.95 ? 2 : rng.between(3, 5));
        // Most buyers arrive from a note that tags the SKU and was posted before the order.
        const auto& notes = w.skus[static_cast<std::size_t>(s)].notes;
        const auto before = std::partition_point(notes.begin(), notes.end(), [&](const auto& n) {
            return w.note_created[static_cast<std::size_t>(n.first)] <= p.t0;
        });
        const auto n_before = before - notes.begin();
        if (n_before > 0 && rng.chance(0.8)) {
            // Recent notes bring more buyers: pick among the last 20 posted.
            const auto& n = notes[static_cast<std::size_t>(n_before - 1 -
                                                           rng.below(std::min<i64>(n_before, 20)))];
            l.note = n.first;
            l.note_pos = n.second;
        }
        p.subtotal += w.skus[static_cast<std::size_t>(s)].price * l.qty;
    }
    p.fee = (mer.free_over > 0 && p.subtotal >= mer.free_over) ? 0 : mer.fee;
    p.total = p.subtotal + p.fee;

    p.name = static_cast<int>(rng.below(kNames.size()));
    p.city = static_cast<int>(rng.below(kCities.size()));
    p.street = static_cast<int>(rng.below(kStreets.size()));
    p.street_no = static_cast<int>(rng.between(1, 999));
    p.phone = rng.between(3'000'000'000LL, 9'999'999'999LL);  // +86 1xxxxxxxxxx
    p.carrier = static_cast<int>(rng.below(kCarriers.size()));
    p.tracking = rng.between(100'000'000LL, 999'999'999'999LL);
    p.refund_reason = static_cast<int>(rng.below(kRefundReasons.size()));

    const double r_out = rng.unit();
    p.outcome = r_out < 0.05   ? Outcome::expired
                : r_out < 0.09 ? Outcome::cancelled
                : r_out < 0.13 ? Outcome::declined
                               : Outcome::paid;
    switch (p.outcome) {
        case Outcome::expired:  // the sweeper runs every second or so
            p.t_settle = p.t0 + kCheckoutTtlMs + rng.between(0, 1500);
            return p;
        case Outcome::cancelled:
            p.t_settle = p.t0 + rng.between(30 * kSecond, 10 * kMinute);
            return p;
        case Outcome::declined:
            p.t_confirm = p.t0 + rng.between(20 * kSecond, 5 * kMinute);
            p.t_settle = p.t_confirm + rng.between(800, 4000);
            return p;
        case Outcome::paid:
            break;
    }
    p.t_confirm = p.t0 + rng.between(20 * kSecond, 5 * kMinute);
    p.t_settle = p.t_confirm + rng.between(800, 4000);  // the provider's webhook
    const i64 ship = p.t_settle + rng.between(2 * kHour, 3 * kDay);
    const i64 deliver = ship + rng.between(kDay, 5 * kDay);
    const i64 complete = deliver + mer.return_days * kDay + rng.between(0, 2 * kDay);
    const double r_ref = rng.unit();
    const i64 refund_after = rng.between(kHour, 6 * kDay);
    const double r_partial = rng.unit();
    const i64 webhook = rng.between(800, 3000);
    if (r_ref < 0.012 && ship > p.t_settle + 10 * kMinute) {
        // Cancelled by the shop or the buyer before shipping: refunded in full and restocked.
        p.refund = Refund::cancel_paid;
        p.t_refund =
            p.t_settle + 5 * kMinute +
            static_cast<i64>(rng.unit() * static_cast<double>(ship - p.t_settle - 10 * kMinute));
        p.cancelled_by_merchant = r_partial < 0.5;
        p.restock = true;
        p.refund_amount = p.total;
        p.t_refund_done = p.t_refund + webhook;
        if (p.t_refund_done > w.now) p.refund = Refund::none;  // still shipping-bound
        if (p.refund == Refund::cancel_paid) return p;
    }
    if (ship <= w.now) p.t_ship = ship;
    if (p.t_ship && deliver <= w.now) p.t_deliver = deliver;
    if (p.t_deliver && complete <= w.now) p.t_complete = complete;
    if (r_ref >= 0.012 && r_ref < 0.052) {
        const i64 last = p.t_complete  ? p.t_complete
                         : p.t_deliver ? p.t_deliver
                         : p.t_ship    ? p.t_ship
                                       : p.t_settle;
        const i64 at = last + refund_after;
        if (at + webhook <= w.now) {
            p.refund = r_ref < 0.042 ? Refund::full : Refund::partial;
            p.t_refund = at;
            p.t_refund_done = at + webhook;
            if (p.refund == Refund::full) {
                p.refund_amount = p.total;
                p.restock = r_partial < 0.5;
            } else {
                p.refund_amount =
                    std::max<i64>(1, p.total * (10 + static_cast<i64>(r_partial * 40)) / 100);
            }
        }
    }
    return p;
}

const char* order_status(const Plan& p) {
    switch (p.outcome) {
        case Outcome::expired:
            return "expired";
        case Outcome::cancelled:
        case Outcome::declined:
            return "cancelled";
        case Outcome::paid:
            break;
    }
    if (p.refund == Refund::cancel_paid) return "cancelled";
    if (p.refund == Refund::full) return "refunded";
    if (p.t_complete) return "completed";
    if (p.t_deliver) return "delivered";
    if (p.t_ship) return "shipped";
    return "paid";
}

i64 order_updated_at(const Plan& p) {
    i64 t = p.t_settle;
    t = std::max({t, p.t_ship, p.t_deliver, p.t_complete});
    if (p.refund != Refund::none) t = std::max(t, p.t_refund_done);
    return t;
}

// A stock movement the order causes after its initial reservation.
enum class MoveReason { checkout, sale, cancelled, expired, declined, restock };
struct Move {
    i64 at = 0;
    std::uint64_t tie = 0;  // push order, for equal times
    i64 order = 0;
    int sku = 0;
    MoveReason reason = MoveReason::checkout;
    i64 qty = 0;
    std::size_t user = 0;
    bool operator>(const Move& o) const { return at != o.at ? at > o.at : tie > o.tie; }
};

template <typename F>
void for_each_move(const Plan& p, F&& f) {
    for (int k = 0; k < p.n_lines; ++k) {
        const Line& l = p.lines[static_cast<std::size_t>(k)];
        f(Move{p.t0, 0, p.index, l.sku, MoveReason::checkout, l.qty, p.user});
        MoveReason r = MoveReason::sale;
        switch (p.outcome) {
            case Outcome::paid:
                r = MoveReason::sale;
                break;
            case Outcome::expired:
                r = MoveReason::expired;
                break;
            case Outcome::cancelled:
                r = MoveReason::cancelled;
                break;
            case Outcome::declined:
                r = MoveReason::declined;
                break;
        }
        f(Move{p.t_settle, 0, p.index, l.sku, r, l.qty, p.user});
        if (p.restock && p.refund != Refund::none) {
            f(Move{p.t_refund_done, 0, p.index, l.sku, MoveReason::restock, l.qty, p.user});
        }
    }
}

// ---------------------------------------------------------------- writing

class Writer {
  public:
    Writer(World& w, sqlite3* db) : w_(w), db_(db) {}

    std::uint64_t rows = 0;

    void begin() { exec(db_, "BEGIN"); }
    void commit() { exec(db_, "COMMIT"); }
    // Commits when the open transaction holds --batch rows or more.
    void maybe_commit() {
        if (rows - rows_at_commit_ >= static_cast<std::uint64_t>(w_.opt.batch_rows)) {
            commit();
            begin();
            rows_at_commit_ = rows;
        }
    }

    void write_catalog();
    void write_order(const Plan& p);
    void flush_moves(i64 up_to);

  private:
    void ledger(int sku, const char* kind, i64 d_on_hand, i64 d_reserved, const std::string& reason,
                const std::string& ref, const std::string& actor, i64 at);

    World& w_;
    sqlite3* db_;
    std::uint64_t rows_at_commit_ = 0;
    std::uint64_t tie_ = 0;
    std::priority_queue<Move, std::vector<Move>, std::greater<>> moves_;

    Stmt merchant_{db_,
                   "INSERT INTO merchants (id, name, currency, shipping_fee_minor, "
                   "free_shipping_over_minor, return_window_days, created_at, updated_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"};
    Stmt user_{db_, "INSERT INTO users (id, created_at) VALUES (?1, ?2)"};
    Stmt product_{db_,
                  "INSERT INTO products (id, merchant_id, title, description, status, "
                  "commission_rate_bps, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 'active', "
                  "?5, ?6, ?6)"};
    Stmt product_media_{db_,
                        "INSERT INTO product_media (product_id, position, type, url) "
                        "VALUES (?1, ?2, 'image', ?3)"};
    Stmt sku_{
        db_,
        "INSERT INTO skus (id, product_id, merchant_id, title, price_minor, currency, on_hand, "
        "reserved, position, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, "
        "?8, ?9, ?10)"};
    Stmt ledger_{
        db_,
        "INSERT INTO inventory_ledger (sku_id, kind, on_hand_delta, reserved_delta, reason, "
        "ref, actor_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};
    Stmt note_{db_,
               "INSERT INTO notes (seq, id, author_id, title, body, created_at) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
    Stmt note_media_{db_,
                     "INSERT INTO note_media (note_id, position, type, url) "
                     "VALUES (?1, ?2, ?3, ?4)"};
    Stmt note_sku_{db_,
                   "INSERT INTO note_skus (note_id, sku_id, position, note_seq) "
                   "VALUES (?1, ?2, ?3, ?4)"};
    Stmt note_stats_{db_, "INSERT INTO note_stats (note_id, views) VALUES (?1, ?2)"};
    Stmt note_sku_stats_{db_,
                         "INSERT INTO note_sku_stats (note_id, sku_id, add_to_carts) "
                         "VALUES (?1, ?2, ?3)"};
    Stmt checkout_{
        db_,
        "INSERT INTO checkouts (id, user_id, status, payment_id, created_at, expires_at, "
        "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"};
    Stmt order_{db_,
                "INSERT INTO orders (id, checkout_id, user_id, merchant_id, status, currency, "
                "subtotal_minor, shipping_fee_minor, total_minor, refunded_minor, ship_name, "
                "ship_phone, ship_line1, ship_city, ship_postal_code, ship_country, carrier, "
                "tracking_number, created_at, updated_at, restocked) VALUES (?1, ?2, ?3, ?4, ?5, "
                "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 'CN', ?16, ?17, ?18, ?19, ?20)"};
    Stmt line_{db_,
               "INSERT INTO order_lines (order_id, position, sku_id, title, quantity, "
               "unit_price_minor, line_total_minor, note_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
               "?8)"};
    Stmt order_history_{db_,
                        "INSERT INTO order_history (order_id, status, at) VALUES (?1, ?2, ?3)"};
    Stmt payment_{db_,
                  "INSERT INTO payments (id, checkout_id, user_id, status, amount_minor, currency, "
                  "created_at, updated_at, refunded_minor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                  "?9)"};
    Stmt payment_history_{db_,
                          "INSERT INTO payment_history (payment_id, status, at) "
                          "VALUES (?1, ?2, ?3)"};
    Stmt reservation_{db_,
                      "INSERT INTO reservations (order_id, sku_id, quantity, state, created_at, "
                      "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
    Stmt refund_{db_,
                 "INSERT INTO refunds (id, order_id, payment_id, amount_minor, currency, reason, "
                 "restock, status, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                 "'succeeded', ?8, ?9)"};
};

void Writer::ledger(int sku, const char* kind, i64 d_on_hand, i64 d_reserved,
                    const std::string& reason, const std::string& ref, const std::string& actor,
                    i64 at) {
    ledger_.text(1, w_.skus[static_cast<std::size_t>(sku)].id)
        .text(2, kind)
        .num(3, d_on_hand)
        .num(4, d_reserved)
        .text(5, reason)
        .text(6, ref)
        .text(7, actor)
        .num(8, at)
        .run(rows);
}

void Writer::write_catalog() {
    for (const auto& m : w_.merchants) {
        merchant_.text(1, m.id).text(2, m.name).text(3, kCurrency).num(4, m.fee);
        if (m.free_over > 0) {
            merchant_.num(5, m.free_over);
        } else {
            merchant_.null(5);
        }
        merchant_.num(6, m.return_days).num(7, m.created).run(rows);
    }
    Rng rng(splitmix64(w_.opt.seed ^ 0x05e25ULL));
    for (auto& u : w_.users) {
        // Signed up some time before their first order or note.
        const i64 first = u.first_at != std::numeric_limits<i64>::max()
                              ? u.first_at
                              : w_.start + rng.below(std::max<i64>(1, w_.end - w_.start));
        user_.text(1, u.id).num(2, first - rng.between(kHour, 30 * kDay)).run(rows);
        maybe_commit();
    }
    for (std::size_t pi = 0; pi < w_.products.size(); ++pi) {
        const auto& p = w_.products[pi];
        const auto& mer = w_.merchants[static_cast<std::size_t>(p.merchant)];
        product_.text(1, p.id)
            .text(2, mer.id)
            .text(3, p.title)
            .text(4, p.description)
            .num(5, p.bps)
            .num(6, p.created)
            .run(rows);
        for (int k = 0; k < p.media; ++k) {
            product_media_.text(1, p.id)
                .num(2, k)
                .text(3, fmt::format("https://media.redloop.dev/gen/{}-{}.jpg", p.id, k))
                .run(rows);
        }
    }
    // SKUs hold their final stock; the ledger starts with the initial adjustment (on the
    // product's creation, by the shop) and the orders' movements follow in time order.
    for (const auto& s : w_.skus) {
        const auto& p = w_.products[static_cast<std::size_t>(s.product)];
        const i64 initial = s.reserved_total + s.leftover;
        const i64 on_hand = initial - s.sold + s.restocked;
        sku_.text(1, s.id)
            .text(2, p.id)
            .text(3, w_.merchants[static_cast<std::size_t>(s.merchant)].id)
            .text(4, s.title)
            .num(5, s.price)
            .text(6, kCurrency)
            .num(7, on_hand)
            .num(8, s.position)
            .num(9, p.created)
            .num(10, s.last_at)
            .run(rows);
    }
    std::vector<std::size_t> by_time(w_.skus.size());
    for (std::size_t si = 0; si < by_time.size(); ++si) by_time[si] = si;
    std::stable_sort(by_time.begin(), by_time.end(), [&](std::size_t a, std::size_t b) {
        return w_.products[static_cast<std::size_t>(w_.skus[a].product)].created <
               w_.products[static_cast<std::size_t>(w_.skus[b].product)].created;
    });
    for (const std::size_t si : by_time) {
        const auto& s = w_.skus[si];
        const i64 initial = s.reserved_total + s.leftover;
        if (initial <= 0) continue;
        const auto& p = w_.products[static_cast<std::size_t>(s.product)];
        ledger(static_cast<int>(si), "adjustment", initial, 0, "initial stock", p.id,
               w_.merchants[static_cast<std::size_t>(s.merchant)].id, p.created);
    }
    for (std::size_t n = 0; n < w_.notes.size(); ++n) {
        const auto& note = w_.notes[n];
        const i64 seq = static_cast<i64>(n) + 1;
        note_.num(1, seq)
            .text(2, note.id)
            .text(3, note.author)
            .text(4, note.title)
            .text(5, note.body)
            .num(6, note.created)
            .run(rows);
        for (int k = 0; k < note.media; ++k) {
            const bool video = k == 1;
            note_media_.text(1, note.id)
                .num(2, k)
                .text(3, video ? "video" : "image")
                .text(4, fmt::format("https://media.redloop.dev/gen/{}-{}.{}", note.id, k,
                                     video ? "mp4" : "jpg"))
                .run(rows);
        }
        i64 carts = 0;
        for (std::size_t k = 0; k < note.skus.size(); ++k) {
            const auto& sku_id = w_.skus[static_cast<std::size_t>(note.skus[k])].id;
            note_sku_.text(1, note.id)
                .text(2, sku_id)
                .num(3, static_cast<i64>(k))
                .num(4, seq)
                .run(rows);
            // Add-to-carts from the note: the lines that were bought, and some that were not.
            const i64 bought = note.attributed[k];
            const i64 added = bought + rng.between(0, bought + 3);
            carts += added;
            if (added > 0) {
                note_sku_stats_.text(1, note.id).text(2, sku_id).num(3, added).run(rows);
            }
        }
        note_stats_.text(1, note.id).num(2, note.views + carts * rng.between(8, 40)).run(rows);
        maybe_commit();
    }
}

void Writer::flush_moves(i64 up_to) {
    while (!moves_.empty() && moves_.top().at <= up_to) {
        const Move m = moves_.top();
        moves_.pop();
        const std::string order = w_.id(IdKind::order, static_cast<std::uint64_t>(m.order));
        const std::string& user = w_.users[m.user].id;
        switch (m.reason) {
            case MoveReason::checkout:
                ledger(m.sku, "reservation", 0, m.qty, "checkout", order, user, m.at);
                break;
            case MoveReason::sale:
                ledger(m.sku, "sale", -m.qty, -m.qty, "payment succeeded", order, user, m.at);
                break;
            case MoveReason::cancelled:
                ledger(m.sku, "release", 0, -m.qty, "order cancelled", order, user, m.at);
                break;
            case MoveReason::expired:
                ledger(m.sku, "release", 0, -m.qty, "checkout expired", order, "system", m.at);
                break;
            case MoveReason::declined:
                ledger(m.sku, "release", 0, -m.qty, "payment declined", order, "system", m.at);
                break;
            case MoveReason::restock:
                ledger(m.sku, "restock", m.qty, 0,
                       "refund " + w_.id(IdKind::refund, static_cast<std::uint64_t>(m.order)),
                       order, "system", m.at);
                break;
        }
    }
}

void Writer::write_order(const Plan& p) {
    flush_moves(p.t0);
    for_each_move(p, [&](Move m) {
        m.tie = tie_++;
        moves_.push(m);
    });

    const auto n = static_cast<std::uint64_t>(p.index);
    const std::string order_id = w_.id(IdKind::order, n);
    const std::string checkout_id = w_.id(IdKind::checkout, n);
    const std::string payment_id = w_.id(IdKind::payment, n);
    const std::string refund_id = w_.id(IdKind::refund, n);
    const auto& mer = w_.merchants[static_cast<std::size_t>(p.merchant)];
    const auto& user = w_.users[p.user];
    const bool paid = p.outcome == Outcome::paid;

    const char* checkout_status = "paid";
    switch (p.outcome) {
        case Outcome::paid:
            checkout_status = "paid";
            break;
        case Outcome::expired:
            checkout_status = "expired";
            break;
        case Outcome::cancelled:
        case Outcome::declined:
            checkout_status = "cancelled";
            break;
    }
    checkout_.text(1, checkout_id)
        .text(2, user.id)
        .text(3, checkout_status)
        .text(4, payment_id)
        .num(5, p.t0)
        .num(6, p.t0 + kCheckoutTtlMs)
        .num(7, p.t_settle)
        .run(rows);

    const i64 order_refunded =
        (p.refund != Refund::none) ? p.refund_amount : 0;  // every refund here has succeeded
    const auto& city = kCities[static_cast<std::size_t>(p.city)];
    order_.text(1, order_id)
        .text(2, checkout_id)
        .text(3, user.id)
        .text(4, mer.id)
        .text(5, order_status(p))
        .text(6, kCurrency)
        .num(7, p.subtotal)
        .num(8, p.fee)
        .num(9, p.total)
        .num(10, order_refunded)
        .text(11, kNames[static_cast<std::size_t>(p.name)])
        .text(12, fmt::format("+86 1{}", p.phone))
        .text(13,
              fmt::format("No. {} {}", p.street_no, kStreets[static_cast<std::size_t>(p.street)]))
        .text(14, city.name)
        .text(15, city.postal);
    if (p.t_ship) {
        const auto& c = kCarriers[static_cast<std::size_t>(p.carrier)];
        const i64 digits = p.tracking % static_cast<i64>(std::pow(10.0, c.digits));
        order_.text(16, c.name)
            .text(17, c.digits == 9 ? fmt::format("{}{:09d}CN", c.prefix, digits)
                                    : fmt::format("{}{:0{}d}", c.prefix, digits, c.digits));
    } else {
        order_.null(16).null(17);
    }
    order_.num(18, p.t0)
        .num(19, order_updated_at(p))
        .num(20, p.restock && p.refund != Refund::none ? 1 : 0)
        .run(rows);

    for (int k = 0; k < p.n_lines; ++k) {
        const Line& l = p.lines[static_cast<std::size_t>(k)];
        const auto& s = w_.skus[static_cast<std::size_t>(l.sku)];
        line_.text(1, order_id)
            .num(2, k)
            .text(3, s.id)
            .text(4, s.line_title)
            .num(5, l.qty)
            .num(6, s.price)
            .num(7, s.price * l.qty);
        if (l.note >= 0) {
            line_.text(8, w_.notes[static_cast<std::size_t>(l.note)].id);
        } else {
            line_.null(8);
        }
        line_.run(rows);
        reservation_.text(1, order_id)
            .text(2, s.id)
            .num(3, l.qty)
            .text(4, paid ? "sold" : "released")
            .num(5, p.t0)
            .num(6, p.t_settle)
            .run(rows);
    }

    auto history = [&](const char* status, i64 at) {
        order_history_.text(1, order_id).text(2, status).num(3, at).run(rows);
    };
    history("awaiting_payment", p.t0);
    switch (p.outcome) {
        case Outcome::expired:
            history("expired", p.t_settle);
            break;
        case Outcome::cancelled:
        case Outcome::declined:
            history("cancelled", p.t_settle);
            break;
        case Outcome::paid:
            history("paid", p.t_settle);
            if (p.refund == Refund::cancel_paid) {
                history("cancelled", p.t_refund);
                break;
            }
            if (p.t_ship) history("shipped", p.t_ship);
            if (p.t_deliver) history("delivered", p.t_deliver);
            if (p.t_complete) history("completed", p.t_complete);
            if (p.refund == Refund::full) history("refunded", p.t_refund_done);
            break;
    }

    // The payment: asked for at checkout, confirmed, then settled by the provider's webhook.
    const char* payment_status = "succeeded";
    i64 payment_updated = p.t_settle;
    switch (p.outcome) {
        case Outcome::expired:
        case Outcome::cancelled:
            payment_status = "cancelled";
            break;
        case Outcome::declined:
            payment_status = "failed";
            break;
        case Outcome::paid:
            if (p.refund == Refund::partial) payment_status = "partially_refunded";
            if (p.refund == Refund::full || p.refund == Refund::cancel_paid) {
                payment_status = "refunded";
            }
            if (p.refund != Refund::none) payment_updated = p.t_refund_done;
            break;
    }
    payment_.text(1, payment_id)
        .text(2, checkout_id)
        .text(3, user.id)
        .text(4, payment_status)
        .num(5, p.total)
        .text(6, kCurrency)
        .num(7, p.t0)
        .num(8, payment_updated)
        .num(9, order_refunded)
        .run(rows);
    auto pay_history = [&](const char* status, i64 at) {
        payment_history_.text(1, payment_id).text(2, status).num(3, at).run(rows);
    };
    pay_history("requires_confirmation", p.t0);
    if (p.t_confirm) pay_history("processing", p.t_confirm);
    if (p.outcome != Outcome::paid) {
        pay_history(payment_status, p.t_settle);
    } else {
        pay_history("succeeded", p.t_settle);
        if (p.refund != Refund::none) pay_history(payment_status, p.t_refund_done);
    }

    if (p.refund != Refund::none) {
        std::string reason;
        switch (p.refund) {
            case Refund::cancel_paid:
                reason = "order cancelled by " + (p.cancelled_by_merchant ? mer.id : user.id);
                break;
            case Refund::full:
                reason = kRefundReasons[static_cast<std::size_t>(p.refund_reason)];
                break;
            case Refund::partial:
                reason = kPartialReasons[static_cast<std::size_t>(p.refund_reason) %
                                         kPartialReasons.size()];
                break;
            case Refund::none:
                break;
        }
        refund_.text(1, refund_id)
            .text(2, order_id)
            .text(3, payment_id)
            .num(4, p.refund_amount)
            .text(5, kCurrency)
            .text(6, reason)
            .num(7, p.restock ? 1 : 0)
            .num(8, p.t_refund)
            .num(9, p.t_refund_done)
            .run(rows);
    }
}

// ---------------------------------------------------------------- checks and summary

struct Check {
    const char* what;
    const char* sql;  // counts the violations
};

const std::array<Check, 14> kChecks{{
    {"SKUs whose on_hand or reserved differs from the sums of their ledger",
     "SELECT COUNT(*) FROM skus s LEFT JOIN (SELECT sku_id, SUM(on_hand_delta) AS a, "
     "SUM(reserved_delta) AS b FROM inventory_ledger GROUP BY sku_id) l ON l.sku_id = s.id "
     "WHERE s.on_hand != COALESCE(l.a, 0) OR s.reserved != COALESCE(l.b, 0)"},
    {"SKUs whose reserved differs from their held reservations",
     "SELECT COUNT(*) FROM skus s WHERE s.reserved != COALESCE((SELECT SUM(quantity) FROM "
     "reservations r WHERE r.sku_id = s.id AND r.state = 'held'), 0)"},
    {"SKUs with on_hand < reserved or negative stock",
     "SELECT COUNT(*) FROM skus WHERE on_hand < reserved OR reserved < 0"},
    {"orders without lines",
     "SELECT COUNT(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l "
     "WHERE l.order_id = o.id)"},
    {"orders whose last history entry is not their status",
     "SELECT COUNT(*) FROM orders o WHERE o.status IS NOT (SELECT h.status FROM order_history h "
     "WHERE h.order_id = o.id ORDER BY h.seq DESC LIMIT 1)"},
    {"orders whose subtotal is not the sum of their lines, or total != subtotal + fee",
     "SELECT COUNT(*) FROM orders o JOIN (SELECT order_id, SUM(line_total_minor) AS t FROM "
     "order_lines GROUP BY order_id) l ON l.order_id = o.id WHERE l.t != o.subtotal_minor OR "
     "o.total_minor != o.subtotal_minor + o.shipping_fee_minor"},
    {"order lines without their reservation",
     "SELECT COUNT(*) FROM order_lines l LEFT JOIN reservations r ON r.order_id = l.order_id AND "
     "r.sku_id = l.sku_id AND r.quantity = l.quantity WHERE r.order_id IS NULL"},
    {"reservations without their order line",
     "SELECT (SELECT COUNT(*) FROM reservations) - (SELECT COUNT(*) FROM order_lines)"},
    {"order lines attributed to a note that does not tag their SKU",
     "SELECT COUNT(*) FROM order_lines l WHERE l.note_id IS NOT NULL AND NOT EXISTS (SELECT 1 "
     "FROM note_skus t WHERE t.note_id = l.note_id AND t.sku_id = l.sku_id)"},
    {"payments whose last history entry is not their status",
     "SELECT COUNT(*) FROM payments p WHERE p.status IS NOT (SELECT h.status FROM "
     "payment_history h WHERE h.payment_id = p.id ORDER BY h.seq DESC LIMIT 1)"},
    {"payments whose amount is not their checkout's orders' total",
     "SELECT COUNT(*) FROM payments p WHERE p.amount_minor IS NOT (SELECT SUM(o.total_minor) "
     "FROM orders o WHERE o.checkout_id = p.checkout_id)"},
    {"payments or orders whose refunded amount is not the sum of their succeeded refunds",
     "SELECT (SELECT COUNT(*) FROM payments p WHERE p.refunded_minor != COALESCE((SELECT "
     "SUM(amount_minor) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'succeeded'), 0)) "
     "+ (SELECT COUNT(*) FROM orders o WHERE o.refunded_minor != COALESCE((SELECT "
     "SUM(amount_minor) FROM refunds r WHERE r.order_id = o.id AND r.status = 'succeeded'), 0))"},
    {"checkouts not settled (awaiting payment) or paid without a paid order",
     "SELECT COUNT(*) FROM checkouts c WHERE c.status = 'awaiting_payment' OR (c.status = 'paid' "
     "AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.checkout_id = c.id AND o.status NOT IN "
     "('awaiting_payment', 'expired')))"},
    {"ledger rows out of time order",
     "SELECT COUNT(*) FROM (SELECT at, LAG(at) OVER (ORDER BY seq) AS prev FROM inventory_ledger) "
     "WHERE prev > at"},
}};

int run_checks(sqlite3* db, const World& w) {
    int failed = 0;
    for (const auto& c : kChecks) {
        const auto t = std::chrono::steady_clock::now();
        const i64 n = query_count(db, c.sql);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
        std::cout << fmt::format("  check {:<86} {:>6} ({:.1f} s)", c.what, n == 0 ? "ok" : "FAIL",
                                 s)
                  << (n == 0 ? "" : fmt::format(" — {} violations", n)) << std::endl;
        if (n != 0) ++failed;
    }
    {
        // Orders per merchant add up to what was planned, and to --orders.
        Stmt s(db, "SELECT merchant_id, COUNT(*) FROM orders GROUP BY merchant_id");
        std::map<std::string, i64> counted;
        i64 total = 0;
        while (sqlite3_step(s.raw()) == SQLITE_ROW) {
            const auto* id = reinterpret_cast<const char*>(sqlite3_column_text(s.raw(), 0));
            const i64 n = sqlite3_column_int64(s.raw(), 1);
            counted[id ? id : ""] = n;
            total += n;
        }
        int wrong = 0;
        for (const auto& m : w.merchants) {
            const auto it = counted.find(m.id);
            if ((it == counted.end() ? 0 : it->second) != m.orders) ++wrong;
        }
        const bool ok = wrong == 0 && total == w.opt.orders;
        std::cout << fmt::format("  check {:<86} {:>6}",
                                 "orders per merchant as planned, adding up to --orders",
                                 ok ? "ok" : "FAIL")
                  << (ok ? ""
                         : fmt::format(" — {} merchants differ, {} orders in all", wrong, total))
                  << std::endl;
        if (!ok) ++failed;
    }
    {
        const auto t = std::chrono::steady_clock::now();
        Stmt s(db, "PRAGMA foreign_key_check");
        i64 n = 0;
        while (sqlite3_step(s.raw()) == SQLITE_ROW) ++n;
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
        std::cout << fmt::format("  check {:<86} {:>6} ({:.1f} s)",
                                 "foreign keys (PRAGMA foreign_key_check)", n == 0 ? "ok" : "FAIL",
                                 secs)
                  << (n == 0 ? "" : fmt::format(" — {} violations", n)) << std::endl;
        if (n != 0) ++failed;
    }
    return failed;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void remove_db_files(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix);
}

int run(const Options& opt) {
    const auto started = std::chrono::steady_clock::now();
    if (fs::exists(opt.db)) {
        if (!opt.force) {
            std::cerr << opt.db << " exists; pass --force to replace it\n";
            return 2;
        }
        remove_db_files(opt.db);
    }
    if (opt.skus < opt.merchants) {
        std::cerr << "--skus must be at least --merchants (every shop sells something)\n";
        return 2;
    }
    {
        // The schema, exactly as the server makes it.
        auto database = db::Database::open(
            db::DatabaseOptions{.url = opt.db, .pool_size = 1, .durable = false});
        if (!database) {
            std::cerr << database.error().detail << "\n";
            return 1;
        }
        auto applied = (*database)->migrate();
        if (!applied) {
            std::cerr << applied.error().detail << "\n";
            return 1;
        }
        std::cout << fmt::format("schema: {} migrations applied to {}", applied->size(), opt.db)
                  << std::endl;
    }

    World w;
    w.opt = opt;
    w.now = opt.now_ms > 0 ? opt.now_ms
                           : std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    w.end = w.now - kHour;  // the last hour's checkouts would still be settling
    w.start = w.now - static_cast<i64>(opt.days) * kDay;
    build_catalog(w);

    // First pass: plan every order (cheap, no I/O) to learn what each SKU will sell, so the
    // initial stock is enough and on_hand is known before the ledger is written.
    {
        Rng rng(opt.seed);
        for (i64 i = 0; i < opt.orders; ++i) {
            const Plan p = plan_order(w, rng, i);
            ++w.merchants[static_cast<std::size_t>(p.merchant)].orders;
            auto& u = w.users[p.user];
            ++u.orders;
            u.first_at = std::min(u.first_at, p.t0);
            for (int k = 0; k < p.n_lines; ++k) {
                const Line& l = p.lines[static_cast<std::size_t>(k)];
                if (l.note >= 0) {
                    ++w.notes[static_cast<std::size_t>(l.note)]
                          .attributed[static_cast<std::size_t>(l.note_pos)];
                }
            }
            for_each_move(p, [&](const Move& m) {
                auto& s = w.skus[static_cast<std::size_t>(m.sku)];
                s.last_at = std::max(s.last_at, m.at);
                switch (m.reason) {
                    case MoveReason::checkout:
                        s.reserved_total += m.qty;
                        break;
                    case MoveReason::sale:
                        s.sold += m.qty;
                        break;
                    case MoveReason::restock:
                        s.restocked += m.qty;
                        break;
                    case MoveReason::cancelled:
                    case MoveReason::expired:
                    case MoveReason::declined:
                        break;
                }
            });
        }
    }
    std::cout << fmt::format("planned {} orders in {:.1f} s", opt.orders, seconds_since(started))
              << std::endl;

    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(opt.db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        std::cerr << "cannot open " << opt.db << ": " << (raw ? sqlite3_errmsg(raw) : "") << "\n";
        sqlite3_close(raw);
        return 1;
    }
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
    // Bulk-load settings for this connection only; the journal mode goes back to WAL below.
    exec(db.get(), "PRAGMA journal_mode=OFF");
    exec(db.get(), "PRAGMA synchronous=OFF");
    exec(db.get(), "PRAGMA locking_mode=EXCLUSIVE");
    exec(db.get(), "PRAGMA temp_store=MEMORY");
    exec(db.get(), fmt::format("PRAGMA cache_size=-{}", static_cast<i64>(opt.cache_mb) * 1024));

    // The secondary indexes go while loading and come back afterwards, built by sorting rather
    // than by millions of random B-tree inserts; they are re-created from their own CREATE INDEX
    // text, so sqlite_master ends exactly as the migrations left it.
    std::vector<std::pair<std::string, std::string>> indexes;
    {
        Stmt s(db.get(),
               "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
               "ORDER BY rowid");
        while (sqlite3_step(s.raw()) == SQLITE_ROW) {
            indexes.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.raw(), 0)),
                                 reinterpret_cast<const char*>(sqlite3_column_text(s.raw(), 1)));
        }
    }
    for (const auto& [name, sql] : indexes) exec(db.get(), "DROP INDEX " + name);

    const auto load_started = std::chrono::steady_clock::now();
    std::uint64_t total_rows = 0;
    {
        Writer writer(w, db.get());
        writer.begin();
        writer.write_catalog();
        std::cout << fmt::format(
                         "catalog: {} merchants, {} users, {} products, {} SKUs, {} notes, "
                         "{} rows in {:.1f} s",
                         w.merchants.size(), w.users.size(), w.products.size(), w.skus.size(),
                         w.notes.size(), writer.rows, seconds_since(load_started))
                  << std::endl;
        Rng rng(opt.seed);
        auto last_print = std::chrono::steady_clock::now();
        std::uint64_t last_rows = writer.rows;
        for (i64 i = 0; i < opt.orders; ++i) {
            writer.write_order(plan_order(w, rng, i));
            writer.maybe_commit();
            if ((i & 1023) == 0 && seconds_since(last_print) >= 2.0) {
                const double dt = seconds_since(last_print);
                const double all = seconds_since(load_started);
                std::cout << fmt::format(
                                 "  {:>9} / {} orders  {:>10} rows  {:>8.0f} rows/s now  "
                                 "{:>8.0f} rows/s overall  {:>7.0f} orders/s  {:.0f} s",
                                 i, opt.orders, writer.rows,
                                 static_cast<double>(writer.rows - last_rows) / dt,
                                 static_cast<double>(writer.rows) / all,
                                 static_cast<double>(i) / all, all)
                          << std::endl;
                last_print = std::chrono::steady_clock::now();
                last_rows = writer.rows;
            }
        }
        writer.flush_moves(std::numeric_limits<i64>::max());
        writer.commit();
        total_rows = writer.rows;
    }
    const double insert_s = seconds_since(load_started);
    std::cout << fmt::format("inserted {} rows in {:.1f} s ({:.0f} rows/s); building {} indexes",
                             total_rows, insert_s, static_cast<double>(total_rows) / insert_s,
                             indexes.size())
              << std::endl;
    {
        const auto t = std::chrono::steady_clock::now();
        exec(db.get(), "BEGIN");
        for (const auto& [name, sql] : indexes) exec(db.get(), sql);
        exec(db.get(), "COMMIT");
        std::cout << fmt::format("indexes built in {:.1f} s", seconds_since(t)) << std::endl;
    }
    const double load_s = seconds_since(load_started);
    std::cout << fmt::format("loaded {} rows in {:.1f} s: {:.0f} rows/s, {:.0f} orders/s",
                             total_rows, load_s, static_cast<double>(total_rows) / load_s,
                             static_cast<double>(opt.orders) / load_s)
              << std::endl;

    // Back to how the server runs it: WAL (persistent in the file); synchronous is per
    // connection, and the server sets FULL on its own.
    exec(db.get(), "PRAGMA locking_mode=NORMAL");
    exec(db.get(), "PRAGMA journal_mode=WAL");
    exec(db.get(), "PRAGMA synchronous=FULL");

    std::cout << "consistency checks:" << std::endl;
    const auto checks_started = std::chrono::steady_clock::now();
    const int failed = run_checks(db.get(), w);
    const double checks_s = seconds_since(checks_started);

    std::cout << "rows per table:" << std::endl;
    for (const char* table : {"merchants",      "users",
                              "products",       "product_media",
                              "skus",           "inventory_ledger",
                              "notes",          "note_media",
                              "note_skus",      "note_stats",
                              "note_sku_stats", "checkouts",
                              "payments",       "payment_history",
                              "orders",         "order_lines",
                              "order_history",  "reservations",
                              "refunds",        "journal",
                              "events"}) {
        std::cout << fmt::format(
                         "  {:<18} {:>10}", table,
                         query_count(db.get(), fmt::format("SELECT COUNT(*) FROM {}", table)))
                  << std::endl;
    }
    std::cout << "orders by status:" << std::endl;
    {
        Stmt s(db.get(), "SELECT status, COUNT(*) FROM orders GROUP BY status ORDER BY 2 DESC");
        while (sqlite3_step(s.raw()) == SQLITE_ROW) {
            std::cout << fmt::format("  {:<18} {:>10}",
                                     reinterpret_cast<const char*>(sqlite3_column_text(s.raw(), 0)),
                                     sqlite3_column_int64(s.raw(), 1))
                      << std::endl;
        }
    }
    exec(db.get(), "PRAGMA wal_checkpoint(TRUNCATE)");
    db.reset();

    const auto top_merchant =
        std::max_element(w.merchants.begin(), w.merchants.end(),
                         [](const Merchant& a, const Merchant& b) { return a.orders < b.orders; });
    const auto top_user =
        std::max_element(w.users.begin(), w.users.end(),
                         [](const User& a, const User& b) { return a.orders < b.orders; });
    const auto median_user = [&] {
        std::vector<i64> counts;
        counts.reserve(w.users.size());
        for (const auto& u : w.users) counts.push_back(u.orders);
        std::nth_element(counts.begin(),
                         counts.begin() + static_cast<std::ptrdiff_t>(counts.size() / 2),
                         counts.end());
        return counts[counts.size() / 2];
    }();
    std::cout << fmt::format("database {}: {:.1f} MiB", opt.db,
                             static_cast<double>(fs::file_size(opt.db)) / (1024.0 * 1024.0))
              << std::endl;
    std::cout << fmt::format("elapsed {:.1f} s (load {:.1f} s, checks {:.1f} s)",
                             seconds_since(started), load_s, checks_s)
              << std::endl;
    std::cout << fmt::format("merchant {} ({}) has {} orders", top_merchant->id, top_merchant->name,
                             top_merchant->orders)
              << std::endl;
    std::cout << fmt::format("user {} has {} orders (median user: {})", top_user->id,
                             top_user->orders, median_user)
              << std::endl;
    if (failed) {
        std::cerr << failed << " consistency checks failed\n";
        return 3;
    }
    std::cout << "all consistency checks passed" << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    CLI::App cli{
        "redloop-datagen: fills a SQLite database with realistic trade at scale (merchants, "
        "users, catalog and inventory ledger, notes, checkouts, payments, orders with lines and "
        "history) for the performance figures. The schema comes from the built-in migrations; "
        "rows are written directly with SQL, consistent the way the engine leaves them, and "
        "checked at the end (non-zero exit on a failed check).\n"
        "For scale figures only: the journal and the event log stay empty, so the journal does "
        "not replay to this database."};
    cli.add_option("--db", opt.db, "SQLite file to create")->required();
    cli.add_option("--orders", opt.orders, "orders (one checkout and payment each)")
        ->check(CLI::Range(i64{1}, i64{100'000'000}));
    cli.add_option("--merchants", opt.merchants, "shops; orders per shop follow Zipf")
        ->check(CLI::Range(1, 1'000'000));
    cli.add_option("--users", opt.users, "buyers")->check(CLI::Range(i64{1}, i64{100'000'000}));
    cli.add_option("--skus", opt.skus, "SKUs (in products of 1-3), at least --merchants")
        ->check(CLI::Range(1, 10'000'000));
    cli.add_option("--notes", opt.notes, "notes tagging SKUs")->check(CLI::Range(0, 10'000'000));
    cli.add_option("--seed", opt.seed, "the same seed (and --now-ms) gives the same database");
    cli.add_option("--days", opt.days, "orders spread over this many days before now")
        ->check(CLI::Range(1, 3650));
    cli.add_option("--batch", opt.batch_rows, "rows per COMMIT")
        ->check(CLI::Range(i64{1}, i64{100'000'000}));
    cli.add_option("--now-ms", opt.now_ms, "the present, in Unix ms (default: the wall clock)");
    cli.add_option("--cache-mb", opt.cache_mb, "SQLite page cache while loading")
        ->check(CLI::Range(2, 65536));
    cli.add_flag("--force", opt.force, "replace an existing --db file");
    CLI11_PARSE(cli, argc, argv);
    try {
        return run(opt);
    } catch (const std::exception& e) {
        std::cerr << "redloop-datagen: " << e.what() << "\n";
        return 1;
    }
}
