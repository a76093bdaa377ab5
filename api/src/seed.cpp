#include "seed.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codec.hpp"
#include "json_reader.hpp"
#include "redloop/db/journal.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

namespace json = boost::json;
using namespace redloop::engine;

namespace {

Unexpected bad(const std::string& file, const std::string& what) {
    return fail(ErrorCode::invalid_request, fmt::format("{}: {}", file, what));
}

// Removes and returns obj["id"] parsed as IdT.
template <typename IdT>
Result<IdT> take_id(json::object& obj, const std::string& where) {
    const auto* v = obj.if_contains("id");
    if (!v || !v->is_string()) {
        return fail(ErrorCode::invalid_request, where + ": a string \"id\" is required");
    }
    auto id = IdT::parse(v->get_string());
    obj.erase("id");
    if (!id) return fail(ErrorCode::invalid_request, where + ": " + id.error().detail);
    return id;
}

json::array take_array(json::object& obj, std::string_view key) {
    json::array out;
    if (auto* v = obj.if_contains(key); v && v->is_array()) out = std::move(v->get_array());
    obj.erase(key);
    return out;
}

Status seed_product(db::Tx& tx, const Merchant& merchant, json::value product_json,
                    const std::string& where, SeedReport& report, Timestamp now) {
    if (!product_json.is_object())
        return fail(ErrorCode::invalid_request, where + ": not an object");
    auto& obj = product_json.get_object();
    auto id = take_id<ProductId>(obj, where);
    if (!id) return fail(id.error());
    std::vector<SkuId> sku_ids;
    if (auto* skus = obj.if_contains("skus"); skus && skus->is_array()) {
        for (std::size_t i = 0; i < skus->get_array().size(); ++i) {
            auto& sku = skus->get_array()[i];
            if (!sku.is_object())
                return fail(ErrorCode::invalid_request, where + ": sku not an object");
            auto sid = take_id<SkuId>(sku.get_object(), fmt::format("{}.skus[{}]", where, i));
            if (!sid) return fail(sid.error());
            sku_ids.push_back(*sid);
        }
    }
    if (db::find_product(tx, *id)) {
        ++report.skipped;
        return {};
    }
    auto cmd = decode_create_product(product_json);
    if (!cmd) return fail(ErrorCode::invalid_request, where + ": " + cmd.error().detail);
    auto created = decide_create_product(merchant, *cmd, *id, sku_ids, now);
    if (!created) return fail(ErrorCode::invalid_request, where + ": " + created.error().detail);
    db::insert_product(tx, *created);
    ++report.products;
    return {};
}

Status seed_file(db::Tx& tx, const std::string& file, json::value doc, SeedReport& report,
                 Timestamp now) {
    if (!doc.is_object()) return bad(file, "the top level must be an object");
    auto& top = doc.get_object();
    for (const auto& kv : top) {
        const auto k = std::string_view(kv.key());
        if (k != "merchants" && k != "users" && k != "notes") {
            return bad(file, fmt::format("unknown top-level key '{}'", k));
        }
    }
    auto merchants = take_array(top, "merchants");
    for (std::size_t i = 0; i < merchants.size(); ++i) {
        const auto where = fmt::format("{}: merchants[{}]", file, i);
        if (!merchants[i].is_object())
            return fail(ErrorCode::invalid_request, where + ": not an object");
        auto& obj = merchants[i].get_object();
        auto id = take_id<MerchantId>(obj, where);
        if (!id) return fail(id.error());
        auto products = take_array(obj, "products");
        auto existing = db::find_merchant(tx, *id);
        Merchant merchant = existing ? *existing : new_merchant(*id, now);
        if (!existing) {
            auto patch = decode_merchant_patch(merchants[i]);
            if (!patch)
                return fail(ErrorCode::invalid_request, where + ": " + patch.error().detail);
            auto patched = apply_patch(merchant, *patch, now);
            if (!patched)
                return fail(ErrorCode::invalid_request, where + ": " + patched.error().detail);
            merchant = *patched;
            db::insert_merchant_if_absent(tx, merchant);
            ++report.merchants;
        } else {
            ++report.skipped;
        }
        for (std::size_t j = 0; j < products.size(); ++j) {
            auto s = seed_product(tx, merchant, std::move(products[j]),
                                  fmt::format("{}.products[{}]", where, j), report, now);
            if (!s) return s;
        }
    }
    auto users = take_array(top, "users");
    for (std::size_t i = 0; i < users.size(); ++i) {
        const auto where = fmt::format("{}: users[{}]", file, i);
        if (!users[i].is_object())
            return fail(ErrorCode::invalid_request, where + ": not an object");
        auto id = take_id<UserId>(users[i].get_object(), where);
        if (!id) return fail(id.error());
        if (!users[i].get_object().empty()) {
            return fail(ErrorCode::invalid_request, where + ": a user has only an id");
        }
        if (db::insert_user_if_absent(tx, *id, now))
            ++report.users;
        else
            ++report.skipped;
    }
    auto notes = take_array(top, "notes");
    for (std::size_t i = 0; i < notes.size(); ++i) {
        const auto where = fmt::format("{}: notes[{}]", file, i);
        if (!notes[i].is_object())
            return fail(ErrorCode::invalid_request, where + ": not an object");
        auto& obj = notes[i].get_object();
        auto id = take_id<NoteId>(obj, where);
        if (!id) return fail(id.error());
        const auto* author_v = obj.if_contains("author_id");
        if (!author_v || !author_v->is_string()) {
            return fail(ErrorCode::invalid_request, where + ": a string author_id is required");
        }
        auto author = ActorId::parse(author_v->get_string());
        if (!author) return fail(ErrorCode::invalid_request, where + ": " + author.error().detail);
        obj.erase("author_id");
        if (db::find_note(tx, *id)) {
            ++report.skipped;
            continue;
        }
        auto cmd = decode_create_note(notes[i]);
        if (!cmd) return fail(ErrorCode::invalid_request, where + ": " + cmd.error().detail);
        std::vector<std::optional<Sku>> tagged;
        for (const auto& sku : cmd->skus) tagged.push_back(db::find_sku(tx, sku));
        auto note = decide_create_note(*author, *cmd, tagged, *id, now);
        if (!note) return fail(ErrorCode::invalid_request, where + ": " + note.error().detail);
        if (author->is_user()) db::insert_user_if_absent(tx, UserId::trusted(author->str()), now);
        db::insert_note(tx, *note);
        ++report.notes;
    }
    return {};
}

}  // namespace

Status seed_text(db::Tx& tx, const std::string& name, const std::string& text, Timestamp now,
                 SeedReport& report) {
    boost::system::error_code jec;
    auto doc = json::parse(text, jec);
    if (jec) return bad(name, "not valid JSON: " + jec.message());
    if (auto s = seed_file(tx, name, std::move(doc), report, now); !s) return s;
    db::JournalEntry e;
    e.at = now;
    e.kind = "seed";
    e.actor = "system";
    e.role = "system";
    e.target = name;
    e.body = text;
    e.status = 200;
    e.response_sha256 = "seeded";
    db::append_journal(tx, e);
    return {};
}

Result<SeedReport> seed_fixtures(db::Database& db, const std::string& dir, Timestamp now) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return fail(ErrorCode::invalid_request, "no fixtures directory " + dir);
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".json")
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) return fail(ErrorCode::invalid_request, "no *.json fixtures in " + dir);
    SeedReport report;
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        const std::string name = path.filename().string();
        auto done = db.write([&](db::Tx& tx) -> Result<bool> {
            auto s = seed_text(tx, name, text.str(), now, report);
            if (!s) return fail(s.error());
            return true;
        });
        if (!done) return fail(done.error());
    }
    return report;
}

}  // namespace redloop::api
