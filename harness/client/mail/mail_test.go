package mail

import "testing"

// Code must read the code from any template: Kratos' own of either version,
// an operator's, HTML turned to text; and refuse to guess between numbers.
func TestCodeWithoutKnowingTheTemplate(t *testing.T) {
	for name, text := range map[string]string{
		"v1.3.1 verification": "Hi,\n\nplease verify your account by entering the following code:\n\n482913\n\nor clicking the following link:\n\n" +
			"https://kratos.example.test:4433/self-service/verification?code=482913&flow=0b0d2c3e-1234-4567-8901-123456789012\n",
		"v26 verification":    "Verify your account with the following code:\n\n482913\n\nor clicking the following link:\n\nhttps://k/self-service/verification?code=482913&flow=x\n\nThis code / link expires in 60 minutes.",
		"operator's template": "Welcome to Acme! Your one-time code: 482913. Questions? Call 0800 123.",
		"other numbers":       "Acme Ltd, reg. no. 123456. Confirm at https://auth.acme.example/verify?flow=f&code=482913 or type 482913.",
		"html as text":        htmlText("<p>Your code is <b>482913</b></p>"),
	} {
		if code, err := Code(Mail{Text: text}); err != nil || code != "482913" {
			t.Errorf("%s: Code = %q, %v", name, code, err)
		}
	}
	for name, text := range map[string]string{
		"no code":   "no code here, only 12345 and 1234567",
		"ambiguous": "reg. no. 123456, your code 482913",
	} {
		if code, err := Code(Mail{Text: text}); err == nil {
			t.Errorf("%s: Code = %q, want an error rather than a guess", name, code)
		}
	}
}

func TestOfTypeKeepsOrder(t *testing.T) {
	mails := []Mail{{ID: "1", TemplateType: TypeVerificationCode}, {ID: "2", TemplateType: TypeRecoveryCode}, {ID: "3", TemplateType: TypeVerificationCode}}
	got := ofType(mails, TypeVerificationCode)
	if len(got) != 2 || got[0].ID != "1" || got[1].ID != "3" || len(mails) != 3 {
		t.Errorf("ofType = %v (input %v)", got, mails)
	}
	if len(ofType(mails, "")) != 3 {
		t.Error(`type "" means any mail`)
	}
}
