package identityschema

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
)

// openRepeat is how often x*, x+ and x{n,} repeat beyond their minimum: enough
// random characters that two generated identifiers never collide.
const openRepeat = 12

// fromPattern makes a string that a JSON-Schema "pattern" matches. JSON Schema
// patterns are ECMA-262 regular expressions; the common subset (classes,
// repetition, alternation, anchors) parses as Go's Perl syntax. fits checks
// the schema's other constraints (length) on each try.
func fromPattern(pattern string, fits func(string) bool) (string, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", fmt.Errorf("pattern %q is not a regular expression this suite can read: %w", pattern, err)
	}
	match, err := regexp.Compile(pattern)
	if err != nil {
		return "", err
	}
	re = re.Simplify()
	for range 50 {
		var b strings.Builder
		generate(&b, re)
		if s := b.String(); match.MatchString(s) && fits(s) {
			return s, nil
		}
	}
	return "", fmt.Errorf("could not make a value for pattern %q within its length bounds", pattern)
}

func generate(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(pickRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(pickRune([]rune{'a', 'z', '0', '9'}))
	case syntax.OpCapture:
		generate(b, re.Sub[0])
	case syntax.OpStar:
		repeat(b, re.Sub[0], 0, openRepeat)
	case syntax.OpPlus:
		repeat(b, re.Sub[0], 1, 1+openRepeat)
	case syntax.OpQuest:
		repeat(b, re.Sub[0], 0, 1)
	case syntax.OpRepeat:
		max := re.Max
		if max < 0 {
			max = re.Min + openRepeat
		}
		repeat(b, re.Sub[0], re.Min, max)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			generate(b, sub)
		}
	case syntax.OpAlternate:
		generate(b, re.Sub[randInt(len(re.Sub))])
	}
	// Anchors, word boundaries and empty matches add nothing.
}

// repeat writes sub between min and max times, leaning to the long end so
// values carry enough randomness to be unique.
func repeat(b *strings.Builder, sub *syntax.Regexp, min, max int) {
	n := max
	if max > min {
		n = max - randInt((max-min)/2+1)
	}
	for range n {
		generate(b, sub)
	}
}

// pickRune chooses from a class given as [lo, hi] pairs, preferring lowercase
// letters and digits, which every identifier field accepts.
func pickRune(ranges []rune) rune {
	var plain []rune
	for i := 0; i+1 < len(ranges); i += 2 {
		for _, r := range "abcdefghijklmnopqrstuvwxyz0123456789" {
			if r >= ranges[i] && r <= ranges[i+1] {
				plain = append(plain, r)
			}
		}
	}
	if len(plain) > 0 {
		return plain[randInt(len(plain))]
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		if lo <= unicode.MaxASCII && lo >= ' ' {
			return lo + rune(randInt(int(min(hi, unicode.MaxASCII)-lo)+1))
		}
	}
	if len(ranges) > 0 {
		return ranges[0]
	}
	return 'a'
}

func randInt(n int) int {
	if n <= 1 {
		return 0
	}
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return int(v.Int64())
}
