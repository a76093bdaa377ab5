#include "json_reader.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/json/basic_parser_impl.hpp>

#include <limits>
#include <set>
#include <string>
#include <vector>

namespace redloop::api {

using engine::ErrorCode;
using engine::fail;
namespace json = boost::json;

namespace {

// A second pass over a body that parsed: the first key given twice in one object, if any.
// (json::parse keeps the last of duplicate keys; a client, a proxy or a log reader that keeps
// the first would see another request than the one run, so a duplicate is refused.)
class DuplicateKeyFinder {
  public:
    constexpr static std::size_t max_object_size = std::numeric_limits<std::size_t>::max();
    constexpr static std::size_t max_array_size = std::numeric_limits<std::size_t>::max();
    constexpr static std::size_t max_key_size = std::numeric_limits<std::size_t>::max();
    constexpr static std::size_t max_string_size = std::numeric_limits<std::size_t>::max();
    using ec_t = boost::system::error_code;
    using sv = json::string_view;

    std::optional<std::string> duplicate;

    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_object_begin(ec_t&) {
        objects_.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, ec_t&) {
        objects_.pop_back();
        return true;
    }
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(std::size_t, ec_t&) { return true; }
    bool on_key_part(sv s, std::size_t, ec_t&) {
        key_.append(s.data(), s.size());
        return true;
    }
    bool on_key(sv s, std::size_t, ec_t& ec) {
        key_.append(s.data(), s.size());
        if (!objects_.back().insert(key_).second) {
            duplicate = key_;
            ec = json::error::syntax;  // stops the pass
            return false;
        }
        key_.clear();
        return true;
    }
    bool on_string_part(sv, std::size_t, ec_t&) { return true; }
    bool on_string(sv, std::size_t, ec_t&) { return true; }
    bool on_number_part(sv, ec_t&) { return true; }
    bool on_int64(std::int64_t, sv, ec_t&) { return true; }
    bool on_uint64(std::uint64_t, sv, ec_t&) { return true; }
    bool on_double(double, sv, ec_t&) { return true; }
    bool on_bool(bool, ec_t&) { return true; }
    bool on_null(ec_t&) { return true; }
    bool on_comment_part(sv, ec_t&) { return true; }
    bool on_comment(sv, ec_t&) { return true; }

  private:
    std::vector<std::set<std::string, std::less<>>> objects_;
    std::string key_;
};

std::optional<std::string> duplicate_key(std::string_view body, const json::parse_options& opts) {
    json::basic_parser<DuplicateKeyFinder> p(opts);
    boost::system::error_code ec;
    p.write_some(false, body.data(), body.size(), ec);
    return p.handler().duplicate;
}

}  // namespace

engine::Result<json::value> parse_json_object(std::string_view body) {
    json::parse_options opts;
    opts.max_depth = 16;
    opts.allow_comments = false;
    opts.allow_trailing_commas = false;
    opts.allow_invalid_utf8 = false;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec, {}, opts);
    if (ec) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("request body is not valid JSON: {}", ec.message()));
    }
    if (!v.is_object())
        return fail(ErrorCode::invalid_request, "request body must be a JSON object");
    if (auto dup = duplicate_key(body, opts)) {
        return fail(ErrorCode::invalid_request,
                    fmt::format("request body gives the field \"{}\" twice in one object", *dup));
    }
    return v;
}

JsonReader::JsonReader(const json::value& v, std::string path)
    : JsonReader(v, std::move(path), std::make_shared<std::optional<engine::Error>>()) {}

JsonReader::JsonReader(const json::value& v, std::string path,
                       std::shared_ptr<std::optional<engine::Error>> error)
    : value_(v), path_(std::move(path)), error_(std::move(error)) {}

std::string JsonReader::child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void JsonReader::reject(std::string_view key, std::string_view what) {
    if (error_->has_value()) return;
    const std::string where = key.empty() ? (path_.empty() ? "body" : path_) : child_path(key);
    *error_ = engine::Error{ErrorCode::invalid_request, fmt::format("{}: {}", where, what)};
}

bool JsonReader::expect_object() {
    if (value_.is_object()) return true;
    reject("", "expected an object");
    return false;
}

bool JsonReader::has(std::string_view key) const {
    const auto* o = value_.if_object();
    return o && o->contains(key);
}

const json::value* JsonReader::field(std::string_view key, bool required) {
    known_.emplace(key);
    const auto* o = value_.if_object();
    if (!o) return nullptr;
    const auto* v = o->if_contains(key);
    if (!v) {
        if (required) reject(key, "is required");
        return nullptr;
    }
    return v;
}

bool JsonReader::is_null(std::string_view key) {
    const auto* v = field(key, false);
    return v && v->is_null();
}

std::optional<std::string> JsonReader::opt_string(std::string_view key) {
    const auto* v = field(key, false);
    if (!v || !ok()) return std::nullopt;
    if (!v->is_string()) {
        reject(key, "expected a string");
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<std::vector<std::string>> JsonReader::opt_string_array(std::string_view key,
                                                                     std::size_t max_items) {
    const json::array* arr = array_field(key, false, max_items);
    if (!arr) return std::nullopt;
    std::vector<std::string> out;
    for (std::size_t i = 0; i < arr->size(); ++i) {
        if (!(*arr)[i].is_string()) {
            reject(fmt::format("{}[{}]", key, i), "expected a string");
            return std::nullopt;
        }
        out.emplace_back((*arr)[i].get_string());
    }
    return out;
}

std::optional<engine::Timestamp> JsonReader::opt_time(std::string_view key) {
    auto text = opt_string(key);
    if (!text) return std::nullopt;
    auto t = engine::parse_rfc3339(*text);
    if (!t) {
        reject(key, "expected an RFC 3339 time such as 2026-12-01T00:00:00Z");
        return std::nullopt;
    }
    return *t;
}

std::string JsonReader::string(std::string_view key) {
    if (!field(key, true)) return {};
    return opt_string(key).value_or("");
}

std::optional<std::int64_t> JsonReader::opt_integer(std::string_view key, std::int64_t min,
                                                    std::int64_t max) {
    const auto* v = field(key, false);
    if (!v || !ok()) return std::nullopt;
    std::int64_t n = 0;
    if (v->is_int64()) {
        n = v->get_int64();
    } else if (v->is_uint64()) {
        reject(key, fmt::format("must be between {} and {}", min, max));
        return std::nullopt;
    } else {
        reject(key, "expected an integer");
        return std::nullopt;
    }
    if (n < min || n > max) {
        reject(key, fmt::format("must be between {} and {}", min, max));
        return std::nullopt;
    }
    return n;
}

std::int64_t JsonReader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
    if (!field(key, true)) return 0;
    return opt_integer(key, min, max).value_or(0);
}

std::optional<bool> JsonReader::opt_boolean(std::string_view key) {
    const auto* v = field(key, false);
    if (!v || !ok()) return std::nullopt;
    if (!v->is_bool()) {
        reject(key, "expected true or false");
        return std::nullopt;
    }
    return v->get_bool();
}

std::optional<engine::Money> JsonReader::opt_money(std::string_view key) {
    const auto* v = field(key, false);
    if (!v || !ok()) return std::nullopt;
    JsonReader m(*v, child_path(key), error_);
    if (!m.expect_object()) return std::nullopt;
    const auto amount = m.integer("amount", -engine::kMoneyMinorMax, engine::kMoneyMinorMax);
    const auto code = m.string("currency");
    m.finish_fields();
    if (!ok()) return std::nullopt;
    auto currency = engine::Currency::parse(code);
    if (!currency) {
        m.reject("currency", currency.error().detail);
        return std::nullopt;
    }
    return engine::Money{amount, *currency};
}

engine::Money JsonReader::money(std::string_view key) {
    if (!field(key, true)) return {};
    return opt_money(key).value_or(engine::Money{});
}

const json::array* JsonReader::array_field(std::string_view key, bool required, std::size_t max) {
    const auto* v = field(key, required);
    if (!v || !ok()) return nullptr;
    if (!v->is_array()) {
        reject(key, "expected an array");
        return nullptr;
    }
    if (v->get_array().size() > max) {
        reject(key, fmt::format("has {} items, at most {}", v->get_array().size(), max));
        return nullptr;
    }
    return &v->get_array();
}

void JsonReader::finish_fields() {
    if (!ok()) return;
    const auto* o = value_.if_object();
    if (!o) return;
    for (const auto& kv : *o) {
        if (!known_.contains(std::string_view(kv.key()))) {
            reject(std::string_view(kv.key()), "unknown field");
            return;
        }
    }
}

engine::Status JsonReader::finish() {
    if (ok()) {
        if (!value_.is_object()) reject("", "expected an object");
        finish_fields();
    }
    if (!ok()) return fail(**error_);
    return {};
}

}  // namespace redloop::api
