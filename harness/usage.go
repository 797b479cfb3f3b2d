package harness

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Usage prints the suite's flags as an operator reads them: the suite's
// own, then each provider's under its name. Test-framework flags (-test.*,
// -ginkgo.*) are left out: they still work, and ginkgoHint says where.
func (c *Config) Usage(w io.Writer, fs *flag.FlagSet, ginkgoHint string) {
	groups := map[string][]*flag.Flag{}
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "kc.") {
			groups[c.flagOwner[f.Name]] = append(groups[c.flagOwner[f.Name]], f)
		}
	})
	print := func(title string, flags []*flag.Flag) {
		if len(flags) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, f := range flags {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  -%s\n    \t%s", strings.TrimSpace(f.Name+" "+name), usage)
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(w)
		}
	}
	print("The suite's flags (every provider)", groups[""])
	for _, name := range ProviderNames() {
		print("The "+name+" provider's flags (-kc.provider="+name+")", groups[name])
	}
	if ginkgoHint != "" {
		fmt.Fprintf(w, "\n%s\n", ginkgoHint)
	}
}
