// Package reconcile is the root of the reconcile module. It only carries
// the SQLite schema, embedded so that the store can create a database on
// first use (SPEC §5: "created from schema.sql"); go:embed cannot reach a
// parent folder, so the embedding lives next to the file.
package reconcile

import _ "embed"

// Schema is the text of schema.sql: idempotent statements that create every
// table and end by setting PRAGMA user_version.
//
//go:embed schema.sql
var Schema string
