package load

import (
	"bytes"
	"context"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/encoding/protowire"
)

// RemoteWrite sends the run's figures to a Prometheus remote-write endpoint
// (remote-write 1.0: a snappy-compressed protobuf WriteRequest), each series
// labelled job="kratos_conformance" and run, every sample stamped at: the
// figures land in the operator's Prometheus (or Mimir, Thanos, VictoriaMetrics)
// beside their own monitoring of the same minutes.
func RemoteWrite(ctx context.Context, client *http.Client, endpoint *url.URL, runID string, at time.Time, r *Result) error {
	body := s2.EncodeSnappy(nil, writeRequest(r.metricFamilies(), map[string]string{"job": "kratos_conformance", "run": runID}, at.UnixMilli()))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	return send(client, req, "remote write to")
}

// writeRequest encodes prometheus.WriteRequest (prompb/remote.proto):
// timeseries = 1, each with labels = 1 (name = 1, value = 2, sorted by
// name, __name__ among them) and samples = 2 (value = 1 double,
// timestamp = 2 int64 milliseconds).
func writeRequest(families []*metricFamily, extra map[string]string, millis int64) []byte {
	var req []byte
	for _, f := range families {
		for _, s := range f.samples {
			labels := maps.Clone(s.labels)
			maps.Copy(labels, extra)
			labels["__name__"] = f.name
			var series []byte
			for _, k := range slices.Sorted(maps.Keys(labels)) {
				var l []byte
				l = protowire.AppendTag(l, 1, protowire.BytesType)
				l = protowire.AppendString(l, k)
				l = protowire.AppendTag(l, 2, protowire.BytesType)
				l = protowire.AppendString(l, labels[k])
				series = protowire.AppendTag(series, 1, protowire.BytesType)
				series = protowire.AppendBytes(series, l)
			}
			var sample []byte
			sample = protowire.AppendTag(sample, 1, protowire.Fixed64Type)
			sample = protowire.AppendFixed64(sample, math.Float64bits(s.value))
			sample = protowire.AppendTag(sample, 2, protowire.VarintType)
			sample = protowire.AppendVarint(sample, uint64(millis))
			series = protowire.AppendTag(series, 2, protowire.BytesType)
			series = protowire.AppendBytes(series, sample)
			req = protowire.AppendTag(req, 1, protowire.BytesType)
			req = protowire.AppendBytes(req, series)
		}
	}
	return req
}
