package wait

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CertificateError is a server certificate that failed verification:
// expired or not yet valid, for another name, or from an untrusted chain.
// It carries what a report shows of the certificate.
type CertificateError struct {
	URL       string
	Reason    string // Go's verification error
	Subject   string
	Names     []string
	NotBefore time.Time
	NotAfter  time.Time
}

func (e *CertificateError) Error() string {
	if e.Subject == "" {
		return fmt.Sprintf("the certificate of %s failed verification: %s", e.URL, e.Reason)
	}
	return fmt.Sprintf("the certificate of %s failed verification: %s (subject %q, names %s, valid %s to %s)",
		e.URL, e.Reason, e.Subject, strings.Join(e.Names, ", "), e.NotBefore.UTC().Format(time.RFC3339), e.NotAfter.UTC().Format(time.RFC3339))
}

// CertificateOf reads a request error as a certificate that failed
// verification, or returns nil when the error is something else.
func CertificateOf(url string, err error) *CertificateError {
	var verify *tls.CertificateVerificationError
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var leaf *x509.Certificate
	switch {
	case errors.As(err, &verify):
		if len(verify.UnverifiedCertificates) > 0 {
			leaf = verify.UnverifiedCertificates[0]
		}
		err = verify.Err
	case errors.As(err, &invalid):
		leaf = invalid.Cert
	case errors.As(err, &unknown):
		leaf = unknown.Cert
	case errors.As(err, &host):
		leaf = host.Certificate
	default:
		return nil
	}
	e := &CertificateError{URL: url, Reason: err.Error()}
	if leaf != nil {
		e.Subject, e.Names, e.NotBefore, e.NotAfter = leaf.Subject.String(), leaf.DNSNames, leaf.NotBefore, leaf.NotAfter
	}
	return e
}
