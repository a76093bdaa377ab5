#pragma once
// Strict decoding of request bodies: every field is typed and range-checked, unknown fields
// are refused (no mass assignment). The first problem is kept and reported with its path
// ("skus[0].price.amount: expected an integer").
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/money.hpp"
#include "redloop/engine/result.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::api {

// Parses a request body (UTF-8 checked, depth-limited) that must be a JSON object.
engine::Result<boost::json::value> parse_json_object(std::string_view body);

class JsonReader {
  public:
    explicit JsonReader(const boost::json::value& v, std::string path = "");

    // Each accessor marks `key` as known. A missing required field, a wrong type or a value out
    // of range records an error and returns an empty value.
    std::string string(std::string_view key);
    std::optional<std::string> opt_string(std::string_view key);
    std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max);
    std::optional<std::int64_t> opt_integer(std::string_view key, std::int64_t min,
                                            std::int64_t max);
    std::optional<bool> opt_boolean(std::string_view key);
    engine::Money money(std::string_view key);
    std::optional<engine::Money> opt_money(std::string_view key);
    // An array of strings (at most max_items), or nullopt when absent.
    std::optional<std::vector<std::string>> opt_string_array(std::string_view key,
                                                             std::size_t max_items);
    // An RFC 3339 time, or nullopt when absent.
    std::optional<engine::Timestamp> opt_time(std::string_view key);
    // True when the key is present with the value null (and marks it known).
    bool is_null(std::string_view key);
    bool has(std::string_view key) const;

    // Calls fn(JsonReader& item, index) for each object of an array field.
    template <typename F>
    void each_object(std::string_view key, bool required, std::size_t max_items, F&& fn) {
        const boost::json::array* arr = array_field(key, required, max_items);
        if (!arr) return;
        for (std::size_t i = 0; i < arr->size() && ok(); ++i) {
            JsonReader item((*arr)[i], child_path(key) + "[" + std::to_string(i) + "]", error_);
            if (!item.expect_object()) return;
            fn(item, i);
            item.finish_fields();
        }
    }

    // Calls fn(JsonReader& object) for an object-valued field.
    template <typename F>
    void each_object_field(std::string_view key, bool required, F&& fn) {
        const boost::json::value* v = field(key, required);
        if (!v || !ok()) return;
        JsonReader sub(*v, child_path(key), error_);
        if (!sub.expect_object()) return;
        fn(sub);
        sub.finish_fields();
    }

    // Records an error at this reader's path (the first one wins).
    void reject(std::string_view key, std::string_view what);
    bool ok() const { return !error_->has_value(); }
    // Unknown fields of this object, then the first recorded error.
    engine::Status finish();

  private:
    JsonReader(const boost::json::value& v, std::string path,
               std::shared_ptr<std::optional<engine::Error>> error);
    const boost::json::value* field(std::string_view key, bool required);
    const boost::json::array* array_field(std::string_view key, bool required, std::size_t max);
    std::string child_path(std::string_view key) const;
    bool expect_object();
    void finish_fields();

    const boost::json::value& value_;
    std::string path_;
    std::set<std::string, std::less<>> known_;
    std::shared_ptr<std::optional<engine::Error>> error_;
};

}  // namespace redloop::api
