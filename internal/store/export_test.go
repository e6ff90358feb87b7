package store

// WALSyncs returns how many times the SQLite WAL has been synced after
// commits (0 on PostgreSQL), for the store's tests.
func (db *DB) WALSyncs() uint64 {
	if db.wal == nil {
		return 0
	}
	return db.wal.count()
}
