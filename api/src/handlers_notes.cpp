// Notes: written by users and merchants, read by anyone with live price and stock.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "codec.hpp"
#include "handler_util.hpp"
#include "id_generator.hpp"
#include "redloop/db/repos.hpp"

namespace redloop::api {

using namespace redloop::engine;

namespace {

Result<Response> create_note(Context& ctx) {
    auto p = ctx.require({Role::user, Role::merchant});
    if (!p) return fail(p.error());
    auto body = ctx.json_body();
    if (!body) return fail(body.error());
    auto cmd = decode_create_note(*body);
    if (!cmd) return fail(cmd.error());
    const auto note_id = new_id<NoteId>();
    return ctx.app.write(ctx, [&](db::Tx& tx) -> Result<Response> {
        std::vector<std::optional<Sku>> tagged;
        for (const auto& sku : cmd->skus) tagged.push_back(db::find_sku(tx, sku));
        auto note = decide_create_note(p->sub, *cmd, tagged, note_id, ctx.now);
        if (!note) return fail(note.error());
        db::insert_note(tx, *note);
        return json_response(201, encode_note(*note, db::tagged_listings(tx, *note)));
    });
}

Result<Response> get_note(Context& ctx) {
    auto id = path_id<NoteId>(ctx, 0);
    if (!id) return fail(id.error());
    auto& db = ctx.app.db();
    // A rendered copy read at the current catalog version is what the database would give.
    const bool cached = db.catalog_tracked();
    const auto version = cached ? db.catalog_version() : 0;  // before the rows are read
    Result<Response> resp = fail(ErrorCode::internal, "unset");
    if (auto body = cached ? ctx.app.note_cache().get(id->str(), version) : std::nullopt) {
        Response r;
        r.body = std::move(*body);
        resp = std::move(r);
    } else {
        resp = db.read([&](db::Tx& tx) -> Result<Response> {
            auto note = db::find_note(tx, *id);
            if (!note) return fail(ErrorCode::not_found, fmt::format("no note {}", id->str()));
            return json_response(200, encode_note(*note, db::tagged_listings(tx, *note)));
        });
        if (resp && cached) ctx.app.note_cache().put(id->str(), version, resp->body);
    }
    if (resp && ctx.req.method == "GET") ctx.app.views().add(*id);  // HEAD is not a view
    return resp;
}

Result<Response> list_notes(Context& ctx) {
    const auto sku_text = ctx.req.query_param("sku_id");
    if (!sku_text)
        return fail(ErrorCode::invalid_request, "the sku_id query parameter is required");
    auto sku = SkuId::parse(*sku_text);
    if (!sku) return fail(ErrorCode::invalid_request, "sku_id: " + sku.error().detail);
    auto page = page_params(ctx.req);
    if (!page) return fail(page.error());
    return ctx.app.db().read([&](db::Tx& tx) -> Result<Response> {
        if (!db::find_sku(tx, *sku)) {
            return fail(ErrorCode::not_found, fmt::format("no sku {}", sku->str()));
        }
        auto notes = db::notes_by_sku(tx, *sku, page->before, page->limit);
        boost::json::array data;
        for (const auto& n : notes.items)
            data.push_back(encode_note(n, db::tagged_listings(tx, n)));
        std::optional<std::string> cursor;
        if (notes.next_before) cursor = encode_cursor(*notes.next_before);
        return json_response(200, encode_list(std::move(data), cursor));
    });
}

}  // namespace

void add_note_routes(Router& r) {
    r.add("POST", "/v1/notes", create_note);
    r.add("GET", "/v1/notes", list_notes);
    r.add("GET", "/v1/notes/{id}", get_note);
}

}  // namespace redloop::api
