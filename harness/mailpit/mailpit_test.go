package mailpit

import "testing"

// The text is Kratos v1.3.1's verification_code template, rendered.
func TestCodeFromKratosVerificationMail(t *testing.T) {
	text := "Hi,\n\nplease verify your account by entering the following code:\n\n482913\n\nor clicking the following link:\n\n" +
		"https://kratos.example.test:4433/self-service/verification?code=482913&flow=0b0d2c3e-1234-4567-8901-123456789012\n"
	if code, err := Code(text); err != nil || code != "482913" {
		t.Errorf("Code = %q, %v", code, err)
	}
	if _, err := Code("no code here, only 12345 and 1234567"); err == nil {
		t.Error("a text without a 6-digit code must fail")
	}
}
