package checklist

import "testing"

// Kratos' defaults count where the config is silent: CORS on without
// allowed_origins admits every origin, with credentials.
func TestCORSReadsKratosDefaults(t *testing.T) {
	for config, want := range map[string]Status{
		"serve: {public: {cors: {enabled: true}}}":                                                   Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['*']}}}":                           Fail,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['*'], allow_credentials: false}}}": Pass,
		"serve: {public: {cors: {enabled: true, allowed_origins: ['https://auth.example.com']}}}":    Pass,
		"serve: {public: {cors: {enabled: false}}}":                                                  Pass,
		"serve: {public: {base_url: https://kratos.example.com/}}":                                   Pass,
	} {
		c, err := ParseConfig([]byte(config))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.cors(); got.Status != want {
			t.Errorf("%s: %s (%s), want %s", config, got.Status, got.Detail, want)
		}
	}
}
