#include <soci/soci.h>
#include <limits>

#include "redloop/db/repos.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

void insert_note(Tx& tx, const Note& n) {
    const long long ca = n.created_at.unix_ms;
    Query q(tx,
            "INSERT INTO notes (id, author_id, title, body, created_at) "
            "VALUES (:id, :a, :t, :b, :ca)");
    q.use(n.id.str()).use(n.author_id.str()).use(n.title).use(n.body).use(ca);
    q.run();
    long long seq = 0;
    Query find_seq(tx, "SELECT seq FROM notes WHERE id = :id");
    find_seq.into(seq).use(n.id.str());
    find_seq.run();
    for (std::size_t i = 0; i < n.media.size(); ++i) {
        const int position = static_cast<int>(i);
        const std::string type(to_string(n.media[i].type));
        Query m(tx,
                "INSERT INTO note_media (note_id, position, type, url) VALUES (:n, :p, :t, :u)");
        m.use(n.id.str()).use(position).use(type).use(n.media[i].url);
        m.run();
    }
    for (std::size_t i = 0; i < n.skus.size(); ++i) {
        const int position = static_cast<int>(i);
        Query s(tx,
                "INSERT INTO note_skus (note_id, sku_id, position, note_seq) "
                "VALUES (:n, :s, :p, :q)");
        s.use(n.id.str()).use(n.skus[i].str()).use(position).use(seq);
        s.run();
    }
}

namespace {

struct NoteRow {
    std::string id, author, title, body;
    long long created = 0, seq = 0;
    void bind(Query& q) { q.into(id).into(author).into(title).into(body).into(created).into(seq); }
};

// Media and tags of a note whose row has been read.
Note complete(Tx& tx, const NoteRow& r) {
    Note n;
    n.id = NoteId::trusted(r.id);
    n.author_id = ActorId::trusted(r.author);
    n.title = r.title;
    n.body = r.body;
    n.created_at = Timestamp{r.created};
    {
        std::string type, url;
        Query q(tx, "SELECT type, url FROM note_media WHERE note_id = :n ORDER BY position");
        q.into(type).into(url).use(r.id);
        q.execute();
        while (q.fetch()) {
            n.media.push_back(Media{parse_media_type(type).value_or(MediaType::image), url});
        }
    }
    {
        std::string sku;
        Query q(tx, "SELECT sku_id FROM note_skus WHERE note_id = :n ORDER BY position");
        q.into(sku).use(r.id);
        q.execute();
        while (q.fetch()) n.skus.push_back(SkuId::trusted(sku));
    }
    return n;
}

constexpr const char* kNoteSelect =
    "SELECT id, author_id, title, body, created_at, seq FROM notes ";

}  // namespace

std::optional<Note> find_note(Tx& tx, const NoteId& id) {
    NoteRow row;
    Query q(tx, std::string(kNoteSelect) + "WHERE id = :id");
    row.bind(q);
    q.use(id.str());
    q.execute();
    if (!q.fetch()) return std::nullopt;
    return complete(tx, row);
}

Page<Note> notes_by_sku(Tx& tx, const SkuId& sku, std::optional<std::int64_t> before_seq,
                        int limit) {
    // One row more than asked tells whether another page follows.
    const long long before = before_seq ? *before_seq : std::numeric_limits<long long>::max();
    const int fetch_n = limit + 1;
    std::vector<NoteRow> rows;
    {
        NoteRow row;
        Query q(tx,
                "SELECT n.id, n.author_id, n.title, n.body, n.created_at, n.seq FROM note_skus t "
                "JOIN notes n ON n.id = t.note_id WHERE t.sku_id = :s AND t.note_seq < :b "
                "ORDER BY t.note_seq DESC LIMIT :l");
        row.bind(q);
        q.use(sku.str()).use(before).use(fetch_n);
        q.execute();
        while (q.fetch()) rows.push_back(row);
    }
    Page<Note> page;
    if (static_cast<int>(rows.size()) > limit) {
        rows.resize(static_cast<std::size_t>(limit));
        page.next_before = rows.back().seq;
    }
    for (const auto& r : rows) page.items.push_back(complete(tx, r));
    return page;
}

std::vector<TaggedListing> tagged_listings(Tx& tx, const Note& note) {
    std::vector<TaggedListing> out;
    for (const auto& sku_id : note.skus) {
        auto sku = find_sku(tx, sku_id);
        if (!sku) continue;  // SKUs are never deleted; kept for safety
        int bps = 0;
        std::string title;
        Query q(tx, "SELECT title, commission_rate_bps FROM products WHERE id = :p");
        q.into(title).into(bps).use(sku->product_id.str());
        q.run();
        out.push_back(TaggedListing{*sku, title, bps});
    }
    return out;
}

void add_note_views(Tx& tx, const std::vector<std::pair<NoteId, std::int64_t>>& views) {
    for (const auto& [id, n] : views) {
        const long long count = n;
        Query q(tx,
                "INSERT INTO note_stats (note_id, views) VALUES (:n, :v) "
                "ON CONFLICT (note_id) DO UPDATE SET views = note_stats.views + excluded.views");
        q.use(id.str()).use(count);
        q.run();
    }
}

std::int64_t note_views(Tx& tx, const NoteId& id) {
    long long views = 0;
    soci::indicator ind = soci::i_null;
    Query q(tx, "SELECT views FROM note_stats WHERE note_id = :n");
    q.into(views, ind).use(id.str());
    q.run();
    return ind == soci::i_ok ? views : 0;
}

}  // namespace redloop::db
