package fetch

import (
	"fmt"
	"regexp"
)

// statementName is SPEC §2.1: the only names an SFTP fetch will ask for.
// Kept local (not the parser's) so that fetch refuses a hostile name before
// any byte reaches the data folder, whatever the parser accepts.
var statementName = regexp.MustCompile(`^(?:(?:JYMX|FKMX)_[0-9]{18}_(?:[0-9]{8}|[0-9]{6})|(?:JYMXSUM|FKMXSUM)_[0-9]{18}_[0-9]{8})\.txt$`)

// checkName returns an error wrapping ErrRefusedName unless name is a
// statement file name of SPEC §2.1. The pattern has no separator and no dot
// other than the extension, so a name it accepts cannot leave the data folder.
func checkName(name string) error {
	if !statementName.MatchString(name) {
		return fmt.Errorf("%q: %w (want JYMX_, FKMX_, JYMXSUM_ or FKMXSUM_ + 18-digit merchant + date + .txt)", name, ErrRefusedName)
	}
	return nil
}
