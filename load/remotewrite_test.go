package load

import (
	"math"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// A WriteRequest decodes, field by field, into the series a Prometheus
// receiver stores: __name__ and every label sorted by name, the run's
// labels added, one sample with the value and the time in milliseconds.
func TestWriteRequestEncodesEachSampleAsASeries(t *testing.T) {
	fam := &metricFamily{name: "kratos_conformance_load_max_sustainable_rate"}
	fam.add(map[string]string{"scenario": "whoami-token", "profile": "smoke"}, 412.5)
	fam.add(map[string]string{"scenario": "alive", "profile": "smoke"}, 0.25)
	req := writeRequest([]*metricFamily{fam}, map[string]string{"job": "kratos_conformance", "run": "r1"}, 1765000000123)

	type series struct {
		labels [][2]string
		value  float64
		millis int64
	}
	var got []series
	for _, ts := range fields(t, req, 1) {
		var s series
		for _, l := range fields(t, ts, 1) {
			kv := fields(t, l, 1, 2)
			s.labels = append(s.labels, [2]string{string(kv[0]), string(kv[1])})
		}
		sample := fields(t, ts, 2)[0]
		v, n := protowire.ConsumeFixed64(sample[protowire.SizeTag(1):])
		rest := sample[protowire.SizeTag(1)+n+protowire.SizeTag(2):]
		ms, _ := protowire.ConsumeVarint(rest)
		s.value, s.millis = math.Float64frombits(v), int64(ms)
		got = append(got, s)
	}
	if len(got) != 2 {
		t.Fatalf("%d series, want 2", len(got))
	}
	want := [][2]string{{"__name__", fam.name}, {"job", "kratos_conformance"}, {"profile", "smoke"}, {"run", "r1"}, {"scenario", "whoami-token"}}
	if !slices.Equal(got[0].labels, want) || got[0].value != 412.5 || got[0].millis != 1765000000123 {
		t.Errorf("first series %+v, want labels %v, 412.5 at 1765000000123", got[0], want)
	}
	if got[1].value != 0.25 {
		t.Errorf("second series %+v", got[1])
	}
}

// fields returns the bytes of each length-delimited field numbered one of
// nums in b, in order.
func fields(t *testing.T, b []byte, nums ...protowire.Number) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			b = b[n:]
			continue
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			t.Fatalf("bad field %d: %v", num, protowire.ParseError(m))
		}
		if slices.Contains(nums, num) {
			out = append(out, v)
		}
		b = b[m:]
	}
	return out
}
