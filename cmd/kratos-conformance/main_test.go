package main

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"testing"
)

func TestFlagValue(t *testing.T) {
	args := []string{"-kc.provider=external", "--kc.out", "/tmp/runs", "-kc.partial", "-kc.load-after=x"}
	for name, want := range map[string]string{"kc.out": "/tmp/runs", "kc.partial": "true", "kc.provider": "external", "kc.load": "", "kc.target": ""} {
		if got := flagValue(args, name); got != want {
			t.Errorf("flagValue(%s) = %q, want %q", name, got, want)
		}
	}
	if !isFlag("kc.load", "kc.workload")("--kc.workload=w.yaml") || isFlag("kc.load")("-kc.load-after=x") {
		t.Error("isFlag matches by the whole name")
	}
}

var update = flag.Bool("update", false, "rewrite docs/flags-reference.md from the binary's help")

// flagsReference is docs/flags-reference.md: the binary's help, word for word.
const flagsReference = "../../docs/flags-reference.md"

// The flag reference in docs is the binary's own help (go test
// ./cmd/kratos-conformance -update writes it again). Defaults are left out
// of the comparison: KC_* variables in the environment change them.
func TestFlagsReferenceIsTheBinarysHelp(t *testing.T) {
	var help bytes.Buffer
	help.WriteString("# Flag reference\n\n`kratos-conformance help`, generated from the binary (`go test ./cmd/kratos-conformance -update`).\nWhat each flag is for, with its environment variable and examples: [flags.md](flags.md).\n\n```text\n")
	writeHelp(&help)
	help.WriteString("```\n")
	if *update {
		if err := os.WriteFile(flagsReference, help.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := os.ReadFile(flagsReference)
	if err != nil {
		t.Fatal(err)
	}
	defaults := regexp.MustCompile(`(?m) \(default [^\n]*\)$`)
	strip := func(b []byte) string { return string(defaults.ReplaceAllLiteral(b, nil)) }
	if strip(doc) != strip(help.Bytes()) {
		t.Errorf("%s is not the binary's help: run go test ./cmd/kratos-conformance -update", flagsReference)
	}
}
