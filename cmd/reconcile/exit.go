package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/lianlian-recon/reconcile/config"
	"github.com/lianlian-recon/reconcile/fetch"
	"github.com/lianlian-recon/reconcile/job"
	"github.com/lianlian-recon/reconcile/runlock"
)

// Exit codes, SPEC §5.
const (
	exitOK          = 0 // reconciled, no finding
	exitFindings    = 1 // reconciled with findings, or ledger rows rejected, or malformed rows (inspect)
	exitUsage       = 2 // usage or configuration error
	exitUnavailable = 3 // input not available: not published, SFTP unreachable, another run holds the merchant
	exitInternal    = 4 // anything else
)

// errFindings is returned by commands that completed but found something:
// the message is already printed.
var errFindings = errors.New("findings")

// usageError is a mistake in the command line or the configuration.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// configError is a configuration file that cannot be read or is invalid;
// its message already says where.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// exitCode maps every error a command returns to SPEC §5's exit codes: the
// one place where that is decided.
func exitCode(err error) int {
	var ue *usageError
	var ce *configError
	var ve *config.ValidationError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errFindings):
		return exitFindings
	case errors.As(err, &ue), errors.As(err, &ce), errors.As(err, &ve):
		return exitUsage
	case errors.Is(err, fetch.ErrHostKey), errors.Is(err, fetch.ErrAuth):
		// A changed host key or refused credentials need a human and a
		// configuration change, never a blind retry.
		return exitUsage
	case errors.Is(err, job.ErrInputUnavailable), errors.Is(err, fetch.ErrNotPublished),
		errors.Is(err, fetch.ErrDeadline), errors.Is(err, runlock.ErrBusy):
		return exitUnavailable
	case errors.Is(err, context.Canceled):
		return exitUnavailable
	}
	return exitInternal
}

// hint is the fix for errors whose fix is known.
func hint(err error) string {
	switch {
	case errors.Is(err, fetch.ErrHostKey):
		return "check the server's key with LianLian, then add it to the known_hosts file or pin it with --host-key-fingerprint"
	case errors.Is(err, fetch.ErrAuth):
		return "check the SFTP user, key file and the environment variable that holds the password"
	case errors.Is(err, runlock.ErrBusy):
		return "another reconcile is running for this merchant; wait for it to finish"
	case errors.Is(err, fetch.ErrDeadline), errors.Is(err, fetch.ErrNotPublished):
		return "LianLian publishes D's files on D+1 before 08:00 (monthly ones on the 1st); run again later"
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return "run 'reconcile help' for usage"
	}
	return ""
}
