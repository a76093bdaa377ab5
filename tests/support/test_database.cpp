#include "test_database.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace redloop::test {

namespace {

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Res = std::unique_ptr<PGresult, decltype(&PQclear)>;

Conn connect(const std::string& url) {
    Conn c(PQconnectdb(url.c_str()), &PQfinish);
    if (!c || PQstatus(c.get()) != CONNECTION_OK) {
        throw std::runtime_error("cannot connect to " + url + ": " +
                                 (c ? PQerrorMessage(c.get()) : "out of memory"));
    }
    // No "NOTICE: database ... does not exist, skipping" on stderr.
    PQsetNoticeProcessor(
        c.get(), [](void*, const char*) {}, nullptr);
    return c;
}

void exec(PGconn* c, const std::string& sql) {
    Res r(PQexec(c, sql.c_str()), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        throw std::runtime_error("postgresql: " + std::string(PQerrorMessage(c)) + " in: " + sql);
    }
}

// `?N` -> `$N` outside quotes.
std::string dollar_params(const std::string& sql) {
    std::string out = sql;
    bool quoted = false;
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        if (out[i] == '\'') quoted = !quoted;
        if (!quoted && out[i] == '?' && std::isdigit(static_cast<unsigned char>(out[i + 1])))
            out[i] = '$';
    }
    return out;
}

}  // namespace

std::string pg_base_url() {
    const char* v = std::getenv("REDLOOP_TEST_PG");
    std::string url = v ? v : "";
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
}

std::string pg_create_database(const std::string& prefix, const std::string& options) {
    static std::atomic<int> counter{0};
    const std::string base = pg_base_url();
    if (base.empty()) throw std::logic_error("pg_create_database without REDLOOP_TEST_PG");
    const std::string name =
        prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    auto c = connect(base + "/postgres");
    exec(c.get(), "DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
    exec(c.get(), "CREATE DATABASE \"" + name + "\" " + options);
    return base + "/" + name;
}

void pg_drop_database(const std::string& url) noexcept {
    const auto slash = url.rfind('/');
    if (slash == std::string::npos) return;
    try {
        auto c = connect(url.substr(0, slash) + "/postgres");
        exec(c.get(), "DROP DATABASE IF EXISTS \"" + url.substr(slash + 1) + "\" WITH (FORCE)");
    } catch (const std::exception&) {  // the cluster is thrown away after the run
    }
}

std::int64_t pg_int(const std::string& url, const std::string& sql,
                    const std::vector<std::string>& params) {
    auto c = connect(url);
    const std::string text = dollar_params(sql);
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    Res r(PQexecParams(c.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                       values.data(), nullptr, nullptr, 0),
          &PQclear);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        throw std::runtime_error("postgresql: " + std::string(PQerrorMessage(c.get())) +
                                 " in: " + sql);
    }
    if (PQntuples(r.get()) == 0 || PQgetisnull(r.get(), 0, 0)) return 0;
    const std::string v = PQgetvalue(r.get(), 0, 0);
    std::size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used != v.size()) throw std::runtime_error("not an integer: '" + v + "' from: " + sql);
    return n;
}

}  // namespace redloop::test
