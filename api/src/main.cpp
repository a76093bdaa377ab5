// The `redloop` command: serve, migrate, seed, token.
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>
#include "app.hpp"
#include "auth.hpp"
#include "demo_buyers.hpp"
#include "http_server.hpp"
#include "id_generator.hpp"
#include "redloop/db/rekey.hpp"
#include "redloop/db/sealer.hpp"

#include "replay.hpp"
#include "sandbox_provider.hpp"
#include "seed.hpp"
#include "stream_client.hpp"
#include "stream_hub.hpp"

using namespace redloop;

namespace {

constexpr std::size_t kSecretMinChars = 32;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// REDLOOP_JWT_SECRET for the commands that mint tokens; a message on stderr when unusable.
std::optional<std::string> jwt_secret_from_env() {
    std::string secret = env("REDLOOP_JWT_SECRET");
    if (secret.size() < kSecretMinChars) {
        std::cerr << "REDLOOP_JWT_SECRET must be set (at least " << kSecretMinChars
                  << " characters)\n";
        return std::nullopt;
    }
    return secret;
}

void setup_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("redloop");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    spdlog::set_level(spdlog::level::from_str(level));
}

std::unique_ptr<db::Database> open_db(const std::string& url, std::size_t pool, bool durable = true,
                                      int pool_timeout_ms = 5000, bool profile_statements = false) {
    db::DatabaseOptions options{.url = url, .pool_size = pool, .durable = durable};
    options.pool_timeout_ms = pool_timeout_ms;
    options.profile_statements = profile_statements;
    auto db = db::Database::open(options);
    if (!db) {
        spdlog::critical("{}", db.error().detail);
        return nullptr;
    }
    return std::move(*db);
}

bool migrate(db::Database& db) {
    auto applied = db.migrate();
    if (!applied) {
        spdlog::critical("{}", applied.error().detail);
        return false;
    }
    for (const auto& name : *applied) spdlog::info("applied migration {}", name);
    return true;
}

// The file that says a server runs (or ran and was killed) on a SQLite database: DB-running,
// written once the server is about to serve and removed when it stops cleanly. Empty for
// PostgreSQL and in-memory databases.
std::string running_marker(const std::string& url) {
    if (url.rfind("postgres", 0) == 0) return {};
    std::string path = url.rfind("sqlite:", 0) == 0 ? url.substr(7) : url;
    if (path.empty() || path == ":memory:") return {};
    return path + "-running";
}

// SQLite's integrity_check before serving, when asked: `always`, or `after-crash` when the
// last run left its marker (it was killed, or the machine lost power). A damaged database is
// never served: its problems are logged and the server stops.
bool check_integrity(db::Database& db, const std::string& mode, const std::string& marker) {
    if (db.dialect() != db::Dialect::sqlite || mode == "never") return true;
    const bool crashed = !marker.empty() && std::filesystem::exists(marker);
    if (mode == "after-crash" && !crashed) return true;
    const auto started = std::chrono::steady_clock::now();
    auto problems = db.integrity_check();
    if (!problems) {
        // SQLite stops the check at damage it cannot read past ("database disk image is
        // malformed"): as much a failure as a list of problems.
        spdlog::critical("the database failed its integrity check ({}): not serving it",
                         problems.error().detail);
        return false;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    if (!problems->empty()) {
        for (const auto& p : *problems) spdlog::critical("integrity check: {}", p);
        spdlog::critical("the database failed its integrity check ({} problems): not serving it",
                         problems->size());
        return false;
    }
    spdlog::info("integrity check ok in {} ms{}", ms,
                 crashed ? " (the last run did not stop cleanly)" : "");
    return true;
}

// Secrets come only from the environment; --dev makes up missing ones and prints them.
bool load_secret(const char* name, bool dev, std::string& out) {
    out = env(name);
    if (out.empty() && dev) {
        out = api::random_hex(32);
        std::cout << "dev mode: generated " << name << "=" << out << std::endl;
    }
    if (out.empty()) {
        spdlog::critical("{} is not set: secrets come only from the environment (or use --dev)",
                         name);
        return false;
    }
    if (out.size() < kSecretMinChars) {
        spdlog::critical("{} must have at least {} characters", name, kSecretMinChars);
        return false;
    }
    return true;
}

// REDLOOP_DATA_KEYS, the ring that seals personal data at rest, installed for the process.
// Without it, a command that reads or writes personal data refuses to run (serve --dev makes
// one up and prints it): nothing is ever stored in plaintext by accident.
bool load_data_keys(bool dev) {
    std::string spec = env("REDLOOP_DATA_KEYS");
    if (spec.empty() && dev) {
        spec = db::KeyRing::generate("dev");
        std::cout << "dev mode: generated REDLOOP_DATA_KEYS=" << spec
                  << " (data sealed under it can't be read without it)" << std::endl;
    }
    if (spec.empty()) {
        spdlog::critical(
            "REDLOOP_DATA_KEYS is not set: personal data is sealed at rest under keys from the "
            "environment (\"id:<base64 of 32 bytes>,...\", the first seals; or use --dev)");
        return false;
    }
    auto ring = db::KeyRing::parse(spec);
    if (!ring) {
        spdlog::critical("REDLOOP_DATA_KEYS: {}", ring.error().detail);
        return false;
    }
    spdlog::info("personal data sealed under key {} ({} key(s) in the ring)",
                 ring->sealing_key_id(), ring->size());
    db::install_key_ring(std::make_shared<const db::KeyRing>(std::move(*ring)));
    return true;
}

// serve --statement-profile: the writer's statements as a Markdown table, the most time first.
bool write_statement_profile(const std::string& path,
                             const std::vector<db::StatementTiming>& rows) {
    std::int64_t all_ns = 0;
    std::uint64_t all_runs = 0;
    for (const auto& r : rows) {
        all_ns += r.nanoseconds;
        all_runs += r.runs;
    }
    std::ofstream out(path, std::ios::trunc);
    out << fmt::format(
        "The group-commit writer's statements, from the first step to the reset: {} runs, "
        "{:.1f} ms\n\n| share % | runs | total ms | µs each | statement |\n"
        "|---:|---:|---:|---:|---|\n",
        all_runs, static_cast<double>(all_ns) / 1e6);
    for (const auto& r : rows) {
        std::string sql;  // one line, and no cell separators
        for (char c : r.sql) {
            if (c == '|') {
                sql += "\\|";
            } else if (c == '\n' || c == '\r' || c == '\t') {
                if (!sql.empty() && sql.back() != ' ') sql += ' ';
            } else {
                sql += c;
            }
        }
        out << fmt::format(
            "| {:.1f} | {} | {:.1f} | {:.1f} | `{}` |\n",
            all_ns ? 100.0 * static_cast<double>(r.nanoseconds) / static_cast<double>(all_ns) : 0.0,
            r.runs, static_cast<double>(r.nanoseconds) / 1e6,
            r.runs ? static_cast<double>(r.nanoseconds) / 1e3 / static_cast<double>(r.runs) : 0.0,
            sql);
    }
    out.close();
    return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"Redloop: the in-app checkout engine"};
    cli.require_subcommand(1);
    std::string log_level = "info";
    cli.add_option("--log-level", log_level, "trace, debug, info, warn, error")
        ->envname("REDLOOP_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    std::string db_url = "var/redloop.db";
    auto add_db = [&](CLI::App* sub) {
        sub->add_option("--db", db_url, "SQLite file path, or postgresql://user@host:port/db URL")
            ->envname("REDLOOP_DB")
            ->capture_default_str();
    };

    // serve
    auto* serve = cli.add_subcommand("serve", "Apply pending migrations and serve HTTP");
    api::ServerOptions server_options;
    server_options.threads = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
    bool dev = false;
    std::size_t db_pool = 0;
    add_db(serve);
    serve->add_option("--listen", server_options.address, "address to listen on")
        ->envname("REDLOOP_LISTEN")
        ->capture_default_str();
    serve->add_option("--port", server_options.port, "port (0: any free port)")
        ->envname("REDLOOP_PORT")
        ->capture_default_str();
    serve->add_option("--threads", server_options.threads, "I/O threads")
        ->envname("REDLOOP_THREADS")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    serve->add_option("--workers", server_options.workers, "threads that run writes")
        ->envname("REDLOOP_WORKERS")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    std::int64_t http_idle_s = server_options.idle_timeout.count();
    serve
        ->add_option("--http-idle-timeout", http_idle_s,
                     "seconds a connection may take to send a request's header (from its opening "
                     "or the previous response), then it is closed")
        ->envname("REDLOOP_HTTP_IDLE_TIMEOUT")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600}))
        ->capture_default_str();
    std::int64_t http_read_s = server_options.read_timeout.count();
    serve
        ->add_option("--http-read-timeout", http_read_s,
                     "seconds a request's body may take to arrive (and its response to be sent)")
        ->envname("REDLOOP_HTTP_READ_TIMEOUT")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{3600}))
        ->capture_default_str();
    serve
        ->add_option("--db-pool", db_pool,
                     "database connections of this node (default: SQLite threads + workers + 2, "
                     "PostgreSQL 16)")
        ->envname("REDLOOP_DB_POOL")
        ->check(CLI::Range(1, 256));
    bool journal_effects = true;
    serve
        ->add_option("--journal-effects", journal_effects,
                     "record each command's effects (the rows it changed) in the journal, so "
                     "`replay --effects` can apply them (SQLite; about 3x the journal's size)")
        ->envname("REDLOOP_JOURNAL_EFFECTS")
        ->capture_default_str();
    std::size_t journal_effects_epoch = 256;
    serve
        ->add_option("--journal-effects-epoch", journal_effects_epoch,
                     "journal entries whose effects are kept together (one SQLite session; a "
                     "replay runs those of an epoch left open at a stop)")
        ->envname("REDLOOP_JOURNAL_EFFECTS_EPOCH")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
        ->capture_default_str();
    std::string statement_profile;
    serve->add_option("--statement-profile", statement_profile,
                      "time every statement the SQLite writer runs and write the totals to FILE "
                      "(Markdown) when the server stops: a diagnostic, docs/performance.md");
    int db_pool_timeout_ms = 5000;
    serve
        ->add_option("--db-pool-timeout-ms", db_pool_timeout_ms,
                     "how long a request waits for a free database connection before it is "
                     "answered 503 unavailable")
        ->envname("REDLOOP_DB_POOL_TIMEOUT_MS")
        ->check(CLI::Range(1, 600'000))
        ->capture_default_str();
    std::string integrity_mode = "after-crash";
    serve
        ->add_option("--integrity-check", integrity_mode,
                     "SQLite's full integrity_check before serving: after-crash (when the last run "
                     "did not stop cleanly), always, or never")
        ->envname("REDLOOP_INTEGRITY_CHECK")
        ->check(CLI::IsMember({"after-crash", "always", "never"}))
        ->capture_default_str();
    std::int64_t checkout_ttl_s = 900;
    serve
        ->add_option("--checkout-ttl", checkout_ttl_s, "seconds an unpaid checkout holds its stock")
        ->envname("REDLOOP_CHECKOUT_TTL")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{86400}))
        ->capture_default_str();
    std::int64_t checkout_rate_per_minute = 30;
    serve
        ->add_option("--checkout-rate-per-minute", checkout_rate_per_minute,
                     "checkout attempts a user may make per minute, beyond the burst (0: no limit)")
        ->envname("REDLOOP_CHECKOUT_RATE_PER_MINUTE")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}))
        ->capture_default_str();
    std::int64_t checkout_rate_burst = 10;
    serve
        ->add_option("--checkout-burst", checkout_rate_burst,
                     "checkout attempts a user may make at once before the per-minute rate applies")
        ->envname("REDLOOP_CHECKOUT_BURST")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}))
        ->capture_default_str();
    std::int64_t settle_interval_s = 60;
    serve
        ->add_option("--settle-interval", settle_interval_s,
                     "seconds between runs of the commission settlement sweep")
        ->envname("REDLOOP_SETTLE_INTERVAL")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{86400}))
        ->capture_default_str();
    std::int64_t sandbox_delay_ms = 20;
    serve
        ->add_option("--sandbox-webhook-delay", sandbox_delay_ms,
                     "milliseconds before the sandbox provider sends its webhook")
        ->envname("REDLOOP_SANDBOX_WEBHOOK_DELAY")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{3'600'000}))
        ->capture_default_str();
    api::StreamOptions stream_options;
    serve
        ->add_option("--ws-max-sessions", stream_options.max_sessions,
                     "live-stream sessions at most (then 503)")
        ->envname("REDLOOP_WS_MAX_SESSIONS")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
        ->capture_default_str();
    serve
        ->add_option("--ws-queue", stream_options.queue_limit,
                     "frames a stream session may have waiting before it is closed as too slow")
        ->envname("REDLOOP_WS_QUEUE")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
        ->capture_default_str();
    std::int64_t ws_idle_s = stream_options.idle_timeout.count();
    serve
        ->add_option("--ws-idle-timeout", ws_idle_s,
                     "seconds a stream session may stay silent (pings are sent at half)")
        ->envname("REDLOOP_WS_IDLE_TIMEOUT")
        ->check(CLI::Range(std::int64_t{2}, std::int64_t{3600}))
        ->capture_default_str();
    std::int64_t event_retention_h = 72;
    serve
        ->add_option("--event-retention", event_retention_h,
                     "hours the event log keeps events for resuming streams")
        ->envname("REDLOOP_EVENT_RETENTION")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{24 * 365}))
        ->capture_default_str();
    std::string dashboard_dir = "dashboard/dist";
    serve
        ->add_option("--dashboard-dir", dashboard_dir,
                     "built dashboard served at /dashboard/ (relative to the working directory)")
        ->envname("REDLOOP_DASHBOARD_DIR")
        ->capture_default_str();
    serve->add_flag("--dev", dev, "generate and print missing secrets (development only)")
        ->envname("REDLOOP_DEV");

    // migrate
    auto* migrate_cmd = cli.add_subcommand("migrate", "Apply pending database migrations");
    add_db(migrate_cmd);

    // seed
    auto* seed = cli.add_subcommand("seed", "Load fixtures (existing objects are kept)");
    std::string fixtures = "fixtures/demo";
    add_db(seed);
    seed->add_option("--fixtures", fixtures, "directory of *.json fixtures")
        ->envname("REDLOOP_FIXTURES")
        ->capture_default_str();

    // token
    auto* token =
        cli.add_subcommand("token", "Mint a development token (needs REDLOOP_JWT_SECRET)");
    std::string role, sub;
    std::int64_t ttl = 3600;
    token->add_option("--role", role, "user, merchant or admin")
        ->required()
        ->envname("REDLOOP_ROLE")
        ->check(CLI::IsMember({"user", "merchant", "admin"}));
    token->add_option("--sub", sub, "usr_... or mer_... id")->required()->envname("REDLOOP_SUB");
    token->add_option("--ttl", ttl, "lifetime in seconds")
        ->envname("REDLOOP_TTL")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{366} * 24 * 3600))
        ->capture_default_str();

    // stream
    auto* stream = cli.add_subcommand("stream", "Watch the live stream: print every frame");
    api::StreamClientOptions stream_client;
    stream->add_option("topics", stream_client.topics, "orders, note:<id>, sku:<id>, inventory")
        ->required();
    stream->add_option("--host", stream_client.host, "server host")->capture_default_str();
    stream->add_option("--port", stream_client.port, "server port")
        ->envname("REDLOOP_PORT")
        ->capture_default_str();
    stream->add_option("--token", stream_client.token, "bearer token (none: anonymous)")
        ->envname("REDLOOP_TOKEN");
    stream->add_option("--after-seq", stream_client.after_seq, "resume after this seq")
        ->check(CLI::NonNegativeNumber);
    stream->add_option("--count", stream_client.count, "stop after this many events")
        ->check(CLI::NonNegativeNumber);
    stream->add_option("--timeout", stream_client.timeout_s, "stop after this many quiet seconds")
        ->check(CLI::NonNegativeNumber);

    // journal export
    auto* journal = cli.add_subcommand("journal", "The transaction journal");
    auto* journal_export = journal->add_subcommand("export", "Write the journal as JSON Lines");
    journal->require_subcommand(1);
    std::int64_t since = 0;
    add_db(journal_export);
    journal_export->add_option("--since", since, "only entries after this sequence number")
        ->envname("REDLOOP_SINCE")
        ->check(CLI::NonNegativeNumber);

    // replay
    auto* replay = cli.add_subcommand("replay", "Apply a journal to an empty database");
    std::string replay_file, replay_db, expect_hash;
    replay->add_option("file", replay_file, "journal (JSON Lines)")
        ->required()
        ->check(CLI::ExistingFile);
    replay
        ->add_option(
            "--db", replay_db,
            "database to create (default: a temporary file), or an empty PostgreSQL database's URL")
        ->envname("REDLOOP_REPLAY_DB");
    replay->add_option("--expect-hash", expect_hash, "fail unless the final state hash is this")
        ->envname("REDLOOP_EXPECT_HASH");
    api::ReplayOptions replay_options;
    auto* event_log_flag =
        replay->add_flag("--event-log", replay_options.event_log,
                         "also write the event log (the stream's history), as the live server did");
    replay
        ->add_flag("--effects", replay_options.effects,
                   "apply the entries' recorded effects instead of running them again (fast; "
                   "checks the final state, not each answer; the event log needs every entry "
                   "to run)")
        ->excludes(event_log_flag);
    replay
        ->add_option("--effects-batch", replay_options.effects_batch,
                     "with --effects: entries whose effects are applied together")
        ->check(CLI::Range(1, 1'000'000))
        ->capture_default_str();

    // state-hash
    auto* state_hash = cli.add_subcommand("state-hash", "Print the state hash of a database");
    add_db(state_hash);

    // rekey
    auto* rekey_cmd = cli.add_subcommand(
        "rekey", "Re-seal personal data under the first key of REDLOOP_DATA_KEYS");
    add_db(rekey_cmd);
    int rekey_batch = 200;
    rekey_cmd->add_option("--batch", rekey_batch, "rows per write transaction")
        ->check(CLI::Range(1, 10000))
        ->capture_default_str();

    // demo-buyers
    auto* demo = cli.add_subcommand(
        "demo-buyers", "Simulated readers who buy from the demo notes (needs REDLOOP_JWT_SECRET)");
    api::DemoBuyersOptions demo_options;
    demo->add_option("--host", demo_options.host, "server host")->capture_default_str();
    demo->add_option("--port", demo_options.port, "server port")
        ->envname("REDLOOP_PORT")
        ->capture_default_str();
    demo->add_option("--every", demo_options.every_s, "seconds between two visits")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    demo->add_option("--count", demo_options.count, "stop after this many visits (0: never)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    demo->add_option("--seed", demo_options.seed, "random seed (0: from the clock)");
    demo->add_option("--users", demo_options.users, "buyers (usr_ ids)")->capture_default_str();
    demo->add_option("--notes", demo_options.notes, "notes they read")->capture_default_str();

    CLI11_PARSE(cli, argc, argv);
    setup_logging(log_level);

    if (*demo) {
        const auto secret = jwt_secret_from_env();
        if (!secret) return 2;
        return api::run_demo_buyers(demo_options, *secret);
    }

    if (*token) {
        const auto secret = jwt_secret_from_env();
        if (!secret) return 2;
        auto actor = engine::ActorId::parse(sub);
        if (!actor) {
            std::cerr << "--sub: " << actor.error().detail << "\n";
            return 2;
        }
        auto t = api::mint_token(api::Principal{*actor, *api::parse_role(role)}, *secret,
                                 api::system_now(), ttl);
        if (!t) {
            std::cerr << t.error().detail << "\n";
            return 2;
        }
        std::cout << *t << std::endl;
        return 0;
    }

    if (*journal_export || *state_hash || *replay || *seed || *rekey_cmd) {
        if (!load_data_keys(false)) return 2;
    }

    if (*rekey_cmd) {
        auto db = open_db(db_url, 2);
        if (!db || !migrate(*db)) return 1;
        auto report = db::rekey(*db, rekey_batch);
        if (!report) {
            spdlog::critical("rekey stopped: {}", report.error().detail);
            return 1;
        }
        const auto* ring = db::installed_key_ring();
        for (const auto& [id, n] : report->found) {
            std::cout << "found " << n << " value(s) " << (id == "plaintext" ? "in " : "under key ")
                      << id << std::endl;
        }
        std::cout << "resealed " << report->resealed << " value(s) under key "
                  << ring->sealing_key_id();
        if (report->skipped_changed) {
            std::cout << "; " << report->skipped_changed
                      << " changed meanwhile and left to the writer";
        }
        std::cout << std::endl;
        return 0;
    }

    if (*journal_export) {
        auto db = open_db(db_url, 1);
        if (!db || !migrate(*db)) return 1;
        auto n = api::export_journal(*db, since, std::cout);
        if (!n) {
            spdlog::critical("{}", n.error().detail);
            return 1;
        }
        spdlog::info("exported {} journal entries", *n);
        return 0;
    }

    if (*state_hash) {
        auto db = open_db(db_url, 1);
        if (!db || !migrate(*db)) return 1;
        auto hash = api::state_hash_of(*db);
        if (!hash) {
            spdlog::critical("{}", hash.error().detail);
            return 1;
        }
        std::cout << "state-hash: " << *hash << std::endl;
        return 0;
    }

    if (*stream) return api::run_stream_client(stream_client, std::cout);

    if (*replay) {
        std::string target = replay_db;
        if (target.empty()) {
            target = (std::filesystem::temp_directory_path() /
                      ("redloop-replay-" + api::random_hex(6) + ".db"))
                         .string();
        }
        if (std::filesystem::exists(target)) {
            std::cerr << "replay needs an empty database; " << target << " exists\n";
            return 2;
        }
        auto db = open_db(target, 1, /*durable=*/false);  // a scratch copy: no fsync
        if (!db) return 1;
        // A PostgreSQL target is an existing database (CREATE DATABASE first): it must hold
        // no tables yet.
        if (auto tables = db->table_count(); !tables || *tables != 0) {
            std::cerr << "replay needs an empty database; " << db->description()
                      << (tables ? " has tables\n"
                                 : " can't be read: " + tables.error().detail + "\n");
            return 2;
        }
        if (!migrate(*db)) return 1;
        std::ifstream in(replay_file, std::ios::binary);
        const auto started = std::chrono::steady_clock::now();
        auto report = api::replay_journal(*db, in, replay_options);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (!report) {
            spdlog::critical("{}", report.error().detail);
            return 1;
        }
        std::cout << fmt::format("replayed {} entries in {:.3f} s ({:.0f} entries/s) into {}",
                                 report->applied, seconds,
                                 seconds > 0 ? double(report->applied) / seconds : 0.0, target)
                  << std::endl;
        if (replay_options.effects)
            std::cout << fmt::format("from recorded effects: {}; run again: {}",
                                     report->from_effects, report->applied - report->from_effects)
                      << std::endl;
        if (report->divergence) std::cout << "divergence: " << *report->divergence << std::endl;
        std::cout << "state-hash: " << report->state_hash << std::endl;
        if (report->divergence) return 3;
        if (!expect_hash.empty() && expect_hash != report->state_hash) {
            std::cerr << "expected state hash " << expect_hash << "\n";
            return 4;
        }
        return 0;
    }

    if (*migrate_cmd) {
        auto db = open_db(db_url, 1);
        if (!db || !migrate(*db)) return 1;
        auto v = db->schema_version();
        std::cout << "schema version " << (v ? *v : 0) << " at " << db->description() << std::endl;
        return 0;
    }

    if (*seed) {
        auto db = open_db(db_url, 1);
        if (!db || !migrate(*db)) return 1;
        auto report = api::seed_fixtures(*db, fixtures, api::system_now());
        if (!report) {
            spdlog::critical("seed failed, nothing loaded: {}", report.error().detail);
            return 1;
        }
        std::cout
            << fmt::format(
                   "seeded {} merchants, {} products, {} users, {} notes ({} already present)",
                   report->merchants, report->products, report->users, report->notes,
                   report->skipped)
            << std::endl;
        return 0;
    }

    // serve
    {
        // Stream sessions are sockets: allow as many as the hard limit permits.
        rlimit files{};
        if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
            files.rlim_cur = files.rlim_max;
            setrlimit(RLIMIT_NOFILE, &files);
        }
    }
    api::AppConfig config;
    config.checkout_ttl_ms = checkout_ttl_s * 1000;
    config.checkout_rate_per_minute = checkout_rate_per_minute;
    config.checkout_rate_burst = checkout_rate_burst;
    config.settle_interval_ms = settle_interval_s * 1000;
    if (!load_secret("REDLOOP_JWT_SECRET", dev, config.jwt_secret)) return 2;
    if (!load_secret("REDLOOP_WEBHOOK_SECRET", dev, config.webhook_secret)) return 2;
    if (!load_data_keys(dev)) return 2;
    // PostgreSQL's connections are processes on the database server, shared by every node
    // (max_connections, 100 by default): a node takes a few, and a write waits its turn for
    // one (up to --db-pool-timeout-ms) rather than each worker holding its own.
    const bool postgres = db_url.rfind("postgres", 0) == 0;
    const std::size_t pool =
        db_pool    ? db_pool
        : postgres ? 16
                   : static_cast<std::size_t>(server_options.threads + server_options.workers) + 2;
    auto db = open_db(db_url, pool, true, db_pool_timeout_ms, !statement_profile.empty());
    if (!db) return 1;
    if (!statement_profile.empty() && !db->statement_profile()) {
        spdlog::warn(
            "--statement-profile: only an SQLite file's writer is timed; nothing will "
            "be written to {}",
            statement_profile);
    }
    const auto marker = running_marker(db_url);
    if (!check_integrity(*db, integrity_mode, marker)) return 1;
    if (!migrate(*db)) return 1;
    // After the migrations: a session must not see the schema change under it.
    db->set_effects_recording(journal_effects, journal_effects_epoch);
    if (!marker.empty()) std::ofstream(marker) << ::getpid() << '\n';
    api::App app(*db, config);
    if (auto s = app.journal_config_if_changed(api::system_now()); !s) {
        spdlog::critical("could not journal the settings: {}", s.error().detail);
        return 1;
    }
    api::SandboxProvider sandbox(config.webhook_secret,
                                 std::chrono::milliseconds(sandbox_delay_ms));
    app.set_provider(&sandbox);
    app.set_static_site(api::StaticSite{dashboard_dir, "/dashboard"});
    stream_options.idle_timeout = std::chrono::seconds(ws_idle_s);
    server_options.idle_timeout = std::chrono::seconds(http_idle_s);
    server_options.read_timeout = std::chrono::seconds(http_read_s);
    stream_options.retention_ms = event_retention_h * 3600 * 1000;
    api::StreamHub hub(*db, stream_options);
    hub.start();
    app.set_stream_hub(&hub);
    spdlog::info("database {} ready; {} I/O threads, {} write workers, {} connections",
                 db->description(), server_options.threads, server_options.workers, pool);
    if (checkout_rate_per_minute > 0) {
        spdlog::info("checkouts limited to {} a minute per user, bursts of {}",
                     checkout_rate_per_minute, checkout_rate_burst);
    } else {
        spdlog::info("checkouts are not rate limited (--checkout-rate-per-minute 0)");
    }
    const int rc =
        api::run_server(app, server_options, [&](const std::string& address, unsigned short port) {
            // The sandbox delivers its webhooks to this very server.
            sandbox.set_target(address == "0.0.0.0" || address == "::" ? "127.0.0.1" : address,
                               port);
            std::cout << "redloop listening on http://" << address << ":" << port << std::endl;
        });
    app.set_stream_hub(nullptr);
    hub.stop();
    if (auto rows = db->statement_profile(); rows && !statement_profile.empty()) {
        if (write_statement_profile(statement_profile, *rows)) {
            spdlog::info("statement profile ({} statements) written to {}", rows->size(),
                         statement_profile);
        } else {
            spdlog::error("could not write the statement profile to {}", statement_profile);
        }
    }
    // A clean stop: the next start needs no integrity check (after-crash).
    if (!marker.empty()) std::filesystem::remove(marker);
    return rc;
}
