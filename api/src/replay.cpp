#include "replay.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <boost/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>

#include "app.hpp"
#include "digest.hpp"
#include "redloop/db/journal.hpp"
#include "seed.hpp"

namespace redloop::api {

namespace json = boost::json;
using engine::ErrorCode;
using engine::fail;

namespace {

json::object to_json(const db::JournalEntry& e) {
    json::array ids;
    for (const auto& id : e.ids) ids.push_back(json::value(id));
    return json::object{{"seq", e.seq},
                        {"at", e.at.unix_ms},
                        {"kind", e.kind},
                        {"actor", e.actor},
                        {"role", e.role},
                        {"method", e.method},
                        {"target", e.target},
                        {"idem_key", e.idem_key ? json::value(*e.idem_key) : json::value(nullptr)},
                        {"request_id", e.request_id},
                        {"body", e.body},
                        {"ids", std::move(ids)},
                        {"status", e.status},
                        {"response_sha256", e.response_sha256},
                        {"effects", e.effects ? json::value(*e.effects) : json::value(nullptr)}};
}

std::optional<Principal> principal_of(const db::JournalEntry& e) {
    auto role = parse_role(e.role);
    auto sub = engine::ActorId::parse(e.actor);
    if (!role || !sub) return std::nullopt;
    return Principal{*sub, *role};
}

// A checkout request whose person was erased (handlers_orders.cpp) has a stand-in address and
// the response hash "erased": its answer, and the answers about the objects it created until
// the erasure nulls the address again, differ from the live ones in the address only. For
// those the replay checks the status, not the hash.
constexpr std::string_view kErasedHash = "erased";

bool names_erased(const std::string& target, const std::set<std::string>& erased) {
    for (const auto& segment : split_path(target)) {
        if (erased.count(std::string(segment))) return true;
    }
    return false;
}

// Applies one entry; returns nullopt when the result matches the journal, else why not.
std::optional<std::string> apply(App& app, db::Database& db, const db::JournalEntry& e,
                                 std::set<std::string>& erased) {
    if (e.kind == "http") {
        Request req;
        req.method = e.method;
        req.target = e.target;
        req.path = e.target;
        req.segments = split_path(e.target);
        req.body = e.body;
        req.has_body = !e.body.empty();
        req.content_type = e.body.empty() ? "" : "application/json";
        req.request_id = e.request_id;
        if (e.idem_key) {
            req.has_idempotency_key = true;
            req.idempotency_key = *e.idem_key;
        }
        bool ids_diverged = false;
        const Response r =
            app.replay_http(req, principal_of(e), e.at, e.ids, e.response_sha256, ids_diverged);
        const auto hash = sha256_hex(r.body);
        const bool redacted = e.response_sha256 == kErasedHash;
        if (redacted) erased.insert(e.ids.begin(), e.ids.end());
        const bool status_only = redacted || names_erased(e.target, erased);
        if (r.status != e.status || (!status_only && hash != e.response_sha256)) {
            return fmt::format("{} {}: journal says {} {}, replay gave {} {}: {}", e.method,
                               e.target, e.status, e.response_sha256.substr(0, 12), r.status,
                               hash.substr(0, 12), r.body.substr(0, 300));
        }
        if (ids_diverged)
            return fmt::format("{} {}: the new ids differ from the journal's", e.method, e.target);
        return std::nullopt;
    }
    if (e.kind == "config") {
        if (auto s = app.apply_decision_config(e.body); !s) return s.error().detail;
        // Written again as it was (the server journals its decisions' settings at start), so
        // the new database's journal replays in turn to the same state.
        db::JournalEntry again = e;
        again.effects.reset();
        auto written = db.write([&](db::Tx& tx) -> engine::Result<bool> {
            db::append_journal(tx, again);
            return true;
        });
        if (!written) return written.error().detail;
        return std::nullopt;
    }
    if (e.kind == "actor") {
        auto p = principal_of(e);
        if (!p) return "actor entry with an unusable actor " + e.actor;
        if (auto s = app.ensure_actor(*p, e.at); !s) return s.error().detail;
        return std::nullopt;
    }
    if (e.kind == "expire") {
        auto id = engine::CheckoutId::parse(e.target);
        if (!id) return "expire entry names no checkout";
        if (!expire_checkout(db, *id, e.at)) return "checkout " + e.target + " did not expire";
        return std::nullopt;
    }
    if (e.kind == "settle") {
        auto id = engine::OrderId::parse(e.target);
        if (!id) return "settle entry names no order";
        if (!settle_commissions(db, *id, e.at))
            return "the commissions of order " + e.target + " were not due";
        return std::nullopt;
    }
    if (e.kind == "webhook_retry") {
        if (!retry_webhook(app, e.target, e.at, &e.ids))
            return "webhook " + e.target + " was not pending";
        return std::nullopt;
    }
    if (e.kind == "seed") {
        SeedReport report;
        auto done = db.write([&](db::Tx& tx) -> engine::Result<bool> {
            auto s = seed_text(tx, e.target, e.body, e.at, report);
            if (!s) return fail(s.error());
            return true;
        });
        if (!done) return done.error().detail;
        return std::nullopt;
    }
    return "unknown entry kind " + e.kind;
}

}  // namespace

std::string journal_without_effects(const std::string& exported) {
    // A value inside a body is escaped (\"), so this key is a field's only where it begins one.
    static const std::string kKey = "\"effects\":\"";
    std::string out;
    out.reserve(exported.size());
    std::size_t pos = 0;
    for (auto at = exported.find(kKey); at != std::string::npos; at = exported.find(kKey, pos)) {
        const auto end = exported.find('"', at + kKey.size());
        if (end == std::string::npos) break;  // not a journal line: the rest as it is
        out.append(exported, pos, at - pos);
        out += "\"effects\":null";
        pos = end + 1;
    }
    return out.append(exported, pos);
}

std::string encode_journal_entry(const db::JournalEntry& e) {
    return json::serialize(to_json(e));
}

engine::Result<db::JournalEntry> decode_journal_entry(const std::string& line) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object()) return fail(ErrorCode::invalid_request, "not a JSON object");
    try {
        const auto& o = v.as_object();
        db::JournalEntry e;
        e.seq = o.at("seq").as_int64();
        e.at = engine::Timestamp{o.at("at").as_int64()};
        e.kind = o.at("kind").as_string();
        e.actor = o.at("actor").as_string();
        e.role = o.at("role").as_string();
        e.method = o.at("method").as_string();
        e.target = o.at("target").as_string();
        if (o.at("idem_key").is_string()) e.idem_key = std::string(o.at("idem_key").as_string());
        e.request_id = o.at("request_id").as_string();
        e.body = o.at("body").as_string();
        for (const auto& id : o.at("ids").as_array()) e.ids.emplace_back(id.as_string());
        e.status = static_cast<int>(o.at("status").as_int64());
        e.response_sha256 = o.at("response_sha256").as_string();
        // Optional: journals exported before effects were recorded have no such field.
        if (const auto* fx = o.if_contains("effects"); fx && !fx->is_null())
            e.effects = std::string(fx->as_string());
        return e;
    } catch (const std::exception& ex) {
        return fail(ErrorCode::invalid_request, std::string("malformed entry: ") + ex.what());
    }
}

namespace {

// A journal line decoded, with its body sealed for the copy when it may be applied from
// recorded effects.
struct Line {
    db::JournalEntry entry;
    std::int64_t line_no = 0;
    std::string sealed_body;
    // A carrier's effects, decoded ahead (an error is reported if they are to be applied).
    std::optional<engine::Result<db::DecodedEffects>> effects;
};

// Reads, decodes and seals the journal's lines (and decodes the carriers' effects) on its own
// thread, a chunk at a time and a few chunks ahead, while the replay writes: decoding and
// sealing were a fifth of a replay from effects.
class LineReader {
  public:
    LineReader(std::istream& in, bool seal) : thread_([this, &in, seal] { run(in, seal); }) {}
    ~LineReader() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    // The next chunk of lines, in order; false when there are no more (the end, or a line that
    // did not decode: error()).
    bool next(std::vector<Line>& out) {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !chunks_.empty() || done_; });
        if (chunks_.empty()) return false;
        out = std::move(chunks_.front());
        chunks_.pop_front();
        cv_.notify_all();
        return true;
    }
    // Why reading stopped before the end (after next() returned false).
    std::optional<std::string> error() {
        std::lock_guard lock(mutex_);
        return error_;
    }

  private:
    static constexpr std::size_t kChunk = 512;  // lines
    static constexpr std::size_t kAhead = 16;   // chunks decoded ahead of the writer

    void run(std::istream& in, bool seal) {
        std::vector<Line> chunk;
        std::optional<std::string> error;
        try {
            std::string text;
            std::int64_t line_no = 0;
            while (std::getline(in, text)) {
                ++line_no;
                if (text.empty()) continue;
                auto e = decode_journal_entry(text);
                if (!e) {
                    error = fmt::format("line {}: {}", line_no, e.error().detail);
                    break;
                }
                Line l{std::move(*e), line_no, {}, std::nullopt};
                const auto& fx = l.entry.effects;
                if (seal && fx && !fx->empty() && (*fx)[0] != '-') {
                    l.sealed_body = db::seal_journal_body(l.entry.body);
                    const auto colon = fx->find(':');
                    if ((*fx)[0] != '+' && colon != std::string::npos)
                        l.effects = db::decode_effects(std::string_view(*fx).substr(colon + 1));
                }
                chunk.push_back(std::move(l));
                if (chunk.size() == kChunk && !hand_over(chunk)) return;
            }
        } catch (const std::exception& ex) {
            error = std::string("reading the journal: ") + ex.what();
        }
        hand_over(chunk);
        std::lock_guard lock(mutex_);
        error_ = std::move(error);
        done_ = true;
        cv_.notify_all();
    }
    // False when the replay stopped reading.
    bool hand_over(std::vector<Line>& chunk) {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return chunks_.size() < kAhead || stopping_; });
        if (stopping_) return false;
        if (!chunk.empty()) chunks_.push_back(std::move(chunk));
        chunk.clear();
        chunk.reserve(kChunk);
        cv_.notify_all();
        return true;
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::vector<Line>> chunks_;
    bool done_ = false;
    bool stopping_ = false;
    std::optional<std::string> error_;
    std::thread thread_;  // last: started once the rest is constructed
};

}  // namespace

engine::Result<std::int64_t> export_journal(db::Database& db, std::int64_t since_seq,
                                            std::ostream& out) {
    std::int64_t count = 0;
    std::int64_t after = since_seq;
    while (true) {
        auto batch = db.read([&](db::Tx& tx) -> engine::Result<std::vector<db::JournalEntry>> {
            return db::journal_since(tx, after, 1000);
        });
        if (!batch) return fail(batch.error());
        if (batch->empty()) break;
        for (const auto& e : *batch) {
            out << encode_journal_entry(e) << '\n';
            after = e.seq;
            ++count;
        }
    }
    return count;
}

engine::Result<std::string> state_hash_of(db::Database& db) {
    return db.read([](db::Tx& tx) -> engine::Result<std::string> { return db::state_hash(tx); });
}

engine::Result<ReplayReport> replay_journal(db::Database& db, std::istream& in,
                                            const ReplayOptions& options) {
    // Secrets are not needed: tokens and signatures were checked when the entries were made.
    App app(db, AppConfig{}, [] { return engine::Timestamp{0}; });
    // The app publishes changes to the event log before each commit; nobody streams a replay.
    if (!options.event_log) db.set_commit_hooks(nullptr, nullptr);
    ReplayReport report;
    std::set<std::string> erased;  // ids created by checkout requests whose person was erased
    const bool use_effects = options.effects && db.applies_effects();
    if (use_effects) {
        if (auto s = db.set_writer_foreign_keys(false); !s) return fail(s.error());
    }
    struct RestoreForeignKeys {
        db::Database& db;
        bool off;
        ~RestoreForeignKeys() {
            if (off) (void)db.set_writer_foreign_keys(true);  // after an early return
        }
    } restore_foreign_keys{db, use_effects};
    // Entries commit a thousand at a time: a commit per entry was most of a replay's time.
    if (auto s = db.set_bulk(true); !s) return fail(s.error());
    struct EndBulk {
        db::Database& db;
        ~EndBulk() { (void)db.set_bulk(false); }  // after an early return: nothing to keep
    } end_bulk{db};
    // Loading from effects, the secondary indexes are dropped before the first batch and built
    // once afterwards rather than kept up row by row (a tenth of the replay's time). They are
    // back before any entry runs (its handler reads through them) and before the state is
    // hashed. Only once per replay: a journal that mixes entries to run with effects (a server
    // restarted often) keeps its indexes after the first entry that runs.
    std::vector<db::IndexDefinition> deferred_indexes;
    bool indexes_dropped = false;
    // In a write of its own, so a batch refused later cannot take the drop back with it.
    auto drop_indexes = [&]() -> std::optional<std::string> {
        if (indexes_dropped) return std::nullopt;
        indexes_dropped = true;
        auto dropped = db.write([](db::Tx& tx) -> engine::Result<std::vector<db::IndexDefinition>> {
            return db::drop_secondary_indexes(tx);
        });
        if (!dropped) return "dropping the indexes: " + dropped.error().detail;
        deferred_indexes = std::move(*dropped);
        return std::nullopt;
    };
    auto build_indexes = [&]() -> std::optional<std::string> {
        if (deferred_indexes.empty()) return std::nullopt;
        auto built = db.write([&](db::Tx& tx) -> engine::Result<bool> {
            db::create_indexes(tx, deferred_indexes);
            return true;
        });
        deferred_indexes.clear();
        if (!built) return "building the indexes: " + built.error().detail;
        return std::nullopt;
    };
    struct BuildIndexes {  // after an early return, so the file is not left without them
        decltype(build_indexes)& build;
        ~BuildIndexes() { (void)build(); }
    } build_indexes_at_exit{build_indexes};
    // Runs one entry again (its answer checked against the journal's).
    auto run_entry = [&](const Line& l) -> std::optional<std::string> {
        if (auto why = build_indexes()) return why;
        if (auto why = apply(app, db, l.entry, erased))
            return fmt::format("entry {} (line {}, {}): {}", l.entry.seq, l.line_no, l.entry.kind,
                               *why);
        ++report.applied;
        return std::nullopt;
    };
    // Recorded effects come in epochs (docs/journal.md#effects): entries marked "+E", then a
    // carrier "E:<patchset>" holding the net changes of them all. Closed epochs wait in `ready`
    // and are applied together; the entries of the open one wait in `open` for its carrier. An
    // epoch that never got one (the server stopped, an erasure gave it up) is run entry by entry.
    std::vector<Line> ready, open;
    std::string open_epoch;
    // Epochs some of whose entries ran (an entry without effects came between them, written by
    // another process; or an erasure dropped the epoch's effects, "-<epoch>"): their carrier, if
    // any, holds changes already made, so the rest of their entries run too.
    std::set<std::string> broken;
    auto apply_ready = [&]() -> std::optional<std::string> {
        if (ready.empty()) return std::nullopt;
        if (auto why = drop_indexes()) return why;
        auto done = db.write([&](db::Tx& tx) -> engine::Result<bool> {
            // The carriers' effects, in order (the lines in `ready` do not move meanwhile).
            std::vector<const db::DecodedEffects*> effects;
            for (const auto& l : ready) {
                if (!l.effects) continue;
                if (!*l.effects) return fail(l.effects->error());
                effects.push_back(&**l.effects);
            }
            if (auto s = db::apply_effects(tx, effects); !s) return fail(s.error());
            // The entries without their effects: the copy is not a source to replay again
            // (half of the bytes this wrote).
            for (const auto& l : ready) {
                db::append_journal_copy(
                    tx, l.entry,
                    l.sealed_body.empty() ? db::seal_journal_body(l.entry.body) : l.sealed_body);
            }
            return true;
        });
        if (!done)
            return fmt::format("the effects of entries {} to {} (lines {} to {}): {}",
                               ready.front().entry.seq, ready.back().entry.seq,
                               ready.front().line_no, ready.back().line_no, done.error().detail);
        // Config entries shape the decisions of the entries that run after them.
        for (const auto& l : ready) {
            if (l.entry.kind != "config") continue;
            if (auto s = app.apply_decision_config(l.entry.body); !s)
                return fmt::format("entry {} (line {}, config): {}", l.entry.seq, l.line_no,
                                   s.error().detail);
        }
        report.from_effects += std::int64_t(ready.size());
        report.applied += std::int64_t(ready.size());
        ready.clear();
        return std::nullopt;
    };
    // Applies what is ready, then runs the entries of an epoch that will get no carrier.
    auto settle = [&]() -> std::optional<std::string> {
        if (auto why = apply_ready()) return why;
        for (const auto& l : open) {
            if (auto why = run_entry(l)) return why;
        }
        if (!open.empty()) broken.insert(open_epoch);
        open.clear();
        open_epoch.clear();
        return std::nullopt;
    };
    const std::size_t effects_batch = std::max<std::size_t>(1, options.effects_batch);
    auto step = [&](Line l) -> std::optional<std::string> {
        const auto& fx = l.entry.effects;
        if (!use_effects || !fx || fx->empty()) {
            if (auto why = settle()) return why;
            return run_entry(l);
        }
        if ((*fx)[0] == '-') {
            // Dropped by an erasure: its epoch's carrier is gone, all its entries run.
            if (auto why = settle()) return why;
            broken.insert(fx->substr(1));
            return run_entry(l);
        }
        const bool member = (*fx)[0] == '+';
        const auto colon = fx->find(':');
        if (!member && colon == std::string::npos)
            return fmt::format(
                "entry {} (line {}): effects are none of \"+epoch\", \"-epoch\" and "
                "\"epoch:patchset;counters\"",
                l.entry.seq, l.line_no);
        const std::string epoch = member ? fx->substr(1) : fx->substr(0, colon);
        if (!open.empty() && epoch != open_epoch) {
            if (auto why = settle()) return why;
        }
        if (broken.count(epoch)) {
            if (auto why = settle()) return why;
            return run_entry(l);
        }
        if (member) {
            open_epoch = epoch;
            open.push_back(std::move(l));
            return std::nullopt;
        }
        for (auto& o : open) ready.push_back(std::move(o));
        ready.push_back(std::move(l));
        open.clear();
        open_epoch.clear();
        if (ready.size() >= effects_batch) return apply_ready();
        return std::nullopt;
    };
    {
        LineReader reader(in, use_effects);
        std::vector<Line> chunk;
        while (!report.divergence && reader.next(chunk)) {
            for (auto& l : chunk) {
                if (auto why = step(std::move(l))) {
                    report.divergence = *why;
                    break;
                }
            }
        }
        if (!report.divergence) {
            if (auto error = reader.error()) return fail(ErrorCode::invalid_request, *error);
        }
    }
    if (!report.divergence) {
        if (auto why = settle()) report.divergence = *why;
    }
    if (auto why = build_indexes(); why && !report.divergence) report.divergence = *why;
    if (auto s = db.set_bulk(false); !s) return fail(s.error());
    if (use_effects) {
        restore_foreign_keys.off = false;
        if (auto s = db.set_writer_foreign_keys(true); !s) return fail(s.error());
    }
    auto hash = state_hash_of(db);
    if (!hash) return fail(hash.error());
    report.state_hash = *hash;
    return report;
}

}  // namespace redloop::api
