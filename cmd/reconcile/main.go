// Command reconcile proves that the money LianLian Pay says it moved is the
// money the merchant's books say it moved. See README.md and SPEC §5.
package main

import (
	"os"
)

func main() {
	p := &Program{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	os.Exit(p.Main(os.Args[1:]))
}
