// What storing one chat message costs SQLite itself on this machine: the server's messages table,
// WAL, synchronous=NORMAL, prepared inserts in transactions of BATCH messages spread over ROOMS
// rooms, with the (room, seq) index kept one of three ways:
//   eager  a unique index on messages (schema 5 and before): an index page per room per commit;
//   lazy   the message_index table filled in bulk every INDEX_EVERY messages (schema 6);
//   none   no index at all: the floor of appending rows.
// Prints the process's CPU (user + system) per message. Built and run by scripts/store-floor.sh.
//
//   store-floor FILE MESSAGES BATCH ROOMS eager|lazy|none [INDEX_EVERY]
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static sqlite3 *db;

static double cpuSeconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void check(int rc) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) { fprintf(stderr, "store-floor: %s\n", sqlite3_errmsg(db)); exit(1); }
}

static void execute(const char *sql) { check(sqlite3_exec(db, sql, 0, 0, 0)); }

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: store-floor FILE MESSAGES BATCH ROOMS eager|lazy|none [INDEX_EVERY]\n"); return 2; }
    long messages = atol(argv[2]), indexEvery = argc > 6 ? atol(argv[6]) : 16384;
    int batch = atoi(argv[3]), rooms = atoi(argv[4]);
    const char *index = argv[5];
    if (messages < 1 || batch < 1 || rooms < 1 || indexEvery < 1) { fprintf(stderr, "store-floor: counts are positive\n"); return 2; }
    check(sqlite3_open(argv[1], &db));
    execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, room_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
            " sender TEXT NOT NULL, text TEXT NOT NULL, ts INTEGER NOT NULL);");
    if (!strcmp(index, "eager")) execute("CREATE UNIQUE INDEX messages_by_room ON messages (room_id, seq);");
    else if (!strcmp(index, "lazy"))
        execute("CREATE TABLE message_index (room_id INTEGER NOT NULL, seq INTEGER NOT NULL, message_id INTEGER NOT NULL,"
                " PRIMARY KEY (room_id, seq)) WITHOUT ROWID;"
                "CREATE TABLE message_index_state (indexed_through INTEGER NOT NULL); INSERT INTO message_index_state VALUES (0);");
    else if (strcmp(index, "none")) { fprintf(stderr, "store-floor: the index is eager, lazy or none\n"); return 2; }
    sqlite3_stmt *insert;
    check(sqlite3_prepare_v2(db, "INSERT INTO messages (room_id, seq, sender, text, ts) VALUES (?, ?, ?, ?, ?)", -1, &insert, 0));
    long *lastSeq = calloc((size_t)rooms, sizeof *lastSeq), unindexed = 0;
    char text[101];
    memset(text, 'x', 100);
    text[100] = 0;
    unsigned random = 12345;
    double started = cpuSeconds();
    for (long done = 0; done < messages; done += batch) {
        execute("BEGIN IMMEDIATE");
        for (int i = 0; i < batch && done + i < messages; i++) {
            random = random * 1103515245 + 12345;
            int room = (int)((random >> 8) % (unsigned)rooms);
            sqlite3_bind_int64(insert, 1, room + 1);
            sqlite3_bind_int64(insert, 2, ++lastSeq[room]);
            sqlite3_bind_text(insert, 3, "bench-1234", -1, SQLITE_STATIC);
            sqlite3_bind_text(insert, 4, text, 100, SQLITE_STATIC);
            sqlite3_bind_int64(insert, 5, 1700000000000 + done);
            check(sqlite3_step(insert));
            sqlite3_reset(insert);
            unindexed++;
        }
        execute("COMMIT");
        if (!strcmp(index, "lazy") && unindexed >= indexEvery) {
            execute("BEGIN IMMEDIATE;"
                    "INSERT INTO message_index (room_id, seq, message_id) SELECT room_id, seq, id FROM messages"
                    " WHERE id > (SELECT indexed_through FROM message_index_state) ORDER BY room_id, seq;"
                    "UPDATE message_index_state SET indexed_through = (SELECT max(id) FROM messages); COMMIT;");
            unindexed = 0;
        }
    }
    printf("index %-5s batch %4d, %d rooms, %ld messages: %.2f us of CPU per message\n", index, batch, rooms, messages,
           (cpuSeconds() - started) / messages * 1e6);
    return 0;
}
