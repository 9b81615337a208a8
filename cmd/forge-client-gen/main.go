// Command forge-client-gen writes TypeScript types for forge's browser
// client from an app's AsyncAPI 3 document (JSON or YAML), such as the
// asyncapi.json that forge.App.WriteDocuments writes:
//
//	go run github.com/forgekit/forge/cmd/forge-client-gen -o web/chat-api.d.ts asyncapi.json
//
// With no file, or "-", it reads the document from standard input; without
// -o it writes to standard output. See client.WriteTypeScript for what it
// writes.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/forgekit/forge/client"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "forge-client-gen:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("forge-client-gen", flag.ContinueOnError)
	out := fs.String("o", "", "write to this file instead of standard output")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: forge-client-gen [-o file.d.ts] [asyncapi.json|-]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return fmt.Errorf("one document at a time, got %d", fs.NArg())
	}
	var doc []byte
	var err error
	if name := fs.Arg(0); name == "" || name == "-" {
		doc, err = io.ReadAll(stdin)
	} else {
		doc, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := client.WriteTypeScript(&buf, doc); err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return os.WriteFile(*out, buf.Bytes(), 0o644)
}
