// Package portforward opens client-go port-forwards to pods and runs
// commands in them, as kubectl port-forward and kubectl exec do, without a
// kubectl binary.
package portforward

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	httpstreamspdy "k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// Forward is one client-go port-forward from a loopback port on this
// machine to a pod's port, through the API server.
type Forward struct {
	Pod   string
	Local int
	stop  chan struct{}
	done  chan error
}

// Open forwards local (a free loopback port) to pod:remote and returns once
// it listens. The API server is dialled with cfg.Dial when set (the kind
// provider's network namespace), the SPDY upgrade included. client-go ends a
// forward when the pod resets one connection through it (a server cutting
// off a 10 MiB body does): it is then opened again on the same port, so one
// refused request does not take every later one with it.
func Open(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, ns, pod string, local, remote int) (*Forward, error) {
	upgrader, wrapped, err := streams(cfg)
	if err != nil {
		return nil, err
	}
	u := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("portforward").URL()
	f := &Forward{Pod: pod, Local: local, stop: make(chan struct{}), done: make(chan error, 1)}
	ports := []string{strconv.Itoa(local) + ":" + strconv.Itoa(remote)}
	forward := func(ready chan struct{}) (chan error, error) {
		dialer := spdy.NewDialer(upgrader, &http.Client{Transport: wrapped}, http.MethodPost, u)
		pf, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, ports, f.stop, ready, io.Discard, io.Discard)
		if err != nil {
			return nil, err
		}
		ended := make(chan error, 1)
		go func() { ended <- pf.ForwardPorts() }()
		return ended, nil
	}
	ready := make(chan struct{})
	ended, err := forward(ready)
	if err != nil {
		return nil, err
	}
	select {
	case <-ready:
	case err := <-ended:
		return nil, fmt.Errorf("port-forward 127.0.0.1:%d to %s/%s:%d: %v", local, ns, pod, remote, err)
	case <-ctx.Done():
		f.Close()
		return nil, ctx.Err()
	}
	go func() {
		for {
			err := <-ended
			select {
			case <-f.stop:
				f.done <- err
				return
			default:
			}
			// Lost, not stopped: open it again. When that does not get as far
			// as listening (the pod is gone too), the forward ends.
			ready := make(chan struct{})
			if ended, err = forward(ready); err != nil {
				f.done <- err
				return
			}
			select {
			case <-ready:
			case err := <-ended:
				f.done <- err
				return
			}
		}
	}()
	return f, nil
}

// Close stops the forward; Closed is closed once its listener is gone and the port is free again.
func (f *Forward) Close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
}

// Closed yields the forward's end.
func (f *Forward) Closed() <-chan error { return f.done }

// streams are the API server's SPDY upgrade and the client around it,
// dialled with cfg.Dial (client-go's own spdy.RoundTripperFor ignores it).
func streams(cfg *rest.Config) (*httpstreamspdy.SpdyRoundTripper, http.RoundTripper, error) {
	tlsConfig, err := rest.TLSConfigFor(cfg)
	if err != nil {
		return nil, nil, err
	}
	upgrader, err := httpstreamspdy.NewRoundTripperWithConfig(httpstreamspdy.RoundTripperConfig{
		UpgradeTransport: &http.Transport{DialContext: cfg.Dial, TLSClientConfig: tlsConfig},
	})
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := rest.HTTPWrappersForConfig(cfg, upgrader)
	return upgrader, wrapped, err
}
