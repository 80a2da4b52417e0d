<?php

declare(strict_types=1);

namespace Panel;

/**
 * The panel's own SQLite database (DIR/panel.db, through PDO): logins with their password
 * hashes, failed login attempts, and the client accounts the panel has numbered. Who may do
 * what on an account is not here: that is Cohort's.
 */
final class Db
{
    public const VERSION = 1;

    public static function open(string $path): \PDO
    {
        $pdo = new \PDO('sqlite:' . $path, null, null, [
            \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
            \PDO::ATTR_DEFAULT_FETCH_MODE => \PDO::FETCH_ASSOC,
            \PDO::ATTR_TIMEOUT => 5,
        ]);
        $pdo->exec('PRAGMA busy_timeout = 5000');
        $pdo->exec('PRAGMA foreign_keys = ON');
        return $pdo;
    }

    /** Creates the schema of a new database; returns true when it did (a first start). */
    public static function migrate(\PDO $pdo): bool
    {
        $version = (int) $pdo->query('PRAGMA user_version')->fetchColumn();
        if ($version === self::VERSION) {
            return false;
        }
        if ($version !== 0) {
            throw new \RuntimeException("panel.db has schema version $version; this panel knows " . self::VERSION);
        }
        $pdo->exec('PRAGMA journal_mode = WAL');
        $pdo->beginTransaction();
        $pdo->exec(<<<'SQL'
            CREATE TABLE logins (
                email         TEXT PRIMARY KEY,
                name          TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                created_at    INTEGER NOT NULL
            );
            CREATE TABLE login_failures (
                email TEXT NOT NULL,
                at    INTEGER NOT NULL
            );
            CREATE INDEX login_failures_email ON login_failures (email, at);
            -- Client accounts the panel created; their ids are Cohort's account ids.
            CREATE TABLE clients (
                id         INTEGER PRIMARY KEY AUTOINCREMENT,
                name       TEXT NOT NULL,
                created_at INTEGER NOT NULL
            );
            SQL);
        $pdo->exec('PRAGMA user_version = ' . self::VERSION);
        $pdo->commit();
        return true;
    }
}
