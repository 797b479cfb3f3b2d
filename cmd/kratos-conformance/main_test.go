package main

import "testing"

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
