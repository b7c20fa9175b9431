package recon

// FileKind is the kind of a statement file, from its name (SPEC §2.1).
type FileKind string

const (
	FileJYMX    FileKind = "JYMX"
	FileFKMX    FileKind = "FKMX"
	FileJYMXSUM FileKind = "JYMXSUM"
	FileFKMXSUM FileKind = "FKMXSUM"
)

// IsSummary reports a one-line summary file.
func (k FileKind) IsSummary() bool { return k == FileJYMXSUM || k == FileFKMXSUM }

// FileName is what a statement file's name says.
type FileName struct {
	Name     string   // base name, e.g. "JYMX_201403251000001147_20140528.txt"
	Kind     FileKind //
	Merchant string   // 18-digit oid_partner
	Date     string   // "yyyymmdd" for a daily file, "yyyymm" for a monthly one
}

// Monthly reports a monthly detail file (date of six digits).
func (n FileName) Monthly() bool { return len(n.Date) == 6 }

// Encoding names detected by the parser.
const (
	EncodingUTF8    = "UTF-8"
	EncodingUTF8BOM = "UTF-8 (BOM)"
	EncodingGB18030 = "GB18030"
)

// StatementFile is one statement file, read whole: what the store keeps and
// the run reconciles. For a detail file Rows and Malformed hold every
// non-blank line but a skipped title row; for a summary file Summary is set
// unless the line was malformed.
type StatementFile struct {
	FileName
	Size     int64
	SHA256   string // hex
	Encoding string // one of the Encoding constants

	TitleLine int // line number of a skipped title row, 0 if none
	Rows      []Row
	Malformed []Malformed
	Summary   *Summary
	Warnings  []string // file-level notes (title row skipped, …)
}
